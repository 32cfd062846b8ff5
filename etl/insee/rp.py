"""INSEE population census (RP), « bases de données communales » (base-cc): the counts behind the
population, ageing, blue-collar, unemployment and precarious-job indicators of Tableau 1.

Formats:
- `base-cc-evol-struct-pop-20XX` « Évolution et structure de la population »
  (https://www.insee.fr/fr/statistiques/3564100 for 2015): 2015 = an `.xls` inside a zip, 5 title rows
  then the header (CODGEO, REG, DEP, LIBGEO, P15_POP, P15_POP0014 … P15_POP0019, P15_POP65P,
  C15_POP15P, C15_POP15P_CS1…CS8, P10_POP…); 2019 and later = a `;` CSV, where ages come as
  P19_POP0014 … P19_POP6074, P19_POP7589, P19_POP90P and P19_H0019/P19_F0019, P19_H65P/P19_F65P.
  There is no 60+ column: 60+ = 6074 + 7589 + 90P (or 6074 + 75P), 75+ = 7589 + 90P.
- `base-cc-emploi-pop-active-20XX` « Emploi – population active » (same packaging): P15_ACT1564,
  P15_CHOM1564, P15_SAL15P, P15_SAL15P_CDD, _INTERIM, _EMPAID, _APPR (or the H/F split of recent years).

The census figures are weighted estimates (decimals): counts are summed unrounded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from etl import readers
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

STRUCT_POP = OfficialFormat(
    key="insee-rp-struct-pop", label="INSEE, RP — évolution et structure de la population (base communale)",
    publisher="INSEE, recensement de la population",
    doc_url="https://www.insee.fr/fr/statistiques/3564100",
    patterns=("base-cc-evol-struct-pop-20??.zip", "base-cc-evol-struct-pop-20??.xls*",
              "base-cc-evol-struct-pop-20??.csv", "base-cc-evol-struct-pop-20??_csv.zip"))
EMPLOI = OfficialFormat(
    key="insee-rp-emploi", label="INSEE, RP — emploi et population active (base communale)",
    publisher="INSEE, recensement de la population",
    doc_url="https://www.insee.fr/fr/statistiques/3564146",
    patterns=("base-cc-emploi-pop-active-20??.zip", "base-cc-emploi-pop-active-20??.xls*",
              "base-cc-emploi-pop-active-20??.csv", "base-cc-emploi-pop-active-20??_csv.zip"))

PRECAIRES = ("CDD", "INTERIM", "EMPAID", "APPR")


def _year_prefix(frame: pd.DataFrame, name: str) -> tuple[int, str]:
    """The census year of a base-cc file from its column prefix (P15_POP → 2015)."""
    found = sorted({int(m.group(1)) for c in frame.columns if (m := re.fullmatch(r"P(\d\d)_(POP|ACT1564)", c))})
    if not found:
        raise InputRejected([Problem(name, frame.attrs.get("first_row", 2) - 1, "P??_POP", None,
                                     "une colonne de population du recensement (ex. P15_POP, P19_ACT1564)")])
    yy = max(found)
    return 2000 + yy, f"{yy:02d}"


#: Columns the readers use (the CSV parser skips the 100+ others of a whole-France file).
KEEP = r"P\d\d_POP|P\d\d_POP\w+|P\d\d_[HF](0019|65P)|C\d\d_POP15P(_CS6)?|P\d\d_(ACT|CHOM)1564|P\d\d_[HF]?SAL15P(_\w+)?"


def _load(path: Path) -> pd.DataFrame:
    with work_dir() as tmp:
        data = unzip_member(Path(path), Path(tmp), prefer="base-cc-*")
        sheet = None
        if data.suffix.lower() in (".xls", ".xlsx"):
            names = sheet_names(data)
            sheet = next((s for s in names if s.upper().startswith("COM")), names[0])
        frame = read_official(data, key="CODGEO", sheet=sheet, display_name=Path(path).name, keep=KEEP)
    return frame


def _col(frame: pd.DataFrame, problems: list, *alternatives: tuple[str, ...]) -> pd.Series | None:
    """Sum of the first set of columns all present (e.g. (POP65P,) or (H65P, F65P)); None if none."""
    for columns in alternatives:
        if all(c in frame.columns for c in columns):
            total = None
            for c in columns:
                values = numeric(frame, c, problems)
                total = values if total is None else total + values
            return total
    return None


def _long(code: pd.Series, millesime: int, rows: dict[str, tuple], annee_debut=None) -> pd.DataFrame:
    parts = []
    for indicateur, (num, den) in rows.items():
        if num is None or den is None:
            continue
        parts.append(pd.DataFrame({"code_geo": code.values, "indicateur": indicateur, "millesime": millesime,
                                   "annee_debut": annee_debut if indicateur == "variation_population" else None,
                                   "numerateur": num.values, "denominateur": den.values}))
    if not parts:
        return pd.DataFrame(columns=["code_geo", "indicateur", "millesime", "annee_debut", "numerateur",
                                     "denominateur"])
    out = pd.concat(parts, ignore_index=True)
    # A ratio is summed only over communes with both parts (population alone has no denominator).
    complete = out["numerateur"].notna() & (out["denominateur"].notna() | (out["indicateur"] == "population"))
    return out[complete].reset_index(drop=True)


def read_struct_pop(path: Path) -> pd.DataFrame:
    """Commune counts (code_geo, indicateur, millesime, annee_debut, numerateur, denominateur) for
    population, variation_population, indice_vieillissement, part_60_plus, part_75_plus, part_ouvriers."""
    frame = _load(path)
    year, yy = _year_prefix(frame, Path(path).name)
    problems: list[Problem] = []
    code = codes(frame, "CODGEO", readers.parse_code_commune, "un code commune INSEE", problems)
    p = f"P{yy}_"
    pop = _col(frame, problems, (f"{p}POP",))
    earlier = sorted({int(m.group(1)) for c in frame.columns if (m := re.fullmatch(r"P(\d\d)_POP", c))
                      and int(m.group(1)) < int(yy)})
    start = next((e for e in reversed(earlier) if int(yy) - e >= 5), earlier[-1] if earlier else None)
    pop_start = _col(frame, problems, (f"P{start:02d}_POP",)) if start is not None else None
    pop65 = _col(frame, problems, (f"{p}POP65P",), (f"{p}H65P", f"{p}F65P"))
    pop0019 = _col(frame, problems, (f"{p}POP0019",), (f"{p}H0019", f"{p}F0019"))
    pop75 = _col(frame, problems, (f"{p}POP75P",), (f"{p}POP7589", f"{p}POP90P"))
    pop6074 = _col(frame, problems, (f"{p}POP6074",))
    pop15 = _col(frame, problems, (f"C{yy}_POP15P",))
    ouvriers = _col(frame, problems, (f"C{yy}_POP15P_CS6",))
    if pop is None:
        problems.append(Problem(frame.attrs["file"], frame.attrs["first_row"] - 1, f"{p}POP", None,
                                "la colonne de population totale"))
    raise_if(problems)
    return _long(code, year, {
        "population": (pop, pd.Series(float("nan"), index=frame.index)),
        "variation_population": (pop, pop_start),
        "indice_vieillissement": (pop65, pop0019),
        "part_60_plus": (None if pop6074 is None or pop75 is None else pop6074 + pop75, pop),
        "part_75_plus": (pop75, pop),
        "part_ouvriers": (ouvriers, pop15),
    }, annee_debut=None if start is None else 2000 + start)


def read_emploi(path: Path) -> pd.DataFrame:
    """Commune counts for taux_chomage (CHOM1564 / ACT1564) and part_emploi_precaire
    ((CDD + INTERIM + EMPAID + APPR) / SAL15P; the base gives salaried 15+, not 15-64)."""
    frame = _load(path)
    year, yy = _year_prefix(frame, Path(path).name)
    problems: list[Problem] = []
    code = codes(frame, "CODGEO", readers.parse_code_commune, "un code commune INSEE", problems)
    p = f"P{yy}_"
    chom = _col(frame, problems, (f"{p}CHOM1564",))
    act = _col(frame, problems, (f"{p}ACT1564",))
    sal = _col(frame, problems, (f"{p}SAL15P",), (f"{p}HSAL15P", f"{p}FSAL15P"))
    precaires = None
    for kind in PRECAIRES:
        part = _col(frame, problems, (f"{p}SAL15P_{kind}",), (f"{p}HSAL15P_{kind}", f"{p}FSAL15P_{kind}"))
        if part is None:
            precaires = None
            break
        precaires = part if precaires is None else precaires + part
    if chom is None or act is None:
        problems.append(Problem(frame.attrs["file"], frame.attrs["first_row"] - 1, f"{p}CHOM1564 / {p}ACT1564",
                                None, "les colonnes chômeurs et actifs 15-64 ans"))
    raise_if(problems)
    return _long(code, year, {"taux_chomage": (chom, act), "part_emploi_precaire": (precaires, sal)})


def vintage(path: Path) -> int | None:
    return vintage_from_name(Path(path).name)
