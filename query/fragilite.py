"""Named reads of the fragility tables (see etl/fragilite.py, docs/schema.md and docs/sources.md).

Scores are read as stored for the default age bands and threshold, or recomputed exactly from
`fragilite_communes_detail` for other band edges / thresholds (bind parameters, never formatted).
Prevention actions come from the CFPPA tables `actions_prevention` / `actions_prevention_communes`
through a LEFT JOIN (0 when a commune has none; all 0 when the tables are absent).

The raw per-territory counts (`_communes`, `_epci`) stay inside the layer: the method needs them
whole (reference mean and standard deviation), and what leaves is `assessed`, secrecy applied.
"""

from __future__ import annotations

import itertools

import pandas as pd

from methods import fragilite as method
from methods import secret
from query.db import Database
from query.publication import no_people, people

SCOPES = ("departement", "region", "france")
LEVELS = ("communes", "epci")
#: Shares published next to the people counts they are computed from.
SHARES = {"part_reversion": "n_reversion", "part_exo_csg": "n_exo_csg", "part_fragiles": "n_fragiles"}
#: Values the page lets a user give to the parameters that move a boundary over people: each makes a
#: table linked to the default one (`query.publication`, « Linked tables »).
THRESHOLDS = tuple(range(method.SCORE_MIN, method.SCORE_MAX + 1))
EDGE_SETS = tuple(itertools.combinations(method.ALLOWED_EDGES, 3))


@no_people("millésimes disponibles")
def millesimes(db: Database) -> list[int]:
    return [r[0] for r in db.rows("SELECT DISTINCT millesime FROM fragilite_communes ORDER BY 1 DESC")]


@no_people("présence d'une table")
def has_detail(db: Database, millesime: int) -> bool:
    return bool(db.scalar("SELECT count(*) > 0 FROM fragilite_communes_detail WHERE millesime = ?",
                          [millesime]))


@no_people("présence d'une table")
def has_actions(db: Database) -> bool:
    return db.has_table("actions_prevention_communes") and db.has_table("actions_prevention")


@no_people("années disponibles")
def action_years(db: Database) -> list[int]:
    if not has_actions(db):
        return []
    return [r[0] for r in db.rows("SELECT DISTINCT annee FROM actions_prevention WHERE annee IS NOT NULL "
                                  "ORDER BY 1")]


@no_people("années d'actions comptées par défaut")
def default_action_years(db: Database, millesime: int) -> tuple[int, int] | None:
    """The action window counted by default for a millésime (`methods.fragilite.default_action_window`)."""
    return method.default_action_window(action_years(db), millesime)


def _scores_cte(db: Database, millesime: int, edges, threshold: int) -> tuple[str, list]:
    """`scores(code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen, n_fragiles, n_60_plus,
    source_60_plus, source)` for the millésime, with the requested age edges and threshold."""
    edges = method.check_edges(edges)
    default = edges == method.DEFAULT_AGE_EDGES and threshold == method.DEFAULT_SCORE_THRESHOLD
    if default or not has_detail(db, millesime):
        return ("""scores AS (SELECT code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen,
                       CASE WHEN seuil_fragile = ? THEN n_fragiles END AS n_fragiles,
                       n_60_plus, source_60_plus, source
                   FROM fragilite_communes WHERE millesime = ?)""", [int(threshold), millesime])
    # Score of a cell = 1 + Σ (age_min ≥ edge) + 3·réversion + 4·CSG, edges bound as parameters.
    score = ("(1 + (age_min >= ?)::INTEGER + (age_min >= ?)::INTEGER + (age_min >= ?)::INTEGER"
             f" + {method.POINTS_REVERSION} * reversion::INTEGER + {method.POINTS_EXO_CSG} * exo_csg::INTEGER)")
    sql = f"""scores AS (
        SELECT d.code_insee, sum(d.n_retraites) AS n_retraites,
               sum(d.n_retraites) FILTER (WHERE d.reversion) AS n_reversion,
               sum(d.n_retraites) FILTER (WHERE d.exo_csg) AS n_exo_csg,
               sum(d.n_retraites * {score}) / sum(d.n_retraites) AS score_moyen,
               coalesce(sum(d.n_retraites) FILTER (WHERE {score} >= ?), 0) AS n_fragiles,
               any_value(f.n_60_plus) AS n_60_plus, any_value(f.source_60_plus) AS source_60_plus,
               any_value(d.source) AS source
        FROM fragilite_communes_detail d
        JOIN fragilite_communes f ON f.code_insee = d.code_insee AND f.millesime = d.millesime
        WHERE d.millesime = ? GROUP BY d.code_insee)"""
    return sql, [*edges, *edges, int(threshold), millesime]


def _actions_cte(db: Database, years: tuple[int, int] | None) -> tuple[str, list]:
    if not has_actions(db):
        return "actions AS (SELECT NULL::TEXT AS code_insee, 0 AS n_actions WHERE FALSE)", []
    lo, hi = years if years else (None, None)
    return ("""actions AS (
        SELECT ac.code_insee, count(DISTINCT ac.action_id) AS n_actions
        FROM actions_prevention_communes ac JOIN actions_prevention a USING (action_id)
        WHERE (CAST(? AS INTEGER) IS NULL OR a.annee >= ?) AND (CAST(? AS INTEGER) IS NULL OR a.annee <= ?)
        GROUP BY ac.code_insee)""", [lo, lo, hi, hi])


def _communes(db: Database, millesime: int, edges=method.DEFAULT_AGE_EDGES,
             threshold: int = method.DEFAULT_SCORE_THRESHOLD, scope: str = "departement",
             code: str | None = None, action_years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Every commune of the scope (a département, a région, or France when code is None) with its
    fragility counts, score and number of prevention actions; communes without data are kept
    (NULL counts) so the map shows them as « pas de données »."""
    if scope not in SCOPES:
        raise ValueError(scope)
    scores, p1 = _scores_cte(db, millesime, edges, threshold)
    actions, p2 = _actions_cte(db, action_years)
    column = {"departement": "c.code_departement", "region": "c.code_region", "france": "NULL"}[scope]
    sql = f"""WITH {scores}, {actions}
        SELECT c.code_insee, c.nom, c.code_departement, c.code_region, c.siren_epci,
               e.nom AS nom_epci, e.nature AS nature_epci, c.population,
               s.n_retraites, s.n_reversion, s.n_exo_csg, s.score_moyen, s.n_fragiles,
               s.n_60_plus, s.source_60_plus, coalesce(a.n_actions, 0) AS n_actions, s.source
        FROM communes c LEFT JOIN epci e ON e.siren = c.siren_epci
        LEFT JOIN scores s USING (code_insee) LEFT JOIN actions a USING (code_insee)
        WHERE CAST(? AS TEXT) IS NULL OR {column} = ?
        ORDER BY c.code_insee"""
    return db.frame(sql, [*p1, *p2, code, code])


def _epci(db: Database, millesime: int, edges=method.DEFAULT_AGE_EDGES,
         threshold: int = method.DEFAULT_SCORE_THRESHOLD, scope: str = "departement",
         code: str | None = None, action_years: tuple[int, int] | None = None) -> pd.DataFrame:
    """EPCI sums of their communes (all member communes, whatever their département): retirees,
    markers, mean score weighted by retirees, people aged 60+, distinct prevention actions.
    Scope: EPCI touching a département, EPCI whose main département is in a région, or France."""
    if scope not in SCOPES:
        raise ValueError(scope)
    scores, p1 = _scores_cte(db, millesime, edges, threshold)
    actions, p2 = _actions_cte(db, action_years)
    if has_actions(db):
        epci_actions = """, epci_actions AS (
            SELECT c.siren_epci, count(DISTINCT ac.action_id) AS n_actions
            FROM actions_prevention_communes ac JOIN actions_prevention a USING (action_id)
            JOIN communes c USING (code_insee)
            WHERE (CAST(? AS INTEGER) IS NULL OR a.annee >= ?) AND (CAST(? AS INTEGER) IS NULL OR a.annee <= ?)
            GROUP BY c.siren_epci)"""
        p3 = p2
    else:
        epci_actions = ", epci_actions AS (SELECT NULL::TEXT AS siren_epci, 0 AS n_actions WHERE FALSE)"
        p3 = []
    where = {
        "departement": "e.siren IN (SELECT siren FROM epci_departements WHERE code_departement = ?)",
        "region": "d.code_region = ?",
        "france": "CAST(? AS TEXT) IS NULL",
    }[scope]
    sql = f"""WITH {scores}, {actions}{epci_actions},
        sums AS (
            SELECT c.siren_epci, count(*) AS n_communes, sum(s.n_retraites) AS n_retraites,
                   sum(s.n_reversion) AS n_reversion, sum(s.n_exo_csg) AS n_exo_csg,
                   sum(s.score_moyen * s.n_retraites) FILTER (WHERE s.score_moyen IS NOT NULL)
                     / sum(s.n_retraites) FILTER (WHERE s.score_moyen IS NOT NULL) AS score_moyen,
                   CASE WHEN count(s.n_fragiles) = count(s.code_insee) THEN sum(s.n_fragiles) END AS n_fragiles,
                   CASE WHEN count(s.n_60_plus) = count(*) THEN sum(s.n_60_plus) END AS n_60_plus,
                   string_agg(DISTINCT s.source_60_plus, ',') AS source_60_plus,
                   string_agg(DISTINCT s.source, ',') AS source
            FROM communes c LEFT JOIN scores s USING (code_insee)
            WHERE c.siren_epci IS NOT NULL GROUP BY c.siren_epci)
        SELECT e.siren AS siren_epci, e.nom, e.nature AS nature_epci, e.code_departement,
               d.code_region, e.population, s.n_communes, s.n_retraites, s.n_reversion, s.n_exo_csg,
               s.score_moyen, s.n_fragiles, s.n_60_plus, s.source_60_plus,
               coalesce(a.n_actions, 0) AS n_actions, s.source
        FROM epci e JOIN departements d ON d.code = e.code_departement
        LEFT JOIN sums s ON s.siren_epci = e.siren
        LEFT JOIN epci_actions a ON a.siren_epci = e.siren
        WHERE {where} ORDER BY e.siren"""
    return db.frame(sql, [*p1, *p2, *p3, code])


@people("n_retraites", values=("score_moyen",), subcounts={"n_fragiles": (), "n_60_plus": ()})
def departements(db: Database, millesime: int) -> pd.DataFrame:
    """Stored département scores (default parameters), with names."""
    return db.frame(
        """SELECT f.code_departement, d.nom, f.n_retraites, f.score_moyen, f.n_fragiles, f.n_60_plus
           FROM fragilite_departements f JOIN departements d ON d.code = f.code_departement
           WHERE f.millesime = ? ORDER BY f.score_moyen""", [millesime])


@no_people("valeurs de référence citées du rapport")
def references(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT r.indicateur, r.perimetre, r.valeur_min, r.valeur_max, r.valeur_texte, r.source_line,
                  s.name AS source_nom, s.reference
           FROM fragilite_references r JOIN sources s USING (source) ORDER BY r.source_line""")


@no_people("liste des sources")
def sources(db: Database) -> pd.DataFrame:
    """The sources feeding the page (fragility tables, and the prevention actions when loaded)."""
    return db.frame(
        """SELECT source, name, publisher, vintage, nature, reference FROM sources
           WHERE source LIKE 'fragilite%' OR source = 'igas-2020-098r-fragilite'
              OR source IN (SELECT DISTINCT source FROM fragilite_communes)
           ORDER BY nature, source""")


@no_people("liste des sources")
def action_sources(db: Database) -> pd.DataFrame:
    if not has_actions(db):
        return pd.DataFrame(columns=["source", "name", "vintage", "nature"])
    return db.frame("""SELECT source, name, vintage, nature FROM sources
                       WHERE source IN (SELECT DISTINCT source FROM actions_prevention)""")


def _linked_keys(db: Database, level: str, frame: pd.DataFrame) -> tuple[str, list, list]:
    """SQL filter on the detail cells of the territories of `frame` and, for communes, of every other
    commune of their EPCI (inside or outside the scope: the EPCI total covers them all)."""
    sirens = [s for s in frame["siren_epci"].dropna().unique()]
    if level == "epci":
        return "c.siren_epci", "c.siren_epci IN (SELECT unnest(?::TEXT[]))", [sirens]
    codes = list(frame["code_insee"])
    return ("d.code_insee", "(c.siren_epci IN (SELECT unnest(?::TEXT[])) OR d.code_insee IN "
            "(SELECT unnest(?::TEXT[])))", [sirens, codes])


def _linked_masks(db: Database, level: str, millesime: int, edges, threshold: int,
                  frame: pd.DataFrame) -> dict:
    """Rows of `frame` whose counts may not be published under these edges and threshold, because
    with the default ones (and the other allowed values) they would isolate 1 to 10 people.

    - Threshold ≠ default (default edges): `n_fragiles` follows `secret.linked_chain` over
      `THRESHOLDS` (people with score ≥ T decrease with T), for communes with `linked_groups` over
      their EPCI (whose total is published at the EPCI level).
    - Edges ≠ default: `n_fragiles` is not published (its differences mix age, réversion and CSG
      cells), and a territory's score only when each of its 5-year age-band counts — for a commune,
      those of every commune of its EPCI — is 0 or ≥ 11 (`secret.all_cells_safe`): a difference of
      total scores between two edge sets is a sum of those bands."""
    default_edges = tuple(edges) == method.DEFAULT_AGE_EDGES
    if (default_edges and threshold == method.DEFAULT_SCORE_THRESHOLD) or frame.empty:
        return {}
    everything = pd.Series(True, index=frame.index)
    if not has_detail(db, millesime):
        return {"n_fragiles": everything}
    key = "code_insee" if level == "communes" else "siren_epci"
    column, where, params = _linked_keys(db, level, frame)
    if default_edges:
        score = method.score_sql("d.age_min", "d.reversion", "d.exo_csg", method.DEFAULT_AGE_EDGES)
        cells = db.frame(f"""SELECT {column} AS key, any_value(c.siren_epci) AS siren_epci, {score} AS score,
                                    sum(d.n_retraites) AS n
                             FROM fragilite_communes_detail d JOIN communes c USING (code_insee)
                             WHERE d.millesime = ? AND {where} GROUP BY ALL""", [millesime, *params])
        by_score = cells.pivot_table(index="key", columns="score", values="n", aggfunc="sum", fill_value=0)
        by_score = by_score.reindex(columns=range(method.SCORE_MIN, method.SCORE_MAX + 1), fill_value=0)
        at_least = by_score.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]  # people with score ≥ T
        at_least.columns = list(THRESHOLDS)
        ok = secret.linked_chain(at_least, method.DEFAULT_SCORE_THRESHOLD)
        if level == "communes":
            groups = cells.groupby("key")["siren_epci"].first().fillna(pd.Series(ok.index, index=ok.index))
            ok = secret.linked_groups(ok, groups)
        published = ok[threshold].reindex(frame[key]).fillna(True).to_numpy()
        return {"n_fragiles": pd.Series(~published, index=frame.index)}
    bands = db.frame(f"""SELECT {column} AS key, any_value(c.siren_epci) AS siren_epci, d.age_min,
                                sum(d.n_retraites) AS n
                         FROM fragilite_communes_detail d JOIN communes c USING (code_insee)
                         WHERE d.millesime = ? AND {where} GROUP BY ALL""", [millesime, *params])
    by_band = bands.pivot_table(index="key", columns="age_min", values="n", aggfunc="sum", fill_value=0)
    safe = secret.all_cells_safe(by_band)
    if level == "communes":
        groups = bands.groupby("key")["siren_epci"].first().fillna(pd.Series(safe.index, index=safe.index))
        safe = secret.linked_groups(safe.to_frame("safe"), groups)["safe"]
    published = safe.reindex(frame[key]).fillna(True).to_numpy()
    return {"n_fragiles": everything, "*": pd.Series(~published, index=frame.index)}


@people("n_retraites",
        values=("score_moyen", "fragile", "concentration", "moins_de_n_actions", "prioritaire"),
        subcounts={"n_reversion": ("part_reversion",), "n_exo_csg": ("part_exo_csg",),
                   "n_fragiles": ("part_fragiles",), "n_60_plus": ()},
        group="siren_epci", sweep={"threshold": THRESHOLDS, "edges": EDGE_SETS})
def assessed(db: Database, level: str, millesime: int, edges=method.DEFAULT_AGE_EDGES,
             threshold: int = method.DEFAULT_SCORE_THRESHOLD, scope: str = "departement",
             code: str | None = None, action_years: tuple[int, int] | None = None,
             params: method.Parameters = method.Parameters()) -> pd.DataFrame:
    """Communes or EPCI of the scope with their fragility counts, shares, reference statistics and
    flags (`methods.fragilite.assess`), as they may be shown: a territory of 1 to 10 retirees keeps
    its code and name only (`secret`), and so does the smallest other commune of its EPCI when it is
    the only one (EPCI totals are published); a sub-count of 1 to 10 people loses its share too.
    Under a non-default threshold or age edges, what a difference with the other allowed values
    would isolate is masked too (`_linked_masks`). `sans_donnees` marks territories without data."""
    if level not in LEVELS:
        raise ValueError(level)
    read = _communes if level == "communes" else _epci
    frame = read(db, millesime, edges, threshold, scope, code, action_years)
    frame = frame.assign(
        ref=frame["code_departement"] if params.reference == "departement"
        else frame["code_region"] if params.reference == "region" else "FR")
    frame = method.assess(frame, "ref", params)
    for share, count in SHARES.items():
        frame[share] = frame[count] / frame["n_retraites"]
    frame["sans_donnees"] = frame["n_retraites"].isna()
    frame.attrs["linked"] = _linked_masks(db, level, millesime, edges, threshold, frame)
    return frame


@no_people("territoires de référence")
def regions(db: Database) -> dict[str, str]:
    return dict(db.rows("SELECT code, nom FROM regions ORDER BY code"))
