"""Provenance: the `sources` table, one row per loaded input.

Every other table carries a `source` column whose value is `sources.source`. The nature of a
source is one of `NATURES`; pages use it to flag simulated figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.common import sha256_of  # noqa: F401 — the checksum of a source's files, importable from here

NATURES = ("real", "simulated", "quoted-from-report")

SOURCES_DDL = """
CREATE TABLE sources (
    source      TEXT PRIMARY KEY,   -- short key referenced by every table's `source` column
    name        TEXT NOT NULL,      -- human label, reused in captions and exports
    publisher   TEXT NOT NULL,
    vintage     TEXT,               -- millésime of the data
    file_name   TEXT,
    sha256      TEXT,
    row_count   BIGINT,
    loaded_at   TIMESTAMP,          -- build time (excluded from content checksums)
    nature      TEXT NOT NULL CHECK (nature IN ('real', 'simulated', 'quoted-from-report')),
    licence     TEXT,
    reference   TEXT                -- documentation link, or page/line of a quoted report
)
"""


@dataclass(frozen=True)
class Source:
    """Declares an input once; its `name` is the label written under every figure it feeds."""

    source: str
    name: str
    publisher: str
    vintage: str | None
    nature: str
    licence: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.nature not in NATURES:
            raise ValueError(f"nature {self.nature!r} not in {NATURES}")




def register(con, source: Source, *, file_name: str | None, sha256: str | None,
             row_count: int, loaded_at) -> None:
    con.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source.source, source.name, source.publisher, source.vintage, file_name, sha256,
         row_count, loaded_at, source.nature, source.licence, source.reference],
    )
