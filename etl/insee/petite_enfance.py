"""Inputs of the CNAF « priorité petite enfance » rule (rapport l.2244-2251, 4186-4192): childcare
coverage (Cafdata), financial potential per inhabitant (DGCL) and average declared net income per
tax household (DGFiP, IRCOM).

Formats (one row per territory; headers matched case- and accent-insensitively):
- Cafdata « taux de couverture global petite enfance » by EPCI or commune
  (https://data.caf.fr/, files `txcouv_pe_epci*.csv`, `txcouv_pe_com*.csv`, `;`): the territory code
  (NUMEPCI / NUMCOM / CODGEO), ANNEE, NBENF_MOINS3 (children under 3), CAPACITE_THEORIQUE (places)
  and/or TXCOUV_GLOBAL (places per 100 children). With places and children the rate is recomputed
  and can be aggregated; a rate alone is kept as published.
- Template `potentiel_financier_20XX.csv`: CODE_GEO (commune code, EPCI SIREN, or FR), POTENTIEL_FINANCIER
  (€) and POPULATION_DGF, or POTENTIEL_FINANCIER_PAR_HABITANT (from the DGCL « fiches DGF »).
- Template `revenu_fiscal_20XX.csv`: CODE_GEO, REVENU_FISCAL_REFERENCE (€, total of the tax
  households) and NB_FOYERS_FISCAUX (DGFiP, « impôt sur le revenu par collectivité territoriale »).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl import readers
from etl.common import column_key
from etl.errors import InputRejected, Problem
from etl.insee.base import OfficialFormat, numeric, raise_if, vintage_from_name

COUVERTURE = OfficialFormat(
    key="cafdata-couverture-pe", label="Cnaf, Cafdata — taux de couverture global petite enfance",
    publisher="Cnaf (Cafdata, Onape)", doc_url="https://data.caf.fr/",
    patterns=("txcouv_pe_epci*.csv", "txcouv_pe_com*.csv", "txcouv_pe_dep*.csv", "txcouv_pe_reg*.csv",
              "taux_couverture_pe*.csv", "tauxcouv20??.csv"),
    vintage="2019–2023 (data.caf.fr)",
    columns=("annee", "numcom | numepci | numdep | numregi", "txcouv_com | txcouv_epci | txcouv_dep | txcouv_reg"),
    family="insee")
POTENTIEL = OfficialFormat(
    key="dgcl-potentiel-financier", label="DGCL, potentiel financier par habitant (fiches DGF)",
    publisher="DGCL", doc_url="https://www.collectivites-locales.gouv.fr/",
    patterns=("potentiel_financier*.csv",))
REVENU = OfficialFormat(
    key="dgfip-revenu-fiscal", label="DGFiP, revenu fiscal de référence par foyer (IRCOM)",
    publisher="DGFiP", doc_url="https://www.impots.gouv.fr/",
    patterns=("revenu_fiscal*.csv", "ircom*.csv"))

CODE_ALIASES = ("CODE_GEO", "NUMEPCI", "NUMCOM", "CODGEO", "EPCI", "COM", "CODE_EPCI", "CODE_COMMUNE")


def _code_column(frame: pd.DataFrame) -> str:
    for alias in CODE_ALIASES:
        if alias in frame.columns:
            return alias
    raise InputRejected(
        [
            Problem(
                frame.attrs.get("file", "?"),
                frame.attrs.get("first_row", 2) - 1,
                "CODE_GEO",
                list(frame.columns)[:8],
                f"une colonne de code ({', '.join(CODE_ALIASES)})",
            )
        ]
    )


def classify_codes(raw: pd.Series, file: str, first_row: int, problems: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """(code, niveau) of each row: 9 digits = EPCI, commune code = commune, FR/FRM = France,
    2-3 characters = département."""
    code_out, level_out = [], []
    for position, value in enumerate(raw.tolist()):
        text = str(value).strip().upper().removesuffix(".0")
        try:
            if text in ("FR", "FRM", "FRANCE"):
                code, level = ("FR" if text == "FRANCE" else text), "france"
            elif len(text.replace(" ", "")) >= 8:
                code, level = readers.parse_siren(text), "epci"
            elif len(text) >= 4:
                code, level = readers.parse_code_commune(text), "commune"
            else:
                code, level = readers.parse_code_departement(text), "departement"
        except ValueError:
            problems.append(Problem(file, first_row + position, "code", value,
                                    "un code commune, un SIREN d'EPCI, un code département ou FR"))
            code, level = None, None
        code_out.append(code)
        level_out.append(level)
    return pd.Series(code_out, index=raw.index, dtype="object"), pd.Series(level_out, index=raw.index, dtype="object")


def _frame(path: Path) -> pd.DataFrame:
    frame = readers.read_table(Path(path))
    frame.columns = [readers_norm(c) for c in frame.columns]
    return frame


def readers_norm(name: str) -> str:
    return column_key(name).upper()


def _result(frame, code, level, indicateur, millesime, valeur, num=None, den=None) -> pd.DataFrame:
    out = pd.DataFrame({"code_geo": code.values, "niveau": level.values, "indicateur": indicateur,
                        "millesime": millesime, "valeur": np.asarray(valeur, dtype=float),
                        "numerateur": np.nan if num is None else num.values,
                        "denominateur": np.nan if den is None else den.values})
    return out[out["code_geo"].notna() & out["valeur"].notna()].reset_index(drop=True)


def _millesime(frame: pd.DataFrame, path: Path, problems: list[Problem]):
    if "ANNEE" in frame.columns:  # a year, or a date (`2022-12-31`) in some exports
        return pd.to_numeric(frame["ANNEE"].astype(str).str[:4], errors="coerce").astype("Int64").to_numpy()
    year = vintage_from_name(Path(path).name)
    if year is None:
        problems.append(Problem(Path(path).name, None, "ANNEE", None, "une colonne ANNEE ou l'année dans le nom"))
    return year


#: data.caf.fr exports: territory code column and niveau per scale (field names, lower case in the file).
CAF_SCALES = {"COM": ("NUMCOM", "commune"), "EPCI": ("NUMEPCI", "epci"), "DEP": ("NUMDEP", "departement"),
              "REG": ("NUMREGI", "region")}
#: data.caf.fr exports « avec libellés » (`use_labels=true`): French labels → field names.
CAF_LABELS = {"DATE_REFERENCE": "ANNEE", "ANNEE_DE_REFERENCE": "ANNEE", "DATE_DE_REFERENCE": "ANNEE",
              **{label: "NUMCOM" for label in ("NUMERO_COMMUNE", "NUMERO_DE_COMMUNE", "CODE_COMMUNE",
                                                 "CODE_INSEE_COMMUNE", "CODE_INSEE")},
              **{label: "NUMEPCI" for label in ("NUMERO_EPCI", "NUMERO_D_EPCI", "NUMERO_DE_L_EPCI", "CODE_EPCI",
                                                 "SIREN_EPCI")},
              **{label: "NUMDEP" for label in ("NUMERO_DEPARTEMENT", "NUMERO_DE_DEPARTEMENT", "NUMERO_DU_DEPARTEMENT",
                                                "CODE_DEPARTEMENT")},
              **{label: "NUMREGI" for label in ("NUMERO_REGION", "NUMERO_DE_REGION", "NUMERO_DE_LA_REGION",
                                                 "CODE_REGION")},
              **{label: "TXCOUV_GLOBAL" for label in ("TAUX_DE_COUV_GLOBAL", "TAUX_DE_COUVERTURE_GLOBAL",
                                                       "TAUX_DE_COUVERTURE_GLOBALE")}}
#: Placeholder codes of the exports (a commune outside any EPCI, an unknown territory): no row.
CAF_PLACEHOLDERS = {"XX", "XXX", "XXXXX", "XXXXXXXXX", "99999", ""}


def _caf_export(frame: pd.DataFrame) -> tuple[str, str, str | None] | None:
    """(code column, rate column, niveau or None to infer it from the code) of a data.caf.fr
    `txcouv_pe_<scale>` export or of an older `TAUXCOUV20YY.csv`; None for the template layouts."""
    frame.columns = [CAF_LABELS.get(c, c) for c in frame.columns]
    for scale, (code, niveau) in CAF_SCALES.items():
        if f"TXCOUV_{scale}" in frame.columns and code in frame.columns:
            return code, f"TXCOUV_{scale}", niveau
    if {"NUM_COM", "TAUXCOUV_COM"} <= set(frame.columns):  # older TAUXCOUV2020.csv / TAUXCOUV2021.csv
        return "NUM_COM", "TAUXCOUV_COM", "commune"
    if {"CAPACITE_THEORIQUE", "NBENF_MOINS3"} <= set(frame.columns):  # older file: the rate is recomputed
        return None
    if "TXCOUV_GLOBAL" in frame.columns:  # label header: the code column is the most local one present
        found = next(((code, niveau) for code, niveau in CAF_SCALES.values() if code in frame.columns), None)
        if found:
            return found[0], "TXCOUV_GLOBAL", found[1]
    return None


_LEVEL_PARSERS = {"commune": (readers.parse_code_commune, "un code commune INSEE"),
                  "epci": (readers.parse_siren, "un SIREN d'EPCI (9 chiffres)"),
                  "departement": (readers.parse_code_departement, "un code département"),
                  "region": (lambda v: f"{int(str(v).strip()):02d}", "un code région (2 chiffres)")}


def _codes_at(raw: pd.Series, niveau: str, file: str, first_row: int, problems: list[Problem]):
    """Codes of a known level (a région `28` is not the département `28`)."""
    parser, expected = _LEVEL_PARSERS[niveau]
    out = []
    for position, value in enumerate(raw.tolist()):
        try:
            out.append(parser(value))
        except (ValueError, TypeError):
            problems.append(Problem(file, first_row + position, raw.name, value, expected))
            out.append(None)
    return pd.Series(out, index=raw.index, dtype="object"), pd.Series(niveau, index=raw.index, dtype="object")


def read_couverture(path: Path) -> pd.DataFrame:
    """taux_couverture_accueil (places per 100 children under 3) by territory.

    data.caf.fr exports (field names or labels, `;`, decimal commas) give the published global rate
    (`txcouv_<scale>`), kept as published; rows whose code is a placeholder (`XX`) are dropped and
    counted in `attrs["placeholders"]`. Older files with places and children recompute the rate."""
    frame = _frame(path)
    problems: list[Problem] = []
    caf = _caf_export(frame)
    if caf is not None:
        code_col, rate_col, niveau = caf
        placeholder = frame[code_col].str.upper().isin(CAF_PLACEHOLDERS).to_numpy()
        skipped = {frame.attrs["first_row"] + int(i) for i in np.flatnonzero(placeholder)}
        code, level = _codes_at(frame[code_col], niveau, frame.attrs["file"], frame.attrs["first_row"], problems)
        problems = [p for p in problems if p.row not in skipped]  # a placeholder code is no row, not an error
        millesime = _millesime(frame, path, problems)
        valeur = numeric(frame, rate_col, problems)
        raise_if(problems)
        out = _result(frame, code, level, "taux_couverture_accueil", millesime, valeur)
        out.attrs["placeholders"] = len(skipped)
        return out
    column = _code_column(frame)
    code, level = classify_codes(frame[column], frame.attrs["file"], frame.attrs["first_row"], problems)
    millesime = _millesime(frame, path, problems)
    places_col = next((c for c in ("CAPACITE_THEORIQUE", "CAPACITE_THEORIQUE_GLOBALE", "NB_PLACES", "PLACES")
                       if c in frame.columns), None)
    enfants_col = next(
        (c for c in ("NBENF_MOINS3", "NB_ENFANTS_MOINS_3_ANS", "NB_ENFANTS") if c in frame.columns), None
    )
    rate_col = next((c for c in ("TXCOUV_GLOBAL", "TAUX_COUVERTURE_GLOBAL", "TXCOUV_PE", "TAUX_COUVERTURE")
                     if c in frame.columns), None)
    if places_col and enfants_col:
        num, den = numeric(frame, places_col, problems), numeric(frame, enfants_col, problems)
        valeur = 100 * num / den.replace(0, np.nan)
    elif rate_col:
        num = den = None
        valeur = numeric(frame, rate_col, problems)
        if valeur.dropna().le(1.5).all():  # published as a proportion (0,54), not per 100
            valeur = valeur * 100
    else:
        raise InputRejected([Problem(frame.attrs["file"], frame.attrs["first_row"] - 1, "TXCOUV_<échelle>",
                                     list(frame.columns)[:12],
                                     "un export data.caf.fr txcouv_pe_<échelle> (annee ; numcom / numepci / numdep ; "
                                     "txcouv_com / txcouv_epci / txcouv_dep), ou CAPACITE_THEORIQUE et NBENF_MOINS3, "
                                     "ou TXCOUV_GLOBAL")])
    raise_if(problems)
    return _result(frame, code, level, "taux_couverture_accueil", millesime, valeur, num, den)


def read_potentiel(path: Path) -> pd.DataFrame:
    """potentiel_financier_habitant (€ per inhabitant, DGF population)."""
    frame = _frame(path)
    problems: list[Problem] = []
    code, level = classify_codes(frame[_code_column(frame)], frame.attrs["file"], frame.attrs["first_row"], problems)
    millesime = _millesime(frame, path, problems)
    if {"POTENTIEL_FINANCIER", "POPULATION_DGF"} <= set(frame.columns):
        num, den = numeric(frame, "POTENTIEL_FINANCIER", problems), numeric(frame, "POPULATION_DGF", problems)
        valeur = num / den.replace(0, np.nan)
    elif "POTENTIEL_FINANCIER_PAR_HABITANT" in frame.columns:
        num = den = None
        valeur = numeric(frame, "POTENTIEL_FINANCIER_PAR_HABITANT", problems)
    else:
        raise InputRejected([Problem(frame.attrs["file"], frame.attrs["first_row"] - 1, "POTENTIEL_FINANCIER",
                                     list(frame.columns)[:8],
                                     "POTENTIEL_FINANCIER et POPULATION_DGF, ou POTENTIEL_FINANCIER_PAR_HABITANT")])
    raise_if(problems)
    return _result(frame, code, level, "potentiel_financier_habitant", millesime, valeur, num, den)


def read_revenu(path: Path) -> pd.DataFrame:
    """revenu_net_moyen_foyer (€ of revenu fiscal de référence per tax household)."""
    frame = _frame(path)
    problems: list[Problem] = []
    code, level = classify_codes(frame[_code_column(frame)], frame.attrs["file"], frame.attrs["first_row"], problems)
    millesime = _millesime(frame, path, problems)
    readers.require_columns(frame, ["REVENU_FISCAL_REFERENCE", "NB_FOYERS_FISCAUX"])
    num, den = numeric(frame, "REVENU_FISCAL_REFERENCE", problems), numeric(frame, "NB_FOYERS_FISCAUX", problems)
    raise_if(problems)
    return _result(frame, code, level, "revenu_net_moyen_foyer", millesime, num / den.replace(0, np.nan), num, den)
