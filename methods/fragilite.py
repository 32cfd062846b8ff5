"""Fragility of retirees: the score of the inter-régime Observatoire des situations de fragilité and
the CFPPA d'Ille-et-Vilaine rules that turn it into priority communes.

Source: IGAS report 2020-098R (seed `004_be6189ee582ffa8d.txt`), definitions copied in
`data/facts/fragility.md`:
- individual score (notes 113, 184, 233 — l.1661, 3475, 5348): « Age (score de 1 à 4), bénéfice ou
  non d'une pension de réversion (...) (score 0 ou 3), exonération ou non de CSG (...) (score 0 ou 4);
  plus le score total est élevé, plus la situation est appréciée comme fragile » ;
- fragile commune (note 127, l.2228): indicator ≥ departmental mean + ½ standard deviation ;
- concentration (l.2230): more than 200 people aged 60 and over ;
- prevention coverage (Schéma 8, l.3496): fewer than two prevention actions.

Every function is pure (numbers in, numbers out); SQL aggregation in `etl.fragilite` and
`query.fragilite` uses `age_points_sql` so the formula is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Points for a survivor's pension (isolation marker), l.1661 / 3475 / 5348.
POINTS_REVERSION = 3
#: Points for a CSG exemption (low-income marker), l.1661 / 3475 / 5348.
POINTS_EXO_CSG = 4
#: Age points range from 1 to 4 (l.1661): one point plus one per band edge reached.
AGE_POINTS_MIN, AGE_POINTS_MAX = 1, 4
#: Individual scores therefore range from 1 to 11.
SCORE_MIN, SCORE_MAX = 1, 1 + 3 + POINTS_REVERSION + POINTS_EXO_CSG

#: ASSUMPTION — the age band edges are NOT in the report (data/facts/fragility.md §1.1: « les tranches
#: d'âge ne sont PAS données dans le texte »; the Atlas national des situations de fragilité defines
#: them). Default: < 70 → 1 point, 70–79 → 2, 80–89 → 3, ≥ 90 → 4 (decennial bands). With the
#: French age structure of retirees this gives a national mean near the quoted 3.34 (l.2173).
DEFAULT_AGE_EDGES: tuple[int, int, int] = (70, 80, 90)

#: Age bands stored in the database (lower bound of 5-year bands, 0 = under 60): any edges that are
#: multiples of 5 between 60 and 95 can be recomputed exactly from them.
AGE_BAND_STARTS: tuple[int, ...] = (0, 60, 65, 70, 75, 80, 85, 90, 95)
ALLOWED_EDGES: tuple[int, ...] = AGE_BAND_STARTS[1:]

#: ASSUMPTION — individual « fragile » threshold for the share of fragile retirees (not in the
#: report): score ≥ 7 = CSG exemption at 80+, survivor's pension at 90+, or both markers together.
DEFAULT_SCORE_THRESHOLD = 7

#: Note 127 (l.2228): fragile if indicator ≥ mean + ½ standard deviation.
SD_FACTOR = 0.5
#: l.2230: « plus de 200 personnes âgées de 60 ans et plus » (strictly more).
CONCENTRATION_MIN_60_PLUS = 200
#: Schéma 8 (l.3496): « moins de deux actions ».
ACTIONS_MAX_EXCLUSIVE = 2
#: ASSUMPTION — Schéma 8 does not say over which period the actions are counted. Default window:
#: one year, the fragility millésime's if actions are loaded for it, else the latest earlier year
#: (the latest year at all when every action year is later). Shown in the filters, a parameter.
ACTION_WINDOW_YEARS = 1
#: The rule is written for communes (note 127 l.2228, l.2230, Schéma 8): the page's default level.
RULE_LEVEL = "communes"
#: ASSUMPTION — the report does not say which standard deviation; spreadsheets' ECARTYPE / STDEV
#: (sample, n − 1) is what a CFPPA analyst would use.
DEFAULT_DDOF = 1
#: Communes with fewer retirees than this are left out of the reference mean and SD (their score is
#: both secret and unstable). Same value as the statistical secrecy threshold.
MIN_RETIREES_IN_REFERENCE = 11
#: Float tolerance of the ≥ comparison so that a score exactly at the threshold stays fragile.
TIE_TOLERANCE = 1e-9

REFERENCE_LEVELS = {"departement": "département", "region": "région", "france": "France"}


def default_action_window(years, millesime: int, span: int = ACTION_WINDOW_YEARS) -> tuple[int, int] | None:
    """(first, last) action years counted by default for a fragility millésime: the `span` years
    ending at the millésime, or at the latest action year before it (None without actions)."""
    years = sorted(int(y) for y in years)
    if not years:
        return None
    earlier = [y for y in years if y <= millesime]
    last = earlier[-1] if earlier else years[-1]
    first = max(years[0], last - span + 1)
    return first, last


def check_edges(edges) -> tuple[int, int, int]:
    """Three strictly increasing band edges among `ALLOWED_EDGES`; ValueError otherwise."""
    edges = tuple(int(e) for e in edges)
    if len(edges) != 3 or list(edges) != sorted(set(edges)) or not set(edges) <= set(ALLOWED_EDGES):
        raise ValueError(f"bornes d'âge {edges} : trois valeurs croissantes parmi {ALLOWED_EDGES}")
    return edges  # type: ignore[return-value]


def age_points(age, edges=DEFAULT_AGE_EDGES) -> np.ndarray:
    """1 + number of edges reached (age ≥ edge): 1 to 4."""
    age = np.asarray(age)
    return 1 + sum((age >= e).astype(int) for e in edges)


def individual_score(age, reversion, exo_csg, edges=DEFAULT_AGE_EDGES) -> np.ndarray:
    """Observatoire score of each retiree: age points + 3 × réversion + 4 × CSG exemption."""
    return (age_points(age, edges) + POINTS_REVERSION * np.asarray(reversion, dtype=int)
            + POINTS_EXO_CSG * np.asarray(exo_csg, dtype=int))


def age_points_sql(column: str, edges=DEFAULT_AGE_EDGES) -> str:
    """The same age points as a SQL expression; edges are validated integers, never user text."""
    edges = check_edges(edges)
    return "(1 + " + " + ".join(f"({column} >= {int(e)})::INTEGER" for e in edges) + ")"


def score_sql(age: str, reversion: str, exo_csg: str, edges=DEFAULT_AGE_EDGES) -> str:
    return (f"({age_points_sql(age, edges)} + {POINTS_REVERSION} * ({reversion})::INTEGER"
            f" + {POINTS_EXO_CSG} * ({exo_csg})::INTEGER)")


def age_band_start(age) -> np.ndarray:
    """Lower bound of the stored 5-year band (0 for under 60, 95 for 95 and over)."""
    age = np.asarray(age)
    starts = np.array(AGE_BAND_STARTS[1:])
    return np.where(age < 60, 0, starts[np.clip(np.searchsorted(starts, age, side="right") - 1, 0, None)])


def territory_score(total_score, n_retraites):
    """Mean individual score of a territory's retirees (NaN where nobody)."""
    total = np.asarray(total_score, dtype=float)
    n = np.asarray(n_retraites, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def score_from_counts(n_by_band: dict[int, float], n_reversion, n_exo_csg, n_retraites,
                      edges=DEFAULT_AGE_EDGES):
    """Exact mean score from counts (per 5-year band start, réversion, CSG exemption): the score is
    additive, so Σ scores = Σ_band n·points(band) + 3·n_réversion + 4·n_exo."""
    edges = check_edges(edges)
    total = sum(np.asarray(n, dtype=float) * age_points(start, edges) for start, n in n_by_band.items())
    total = total + POINTS_REVERSION * np.asarray(n_reversion, dtype=float) \
        + POINTS_EXO_CSG * np.asarray(n_exo_csg, dtype=float)
    return territory_score(total, n_retraites)


@dataclass(frozen=True)
class Reference:
    mean: float
    sd: float
    n_territories: int

    @property
    def threshold(self) -> float:
        return self.mean + SD_FACTOR * self.sd


def reference_statistics(scores, n_retraites=None, ddof: int = DEFAULT_DDOF, weighted: bool = False,
                         min_retraites: int = MIN_RETIREES_IN_REFERENCE) -> Reference:
    """Mean and standard deviation of territory scores across the reference's territories.

    Territories with fewer than `min_retraites` retirees (when counts are given) and unknown scores
    are left out. `weighted` weighs each territory by its retirees (mean = the reference's own score).
    """
    s = pd.to_numeric(pd.Series(scores), errors="coerce").reset_index(drop=True)
    keep = s.notna()
    w = None
    if n_retraites is not None:
        n = pd.to_numeric(pd.Series(n_retraites), errors="coerce").reset_index(drop=True)
        keep &= n.fillna(0) >= min_retraites
        w = n[keep].to_numpy(dtype=float)
    x = s[keep].to_numpy(dtype=float)
    if len(x) == 0:
        return Reference(float("nan"), float("nan"), 0)
    if weighted and w is not None and w.sum() > 0:
        mean = float(np.average(x, weights=w))
        denom = w.sum() - (ddof if ddof else 0)
        sd = float(np.sqrt((w * (x - mean) ** 2).sum() / denom)) if denom > 0 else float("nan")
    else:
        mean = float(x.mean())
        sd = float(x.std(ddof=ddof)) if len(x) > ddof else float("nan")
    return Reference(mean, sd, int(len(x)))


def is_fragile(scores, threshold: float) -> np.ndarray:
    """Note 127: fragile if score ≥ threshold (a score exactly at the threshold is fragile)."""
    s = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce"), dtype=float)
    return np.nan_to_num(s, nan=-np.inf) >= threshold - TIE_TOLERANCE


def is_concentrated(n_60_plus, minimum: int = CONCENTRATION_MIN_60_PLUS) -> np.ndarray:
    """l.2230: more than `minimum` people aged 60 and over (strictly; unknown = False)."""
    n = np.asarray(pd.to_numeric(pd.Series(n_60_plus), errors="coerce"), dtype=float)
    return np.nan_to_num(n, nan=-np.inf) > minimum


def is_under_covered(n_actions, max_exclusive: int = ACTIONS_MAX_EXCLUSIVE) -> np.ndarray:
    """Schéma 8: fewer than `max_exclusive` prevention actions (no action recorded = 0)."""
    n = np.asarray(pd.to_numeric(pd.Series(n_actions), errors="coerce").fillna(0), dtype=float)
    return n < max_exclusive


def priority(fragile, n_60_plus, n_actions, concentration_min: int = CONCENTRATION_MIN_60_PLUS,
             actions_max_exclusive: int = ACTIONS_MAX_EXCLUSIVE) -> np.ndarray:
    """Priority commune = fragile ∧ concentration (> 200 aged 60+) ∧ fewer than 2 actions."""
    return (np.asarray(fragile, dtype=bool) & is_concentrated(n_60_plus, concentration_min)
            & is_under_covered(n_actions, actions_max_exclusive))


RULE_CLASSES = ("sous la moyenne", "de la moyenne à moyenne + ½ σ", "fragile (≥ moyenne + ½ σ)")


def rule_classes(scores, mean: float, threshold: float) -> np.ndarray:
    """Map classes of the mean + ½ SD rule: below the mean, between, fragile (≥ threshold)."""
    s = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce"), dtype=float)
    out = np.where(s >= threshold - TIE_TOLERANCE, RULE_CLASSES[2],
                   np.where(s >= mean, RULE_CLASSES[1], RULE_CLASSES[0])).astype(object)
    out[np.isnan(s)] = None
    return out


def quantile_classes(scores, k: int = 5) -> tuple[np.ndarray, list[str]]:
    """Class labels by quantiles of the known scores (`k` classes), and the ordered labels."""
    s = pd.to_numeric(pd.Series(scores), errors="coerce")
    known = s.dropna()
    if known.empty:
        return np.full(len(s), None, dtype=object), []
    # Edges as the legend writes them (2 decimals): two quantiles that print alike are one edge, or
    # two classes would carry the same label. The outer bins still hold the lowest and highest scores.
    edges = np.unique(np.round(np.quantile(known, np.linspace(0, 1, k + 1)), 2))
    if len(edges) < 2:
        label = f"{_fr(edges[0])}"
        return np.where(s.notna(), label, None).astype(object), [label]
    labels = [f"{'[' if i == 0 else ']'}{_fr(lo)} ; {_fr(hi)}]" for i, (lo, hi) in
              enumerate(zip(edges[:-1], edges[1:]))]
    bins = edges.astype(float)
    bins[0], bins[-1] = min(bins[0], known.min()), max(bins[-1], known.max())
    cut = pd.cut(s, bins=bins, labels=labels, include_lowest=True)
    return cut.astype(object).where(cut.notna(), None).to_numpy(), labels


def _fr(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


@dataclass(frozen=True)
class Parameters:
    """Every parameter of the method, as shown in the page's method note."""

    age_edges: tuple[int, int, int] = DEFAULT_AGE_EDGES
    score_threshold: int = DEFAULT_SCORE_THRESHOLD
    reference: str = "departement"            # key of REFERENCE_LEVELS
    sd_factor: float = SD_FACTOR
    ddof: int = DEFAULT_DDOF
    weighted: bool = False
    concentration_min: int = CONCENTRATION_MIN_60_PLUS
    actions_max_exclusive: int = ACTIONS_MAX_EXCLUSIVE
    min_retraites_reference: int = MIN_RETIREES_IN_REFERENCE


def assess(frame: pd.DataFrame, reference_key: str, params: Parameters = Parameters()) -> pd.DataFrame:
    """Adds the reference statistics and the four flags of the CFPPA rule to territory rows.

    `frame` needs score_moyen, n_retraites, n_60_plus, n_actions and the `reference_key` column
    (the territories sharing a value form one reference, e.g. code_departement)."""
    out = frame.copy()
    stats = {}
    for key, group in out.groupby(reference_key, dropna=False, sort=False):
        ref = reference_statistics(group["score_moyen"], group["n_retraites"], params.ddof,
                                   params.weighted, params.min_retraites_reference)
        stats[key] = (ref.mean, ref.sd, ref.mean + params.sd_factor * ref.sd)
    ref = out[reference_key].map(stats)
    out["ref_moyenne"] = [r[0] for r in ref]
    out["ref_ecart_type"] = [r[1] for r in ref]
    out["ref_seuil"] = [r[2] for r in ref]
    out["fragile"] = is_fragile(out["score_moyen"], out["ref_seuil"].to_numpy(dtype=float))
    out["concentration"] = is_concentrated(out["n_60_plus"], params.concentration_min)
    out["moins_de_n_actions"] = is_under_covered(out["n_actions"], params.actions_max_exclusive)
    out["prioritaire"] = priority(out["fragile"], out["n_60_plus"], out["n_actions"], params.concentration_min,
                                  params.actions_max_exclusive)
    return out
