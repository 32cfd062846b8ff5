"""Named reads for the "Aide à domicile" page: service baskets, CPOM rules, SAAD indicators.

Every parameter is bound (`?`), never formatted into the SQL. Territory filters: `departement` is the
département of the service's commune; `siren_epci` (optional) narrows to one EPCI.
"""

from __future__ import annotations

import pandas as pd

from query.db import Database

_TERRITORY = """s.code_departement = ? AND (CAST(? AS TEXT) IS NULL OR s.siren_epci = ?)"""


def _territory(departement: str, siren_epci: str | None) -> list:
    return [departement, siren_epci, siren_epci]


# -- paniers de services -------------------------------------------------------------------------------------

def paniers_suivi(db: Database) -> pd.DataFrame:
    """Funnel rows (monthly flows from files, cumulative quoted figures) with their source label."""
    return db.frame(
        """SELECT p.caisse, p.mois, p.type_valeur, p.demandes_recues, p.evaluations_commandees,
                  p.paniers_accordes, p.source_line, p.source, s.name AS source_nom, s.nature, s.vintage
           FROM paniers_suivi p JOIN sources s USING (source)
           ORDER BY s.nature DESC, p.caisse, p.mois""")


def paniers_attribues(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT p.caisse, p.mois, p.niveau, p.famille, p.type_territoire, p.nb_paniers, p.source,
                  s.name AS source_nom, s.vintage
           FROM paniers_attribues p JOIN sources s USING (source) ORDER BY p.caisse, p.mois""")


def paniers_reperes(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT theme, modalite, ordre, valeur, unite, periode, citation, source_line, source
           FROM paniers_reperes ORDER BY theme, ordre""")


# -- CPOM ----------------------------------------------------------------------------------------------------

def cpom_regles(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT r.regle, r.titre, r.document, r.paragraphe, r.source_line, r.citation, r.source,
                  s.name AS source_nom
           FROM cpom_regles r JOIN sources s USING (source) ORDER BY r.document, r.source_line""")


# -- SAAD ----------------------------------------------------------------------------------------------------

def saad_catalogue(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT indicateur, famille, libelle, periodicite, unite, ventilations, compte_personnes, source_line
           FROM saad_indicateurs_catalogue ORDER BY indicateur""")


def saad_reperes(db: Database) -> pd.DataFrame:
    return db.frame(
        "SELECT repere, indicateur, valeur_min, valeur_max, unite, citation, source_line FROM saad_reperes")


def saad_services(db: Database, departement: str, siren_epci: str | None = None) -> pd.DataFrame:
    return db.frame(
        f"""SELECT s.service_id, s.nom, s.statut, s.adresse, s.code_commune, c.nom AS commune,
                   s.siren_epci, e.nom AS epci, s.latitude, s.longitude, s.localisation, s.source,
                   src.nature
            FROM saad_services s
            LEFT JOIN communes c ON c.code_insee = s.code_commune
            LEFT JOIN epci e ON e.siren = s.siren_epci
            JOIN sources src ON src.source = s.source
            WHERE {_TERRITORY} ORDER BY s.nom""", _territory(departement, siren_epci))


def saad_periodes(db: Database, departement: str, periodicite: str | None = None) -> list[str]:
    """Periods available for the département's services, latest first."""
    rows = db.rows(
        """SELECT DISTINCT i.periode, i.periode_debut FROM saad_indicateurs i
           JOIN saad_services s USING (service_id)
           WHERE s.code_departement = ? AND (CAST(? AS TEXT) IS NULL OR i.periodicite = ?)
           ORDER BY i.periode_debut DESC, i.periode""", [departement, periodicite, periodicite])
    return [r[0] for r in rows]


def saad_valeurs(db: Database, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    """Long values of one period for the territory's services, with the catalogue's labels."""
    return db.frame(
        f"""SELECT s.service_id, s.nom, s.siren_epci, e.nom AS epci, i.indicateur, k.libelle, k.famille,
                   k.unite, k.compte_personnes, i.ventilation, i.valeur, i.source
            FROM saad_indicateurs i
            JOIN saad_services s USING (service_id)
            JOIN saad_indicateurs_catalogue k USING (indicateur)
            LEFT JOIN epci e ON e.siren = s.siren_epci
            WHERE {_TERRITORY} AND i.periode = ?
            ORDER BY s.nom, i.indicateur, i.ventilation""", [*_territory(departement, siren_epci), periode])


def saad_recettes_par_financeur(db: Database, departement: str, siren_epci: str | None,
                                periode: str) -> pd.DataFrame:
    """Revenue of the activity (indicator 25, seed 003 l. 1100) by EPCI and financer, summed in DuckDB."""
    return db.frame(
        f"""SELECT coalesce(e.nom, 'Sans EPCI') AS territoire, s.siren_epci, i.ventilation AS financeur,
                   sum(i.valeur) AS recettes, count(DISTINCT s.service_id) AS services
            FROM saad_indicateurs i JOIN saad_services s USING (service_id)
            LEFT JOIN epci e ON e.siren = s.siren_epci
            WHERE {_TERRITORY} AND i.periode = ? AND i.indicateur = 25
            GROUP BY ALL ORDER BY territoire, financeur""", [*_territory(departement, siren_epci), periode])


def saad_prix_de_revient(db: Database, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    """Per service: hourly cost price, financed rate (indicator 27, seed 003 l. 1104) and hours (indicator 4)."""
    return db.frame(
        f"""SELECT s.service_id, s.nom, coalesce(e.nom, 'Sans EPCI') AS territoire, s.siren_epci,
                   max(i.valeur) FILTER (WHERE i.indicateur = 27 AND i.ventilation = 'prix de revient')
                       AS prix_de_revient,
                   max(i.valeur) FILTER (WHERE i.indicateur = 27 AND i.ventilation = 'taux financé')
                       AS taux_finance,
                   max(i.valeur) FILTER (WHERE i.indicateur = 4) AS heures
            FROM saad_indicateurs i JOIN saad_services s USING (service_id)
            LEFT JOIN epci e ON e.siren = s.siren_epci
            WHERE {_TERRITORY} AND i.periode = ? AND i.indicateur IN (4, 27)
            GROUP BY ALL ORDER BY s.nom""", [*_territory(departement, siren_epci), periode])


def saad_serie(db: Database, departement: str, siren_epci: str | None, indicateur: int,
               periodicite: str = "M") -> pd.DataFrame:
    """Time series of one indicator (no ventilation) over the territory's services: sum for volumes, mean
    for rates; with the number of services reporting."""
    return db.frame(
        f"""SELECT i.periode, i.periode_debut, sum(i.valeur) AS somme, avg(i.valeur) AS moyenne,
                   count(DISTINCT s.service_id) AS services
            FROM saad_indicateurs i JOIN saad_services s USING (service_id)
            WHERE {_TERRITORY} AND i.indicateur = ? AND i.periodicite = ? AND i.ventilation = ''
            GROUP BY ALL ORDER BY i.periode_debut""",
        [*_territory(departement, siren_epci), indicateur, periodicite])


def source_labels(db: Database, keys: list[str]) -> pd.DataFrame:
    return db.frame("SELECT source, name, publisher, vintage, nature, reference FROM sources "
                    "WHERE list_contains(?, source) ORDER BY source", [keys])
