"""Cached access for pages: one read-only Database per process, frames cached per build version."""

from __future__ import annotations

import streamlit as st

from etl.build import default_db_path
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


@st.cache_data(show_spinner=False)
def departements(db_version: str):
    return territoires.departements(database())


@st.cache_data(show_spinner=False)
def epci_of_departement(db_version: str, departement: str):
    return territoires.epci_of_departement(database(), departement)


@st.cache_data(show_spinner=False)
def communes(db_version: str, departement: str | None = None, siren_epci: str | None = None):
    return territoires.communes(database(), departement, siren_epci)


@st.cache_data(show_spinner=False, max_entries=64)
def geojson(db_version: str, level: str, departement: str | None = None, siren_epci: str | None = None):
    return territoires.geojson(database(), level, departement, siren_epci)


@st.cache_data(show_spinner=False)
def sources(db_version: str):
    return territoires.sources(database())


@st.cache_data(show_spinner=False)
def table_counts(db_version: str):
    return territoires.table_counts(database())


@st.cache_data(show_spinner=False)
def build_info(db_version: str):
    return territoires.build_info(database())


@st.cache_data(show_spinner=False)
def build_warnings(db_version: str):
    return territoires.build_warnings(database())


@st.cache_data(show_spinner=False, ttl=60)
def published_inputs(db_version: str):
    """Files published from « Gérer les données » that the served database was built from."""
    return journal.published_inputs(default_db_path())
