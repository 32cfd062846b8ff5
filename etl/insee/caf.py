"""Cnaf, data.caf.fr « Foyers allocataires et personnes couvertes par commune » (dataset `s_ben_com_f`).

Export CSV of the Opendatasoft portal (`;`): `dtreffre` (« YYYY-12 »), `numcomdo` (commune code),
`nomcom`, `indfoy_ndur` (foyers allocataires), `indnbp_ndur` (personnes couvertes),
`indfoy_{af,cf,asf,ab,cmg,apl,als,alf,rsa,ppa}` (foyers per benefit), `indmtt_rsa`, `indmtt_ppa`
(December amounts). Published with secrecy by the Cnaf: household counts are rounded to multiples of 5
(amounts to 100 €), small cells left empty. They are loaded AS PUBLISHED (never « unrounded »); an
empty cell gives no row; the row with an empty commune code (households not placed) gives no row and
is counted; Paris, Lyon and Marseille come by arrondissement and are summed to their commune.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl import readers
from etl.common import column_key
from etl.errors import InputRejected, Problem
from etl.insee.base import OfficialFormat, numeric, raise_if

FORMAT = OfficialFormat(
    key="cnaf-allocataires-commune", label="Cnaf, data.caf.fr — foyers allocataires et personnes couvertes par commune",
    publisher="Cnaf (data.caf.fr)", doc_url="https://data.caf.fr/explore/dataset/s_ben_com_f/",
    patterns=("s_ben_com_f*.csv",), vintage="décembre de chaque année",
    columns=("dtreffre", "numcomdo", "nomcom", "indfoy_ndur", "indnbp_ndur"), family="insee")

#: Field → indicator of the catalogue (counts as published, rounded to 5 by the Cnaf).
FIELDS = {"indfoy_ndur": "foyers_allocataires_caf", "indnbp_ndur": "personnes_couvertes_caf",
          "indfoy_rsa": "foyers_rsa_caf", "indfoy_ppa": "foyers_prime_activite_caf",
          "indfoy_apl": "foyers_apl_caf", "indfoy_als": "foyers_als_caf", "indfoy_alf": "foyers_alf_caf",
          "indfoy_af": "foyers_af_caf"}
REQUIRED = ("dtreffre", "numcomdo", "indfoy_ndur", "indnbp_ndur")
#: Codes gathering households not placed in a commune (empty today; `99999` abroad, `XXXXX` unknown in
#: the legacy files): no row, counted.
NOT_PLACED = {"", "99999", "XXXXX"}
#: Arrondissements municipaux → their commune (Paris, Marseille, Lyon).
ARRONDISSEMENTS = ({f"751{n:02d}": "75056" for n in range(1, 21)} | {f"132{n:02d}": "13055" for n in range(1, 17)}
                   | {f"6938{n}": "69123" for n in range(1, 10)})


def read(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """(counts, report): code_geo, indicateur, millesime, annee_debut, numerateur, denominateur for the
    communes; report counts `non_localises` (empty commune code) and `vides` (masked cells)."""
    frame = readers.read_table(Path(path))
    frame.columns = [column_key(c) for c in frame.columns]
    name = frame.attrs["file"]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputRejected([Problem(name, 1, c, list(frame.columns)[:12],
                                     "l'en-tête data.caf.fr s_ben_com_f (" + ";".join(FORMAT.columns) + "…)")
                             for c in missing])
    problems: list[Problem] = []
    unplaced = frame["numcomdo"].str.upper().isin(NOT_PLACED)
    first = frame.attrs["first_row"]
    codes, years = [], []
    for position, (code, date) in enumerate(zip(frame["numcomdo"].tolist(), frame["dtreffre"].tolist())):
        year = date[:4]
        years.append(int(year) if year.isdigit() else None)
        if year.isdigit() is False:
            problems.append(Problem(name, first + position, "dtreffre", date, "un mois AAAA-MM"))
        if code.upper() in NOT_PLACED:
            codes.append(None)
            continue
        try:
            parsed = readers.parse_code_commune(code)
            codes.append(ARRONDISSEMENTS.get(parsed, parsed))
        except ValueError:
            problems.append(Problem(name, first + position, "numcomdo", code, "un code commune INSEE"))
            codes.append(None)
    parts, empty = [], 0
    for field, indicateur in FIELDS.items():
        if field not in frame.columns:
            continue
        values = numeric(frame, field, problems)
        empty += int((values.isna() & ~unplaced).sum())
        parts.append(pd.DataFrame({"code_geo": codes, "indicateur": indicateur, "millesime": years,
                                   "annee_debut": None, "numerateur": values.to_numpy(),
                                   # the households / people the count describes: the query layer's
                                   # secrecy rule reads it (a published 5 is shown only where allowed)
                                   "denominateur": values.to_numpy()}))
    raise_if(problems)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["code_geo"].notna() & out["numerateur"].notna()]
    out = (out.groupby(["code_geo", "indicateur", "millesime"], as_index=False)  # arrondissements → commune
           .agg(annee_debut=("annee_debut", "first"), numerateur=("numerateur", "sum"),
                denominateur=("denominateur", "sum")))
    return out, {"non_localises": int(unplaced.sum()), "vides": empty}
