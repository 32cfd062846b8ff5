"""Named reads for the "Aide à domicile" page: service baskets, CPOM rules, SAAD indicators.

Every parameter is bound (`?`), never formatted into the SQL. Territory filters: `departement` is the
département of the service's commune; `siren_epci` (optional) narrows to one EPCI.

Counts of people (requesters, baskets, beneficiaries, GIR classes) leave this layer masked by the
methods' own rules (`methods.paniers`, `methods.saad`), and the publication layer checks them.
"""

from __future__ import annotations

import pandas as pd

from methods import paniers, saad
from query.db import Database
from query.publication import no_people, people

FUNNEL = {"subcounts": {"evaluations_commandees": (), "paniers_accordes": ()}}

_TERRITORY = """s.code_departement = ? AND (CAST(? AS TEXT) IS NULL OR s.siren_epci = ?)"""


def _territory(departement: str, siren_epci: str | None) -> list:
    return [departement, siren_epci, siren_epci]


# -- paniers de services -------------------------------------------------------------------------------------

def _paniers_suivi(db: Database, type_valeur: str) -> pd.DataFrame:
    return db.frame(
        """SELECT p.caisse, p.mois, p.type_valeur, p.demandes_recues, p.evaluations_commandees,
                  p.paniers_accordes, p.source_line, p.source, s.name AS source_nom, s.nature, s.vintage
           FROM paniers_suivi p JOIN sources s USING (source)
           WHERE p.type_valeur = ? ORDER BY s.nature DESC, p.caisse, p.mois""", [type_valeur])


@people("demandes_recues", **FUNNEL)
def paniers_bilan(db: Database) -> pd.DataFrame:
    """Cumulative funnel figures quoted from the CNAV report, with their source line."""
    return _paniers_suivi(db, "cumul")


@no_people("noms des caisses ayant envoyé un suivi mensuel")
def paniers_caisses(db: Database) -> list[str]:
    return [r[0] for r in db.rows("SELECT DISTINCT caisse FROM paniers_suivi WHERE type_valeur = 'mensuel' "
                                  "ORDER BY 1")]


@no_people("une source")
def paniers_source(db: Database) -> tuple[str | None, str | None]:
    """Sources of the monthly funnel and of the basket detail (None when not loaded)."""
    return (db.scalar("SELECT min(source) FROM paniers_suivi WHERE type_valeur = 'mensuel'"),
            db.scalar("SELECT min(source) FROM paniers_attribues"))


@people("demandes_recues", masked_inside=True, **FUNNEL)
def paniers_mensuel(db: Database, caisses: tuple[str, ...]) -> pd.DataFrame:
    """Funnel per month summed over the chosen caisses, each stage under 11 people masked."""
    frame = db.frame(
        """SELECT mois, sum(demandes_recues) AS demandes_recues,
                  sum(evaluations_commandees) AS evaluations_commandees, sum(paniers_accordes) AS paniers_accordes
           FROM paniers_suivi WHERE type_valeur = 'mensuel' AND list_contains(?, caisse)
           GROUP BY mois ORDER BY mois""", [list(caisses)])
    return paniers.mask_funnel(frame, group=None)


@people("demandes_recues", masked_inside=True, **FUNNEL)
def paniers_tableau(db: Database, caisses: tuple[str, ...]) -> pd.DataFrame:
    """Funnel per caisse and month; a lone masked cell of a month takes the next smallest with it."""
    frame = db.frame(
        """SELECT caisse, mois, demandes_recues, evaluations_commandees, paniers_accordes
           FROM paniers_suivi WHERE type_valeur = 'mensuel' AND list_contains(?, caisse)
           ORDER BY caisse, mois""", [list(caisses)])
    return paniers.mask_funnel(frame, group="mois")


@people("nb_paniers", values=("part",), masked_inside=True)
def paniers_repartition(db: Database, caisses: tuple[str, ...], dimension: str) -> pd.DataFrame:
    """Baskets of the chosen caisses by `niveau`, `famille` or `type_territoire`, with shares."""
    if dimension not in ("niveau", "famille", "type_territoire"):
        raise ValueError(dimension)
    frame = db.frame("SELECT niveau, famille, type_territoire, nb_paniers FROM paniers_attribues "
                     "WHERE list_contains(?, caisse)", [list(caisses)])
    return paniers.breakdown(frame, dimension)


@no_people("repères cités du rapport (parts, nombres de caisses)")
def paniers_reperes(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT theme, modalite, ordre, valeur, unite, periode, citation, source_line, source
           FROM paniers_reperes ORDER BY theme, ordre""")


# -- CPOM ----------------------------------------------------------------------------------------------------

@no_people("règles du CPOM citées")
def cpom_regles(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT r.regle, r.titre, r.document, r.paragraphe, r.source_line, r.citation, r.source,
                  s.name AS source_nom
           FROM cpom_regles r JOIN sources s USING (source) ORDER BY r.document, r.source_line""")


# -- SAAD ----------------------------------------------------------------------------------------------------

@no_people("catalogue des indicateurs")
def saad_catalogue(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT indicateur, famille, libelle, periodicite, unite, ventilations, compte_personnes, source_line
           FROM saad_indicateurs_catalogue ORDER BY indicateur""")


@no_people("repères cités (prix de revient)")
def saad_reperes(db: Database) -> pd.DataFrame:
    return db.frame(
        "SELECT repere, indicateur, valeur_min, valeur_max, unite, citation, source_line FROM saad_reperes")


@no_people("services (établissements), pas des personnes")
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


@no_people("périodes disponibles")
def saad_periodes(db: Database, departement: str, periodicite: str | None = None) -> list[str]:
    """Periods available for the département's services, latest first."""
    rows = db.rows(
        """SELECT DISTINCT i.periode, i.periode_debut FROM saad_indicateurs i
           JOIN saad_services s USING (service_id)
           WHERE s.code_departement = ? AND (CAST(? AS TEXT) IS NULL OR i.periodicite = ?)
           ORDER BY i.periode_debut DESC, i.periode""", [departement, periodicite, periodicite])
    return [r[0] for r in rows]


@people("valeur", where="compte_personnes", masked_inside=True)
def saad_valeurs(db: Database, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    """Long values of one period for the territory's services, with the catalogue's labels; counts of
    people under 11 masked, with the next smallest GIR class of the service (`methods.saad`)."""
    return saad.mask_people(db.frame(
        f"""SELECT s.service_id, s.nom, s.siren_epci, e.nom AS epci, i.indicateur, k.libelle, k.famille,
                   k.unite, k.compte_personnes, i.ventilation, i.valeur, i.source
            FROM saad_indicateurs i
            JOIN saad_services s USING (service_id)
            JOIN saad_indicateurs_catalogue k USING (indicateur)
            LEFT JOIN epci e ON e.siren = s.siren_epci
            WHERE {_TERRITORY} AND i.periode = ?
            ORDER BY s.nom, i.indicateur, i.ventilation""", [*_territory(departement, siren_epci), periode]))


@no_people("recettes en euros")
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


@no_people("prix et heures d'intervention, pas des personnes")
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


#: The series is published monthly only: a quarter or a year next to its months would be a linked table
#: (a masked month = the quarter − the others for an additive count).
SERIE_PERIODICITES = ("M",)


@people("somme", values=("moyenne",), where="compte_personnes", masked_inside=True,
        sweep={"periodicite": SERIE_PERIODICITES})
def saad_serie(db: Database, departement: str, siren_epci: str | None, indicateur: int,
               periodicite: str = "M") -> pd.DataFrame:
    """Time series of one indicator (no ventilation) over the territory's services: sum for volumes, mean
    for rates; with the number of services reporting. A month of a people count under 11 is masked."""
    serie = db.frame(
        f"""SELECT i.periode, i.periode_debut, sum(i.valeur) AS somme, avg(i.valeur) AS moyenne,
                   count(DISTINCT s.service_id) AS services, any_value(k.compte_personnes) AS compte_personnes
            FROM saad_indicateurs i JOIN saad_services s USING (service_id)
            JOIN saad_indicateurs_catalogue k USING (indicateur)
            WHERE {_TERRITORY} AND i.indicateur = ? AND i.periodicite = ? AND i.ventilation = ''
            GROUP BY ALL ORDER BY i.periode_debut""",
        [*_territory(departement, siren_epci), indicateur, periodicite])
    return saad.mask_series(serie, bool(serie["compte_personnes"].any()))


@no_people("liste des sources")
def source_labels(db: Database, keys: list[str]) -> pd.DataFrame:
    return db.frame("SELECT source, name, publisher, vintage, nature, reference FROM sources "
                    "WHERE list_contains(?, source) ORDER BY source", [keys])
