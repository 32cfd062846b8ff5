"""Named reads of the INSEE indicators, and the SDAASP cumul computed for the EPCI of a département.

Datasets (`jeu`): 'sdaasp' = Tableau 1 of the report (quoted, 2015), 'insee' = official files loaded
from the input folder. Codes reach SQL only as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from methods import indicateurs as method
from methods.secret import SECRET_THRESHOLD, mask
from query.db import Database
from query.publication import no_people, people

PUBLIC = ("indicateurs publics (INSEE, CNAF) à l'EPCI et au-delà : taux et montants de territoires de "
          "milliers d'habitants")

JEU_LABELS = {"sdaasp": "Tableau 1 du SDAASP de l'Orne (cité par le rapport IGAS)",
              "insee": "Fichiers officiels INSEE chargés"}


#: `millesime` value meaning « the latest millésime of each indicator » (the portrait's default when
#: the official files give several): RP 2022 next to Filosofi 2023, each indicator at its own latest year,
#: the same year for the EPCI and for the reference.
LATEST = 0


def _year(alias: str = "i") -> str:
    """SQL: the row's millésime is the one asked for, or the indicator's latest EPCI millésime in the
    dataset when `LATEST` is asked (two parameters: the millésime twice)."""
    return (f"{alias}.millesime = CASE WHEN ? = {LATEST} THEN (SELECT max(l.millesime) FROM indicateurs l "
            f"WHERE l.indicateur = {alias}.indicateur AND l.jeu = {alias}.jeu AND l.niveau = 'epci') ELSE ? END")


@dataclass(frozen=True)
class Reference:
    code_geo: str
    niveau: str
    libelle: str


@no_people(PUBLIC)
def has_tables(db: Database) -> bool:
    return "indicateurs" in db.tables()


@no_people(PUBLIC)
def catalogue(db: Database) -> pd.DataFrame:
    return db.frame("SELECT indicateur, libelle, unite, sens, decimales, calcul, fichier, definition, "
                    "rang_tableau1, source FROM indicateurs_catalogue ORDER BY rang_tableau1 NULLS LAST, indicateur")


@no_people(PUBLIC)
def jeux(db: Database, departement: str) -> pd.DataFrame:
    """Datasets with EPCI values for the département: jeu, millesime, nb_epci, sources, most recent first
    (official files before the quoted table for the same year)."""
    frame = db.frame(
        """SELECT i.jeu, i.millesime, count(DISTINCT i.code_geo) AS nb_epci,
                  string_agg(DISTINCT s.name, ' ; ') AS sources, string_agg(DISTINCT s.nature, ',') AS natures
           FROM indicateurs i JOIN sources s USING (source)
           WHERE i.niveau = 'epci'
             AND i.code_geo IN (SELECT siren FROM epci_departements WHERE code_departement = ?)
           GROUP BY i.jeu, i.millesime ORDER BY i.millesime DESC, i.jeu = 'sdaasp'""", [departement])
    official = frame[frame["jeu"] == "insee"]
    if len(official) > 1:  # several millésimes: the latest of each indicator comes first
        latest = pd.DataFrame([{"jeu": "insee", "millesime": LATEST, "nb_epci": int(official["nb_epci"].max()),
                                "sources": " ; ".join(official["sources"]), "natures": ",".join(official["natures"])}])
        frame = pd.concat([latest, frame], ignore_index=True)
    return frame


@no_people(PUBLIC)
def references(db: Database, departement: str, jeu: str, millesime: int) -> list[Reference]:
    """Reference territories with values in this dataset: France métropolitaine, the région, the
    département (in that order, the first is the SDAASP's choice)."""
    rows = db.rows(
        """SELECT DISTINCT i.code_geo, i.niveau,
                  CASE i.niveau WHEN 'france' THEN CASE i.code_geo WHEN 'FRM' THEN 'France métropolitaine'
                                                                   ELSE 'France' END
                                WHEN 'region' THEN r.nom ELSE d.nom END AS libelle,
                  CASE i.niveau WHEN 'france' THEN 0 WHEN 'region' THEN 1 ELSE 2 END AS ordre
           FROM indicateurs i
           LEFT JOIN regions r ON i.niveau = 'region' AND r.code = i.code_geo
           LEFT JOIN departements d ON i.niveau = 'departement' AND d.code = i.code_geo
           WHERE i.jeu = ? AND """ + _year() + """
             AND ((i.niveau = 'france' AND i.code_geo IN ('FRM', 'FR'))
               OR (i.niveau = 'region' AND i.code_geo = (SELECT code_region FROM departements WHERE code = ?))
               OR (i.niveau = 'departement' AND i.code_geo = ?))
           ORDER BY ordre, i.code_geo DESC""", [jeu, millesime, millesime, departement, departement])
    return [Reference(r[0], r[1], r[2] or r[0]) for r in rows]


@no_people(PUBLIC)
def reference_values(db: Database, reference: Reference, jeu: str, millesime: int) -> pd.Series:
    frame = db.frame("SELECT indicateur, valeur FROM indicateurs i WHERE code_geo = ? AND niveau = ? "
                     "AND jeu = ? AND " + _year(), [reference.code_geo, reference.niveau, jeu, millesime, millesime])
    return frame.set_index("indicateur")["valeur"]


@no_people(PUBLIC)
def epci_values(db: Database, departement: str, jeu: str, millesime: int) -> pd.DataFrame:
    """Long values of every EPCI touching the département: code_geo, nom, indicateur, valeur, source."""
    return db.frame(
        """SELECT i.code_geo, e.nom, e.nature, i.libelle_geo, i.indicateur, i.valeur, i.numerateur,
                  i.denominateur, i.source, i.perimetre, i.ligne_source
           FROM indicateurs i JOIN epci e ON e.siren = i.code_geo
           WHERE i.niveau = 'epci' AND i.jeu = ? AND """ + _year() + """
             AND i.code_geo IN (SELECT siren FROM epci_departements WHERE code_departement = ?)
           ORDER BY e.nom, i.indicateur""", [jeu, millesime, millesime, departement])


@no_people(PUBLIC)
def available_indicators(db: Database, departement: str, jeu: str, millesime: int) -> list[str]:
    """Indicators with at least one EPCI value and a France/région/département value in the dataset."""
    return [r[0] for r in db.rows(
        """SELECT i.indicateur FROM indicateurs i JOIN indicateurs_catalogue c USING (indicateur)
           WHERE i.jeu = ? AND """ + _year() + """ AND i.niveau = 'epci' AND i.valeur IS NOT NULL
             AND i.code_geo IN (SELECT siren FROM epci_departements WHERE code_departement = ?)
             AND c.unite NOT IN ('foyers', 'personnes')  -- counts of people: not compared to France
           GROUP BY i.indicateur, c.rang_tableau1 ORDER BY c.rang_tableau1 NULLS LAST, i.indicateur""",
        [jeu, millesime, millesime, departement])]


@no_people(PUBLIC)
def tableau_epci(db: Database, departement: str, jeu: str, millesime: int, reference: Reference,
                 indicateurs: tuple[str, ...] = method.TABLEAU1) -> pd.DataFrame:
    """One row per EPCI: the indicator values (wide), the cumul against `reference`, its rank in the
    département, the printed cumul where the report gives one, and one `defav_*` flag per indicator."""
    values = epci_values(db, departement, jeu, millesime)
    if values.empty:
        return pd.DataFrame()
    cat = catalogue(db)
    ref = reference_values(db, reference, jeu, millesime)
    cumul = method.compute_cumul(values, ref, cat, indicateurs)
    wide = values.pivot_table(index="code_geo", columns="indicateur", values="valeur", aggfunc="first")
    wide = wide.reindex(columns=list(indicateurs))
    names = values.groupby("code_geo").agg(nom=("nom", "first"), nature=("nature", "first"),
                                           libelle_geo=("libelle_geo", "first"), perimetre=("perimetre", "first"))
    out = names.join(wide).join(cumul.set_index("code_geo")).reset_index()
    out["rang"] = method.rank_within(out)
    printed = db.frame("SELECT code_geo, cumul AS cumul_publie FROM indicateurs_cumul_publie "
                       "WHERE niveau = 'epci' AND millesime = ? AND reference = ? AND source IN "
                       "(SELECT DISTINCT source FROM indicateurs WHERE jeu = ?)",
                       [millesime, reference.code_geo, jeu])
    out = out.merge(printed, on="code_geo", how="left")
    return out.sort_values(["cumul", "nom"], ascending=[False, True], kind="stable").reset_index(drop=True)


@no_people(PUBLIC)
def sources_of(db: Database, jeu: str, millesime: int) -> pd.DataFrame:
    return db.frame(
        """SELECT DISTINCT s.source, s.name, s.vintage, s.nature, s.reference
           FROM sources s WHERE s.source IN (SELECT source FROM indicateurs i WHERE jeu = ? AND """ + _year() + """)
           ORDER BY s.name""", [jeu, millesime, millesime])


@no_people(PUBLIC)
def formats(db: Database) -> pd.DataFrame:
    return db.frame("SELECT format, libelle, editeur, documentation, noms_fichiers, alimente, charge "
                    "FROM indicateurs_formats")


@people("denominateur", values=("valeur", "numerateur"))
def territory_values(db: Database, code_geo: str, niveau: str) -> pd.DataFrame:
    """Every value known for one territory (all datasets and years), with provenance."""
    return db.frame(
        """SELECT i.indicateur, c.libelle, c.unite, i.millesime, i.jeu, i.valeur, i.numerateur,
                  i.denominateur, s.name AS source, s.nature
           FROM indicateurs i JOIN indicateurs_catalogue c USING (indicateur) JOIN sources s ON s.source = i.source
           WHERE i.code_geo = ? AND i.niveau = ? ORDER BY i.millesime DESC, c.rang_tableau1 NULLS LAST""",
        [code_geo, niveau])


@people("denominateur", values=("valeur", "numerateur"))
def vintages(db: Database, code_geo: str, niveau: str) -> pd.DataFrame:
    """Every millésime of every indicator of one territory (all sources), with its definition."""
    return db.frame(
        """SELECT i.indicateur, c.libelle, c.unite, c.decimales, i.millesime, i.valeur, i.numerateur,
                  i.denominateur, i.definition, s.name AS source
           FROM indicateurs i JOIN indicateurs_catalogue c USING (indicateur) JOIN sources s ON s.source = i.source
           WHERE i.code_geo = ? AND i.niveau = ? AND i.valeur IS NOT NULL
           ORDER BY c.rang_tableau1 NULLS LAST, i.indicateur, i.millesime""", [code_geo, niveau])


@no_people(PUBLIC)
def petite_enfance(db: Database, siren: str, seuil: float = method.SEUIL_COUVERTURE_PETITE_ENFANCE,
                   criteres_minimum: int = method.CRITERES_MINIMUM_DEFAUT):
    """The CNAF criteria for an EPCI with the latest values loaded, or None if nothing is loaded."""
    rows = db.frame(
        """SELECT indicateur, niveau, code_geo, valeur, millesime FROM indicateurs
           WHERE indicateur IN ('taux_couverture_accueil', 'potentiel_financier_habitant', 'revenu_net_moyen_foyer')
             AND ((niveau = 'epci' AND code_geo = ?) OR (niveau = 'france' AND code_geo IN ('FR', 'FRM')))
           QUALIFY row_number() OVER (PARTITION BY indicateur, niveau ORDER BY millesime DESC, code_geo) = 1""",
        [siren])
    if rows.empty:
        return None
    get = lambda ind, lvl: next(iter(rows.loc[(rows["indicateur"] == ind) & (rows["niveau"] == lvl), "valeur"]), None)  # noqa: E731
    return method.compute_priorite_petite_enfance(
        get("taux_couverture_accueil", "epci"), get("potentiel_financier_habitant", "epci"),
        get("potentiel_financier_habitant", "france"), get("revenu_net_moyen_foyer", "epci"),
        get("revenu_net_moyen_foyer", "france"), seuil, criteres_minimum)


@no_people("valeurs INSEE publiques, sans effectif ; les communes dont le dénominateur compte "
           "1 à 10 personnes y sont de plus masquées (methods.secret.mask)")
def communes_of_epci(db: Database, siren: str, millesime: int, indicateurs: tuple[str, ...] = method.TABLEAU1
                     ) -> pd.DataFrame:
    """Commune values of the official files for one EPCI (wide), cells describing fewer than
    `SECRET_THRESHOLD` people masked (denominator used as head count)."""
    frame = db.frame(
        """SELECT c.code_insee AS code_geo, c.nom, i.indicateur, i.valeur, i.denominateur
           FROM indicateurs i JOIN communes c ON c.code_insee = i.code_geo
           WHERE i.niveau = 'commune' AND i.jeu = 'insee' AND """ + _year() + """ AND c.siren_epci = ?
             AND list_contains(?, i.indicateur)""", [millesime, millesime, siren, list(indicateurs)])
    if frame.empty:
        return frame
    ratios = frame["denominateur"].notna()
    masked = mask(frame[ratios], "denominateur", ["valeur"], threshold=SECRET_THRESHOLD)
    frame = pd.concat([masked.drop(columns="secret"), frame[~ratios]], ignore_index=True)
    wide = frame.pivot(index=["code_geo", "nom"], columns="indicateur", values="valeur")
    return wide.reindex(columns=[i for i in indicateurs if i in wide.columns]).reset_index()
