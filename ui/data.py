"""Cached access for pages: one read-only Database per process, and `read`, the one cached call of a
declared read of `query/` (keyed by the read, the database version and the arguments).

`read(q.annees, version)` replaces a one-line `@st.cache_data` wrapper per read: `shared=False`
(default) is `st.cache_data` (each caller gets its own copy, safe to mutate); `shared=True` is
`st.cache_resource` (one bounded copy per server, never mutated by the caller: large frames read on
every run). The database version in the key makes a rebuild or a publication visible at once.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from common.config import default_db_path
from query import journal, territoires
from query.db import Database


def database() -> Database:
    """The served database, one reader per path (`OBSERVATOIRE_DB` is read on every call)."""
    return _database(str(default_db_path()))


@st.cache_resource
def _database(path: str) -> Database:
    return Database(path)


def version() -> str:
    return database().version()


#: Bounds of the two caches of `read` (entries, all reads together).
MAX_COPIED, MAX_SHARED = 4096, 512
_READS: dict[str, Callable] = {}


def _call(name: str, args: tuple, kwargs: tuple) -> Any:
    return _READS[name](database(), *args, **dict(kwargs))


@st.cache_data(show_spinner=False, max_entries=MAX_COPIED)
def _copied(name: str, db_version: str, args: tuple, kwargs: tuple) -> Any:
    return _call(name, args, kwargs)


@st.cache_resource(show_spinner=False, max_entries=MAX_SHARED)
def _shared(name: str, db_version: str, args: tuple, kwargs: tuple) -> Any:
    return _call(name, args, kwargs)


def read(query_read: Callable, db_version: str, *args, shared: bool = False, **kwargs) -> Any:
    """`query_read(database(), *args, **kwargs)`, cached per (read, database version, arguments)."""
    if not query_read.__module__.startswith("query."):
        raise ValueError(f"{query_read.__module__}.{query_read.__qualname__} : pas une lecture de query/")
    name = f"{query_read.__module__}.{query_read.__qualname__}"
    _READS[name] = query_read
    return (_shared if shared else _copied)(name, db_version, args, tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=64)
def geojson(db_version: str, level: str, departement: str | None = None, siren_epci: str | None = None):
    return territoires.geojson(database(), level, departement, siren_epci)


@st.cache_data(show_spinner=False, ttl=60)
def published_inputs(db_version: str):
    """Files published from « Gérer les données » that the served database was built from."""
    return journal.published_inputs(default_db_path())
