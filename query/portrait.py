"""What the other pages know about an EPCI: fragility, CTG / charters, CFPPA prevention actions.

Those tables are built by other source modules; every read here first checks
`information_schema.tables` and returns an empty frame when the table is absent, so the portrait
never depends on them. The column used to select the territory is looked up in the catalog
(`information_schema.columns`), never taken from user input.
"""

from __future__ import annotations

import pandas as pd

from query.db import Database

#: Candidate columns naming an EPCI / a commune, in order of preference.
EPCI_KEYS = ("siren", "siren_epci", "code_epci", "epci")
COMMUNE_KEYS = ("code_insee", "code_commune", "code_geo", "codgeo")

#: Topic tables the portrait shows when they exist: (table, level of its rows, heading).
TOPICS = {
    "fragilite_epci": ("epci", "Score de fragilité de l'EPCI"),
    "fragilite_communes": ("commune", "Communes prioritaires (fragilité)"),
    "conventions_territoriales": ("epci", "Conventions territoriales globales et chartes"),
    "conventions_perimetre": ("commune", "Communes couvertes par une convention"),
    "actions_prevention": ("epci", "Actions de prévention (CFPPA)"),
    "actions_prevention_communes": ("commune", "Actions de prévention par commune (CFPPA)"),
}


def table_exists(db: Database, table: str) -> bool:
    return db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                     "AND table_name = ?", [table]) == 1


def _columns(db: Database, table: str) -> list[str]:
    return [r[0] for r in db.rows("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                                  "AND table_name = ? ORDER BY ordinal_position", [table])]


def rows_for_epci(db: Database, table: str, siren: str) -> pd.DataFrame:
    """Rows of `table` about the EPCI `siren` (directly, or through its member communes); empty if
    the table does not exist or has no column naming an EPCI or a commune."""
    if table not in TOPICS or not table_exists(db, table):
        return pd.DataFrame()
    columns = _columns(db, table)
    # Column names come from the catalog (quoted), the territory code is a parameter.
    epci_key = next((c for c in EPCI_KEYS if c in columns), None)
    commune_key = next((c for c in COMMUNE_KEYS if c in columns), None)
    if epci_key:
        return db.frame(f'SELECT * FROM "{table}" WHERE "{epci_key}" = ?', [siren])
    if commune_key:
        return db.frame(f'SELECT * FROM "{table}" WHERE "{commune_key}" IN '
                        "(SELECT code_insee FROM communes WHERE siren_epci = ?)", [siren])
    return pd.DataFrame()


def other_topics(db: Database, siren: str) -> dict[str, pd.DataFrame]:
    """{heading: rows} for every topic table that exists and knows something about the EPCI."""
    out = {}
    for table, (_, heading) in TOPICS.items():
        frame = rows_for_epci(db, table, siren)
        if not frame.empty:
            out[heading] = frame.drop(columns=[c for c in ("geometry", "geometry_simple") if c in frame])
    return out


def missing_topics(db: Database) -> list[str]:
    return [heading for table, (_, heading) in TOPICS.items() if not table_exists(db, table)]
