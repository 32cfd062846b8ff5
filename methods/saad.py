"""SAAD key indicators (UNCCAS–MISAP 2016, seed `003_c62734b4c9e4dd39.txt`): territory aggregates.

- Revenue of the activity and its split in % by financer: indicator 25 (l. 1100).
- Hourly cost price and gap with the financed rate: indicator 27 (l. 1104); territory figures are
  weighted by the hours of intervention (indicator 4, l. 1048) so that a large service weighs more.
- Counts of people (beneficiaries, GIR classes, waiting files, home helpers) under the secrecy threshold
  are masked (methods.secret), with secondary secrecy inside a ventilated indicator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from methods import secret

#: Indicators whose value is computed from others in the territory view (seed 003 l. 1100, 1104).
REVENUE_INDICATOR = 25
COST_INDICATOR = 27
HOURS_INDICATOR = 4


def revenue_split(frame: pd.DataFrame) -> pd.DataFrame:
    """Per territory and financer: revenue and its share of the territory's revenue (indicator 25),
    plus an "Ensemble" territory summing all rows."""
    if frame.empty:
        return frame.assign(part=pd.Series(dtype=float))
    whole = frame.groupby("financeur", as_index=False)["recettes"].sum().assign(territoire="Ensemble")
    out = pd.concat([frame[["territoire", "financeur", "recettes"]], whole], ignore_index=True)
    out["part"] = out["recettes"] / out.groupby("territoire")["recettes"].transform("sum")
    return out


def weighted_cost_gap(frame: pd.DataFrame, by: str = "territoire") -> pd.DataFrame:
    """Per territory: hour-weighted cost price and financed rate, their gap per hour, and the yearly gap
    (Σ (cost price − financed rate) × hours): the amount a département would cover under a CPOM
    (seed 001 l. 32). Grouped by `by` (the key lands in column `territoire`), plus an "Ensemble" row.
    Services missing one of the three values are left out (counted in `attrs["services_incomplets"]`)."""
    complete = frame.dropna(subset=["prix_de_revient", "taux_finance", "heures"])
    complete = complete[complete["heures"] > 0]
    rows = []
    groups = [(t, g) for t, g in complete.groupby(by)] + [("Ensemble", complete)]
    for territoire, g in groups:
        hours = g["heures"].sum()
        if not hours:
            continue
        cost = (g["prix_de_revient"] * g["heures"]).sum() / hours
        rate = (g["taux_finance"] * g["heures"]).sum() / hours
        rows.append({"territoire": territoire, "services": int(g["service_id"].nunique()), "heures": hours,
                     "prix_de_revient": cost, "taux_finance": rate, "ecart_horaire": cost - rate,
                     "ecart_annuel": ((g["prix_de_revient"] - g["taux_finance"]) * g["heures"]).sum()})
    out = pd.DataFrame(rows, columns=["territoire", "services", "heures", "prix_de_revient", "taux_finance",
                                      "ecart_horaire", "ecart_annuel"])
    out.attrs["services_incomplets"] = int(frame["service_id"].nunique() - complete["service_id"].nunique())
    return out


def mask_people(values: pd.DataFrame) -> pd.DataFrame:
    """Long values with `valeur` masked where the indicator counts people and the count is under the
    threshold; for a ventilated people count (GIR classes) a lone masked class takes the next smallest with
    it, since the service's total (indicator 5) is published."""
    out = values.copy()
    out["secret"] = False
    people = out["compte_personnes"].astype(bool)
    if people.any():
        part = out[people].copy()
        part["_groupe"] = part["service_id"].astype(str) + "|" + part["indicateur"].astype(str)
        masked = secret.mask(part, "valeur", group="_groupe")
        out.loc[people, "valeur"] = pd.to_numeric(masked["valeur"], errors="coerce").to_numpy()
        out.loc[people, "secret"] = masked["secret"].to_numpy()
    return out


def service_table(values: pd.DataFrame) -> pd.DataFrame:
    """One row per service, one column per indicator (and ventilation): "n° — libellé [ventilation] (unité)".
    Expects values already masked by `mask_people`."""
    if values.empty:
        return pd.DataFrame(columns=["service_id", "nom", "epci"])
    label = values["indicateur"].astype(str) + ". " + values["libelle"].str.slice(0, 48) \
        + np.where(values["ventilation"] != "", " — " + values["ventilation"], "") \
        + " (" + values["unite"] + ")"
    labelled = values.assign(colonne=label)
    order = labelled.drop_duplicates("colonne").sort_values(["indicateur", "ventilation"])["colonne"].tolist()
    wide = labelled.pivot_table(index="service_id", columns="colonne", values="valeur", aggfunc="first",
                                dropna=False).reindex(columns=order)
    wide.columns.name = None
    names = values.drop_duplicates("service_id").set_index("service_id")[["nom", "epci"]]
    return names.join(wide, how="inner").reset_index().sort_values("nom", kind="stable", ignore_index=True)


def service_secret_cells(values: pd.DataFrame) -> pd.DataFrame:
    """The cells of `service_table(values)` masked by secrecy (True), same rows and columns."""
    if values.empty or "secret" not in values:
        return pd.DataFrame()
    flags = service_table(values.assign(valeur=values["secret"].astype(float)))
    return flags.set_index(["service_id", "nom", "epci"]).eq(1.0).reset_index()


def mask_series(serie: pd.DataFrame, counts_people: bool) -> pd.DataFrame:
    """A monthly series of a people count (beneficiaries): months whose total is under the threshold
    lose both their sum and their mean per service."""
    if not counts_people:
        return serie
    small = serie["somme"] < secret.SECRET_THRESHOLD
    return serie.assign(somme=serie["somme"].where(~small), moyenne=serie["moyenne"].where(~small))
