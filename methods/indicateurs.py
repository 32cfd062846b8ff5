"""Socio-economic indicators: the SDAASP "cumul d'indicateurs défavorables", the CNAF "priorité
petite enfance" rule, and the aggregation of commune counts to EPCI / département / région / France.

Pure functions on pandas frames (aggregation runs as DuckDB SQL on the frames, no row loops).
Source of the methods: rapport IGAS 2020-098R (seed `004_…`), Tableau 1 l.4215-4246 (cumul, Orne
SDAASP) and l.2244-2251 / 4186-4192 (CNAF priority rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

#: Direction of an indicator: a higher value is worse, or a lower value is worse.
HAUSSE_DEFAVORABLE = "hausse_defavorable"
BAISSE_DEFAVORABLE = "baisse_defavorable"
SENS = (HAUSSE_DEFAVORABLE, BAISSE_DEFAVORABLE)

#: The seven indicators of Tableau 1 (SDAASP de l'Orne, rapport l.4218), in the printed order.
TABLEAU1 = (
    "variation_population",     # lower is worse
    "indice_vieillissement",    # higher is worse
    "revenu_median_uc",         # lower is worse
    "taux_pauvrete",            # higher is worse
    "taux_chomage",             # higher is worse
    "part_emploi_precaire",     # higher is worse
    "part_ouvriers",            # higher is worse
)

#: Reference territories the cumul may be computed against (code_geo, niveau). The SDAASP uses
#: France métropolitaine (rapport l.4220): it is the default.
REFERENCE_FRANCE_METRO = ("FRM", "france")

#: CNAF rule: a commune or EPCI is a priority for early childhood when its childcare coverage is
#: below 54 places per 100 children under 3 (rapport l.2244 and l.4186: « inférieur à 54 places
#: pour 100 enfants (accueil individuel et collectif) »). The report calls it the national average,
#: while giving 58/100 elsewhere (l.910, 2916): hence a parameter.
SEUIL_COUVERTURE_PETITE_ENFANCE = 54.0
#: The national coverage the report quotes in three places, which do not agree: 54 (l.2244, 4186,
#: « ce qui correspond à la moyenne nationale »), 58 at end 2018 (l.910) and 59.6 for France
#: métropolitaine (l.4885). Shown next to the threshold, never reconciled.
COUVERTURES_NATIONALES_CITEES = ((54.0, "l.2244 et l.4186 (définition CNAF, « moyenne nationale »)"),
                                 (58.0, "l.910 (moyenne nationale fin 2018)"),
                                 (59.6, "l.4885 (France métropolitaine)"))
#: ASSUMPTION — how the three criteria are aggregated. The report says « l'agrégation des trois
#: critères permet d'identifier des territoires prioritaires » (l.2251, 4192) right after noting that
#: every Ille-et-Vilaine EPCI is above 54 places (l.2251): requiring all three could never select one
#: there, so the criteria are not required together; the mode is not specified. Default: at least
#: two criteria of three (a parameter, 1 to 3, shown on the page).
CRITERES_MINIMUM_DEFAUT = 2

#: How a value is computed from its numerator and denominator; `non_agregeable` values (medians,
#: poverty rates) come only from the publisher's own level and are never derived from communes.
CALCULS = ("ratio_pct", "ratio_x100", "ratio", "taux_annuel_moyen", "somme", "non_agregeable")


def value_from_counts(numerateur, denominateur, calcul: str, annees=None):
    """Indicator value from (summed) numerator and denominator, vectorised.

    `ratio_pct` and `ratio_x100`: 100 × num / den (a share in %, an index such as the ageing index);
    `ratio`: num / den (€ per inhabitant…); `taux_annuel_moyen`: ((num / den)^(1/years) − 1) × 100,
    the mean annual change between the population of the start year (den) and of the end year (num);
    `somme`: the count itself. A zero or missing denominator gives NaN.
    """
    num = pd.to_numeric(pd.Series(numerateur), errors="coerce").astype(float)
    den = pd.to_numeric(pd.Series(denominateur), errors="coerce").astype(float).replace(0.0, np.nan)
    if calcul in ("ratio_pct", "ratio_x100"):
        out = 100.0 * num / den
    elif calcul == "ratio":
        out = num / den
    elif calcul == "taux_annuel_moyen":
        years = pd.to_numeric(pd.Series(annees), errors="coerce").astype(float)
        years = years.reindex(num.index) if len(years) == len(num) else pd.Series(
            float(years.iloc[0]), index=num.index)
        out = ((num / den) ** (1.0 / years.replace(0.0, np.nan)) - 1.0) * 100.0
    elif calcul == "somme":
        out = num
    else:
        raise ValueError(f"calcul {calcul!r} : valeur non dérivable de numérateur/dénominateur")
    return out.to_numpy()


def aggregate_counts(counts: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Sum commune numerators and denominators into parent territories.

    `counts`: code_geo, indicateur, millesime, numerateur, denominateur (one row per commune and
    indicator; `annee_debut` optional). `membership`: code_geo (commune), code_parent, niveau.
    Returns code_geo (the parent), niveau, indicateur, millesime, annee_debut, numerateur,
    denominateur, nb_communes. Rates are then recomputed with `value_from_counts`: summing counts,
    never averaging rates, is what makes an EPCI rate equal to the ratio of its summed parts.
    """
    if "annee_debut" not in counts:
        counts = counts.assign(annee_debut=pd.NA)
    con = duckdb.connect()
    try:
        con.register("counts", counts[["code_geo", "indicateur", "millesime", "annee_debut",
                                       "numerateur", "denominateur"]])
        con.register("membership", membership[["code_geo", "code_parent", "niveau"]])
        return con.execute("""
            SELECT m.code_parent AS code_geo, m.niveau, c.indicateur, c.millesime,
                   max(c.annee_debut) AS annee_debut,
                   sum(c.numerateur)::DOUBLE AS numerateur, sum(c.denominateur)::DOUBLE AS denominateur,
                   count(*) AS nb_communes
            FROM counts c JOIN membership m USING (code_geo)
            WHERE c.numerateur IS NOT NULL
            GROUP BY ALL ORDER BY 1, 3""").df()
    finally:
        con.close()


def is_unfavourable(valeur, reference, sens: str, decimales: int | None = None):
    """Strictly worse than the reference in the indicator's direction; ties are not unfavourable.

    Values are compared at the published precision (`decimales`) when given: two rates printed
    14,9 % are equal (CC Andaine-Passais vs France métropolitaine, rapport l.4222). NaN when either
    side is missing.
    """
    v = pd.to_numeric(pd.Series(valeur), errors="coerce").astype(float)
    r = pd.to_numeric(pd.Series(reference), errors="coerce").astype(float)
    if len(r) == 1 and len(v) != 1:
        r = pd.Series(float(r.iloc[0]), index=v.index)
    if decimales is not None:
        v, r = v.round(decimales), r.round(decimales)
    if sens == HAUSSE_DEFAVORABLE:
        out = v.to_numpy() > r.to_numpy()
    elif sens == BAISSE_DEFAVORABLE:
        out = v.to_numpy() < r.to_numpy()
    else:
        raise ValueError(f"sens {sens!r} inconnu (attendu : {SENS})")
    out = out.astype(float)
    out[np.isnan(v.to_numpy()) | np.isnan(r.to_numpy())] = np.nan
    return out


def compute_cumul(values: pd.DataFrame, reference: pd.Series, catalogue: pd.DataFrame,
                  indicateurs: tuple[str, ...] | list[str] = TABLEAU1) -> pd.DataFrame:
    """Cumul d'indicateurs défavorables (SDAASP de l'Orne, Tableau 1, rapport l.4218-4240).

    `values`: code_geo, indicateur, valeur (one millésime). `reference`: valeur indexed by indicateur
    (France métropolitaine by default, or a région / département). `catalogue`: indicateur, sens,
    decimales. Returns one row per territory: `cumul` (unfavourable count), `nb_compares`
    (indicators with both a value and a reference value), and one 0/1 column `defav_<indicateur>`.
    """
    indicateurs = list(indicateurs)
    cat = catalogue.set_index("indicateur")
    wide = values[values["indicateur"].isin(indicateurs)].pivot_table(
        index="code_geo", columns="indicateur", values="valeur", aggfunc="first")
    out = pd.DataFrame(index=wide.index)
    for ind in indicateurs:
        column = wide[ind] if ind in wide else pd.Series(np.nan, index=wide.index)
        decimales = cat.at[ind, "decimales"] if "decimales" in cat and ind in cat.index else None
        decimales = None if decimales is None or pd.isna(decimales) else int(decimales)
        out[f"defav_{ind}"] = is_unfavourable(column, reference.get(ind, np.nan),
                                              cat.at[ind, "sens"], decimales)
    flags = out[[f"defav_{i}" for i in indicateurs]]
    out["cumul"] = flags.sum(axis=1, min_count=1).astype("Int64")
    out["nb_compares"] = flags.notna().sum(axis=1).astype(int)
    return out.reset_index()


def rank_within(cumul: pd.DataFrame, column: str = "cumul") -> pd.Series:
    """Rank by cumul, most unfavourable first; ties share the best rank (1, 1, 3…)."""
    return cumul[column].rank(ascending=False, method="min").astype("Int64")


@dataclass(frozen=True)
class PrioritePetiteEnfance:
    couverture: float | None
    potentiel_financier: float | None
    potentiel_financier_national: float | None
    revenu_moyen: float | None
    revenu_moyen_national: float | None
    seuil: float
    criteres_minimum: int = CRITERES_MINIMUM_DEFAUT

    @property
    def criteres(self) -> dict[str, bool | None]:
        """Each CNAF criterion: True met, False not met, None unknown (value missing)."""
        def below(a, b):
            return None if a is None or b is None or pd.isna(a) or pd.isna(b) else bool(a < b)
        return {
            "couverture": below(self.couverture, self.seuil),
            "potentiel_financier": below(self.potentiel_financier, self.potentiel_financier_national),
            "revenu_moyen": below(self.revenu_moyen, self.revenu_moyen_national),
        }

    @property
    def n_criteres(self) -> int:
        return sum(v is True for v in self.criteres.values())

    @property
    def prioritaire(self) -> bool | None:
        """Priority when at least `criteres_minimum` of the three criteria hold (the report's
        « agrégation des trois critères », l.2251 / 4192, mode unspecified); None while the unknown
        criteria could still decide it either way."""
        values = list(self.criteres.values())
        met, unknown = sum(v is True for v in values), sum(v is None for v in values)
        if met >= self.criteres_minimum:
            return True
        if met + unknown < self.criteres_minimum:
            return False
        return None


def compute_priorite_petite_enfance(couverture, potentiel_financier, potentiel_financier_national,
                                    revenu_moyen, revenu_moyen_national,
                                    seuil: float = SEUIL_COUVERTURE_PETITE_ENFANCE,
                                    criteres_minimum: int = CRITERES_MINIMUM_DEFAUT
                                    ) -> PrioritePetiteEnfance:
    """CNAF « territoire prioritaire petite enfance » (rapport l.2244-2251, 4186-4192): three criteria
    — coverage below `seuil` places per 100 children, financial potential per inhabitant below the
    national one, average income per tax household below the national one — aggregated as « at least
    `criteres_minimum` of them » (`CRITERES_MINIMUM_DEFAUT`, an assumption)."""
    if criteres_minimum not in (1, 2, 3):
        raise ValueError("nombre de critères requis : 1, 2 ou 3")
    return PrioritePetiteEnfance(couverture, potentiel_financier, potentiel_financier_national,
                                 revenu_moyen, revenu_moyen_national, seuil, criteres_minimum)


def compare_vintages(values: pd.DataFrame, debut: int, fin: int) -> pd.DataFrame:
    """Evolution of each indicator of one territory between two millésimes.

    `values`: indicateur, millesime, valeur, definition (one row per source). Returns indicateur,
    valeur_debut, valeur_fin, evolution (fin − début, in the indicator's unit: points for a rate),
    comparable and note. Two values compare only under the same definition (Filosofi 1 and Filosofi 2
    differ: INSEE warns that the series break); when a year holds both, the one sharing the other
    year's definition is used. A missing year gives no evolution.
    """
    rows = []
    values = values.assign(definition=values["definition"].fillna(""))
    for indicateur, part in values.groupby("indicateur", sort=False):
        start, end = part[part["millesime"] == debut], part[part["millesime"] == fin]
        if start.empty and end.empty:  # known in other years only: not part of this comparison
            continue
        if start.empty or end.empty:
            rows.append({"indicateur": indicateur,
                         "valeur_debut": start["valeur"].iloc[-1] if len(start) else None,
                         "valeur_fin": end["valeur"].iloc[-1] if len(end) else None, "evolution": None,
                         "comparable": False, "note": f"pas de valeur en {debut if start.empty else fin}"})
            continue
        shared = set(start["definition"]) & set(end["definition"])
        if shared:
            definition = sorted(shared)[-1]
            a = start[start["definition"] == definition].iloc[-1]
            b = end[end["definition"] == definition].iloc[-1]
            rows.append({"indicateur": indicateur, "valeur_debut": a["valeur"], "valeur_fin": b["valeur"],
                         "evolution": b["valeur"] - a["valeur"], "comparable": True, "note": definition})
        else:
            a, b = start.iloc[-1], end.iloc[-1]
            rows.append({"indicateur": indicateur, "valeur_debut": a["valeur"], "valeur_fin": b["valeur"],
                         "evolution": None, "comparable": False,
                         "note": f"définition changée : {a['definition'] or '?'} → {b['definition'] or '?'} "
                                 "(évolution non calculée)"})
    return pd.DataFrame(rows, columns=["indicateur", "valeur_debut", "valeur_fin", "evolution", "comparable", "note"])
