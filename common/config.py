"""Configuration every layer reads: where the served database is."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "observatoire.duckdb"


def default_db_path() -> Path:
    """`$OBSERVATOIRE_DB`, else data/observatoire.duckdb (the build writes it, the app reads it)."""
    return Path(os.environ.get("OBSERVATOIRE_DB") or DEFAULT_DB)
