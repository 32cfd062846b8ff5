"""Named reads of the CFPPA tables (financing lines, prevention actions, national reference).

Aggregation happens here, in SQL; `methods.cfppa` computes shares and splits on the small results.
A `departement` of None means every département of the database. Reads of participants are
declared `@people`: counts of 1 to 10 participants never leave this layer.
"""

from __future__ import annotations

import pandas as pd

from methods import cfppa as method
from methods import fragilite
from query.db import Database
from query.publication import no_people, people

AMOUNTS = "montants, financeurs, axes et années : aucun effectif de personnes"


@no_people(AMOUNTS)
def annees(db: Database) -> list[int]:
    return [r[0] for r in db.rows(
        "SELECT DISTINCT annee FROM cfppa_financements UNION SELECT DISTINCT annee FROM actions_prevention "
        "ORDER BY 1")]


@no_people("départements couverts")
def departements_avec_donnees(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT d.code, d.nom FROM departements d
           WHERE d.code IN (SELECT code_departement FROM cfppa_financements
                            UNION SELECT code_departement FROM actions_prevention)
           ORDER BY d.code""")


@no_people("nomenclature")
def axes(db: Database) -> pd.DataFrame:
    return db.frame("SELECT axe, libelle_court, libelle_officiel, ligne_source FROM cfppa_axes ORDER BY axe")


@no_people("nomenclature")
def financeurs(db: Database) -> pd.DataFrame:
    return db.frame("SELECT financeur, libelle, categorie_financeur, est_oss, ordre FROM cfppa_financeurs "
                    "ORDER BY ordre")


@no_people(AMOUNTS)
def financements(db: Database, departement: str | None) -> pd.DataFrame:
    """Financing lines summed by year, financer and axis (all départements when None), with labels
    and the sources the sums come from."""
    return db.frame(
        """SELECT f.annee, f.financeur, n.libelle AS libelle_financeur, f.categorie_financeur, n.ordre,
                  f.axe, a.libelle_court AS libelle_axe,
                  sum(f.montant_prevu) AS montant_prevu, sum(f.montant_engage) AS montant_engage,
                  count(DISTINCT f.code_departement) AS nb_departements,
                  string_agg(DISTINCT f.source, ',' ORDER BY f.source) AS sources
           FROM cfppa_financements f
           JOIN cfppa_financeurs n USING (financeur) JOIN cfppa_axes a USING (axe)
           WHERE CAST(? AS TEXT) IS NULL OR f.code_departement = ?
           GROUP BY ALL ORDER BY f.annee, n.ordre, f.axe""", [departement, departement])


@no_people("chiffres nationaux cités (montants, parts)")
def reference_nationale(db: Database) -> pd.DataFrame:
    """National reference figures, the CNSA summary (real) listed before the quoted report."""
    return db.frame(
        """SELECT r.annee, r.indicateur, r.libelle, r.valeur, r.unite, r.qualificatif, r.ligne_source,
                  r.source, s.name AS source_nom, s.nature
           FROM cfppa_reference_nationale r JOIN sources s USING (source)
           ORDER BY r.annee, CASE s.nature WHEN 'real' THEN 0 ELSE 1 END, r.indicateur""")


@no_people(AMOUNTS)
def national_financements(db: Database, annee: int) -> pd.DataFrame:
    return db.frame(
        """SELECT n.annee, n.financeur, f.libelle AS libelle_financeur, n.categorie_financeur, n.axe,
                  n.montant_prevu, n.montant_engage, n.source
           FROM cfppa_national_financements n JOIN cfppa_financeurs f USING (financeur)
           WHERE n.annee = ? ORDER BY f.ordre, n.axe""", [annee])


@no_people("chiffres cités du rapport (montants, parts), avec leur ligne")
def chiffres_cites(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT perimetre, annee, financeur, axe, indicateur, qualificatif, montant_eur, part_pct,
                  autre_valeur, autre_unite, citation, fichier_source, ligne_source, source
           FROM cfppa_chiffres_cites ORDER BY ligne_source""")


_ACTIONS_SCOPE = """
    FROM actions_prevention a
    WHERE a.code_departement = ? AND (CAST(? AS INTEGER) IS NULL OR a.annee = ?)
      AND (CAST(? AS TEXT) IS NULL OR a.action_id IN (
            SELECT l.action_id FROM actions_prevention_communes l JOIN communes c USING (code_insee)
            WHERE c.siren_epci = ?))"""


@no_people("années disponibles")
def annees_publiables(db: Database) -> list[int]:
    """The values the year of a participants read may take: each year on its own, never « all
    years » (which, next to each year, would give a masked year's participants by subtraction)."""
    return [r[0] for r in db.rows("SELECT DISTINCT annee FROM actions_prevention WHERE annee IS NOT NULL "
                                  "ORDER BY 1")] if db.has_table("actions_prevention") else []


#: Participants reads are published one year at a time (linked tables, `query.publication`).
BY_YEAR = {"annee": annees_publiables}


def _scope(departement: str, annee: int | None, siren_epci: str | None) -> list:
    return [departement, annee, annee, siren_epci, siren_epci]


@people("participants", sweep=BY_YEAR)
def actions_totaux(db: Database, departement: str, annee: int | None, siren_epci: str | None = None
                   ) -> dict:
    """Number of actions and participants (actions held at least partly in the EPCI if given)."""
    row = db.rows(f"SELECT count(*), sum(a.participants), count(a.participants) {_ACTIONS_SCOPE}",
                  _scope(departement, annee, siren_epci))[0]
    return {"actions": row[0], "participants": row[1], "actions_avec_participants": row[2]}


@people("participants", group="*", sweep=BY_YEAR)
def actions_par(db: Database, departement: str, annee: int | None, by: str,
                siren_epci: str | None = None) -> pd.DataFrame:
    """Actions and participants grouped by `theme`, `axe` or `porteur`."""
    column = {"theme": "a.theme", "axe": "a.axe", "porteur": "a.porteur", "annee": "a.annee"}[by]
    return db.frame(f"SELECT {column} AS {by}, count(*) AS nb_actions, sum(a.participants) AS participants "
                    f"{_ACTIONS_SCOPE} GROUP BY 1 ORDER BY 2 DESC", _scope(departement, annee, siren_epci))


def _denominateur_60_plus(db: Database) -> tuple[pd.DataFrame | None, str | None]:
    """People aged 60+ per commune when a *real* source provides them (the fragility tables filled
    from an INSEE file), else (None, None): callers then fall back to the total population."""
    if not db.has_table("fragilite_communes"):
        return None, None
    frame = db.frame(
        """SELECT f.code_insee, f.n_60_plus, s.name AS source_nom FROM fragilite_communes f
           JOIN sources s ON s.source = f.source_60_plus
           WHERE s.nature = 'real' AND f.n_60_plus IS NOT NULL
             AND f.millesime = (SELECT max(millesime) FROM fragilite_communes)""")
    if frame.empty:
        return None, None
    return frame[["code_insee", "n_60_plus"]], frame["source_nom"].iloc[0]


def _actions_par_commune(db: Database, departement: str, annee: int | None,
                        siren_epci: str | None = None) -> pd.DataFrame:
    """Every commune of the département (or of the EPCI) with its number of actions and the
    participants of those actions (an action held in several communes counts in each)."""
    return db.frame(
        """WITH a AS (SELECT a.action_id, a.participants FROM actions_prevention a
                      WHERE a.code_departement = ? AND (CAST(? AS INTEGER) IS NULL OR a.annee = ?)),
                n AS (SELECT l.code_insee, count(*) AS nb_actions, sum(a.participants) AS participants
                      FROM actions_prevention_communes l JOIN a USING (action_id) GROUP BY 1)
           SELECT c.code_insee, c.nom, c.siren_epci, e.nom AS nom_epci, c.population,
                  coalesce(n.nb_actions, 0) AS nb_actions, coalesce(n.participants, 0) AS participants
           FROM communes c LEFT JOIN n USING (code_insee) LEFT JOIN epci e ON e.siren = c.siren_epci
           WHERE c.code_departement = ? AND (CAST(? AS TEXT) IS NULL OR c.siren_epci = ?)
           ORDER BY c.code_insee""",
        [departement, annee, annee, departement, siren_epci, siren_epci])


def _actions_par_epci(db: Database, departement: str, annee: int | None) -> pd.DataFrame:
    """EPCI touching the département: distinct actions held in their communes of the département,
    participants of those actions, and the population of those communes."""
    return db.frame(
        """WITH a AS (SELECT a.action_id, a.participants FROM actions_prevention a
                      WHERE a.code_departement = ? AND (CAST(? AS INTEGER) IS NULL OR a.annee = ?)),
                per_action AS (SELECT DISTINCT c.siren_epci, a.action_id, a.participants
                               FROM actions_prevention_communes l JOIN a USING (action_id)
                               JOIN communes c USING (code_insee)),
                n AS (SELECT siren_epci, count(*) AS nb_actions, sum(participants) AS participants
                      FROM per_action GROUP BY 1),
                pop AS (SELECT siren_epci, sum(population) AS population, count(*) AS nb_communes
                        FROM communes WHERE code_departement = ? GROUP BY 1)
           SELECT e.siren, e.nom, e.nature, pop.population, pop.nb_communes,
                  coalesce(n.nb_actions, 0) AS nb_actions, coalesce(n.participants, 0) AS participants
           FROM pop JOIN epci e ON e.siren = pop.siren_epci LEFT JOIN n ON n.siren_epci = pop.siren_epci
           ORDER BY e.nom""",
        [departement, annee, annee, departement])


@people("participants", group="*", sweep=BY_YEAR)
def actions_liste(db: Database, departement: str, annee: int | None, siren_epci: str | None = None
                  ) -> pd.DataFrame:
    """One row per action: communes and financers listed, total financed."""
    return db.frame(
        f"""WITH sel AS (SELECT a.* {_ACTIONS_SCOPE})
            SELECT sel.action_id, sel.annee, sel.axe, sel.theme, sel.porteur, sel.intitule, sel.participants,
                   (SELECT string_agg(c.nom, ', ' ORDER BY c.nom) FROM actions_prevention_communes l
                    JOIN communes c USING (code_insee) WHERE l.action_id = sel.action_id) AS communes,
                   (SELECT string_agg(f.financeur, ', ' ORDER BY f.montant DESC) FROM actions_prevention_financeurs f
                    WHERE f.action_id = sel.action_id) AS financeurs,
                   (SELECT sum(f.montant) FROM actions_prevention_financeurs f
                    WHERE f.action_id = sel.action_id) AS montant_finance,
                   sel.source
            FROM sel ORDER BY sel.annee, sel.action_id""", _scope(departement, annee, siren_epci))


def _fragilite_communes(db: Database, departement: str) -> pd.DataFrame | None:
    """The fragility aggregates of the département's communes (latest vintage), if built."""
    if not db.has_table("fragilite_communes"):
        return None
    return db.frame(
        """SELECT f.code_insee, c.code_departement, f.n_retraites, f.score_moyen, f.n_60_plus, f.source
           FROM fragilite_communes f JOIN communes c USING (code_insee)
           WHERE c.code_departement = ? AND f.millesime = (SELECT max(millesime) FROM fragilite_communes)""",
        [departement])


@no_people("liste des sources")
def sources_cfppa(db: Database, departement: str | None) -> pd.DataFrame:
    """The sources behind the département's CFPPA figures (financing lines and actions)."""
    return db.frame(
        """SELECT DISTINCT s.source, s.name, s.vintage, s.nature FROM sources s
           WHERE s.source IN (SELECT source FROM cfppa_financements
                              WHERE CAST(? AS TEXT) IS NULL OR code_departement = ?
                              UNION SELECT source FROM actions_prevention
                              WHERE CAST(? AS TEXT) IS NULL OR code_departement = ?)
           ORDER BY s.nature, s.source""", [departement, departement, departement, departement])


@no_people("une source")
def source(db: Database, key: str) -> dict | None:
    rows = db.rows("SELECT name, vintage, nature FROM sources WHERE source = ?", [key])
    return {"name": rows[0][0], "vintage": rows[0][1], "nature": rows[0][2]} if rows else None


@people("participants", values=("participants_pour_1000",), group=("siren_epci", "*"), sweep=BY_YEAR)
def carte_actions(db: Database, departement: str, annee: int | None, niveau: str) -> pd.DataFrame:
    """Actions and participants per commune (or per EPCI touching the département) with rates per
    1,000 people of the denominator: people aged 60+ when a real source gives them, else the whole
    population. `attrs`: `key` (the territory column) and `denominateur` (its label).

    Secrecy: participants of 1 to 10 are masked with their rate; a commune masked alone in its EPCI
    takes the smallest other with it (the EPCI map publishes the sum), and an EPCI masked alone in
    the département likewise (the département total is published)."""
    if niveau == "communes":
        frame = _actions_par_commune(db, departement, annee)
        key = "code_insee"
    elif niveau == "epci":
        frame = _actions_par_epci(db, departement, annee)
        key = "siren"
    else:
        raise ValueError(niveau)
    pop60, pop60_source = _denominateur_60_plus(db)
    if pop60 is not None and niveau == "communes":
        frame = frame.merge(pop60, on="code_insee", how="left")
        frame["denominateur"] = frame["n_60_plus"]
        label = f"personnes de 60 ans et plus ({pop60_source})"
    elif pop60 is not None:
        members = _actions_par_commune(db, departement, annee)[["code_insee", "siren_epci"]].merge(
            pop60, on="code_insee")
        frame = frame.merge(members.groupby("siren_epci", as_index=False)["n_60_plus"].sum()
                            .rename(columns={"siren_epci": "siren"}), on="siren", how="left")
        frame["denominateur"] = frame["n_60_plus"]
        label = f"personnes de 60 ans et plus ({pop60_source})"
    else:
        frame["denominateur"] = frame["population"]
        label = "habitants (population municipale totale INSEE : la population de 60 ans et plus n'est pas " \
                "dans le référentiel)"
    frame["actions_pour_1000"] = method.actions_per_thousand(frame["nb_actions"], frame["denominateur"])
    frame["participants_pour_1000"] = method.actions_per_thousand(frame["participants"], frame["denominateur"])
    frame.attrs.update(key=key, denominateur=label)
    return frame


@people("n_retraites", values=("score_moyen", "fragile", "concentration", "moins_de_n_actions", "prioritaire"),
        subcounts={"n_60_plus": ()})
def communes_prioritaires(db: Database, departement: str, annee: int | None) -> pd.DataFrame | None:
    """Priority communes of the fragility method (fragile ∧ > 200 aged 60+ ∧ < 2 actions), computed
    with `methods.fragilite` on the fragility tables and the year's action counts; None when the
    fragility tables are absent."""
    fragility = _fragilite_communes(db, departement)
    if fragility is None or fragility.empty:
        return None
    counts = _actions_par_commune(db, departement, annee)[["code_insee", "nom", "nb_actions"]]
    frame = fragility.merge(counts, on="code_insee").assign(n_actions=lambda f: f["nb_actions"])
    return fragilite.assess(frame, "code_departement")
