"""Service baskets (paniers de services) of the CNAV experimentation: funnel and breakdowns.

Source: seed `000_7a01445a244e9d32.txt` (CNAV, bilan intermédiaire, 30 June 2015). The funnel is requests
received → evaluations ordered → baskets granted (l. 101-111); baskets are described by level (l. 138),
family of services (l. 238-244) and territory type (l. 115-136).
"""

from __future__ import annotations

import pandas as pd

from methods import secret

#: The five families of services of the specifications (seed 000, l. 238-244).
FAMILLES = (
    "Aide à la vie quotidienne",
    "Maintien du lien social",
    "Vie quotidienne et sécurité",
    "Information et conseils en prévention",
    "Mise en œuvre des paniers",
)
#: Territory types of the experimentation (seed 000, l. 121-134).
TYPES_TERRITOIRE = ("urbain", "rural", "mixte")
#: Funnel stages, in order, with the report's wording (seed 000, l. 101, 105, 109).
ETAPES = {
    "demandes_recues": "Demandes reçues",
    "evaluations_commandees": "Évaluations commandées",
    "paniers_accordes": "Paniers de services accordés",
}


def funnel_rates(demandes: float, evaluations: float, paniers: float) -> dict[str, float | None]:
    """Conversion along the funnel: evaluations per request, baskets per evaluation, baskets per request.
    At 30 June 2015: 2 543 / 3 285 = 77.4 %, 852 / 2 543 = 33.5 %, 852 / 3 285 = 25.9 % — with the report's
    caveat that ordered evaluations are still being processed (seed 000, l. 113)."""
    def ratio(a, b):
        return None if not b else a / b
    return {"evaluation_par_demande": ratio(evaluations, demandes),
            "panier_par_evaluation": ratio(paniers, evaluations),
            "panier_par_demande": ratio(paniers, demandes)}


def mask_funnel(frame: pd.DataFrame, group: str | None = "mois") -> pd.DataFrame:
    """Statistical secrecy on a caisse × month funnel: every stage count under the threshold is masked,
    and the next smallest of its group too when a single cell of the group would be recoverable from a
    published total (methods.secret). Each stage counts people (requesters, evaluated, beneficiaries)."""
    out = frame.copy()
    secret_any = pd.Series(False, index=out.index)
    for stage in ETAPES:
        masked = secret.mask(out, stage, group=group)
        out[stage] = masked[stage]
        secret_any |= masked["secret"].to_numpy()
    out["secret"] = secret_any.to_numpy()
    return out


def breakdown(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Baskets by one dimension (niveau, famille, type_territoire) with shares, secrecy applied:
    a modality with fewer than 11 baskets is masked (each basket is one retiree), and the next smallest
    too when it is the only masked one (the total is shown)."""
    grouped = frame.groupby(dimension, as_index=False, dropna=False)["nb_paniers"].sum()
    total = grouped["nb_paniers"].sum()
    grouped["part"] = grouped["nb_paniers"] / total if total else None
    grouped = grouped.sort_values("nb_paniers", ascending=False, kind="stable")
    grouped["_ensemble"] = 1  # the total is published: one masked modality would be recoverable
    return secret.mask(grouped, "nb_paniers", values=["part"], group="_ensemble").drop(columns="_ensemble")
