"""CFPPA financing: shares by financer category, splits that add up to the cent, national comparison.

The conférence des financeurs (art. L233-1 CASF) pools the prevention money of its members over six
axes. The report (IGAS 2020-098R, `004_be6189ee582ffa8d.txt`) gives the national landmarks: the
CNSA concours are "près des deux tiers" of prevention financing (130 M€ of 203 M€ in 2019, l.688 and
l.711) and the social security bodies (OSS) "près de 17 %" of the committed spending (l.690).

Amounts are handled in integer cents wherever a total is split, so every split adds up to its total
exactly (largest-remainder rounding), never "to within a rounding error".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Financer category of the social security bodies. The OSS share is the sum of the financers of
#: this category (CARSAT, MSA, CPAM, AGIRC-ARRCO, CNRACL, Ircantec): report l.690 counts "les
#: organismes de sécurité sociale" together, the retirement funds' own funds (fonds propres).
OSS = "OSS"
#: Category of the two CNSA concours ("forfait autonomie", axis 2; "autres actions de prévention",
#: axes 4, 5 and 6 since 2019 — report l.686).
CNSA = "CNSA"

#: National landmarks quoted by the report (shown as references, never recomputed).
NATIONAL_TOTAL_2019 = 203_000_000.0     # l.711 "130 M€ sur 203, en 2019"
NATIONAL_CNSA_2019 = 130_000_000.0      # l.711
NATIONAL_OSS_SHARE = 0.17               # l.690 "près de 17 % aux dépenses engagées"


def to_cents(amounts) -> np.ndarray:
    """Euros (float or Decimal) to integer cents, rounding half away from zero."""
    values = np.asarray(pd.to_numeric(pd.Series(amounts), errors="raise"), dtype=float)
    return (np.sign(values) * np.floor(np.abs(values) * 100 + 0.5)).astype(np.int64)


def allocate_cents(total_cents: int, weights) -> np.ndarray:
    """Split `total_cents` in proportion to `weights`, in whole cents summing exactly to the total.

    Largest-remainder (Hamilton) rounding: every part gets the floor of its exact share, the
    remaining cents go to the largest fractional remainders (ties: first position). Zero weights get
    nothing; all-zero weights are split evenly.
    """
    weights = np.asarray(weights, dtype=float)
    if len(weights) == 0:
        if total_cents:
            raise ValueError("rien à répartir sur : aucune part")
        return np.zeros(0, dtype=np.int64)
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise ValueError("poids négatifs ou non finis")
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    exact = total_cents * weights / weights.sum()
    parts = np.floor(exact).astype(np.int64)
    rest = int(total_cents - parts.sum())
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[:rest]] += 1
    return parts


def allocate_cents_grouped(groups: pd.Series, totals_cents: pd.Series, weights: pd.Series) -> np.ndarray:
    """`allocate_cents` within each group, vectorised: one total per group (repeated on its rows).

    `groups` labels the rows, `totals_cents` holds each row's group total (the same on every row of
    a group), `weights` the row weights. Returns the cents of each row, in row order.
    """
    frame = pd.DataFrame({"g": groups.to_numpy(), "t": np.asarray(totals_cents, dtype=np.int64),
                          "w": np.asarray(weights, dtype=float)})
    frame["pos"] = np.arange(len(frame))
    wsum = frame.groupby("g", sort=False)["w"].transform("sum")
    count = frame.groupby("g", sort=False)["w"].transform("size")
    share = np.where(wsum > 0, frame["w"] / wsum.where(wsum > 0, 1), 1 / count)
    exact = frame["t"] * share
    floor = np.floor(exact).astype(np.int64)
    frame["rem"] = exact - floor
    frame["floor"] = floor
    missing = frame["t"] - frame.groupby("g", sort=False)["floor"].transform("sum")
    rank = (frame.sort_values(["g", "rem", "pos"], ascending=[True, False, True], kind="stable")
            .groupby("g", sort=False).cumcount())
    frame["rank"] = rank.reindex(frame.index)
    return (frame["floor"] + (frame["rank"] < missing).astype(np.int64)).to_numpy()


def percentages_summing_to_100(values, decimals: int = 1) -> np.ndarray:
    """Shares in percent, rounded to `decimals` and adding up to exactly 100 (largest remainder)."""
    values = np.asarray(values, dtype=float)
    if values.sum() <= 0:
        return np.zeros_like(values)
    unit = 10 ** decimals
    return allocate_cents(100 * unit, values) / unit


@dataclass(frozen=True)
class Shares:
    """Headline figures of a set of financing lines (one département and year, or France)."""

    total_engage: float
    total_prevu: float | None
    part_cnsa: float | None
    part_oss: float | None
    taux_engagement: float | None


def category_share(lines: pd.DataFrame, category: str, value: str = "montant_engage") -> float | None:
    """Share of the committed amount financed by the financers of `category` (None without money)."""
    total = pd.to_numeric(lines[value]).sum()
    if not total:
        return None
    return float(pd.to_numeric(lines.loc[lines["categorie_financeur"] == category, value]).sum() / total)


def oss_share(lines: pd.DataFrame, value: str = "montant_engage") -> float | None:
    """Share of the OSS: the sum of every financer whose category is `OSS`, over all financers."""
    return category_share(lines, OSS, value)


def cnsa_share(lines: pd.DataFrame, value: str = "montant_engage") -> float | None:
    return category_share(lines, CNSA, value)


def engagement_rate(lines: pd.DataFrame) -> float | None:
    """Committed / planned over the lines where both are known (the CNSA's "taux d'engagement")."""
    known = lines.dropna(subset=["montant_prevu", "montant_engage"])
    planned = pd.to_numeric(known["montant_prevu"]).sum()
    return float(pd.to_numeric(known["montant_engage"]).sum() / planned) if planned else None


def compute_shares(lines: pd.DataFrame) -> Shares:
    """Total committed, planned, CNSA share, OSS share and engagement rate of financing lines."""
    planned = pd.to_numeric(lines["montant_prevu"]) if "montant_prevu" in lines else pd.Series(dtype=float)
    return Shares(
        total_engage=float(pd.to_numeric(lines["montant_engage"]).sum()),
        total_prevu=float(planned.sum()) if planned.notna().any() else None,
        part_cnsa=cnsa_share(lines),
        part_oss=oss_share(lines),
        taux_engagement=engagement_rate(lines) if "montant_prevu" in lines else None,
    )


def split(lines: pd.DataFrame, by: list[str], value: str = "montant_engage",
          within: list[str] | None = None) -> pd.DataFrame:
    """Amounts grouped by `by`, with exact euros and percentages that add up.

    `montant` is the exact sum in euros (cents preserved); `part` the share of the total (of the
    `within` group when given, e.g. each year or each département, else of everything); `part_pct`
    the share in percent rounded to 0.1 so that each group's percentages add up to exactly 100.
    """
    within = within or []
    keys = list(dict.fromkeys([*within, *by]))
    frame = lines.assign(_cents=to_cents(lines[value].fillna(0)))
    grouped = frame.groupby(keys, dropna=False, sort=True)["_cents"].sum().reset_index()
    grouped = grouped[grouped["_cents"] != 0].reset_index(drop=True)
    if within:
        denominators = grouped.groupby(within, dropna=False)["_cents"].transform("sum")
        pct = np.zeros(len(grouped))
        group_id = grouped.groupby(within, dropna=False, sort=False).ngroup().to_numpy()
        for g in np.unique(group_id):
            rows = group_id == g
            pct[rows] = percentages_summing_to_100(grouped.loc[rows, "_cents"])
    else:
        denominators = pd.Series(grouped["_cents"].sum(), index=grouped.index)
        pct = percentages_summing_to_100(grouped["_cents"])
    grouped["montant"] = grouped["_cents"] / 100
    grouped["part"] = grouped["_cents"] / denominators.where(denominators != 0)
    grouped["part_pct"] = pct
    return grouped.drop(columns="_cents")


def compare_with_reference(value: float | None, reference: float | None) -> float | None:
    """Gap in percentage points between a share and its reference (positive = above)."""
    if value is None or reference is None:
        return None
    return (value - reference) * 100


def actions_per_thousand(actions: pd.Series, population: pd.Series) -> pd.Series:
    """Actions (or participants) per 1,000 people of the denominator population; NA without one."""
    population = pd.to_numeric(population, errors="coerce")
    return pd.to_numeric(actions, errors="coerce") * 1000 / population.where(population > 0)


def pick_reference(reference: pd.DataFrame, annee: int) -> dict[str, dict]:
    """National reference figures for `annee`: the latest year with figures up to `annee` (so 2020
    is compared with the 2019 landmarks, and the label says 2019); within that year a real source
    (CNSA summary) wins over the report's quotation for the same indicator.
    Returns `{indicateur: row as dict}`."""
    if reference.empty:
        return {}
    earlier = reference[reference["annee"] <= annee]
    pool = earlier if len(earlier) else reference
    chosen = pool[pool["annee"] == pool["annee"].max()]
    chosen = chosen.assign(_rank=(chosen["nature"] != "real").astype(int)).sort_values("_rank", kind="stable")
    chosen = chosen.drop_duplicates("indicateur").drop(columns="_rank")
    return {row["indicateur"]: row for row in chosen.to_dict("records")}


def france_from_reference(ref: dict[str, dict]) -> pd.DataFrame | None:
    """Category lines rebuilt from the quoted national landmarks (total, CNSA amount, OSS share):
    CNSA, OSS and the rest as "Autres financeurs (non ventilés)", to the cent."""
    if not {"total_financements", "montant_cnsa", "part_oss"} <= set(ref):
        return None
    total = round(ref["total_financements"]["valeur"] * 100)
    cnsa = round(ref["montant_cnsa"]["valeur"] * 100)
    oss = round(total * ref["part_oss"]["valeur"])
    return pd.DataFrame({"categorie_financeur": [CNSA, OSS, "Autres financeurs (non ventilés)"],
                         "montant_engage": [cnsa / 100, oss / 100, (total - cnsa - oss) / 100]})
