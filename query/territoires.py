"""Reads of the territorial reference. Codes are validated against the reference before use."""

from __future__ import annotations

import pandas as pd

from geo import shapes
from query.db import Database
from query.publication import no_people

REFERENCE = "référentiel géographique : codes, noms, contours et populations municipales INSEE (publiques)"

LEVELS = {
    # level: (table, key column)
    "communes": ("communes", "code_insee"),
    "epci": ("epci", "siren"),
    "departements": ("departements", "code"),
    "regions": ("regions", "code"),
}


@no_people(REFERENCE)
def departements(db: Database) -> pd.DataFrame:
    return db.frame("SELECT code, nom, code_region, population FROM departements ORDER BY code")


@no_people(REFERENCE)
def regions(db: Database) -> pd.DataFrame:
    return db.frame("SELECT code, nom, population FROM regions ORDER BY code")


@no_people(REFERENCE)
def is_departement(db: Database, code: str | None) -> bool:
    return bool(code) and db.scalar("SELECT count(*) FROM departements WHERE code = ?", [code]) == 1


@no_people(REFERENCE)
def epci_of_departement(db: Database, departement: str) -> pd.DataFrame:
    """Every EPCI touching the département, with its whole population and communes."""
    return db.frame(
        """SELECT e.siren, e.nom, e.nature, e.population, e.nb_communes, e.code_departement,
                  d.nb_communes AS nb_communes_dans_departement
           FROM epci e JOIN epci_departements d USING (siren)
           WHERE d.code_departement = ? ORDER BY e.nom""", [departement])


@no_people(REFERENCE)
def communes(db: Database, departement: str | None = None, siren_epci: str | None = None) -> pd.DataFrame:
    return db.frame(
        """SELECT c.code_insee, c.nom, c.code_departement, c.siren_epci, e.nom AS nom_epci, c.population
           FROM communes c LEFT JOIN epci e ON e.siren = c.siren_epci
           WHERE (CAST(? AS TEXT) IS NULL OR c.code_departement = ?)
             AND (CAST(? AS TEXT) IS NULL OR c.siren_epci = ?)
           ORDER BY c.nom""", [departement, departement, siren_epci, siren_epci])


@no_people(REFERENCE)
def geojson(db: Database, level: str, departement: str | None = None,
            siren_epci: str | None = None) -> dict:
    """Simplified contours as a GeoJSON FeatureCollection, feature id = territory code.

    `departement` keeps the territories of that département (EPCI: those touching it);
    `siren_epci` (communes only) keeps the member communes of one EPCI.
    """
    table, key = LEVELS[level]
    if level == "epci":
        sql = ("SELECT e.siren, e.geometry_simple FROM epci e WHERE CAST(? AS TEXT) IS NULL OR e.siren IN "
               "(SELECT siren FROM epci_departements WHERE code_departement = ?) ORDER BY 1")
        params = [departement, departement]
    elif level == "communes":
        sql = ("SELECT code_insee, geometry_simple FROM communes WHERE (CAST(? AS TEXT) IS NULL OR "
               "code_departement = ?) AND (CAST(? AS TEXT) IS NULL OR siren_epci = ?) ORDER BY 1")
        params = [departement, departement, siren_epci, siren_epci]
    elif level == "departements":
        sql = "SELECT code, geometry_simple FROM departements WHERE CAST(? AS TEXT) IS NULL OR code = ? ORDER BY 1"
        params = [departement, departement]
    else:
        sql = "SELECT code, geometry_simple FROM regions ORDER BY 1"
        params = []
    rows = db.rows(sql, params)
    return shapes.feature_collection([r[0] for r in rows], [r[1] for r in rows])


@no_people("liste des sources")
def sources(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT source, name, publisher, vintage, nature, file_name, row_count, loaded_at, licence,
                  reference, sha256 FROM sources ORDER BY nature, source""")


@no_people("nombre de lignes des tables")
def table_counts(db: Database) -> pd.DataFrame:
    names = db.tables()
    counts = [(t, db.scalar(f'SELECT count(*) FROM "{t}"')) for t in names]  # names from the catalog
    return pd.DataFrame(counts, columns=["table", "lignes"])


@no_people("métadonnées de construction")
def build_info(db: Database) -> dict[str, str]:
    return dict(db.rows("SELECT key, value FROM build_info"))


@no_people("avertissements de construction")
def build_warnings(db: Database) -> pd.DataFrame:
    return db.frame("SELECT step, message FROM build_warnings")


@no_people(REFERENCE)
def commune_place(db: Database, code: str) -> tuple[str | None, str | None]:
    """(SIREN of the commune's EPCI, its département code); (None, None) for an unknown code."""
    rows = db.rows("SELECT siren_epci, code_departement FROM communes WHERE code_insee = ?", [code])
    return rows[0] if rows else (None, None)


@no_people(REFERENCE)
def print_context(db: Database, departement: str) -> dict:
    """What a print map draws around its territory: the département (outline, chef-lieu), the other
    départements of the base (neighbours, light grey) and the département's communes (WKB, EPSG:4326)."""
    dep = db.rows("SELECT code, nom, chef_lieu, geometry_simple FROM departements WHERE code = ?", [departement])
    others = db.frame("SELECT code, nom, geometry_simple FROM departements WHERE code <> ? ORDER BY code",
                      [departement])
    towns = db.frame("SELECT code_insee, nom, population, siren_epci, geometry_simple FROM communes "
                     "WHERE code_departement = ? ORDER BY code_insee", [departement])
    code, nom, chef_lieu, wkb = dep[0] if dep else (departement, departement, None, None)
    return {"code": code, "nom": nom, "chef_lieu": chef_lieu, "outline": wkb, "departements": others,
            "communes": towns}


@no_people(REFERENCE)
def epci_summary(db: Database, siren: str) -> tuple | None:
    """(nom, nature, population, nb_communes, département code, département name) or None. The
    département is the EPCI's main one, or — when the base was built without it — the département
    of the base holding most of its communes."""
    rows = db.rows("SELECT e.nom, e.nature, e.population, e.nb_communes, d.code, d.nom "
                   "FROM epci e JOIN epci_departements ed USING (siren) JOIN departements d ON d.code = "
                   "ed.code_departement WHERE e.siren = ? ORDER BY (d.code = e.code_departement) DESC, "
                   "ed.nb_communes DESC LIMIT 1", [siren])
    return rows[0] if rows else None


@no_people(REFERENCE)
def epci_departements_of(db: Database, siren: str) -> list[tuple[str, int]]:
    """(département name, number of member communes there) for each département the EPCI touches."""
    return db.rows("SELECT d.nom, ed.nb_communes FROM epci_departements ed JOIN departements d "
                   "ON d.code = ed.code_departement WHERE ed.siren = ? ORDER BY 2 DESC", [siren])


@no_people(REFERENCE)
def commune_summary(db: Database, code: str) -> tuple | None:
    """(nom, population, département code, département name, EPCI name, EPCI SIREN) or None."""
    rows = db.rows("SELECT c.nom, c.population, c.code_departement, d.nom, e.nom, e.siren FROM communes c "
                   "JOIN departements d ON d.code = c.code_departement LEFT JOIN epci e ON e.siren = c.siren_epci "
                   "WHERE c.code_insee = ?", [code])
    return rows[0] if rows else None


@no_people(REFERENCE)
def main_departement(db: Database, level: str, codes: list[str]) -> str | None:
    """The département holding most of these communes (or of these EPCI's communes)."""
    column = "code_insee" if level == "communes" else "siren_epci"
    return db.scalar(f"SELECT code_departement FROM communes WHERE list_contains(?, {column}) "
                     "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [list(codes)])
