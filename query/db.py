"""Read-only access to the DuckDB database, reopened when a rebuild swaps the file in.

The build replaces the file atomically (`os.replace`), so an open connection keeps reading the
old, complete file; the next query notices the new inode and opens the new one. Each query runs on
its own cursor, so concurrent Streamlit sessions share one connection safely.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
#: Modules that may not read the database directly: what they show or export goes through the
#: declared reads of `query` (query/publication.py), where statistical secrecy is applied.
FORBIDDEN_MODULES = ("ui", "export")
FORBIDDEN_FILES = (ROOT / "pages", ROOT / "app.py")


class DatabaseMissing(FileNotFoundError):
    pass


class DirectReadRefused(PermissionError):
    """A page, `ui` or `export` read the database without going through the query layer."""


def _check_caller() -> None:
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return
    module = frame.f_globals.get("__name__", "")
    path = Path(frame.f_code.co_filename)
    if module.split(".")[0] in FORBIDDEN_MODULES or any(
            path == f or f in path.parents for f in FORBIDDEN_FILES):
        raise DirectReadRefused(
            f"{module or path.name} lit la base sans passer par la couche query (secret statistique) : "
            "ajouter une lecture déclarée dans query/")


class Database:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._key: tuple[int, int] | None = None

    def version(self) -> str:
        """Changes whenever a new build is swapped in: use it in cache keys."""
        key = self._stat()  # the path too: two test databases may reuse an inode within one mtime tick
        return f"{self.path}-{key[0]}-{key[1]}"

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseMissing(f"base absente : {self.path} (lancer `python -m etl build`)") from None
        return st.st_ino, st.st_mtime_ns

    def _connection(self) -> duckdb.DuckDBPyConnection:
        key = self._stat()
        with self._lock:
            if key != self._key or self._con is None:
                # A fresh in-memory instance that attaches the file read-only: duckdb.connect(path)
                # would hand back its cached instance of the *old* file. The old connection is not
                # closed: cursors of running queries may still use it; it goes when they are done.
                con = duckdb.connect(":memory:")
                con.execute("ATTACH ? AS obs (READ_ONLY)", [str(self.path)])
                self._con = con
                self._key = key
            return self._con

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        _check_caller()
        cursor = self._connection().cursor()
        cursor.execute("USE obs")
        return cursor

    def frame(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        cursor = self._cursor()
        try:
            return cursor.execute(sql, params or []).df()
        finally:
            cursor.close()

    def rows(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        cursor = self._cursor()
        try:
            return cursor.execute(sql, params or []).fetchall()
        finally:
            cursor.close()

    def scalar(self, sql: str, params: list | dict | None = None):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def tables(self) -> list[str]:
        return [r[0] for r in self.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'obs' "
            "AND table_schema = 'main' ORDER BY 1")]

    def has_table(self, name: str) -> bool:
        return name in self.tables()
