"""INSEE Filosofi (localised income and poverty): median disposable income per consumption unit and
poverty rate at 60 %, read at the level the publisher computed them.

Medians and poverty rates cannot be derived from commune values: they are taken from the
publisher's own EPCI / département / région / France sheets or files, never aggregated here.

Formats:
- `base-cc-filosofi-2015.xls` (https://www.insee.fr/fr/statistiques/3126432): sheets `COM` and
  `EPCI` (and, when present, `DEP`, `REG`, `METRO`), 5 title rows then CODGEO, LIBGEO, NBMENFISC15,
  NBPERSMENFISC15, MED15, PIMP15, TP6015, TP60AGE115…; cells under the secrecy threshold are empty.
- `FILO20XX_DISP_COM.csv`, `FILO20XX_DISP_EPCI.csv`, `…_DEP.csv`, `…_REG.csv`, `…_METROPOLE.csv`
  (https://www.insee.fr/fr/statistiques/6036907 for 2019), `;`: CODGEO, NBMENYY, NBPERSYY, Q1YY,
  Q2YY (the median), Q3YY, … TP60YY; suppressed cells are `s` (or empty).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl import readers
from etl.contract import header_of
from etl.errors import InputRejected, Problem
from etl.insee.base import (
    OfficialFormat,
    codes,
    numeric,
    raise_if,
    read_official,
    sheet_names,
    unzip_member,
    vintage_from_name,
    work_dir,
)

#: The two generations of Filosofi: a value of one is not compared with a value of the other.
FILOSOFI_1 = "Filosofi 1 (revenus 2012 à 2020, DISP 2021)"
FILOSOFI_2 = "Filosofi 2 (revenus 2021 en géographie 2025 et suivants)"

BASE_CC = OfficialFormat(
    key="insee-filosofi-base-cc", label="INSEE, Filosofi — base communale (revenus et pauvreté)",
    publisher="INSEE-DGFiP-Cnaf-Cnav-CCMSA, Fichier localisé social et fiscal (Filosofi)",
    doc_url="https://www.insee.fr/fr/statistiques/3126432",
    patterns=("base-cc-filosofi-20??.zip", "base-cc-filosofi-20??.xls*", "cc_filosofi_20??_*.csv",
              "filo-revenu-pauvrete-menage-20??.zip"),
    columns=("CODGEO", "LIBGEO", "MEDYY", "TP60YY"), family="insee", definition=FILOSOFI_1)
DISP = OfficialFormat(
    key="insee-filosofi-disp", label="INSEE, Filosofi — revenus disponibles (DISP)",
    publisher="INSEE-DGFiP-Cnaf-Cnav-CCMSA, Fichier localisé social et fiscal (Filosofi)",
    doc_url="https://www.insee.fr/fr/statistiques/6036907",
    patterns=("filo20??_disp_*.csv", "filo20??_disp_*.zip"),
    columns=("CODGEO", "Q2YY", "TP60YY"), family="insee", definition=FILOSOFI_1)

#: Sheet / file-name suffix → niveau of the `indicateurs` table.
LEVELS = {"COM": "commune", "EPCI": "epci", "DEP": "departement", "REG": "region",
          "METRO": "france", "METROPOLE": "france", "FRANCE": "france", "FRMETRO": "france"}
#: France-level rows get a code of our own: France métropolitaine / France.
FRANCE_CODES = {"METRO": "FRM", "METROPOLE": "FRM", "FRMETRO": "FRM", "FRANCE": "FR"}


def _parse_code(niveau: str):
    if niveau == "commune":
        return readers.parse_code_commune, "un code commune INSEE"
    if niveau == "epci":
        return readers.parse_siren, "un SIREN d'EPCI (9 chiffres)"
    if niveau == "departement":
        return readers.parse_code_departement, "un code département"
    return (lambda v: str(v).strip().zfill(2)), "un code"


def _values(frame: pd.DataFrame, niveau: str, suffix: str, median: str, poverty: str, millesime: int
            ) -> pd.DataFrame:
    problems: list[Problem] = []
    if niveau == "france":
        code = pd.Series(FRANCE_CODES.get(suffix, "FRM"), index=frame.index)
    else:
        parser, expected = _parse_code(niveau)
        code = codes(frame, "CODGEO", parser, expected, problems)
    parts = []
    for indicateur, column in (("revenu_median_uc", median), ("taux_pauvrete", poverty)):
        if column not in frame.columns:
            continue
        parts.append(pd.DataFrame({"code_geo": code.values, "niveau": niveau, "indicateur": indicateur,
                                   "millesime": millesime, "valeur": numeric(frame, column, problems).values,
                                   "libelle_geo": frame.get("LIBGEO", pd.Series(None, index=frame.index)).values}))
    if not parts:
        problems.append(Problem(frame.attrs.get("file", "?"), frame.attrs.get("first_row", 2) - 1,
                                f"{median} / {poverty}", list(frame.columns)[:8],
                                "la médiane du niveau de vie et le taux de pauvreté"))
    raise_if(problems)
    out = pd.concat(parts, ignore_index=True)
    return out[out["valeur"].notna()].reset_index(drop=True)  # suppressed cells: no row


def _year(frame: pd.DataFrame, name: str, pattern: str) -> tuple[int, str]:
    found = sorted({m.group(1) for c in frame.columns if (m := re.fullmatch(pattern, c))})
    if not found:
        year = vintage_from_name(name)
        if year is None:
            raise InputRejected([Problem(name, None, None, None, "un millésime (MEDYY, Q2YY ou année dans le nom)")])
        return year, f"{year % 100:02d}"
    return 2000 + int(found[-1]), found[-1]


def read_base_cc(path: Path) -> pd.DataFrame:
    """code_geo, niveau, indicateur, millesime, valeur, libelle_geo from every level sheet found
    (`filo-revenu-pauvrete-menage-2015.zip` holds `base-cc-filosofi-2015.xls` among other files)."""
    with work_dir() as tmp:
        data = unzip_member(Path(path), Path(tmp), prefer="base-cc-filosofi*")
        if data.suffix.lower() == ".csv":  # recent base-cc CSV: one file per level, level in the name
            suffix = Path(data).stem.rsplit("_", 1)[-1].upper()
            frames = [(suffix, read_official(data, display_name=Path(path).name))]
        else:
            frames = [(s.upper(), read_official(data, sheet=s, display_name=f"{Path(path).name} [{s}]"))
                      for s in sheet_names(data) if s.upper() in LEVELS]
        if not frames:
            raise InputRejected([Problem(Path(path).name, None, None, sheet_names(data),
                                         "des feuilles COM et EPCI")])
        out = []
        for suffix, frame in frames:
            year, yy = _year(frame, Path(path).name, r"MED(\d\d)")
            out.append(_values(frame, LEVELS[suffix], suffix, f"MED{yy}", f"TP60{yy}", year))
        return pd.concat(out, ignore_index=True)


def read_disp(path: Path) -> pd.DataFrame:
    """A `FILO20XX_DISP_<LEVEL>.csv` file: median (Q2YY) and poverty rate (TP60YY) at that level."""
    with work_dir() as tmp:
        data = unzip_member(Path(path), Path(tmp))
        suffix = re.sub(r"[^A-Z]", "", Path(data).stem.upper().rsplit("_", 1)[-1])
        if suffix not in LEVELS:
            raise InputRejected([Problem(Path(path).name, None, None, suffix,
                                         f"un niveau dans le nom du fichier ({', '.join(LEVELS)})")])
        frame = read_official(data, display_name=Path(path).name)
        year, yy = _year(frame, Path(path).name, r"Q2(\d\d)")
        return _values(frame, LEVELS[suffix], suffix, f"Q2{yy}", f"TP60{yy}", year)


# -- Filosofi 2, "long" (SDMX / Melodi): one row per territory × measure × year ----------------------

MELODI = OfficialFormat(
    key="insee-filosofi-melodi", label="INSEE, Filosofi — base communale, format long (Melodi)",
    publisher="INSEE-DGFiP-Cnaf-Cnav-CCMSA, Fichier localisé social et fiscal (Filosofi)",
    doc_url="https://www.insee.fr/fr/statistiques/8984752",
    patterns=("filosofi_cc_csv.zip", "ds_filosofi_cc_*_data.csv", "ds_filosofi_cc*.zip",
              "base-cc-filosofi-20??-geo20??_csv.zip", "base-cc-filosofi-20??-geo20??*.csv"),
    vintage="2021 (géographie 2025), 2023", definition=FILOSOFI_2,
    columns=("GEO", "GEO_OBJECT", "FILOSOFI_MEASURE", "UNIT_MEASURE", "UNIT_MULT", "CONF_STATUS",
             "OBS_STATUS", "TIME_PERIOD", "OBS_VALUE"),
    family="insee")

#: Melodi measure → indicator of the catalogue (others, e.g. IR_D9_D1_SL, are counted, not loaded).
MEASURES = {"MED_SL": "revenu_median_uc", "PR_MD60": "taux_pauvrete", "D1_SL": "revenu_d1_uc",
            "D9_SL": "revenu_d9_uc", "GI_SL": "indice_gini"}
#: Melodi GEO_OBJECT → niveau; other objects (ARM, bassins de vie, unités urbaines…) are counted, not loaded.
GEO_OBJECTS = {"COM": "commune", "EPCI": "epci", "DEP": "departement", "REG": "region", "FRANCE": "france",
               "FRANCE_METRO": "france", "FRM": "france"}
#: Confidential cell (secret): empty value, no row.
CONFIDENTIAL = "C"
REQUIRED_MELODI = ("GEO", "GEO_OBJECT", "FILOSOFI_MEASURE", "TIME_PERIOD", "OBS_VALUE")


def read_melodi(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """(values, counts): code_geo, niveau, indicateur, millesime, valeur, libelle_geo of the measures of
    `MEASURES` at the levels of `GEO_OBJECTS`; counts of what was not loaded (`secret` = CONF_STATUS C,
    `autres_niveaux`, `autres_mesures`, `vides`)."""
    with work_dir() as tmp:
        data = unzip_member(Path(path), Path(tmp), prefer="*_data.csv")
        header = [c.upper() for c in header_of(data)]
        missing = [c for c in REQUIRED_MELODI if c not in header]
        if missing:  # the whole header as found, not only the columns the reader keeps
            raise InputRejected([Problem(Path(path).name, 1, c, header[:12],
                                         "l'en-tête Melodi " + ";".join(MELODI.columns)) for c in missing])
        frame = read_official(data, key="GEO", display_name=Path(path).name,
                              keep="GEO_OBJECT|FILOSOFI_MEASURE|CONF_STATUS|TIME_PERIOD|OBS_VALUE")
    name = frame.attrs["file"]
    problems: list[Problem] = []
    measure = frame["FILOSOFI_MEASURE"].str.upper()
    objects = frame["GEO_OBJECT"].str.upper()
    status = frame["CONF_STATUS"].str.upper() if "CONF_STATUS" in frame.columns else pd.Series("", index=frame.index)
    wanted = measure.isin(list(MEASURES)) & objects.isin(list(GEO_OBJECTS))
    secret = wanted & status.eq(CONFIDENTIAL)
    empty = wanted & ~secret & frame["OBS_VALUE"].eq("")
    counts = {"secret": int(secret.sum()), "vides": int(empty.sum()),
              "autres_niveaux": int((~objects.isin(list(GEO_OBJECTS))).sum()),
              "autres_mesures": int((objects.isin(list(GEO_OBJECTS)) & ~measure.isin(list(MEASURES))).sum())}
    rows = frame[wanted & ~secret & ~empty]
    line = rows.index.to_numpy() + 2  # spreadsheet row (header = 1; blank lines keep their number)

    def bad(position: int, column: str, expected: str) -> None:
        if len(problems) < 200:
            problems.append(Problem(name, int(line[position]), column, rows[column].iloc[position], expected))

    text = rows["OBS_VALUE"].str.replace(",", ".", regex=False).str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    values = pd.to_numeric(text, errors="coerce")
    for position in np.flatnonzero(values.isna().to_numpy()):
        bad(position, "OBS_VALUE", "un nombre (valeur vide seulement si CONF_STATUS = C)")
    years = pd.to_numeric(rows["TIME_PERIOD"].str[:4], errors="coerce")
    for position in np.flatnonzero(years.isna().to_numpy()):
        bad(position, "TIME_PERIOD", "une année (AAAA)")
    niveaux = objects[rows.index].map(GEO_OBJECTS)
    parsers = {niveau: _parse_code(niveau) for niveau in ("commune", "epci", "departement", "region")}
    code = []
    for position, (niveau, geo) in enumerate(zip(niveaux.tolist(), rows["GEO"].tolist())):
        if niveau == "france":
            code.append("FRM" if geo.upper() in ("FRM", "METRO", "FRMETRO") else "FR")
            continue
        parser, expected = parsers[niveau]
        try:
            code.append(parser(geo))
        except (ValueError, TypeError):
            bad(position, "GEO", f"{expected} (GEO_OBJECT = {objects[rows.index[position]]})")
            code.append(None)
    code = pd.Series(code, index=rows.index, dtype="object")
    raise_if(problems)
    out = pd.DataFrame({"code_geo": code.values, "niveau": niveaux.values,
                        "indicateur": measure[rows.index].map(MEASURES).values,
                        "millesime": years.astype("Int64").values, "valeur": values.values,
                        "libelle_geo": None})
    return out.reset_index(drop=True), counts
