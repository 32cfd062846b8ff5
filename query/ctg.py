"""Reads for the CTG coverage page: registry, perimeters, communes' population, quoted figures,
priority territories and, when that table exists, the EPCI fragility score. All parameterised."""

from __future__ import annotations

import pandas as pd

from query.db import Database
from query.publication import no_people

CONVENTIONS = "conventions, périmètres, dates et chiffres cités : aucun effectif de personnes"

_CONVENTIONS = """
    SELECT t.convention_id, t.instrument, t.code_departement, t.intitule, t.signataires, t.siren_epci,
           t.communes_saisies, t.date_signature, t.precision_signature, t.date_debut, t.date_fin,
           t.fin_par_defaut, t.statut, t.notes, t.reference, t.source_line, t.date_signature_variante,
           t.reference_variante, t.nb_communes, t.population, t.source, s.name AS source_nom,
           s.nature AS source_nature
    FROM conventions_territoriales t JOIN sources s USING (source)
    WHERE CAST(? AS TEXT) IS NULL OR t.code_departement = ?
       OR t.convention_id IN (SELECT p.convention_id FROM conventions_perimetre p
                              JOIN communes c USING (code_insee) WHERE c.code_departement = ?)
    ORDER BY t.code_departement, t.date_debut NULLS LAST, t.convention_id"""


@no_people(CONVENTIONS)
def conventions(db: Database, departement: str | None = None) -> pd.DataFrame:
    """Conventions of the département's caisse, or covering at least one of its communes."""
    return db.frame(_CONVENTIONS, [departement, departement, departement])


@no_people(CONVENTIONS)
def perimetre(db: Database, departement: str | None = None) -> pd.DataFrame:
    """(convention_id, code_insee, origine) restricted to the département's communes if given."""
    return db.frame(
        """SELECT p.convention_id, p.code_insee, p.origine FROM conventions_perimetre p
           JOIN communes c USING (code_insee)
           WHERE CAST(? AS TEXT) IS NULL OR c.code_departement = ? ORDER BY 1, 2""",
        [departement, departement])


@no_people("populations municipales INSEE, publiques")
def communes_population(db: Database, departement: str | None = None) -> pd.DataFrame:
    """Communes with what coverage needs: population, EPCI, département, région (all of the base
    when `departement` is None)."""
    return db.frame(
        """SELECT c.code_insee, c.nom, c.population, c.siren_epci, e.nom AS nom_epci,
                  c.code_departement, c.code_region
           FROM communes c LEFT JOIN epci e ON e.siren = c.siren_epci
           WHERE CAST(? AS TEXT) IS NULL OR c.code_departement = ? ORDER BY c.code_insee""",
        [departement, departement])


@no_people(CONVENTIONS)
def chiffres_cites(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT f.code_territoire, f.territoire, f.serie, f.indicateur, f.periode, f.date_reference,
                  f.valeur, f.valeur_imprimee, f.unite, f.nature, f.nature_imprimee, f.source_line,
                  f.citation, f.source, s.name AS source_nom
           FROM ctg_chiffres_cites f JOIN sources s USING (source)
           ORDER BY f.code_territoire, f.date_reference, f.serie""")


@no_people(CONVENTIONS)
def chevauchements(db: Database, departement: str) -> pd.DataFrame:
    return db.frame(
        """SELECT o.instrument, o.convention_id_1, a.intitule AS intitule_1, o.convention_id_2,
                  b.intitule AS intitule_2, o.debut, o.fin, o.nb_communes, o.communes, o.source
           FROM conventions_chevauchements o
           JOIN conventions_territoriales a ON a.convention_id = o.convention_id_1
           JOIN conventions_territoriales b ON b.convention_id = o.convention_id_2
           WHERE a.code_departement = ? OR b.code_departement = ? ORDER BY o.debut""",
        [departement, departement])


@no_people(CONVENTIONS)
def priorites(db: Database, departement: str) -> pd.DataFrame:
    return db.frame(
        """SELECT p.siren_epci, p.nom_dans_rapport, p.critere, p.source_line, p.source
           FROM ctg_territoires_prioritaires p
           WHERE p.siren_epci IN (SELECT siren FROM epci_departements WHERE code_departement = ?)
           ORDER BY p.siren_epci, p.source_line""", [departement])


@no_people("score moyen d'EPCI (des milliers de retraités), sans effectif")
def fragilite_epci(db: Database, departement: str) -> pd.DataFrame | None:
    """Latest fragility score of the EPCI touching the département, with its source's nature; None
    when the base has no `fragilite_epci` table (built without the fragility source)."""
    if not db.has_table("fragilite_epci"):
        return None
    return db.frame(
        """SELECT e.siren AS siren_epci, f.score_moyen, f.millesime, f.source, s.name AS source_nom,
                  s.nature AS source_nature
           FROM epci_departements e
           LEFT JOIN (SELECT * FROM fragilite_epci
                      QUALIFY row_number() OVER (PARTITION BY siren_epci ORDER BY millesime DESC) = 1) f
                  ON f.siren_epci = e.siren
           LEFT JOIN sources s ON s.source = f.source
           WHERE e.code_departement = ? ORDER BY 1""", [departement])


@no_people(CONVENTIONS)
def build_restriction(db: Database) -> str:
    """Départements the base was restricted to ('' for all of France)."""
    return db.scalar("SELECT value FROM build_info WHERE key = 'departements'") or ""


@no_people(CONVENTIONS)
def sources_of(db: Database, keys: list[str]) -> pd.DataFrame:
    return db.frame("SELECT source, name, vintage, nature FROM sources WHERE list_contains(?, source)", [keys])


@no_people(CONVENTIONS)
def programmes(db: Database, departement: str | None = None) -> pd.DataFrame:
    """Communes of the département in the ANCT programmes (PVD, ACV) with their signature date."""
    if not db.has_table("programmes_territoriaux"):
        return pd.DataFrame(columns=["programme", "code_insee", "nom", "siren_epci", "epci", "date_signature",
                                     "source_nom"])
    return db.frame(
        """SELECT CASE p.programme WHEN 'PVD' THEN 'Petites villes de demain' ELSE 'Action cœur de ville' END
                  AS programme, p.code_insee, c.nom, c.siren_epci, e.nom AS epci, p.date_signature,
                  s.name AS source_nom
           FROM programmes_territoriaux p JOIN communes c USING (code_insee)
           LEFT JOIN epci e ON e.siren = c.siren_epci JOIN sources s ON s.source = p.source
           WHERE CAST(? AS TEXT) IS NULL OR c.code_departement = ? ORDER BY 1, c.nom""",
        [departement, departement])
