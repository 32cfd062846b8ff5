"""INSEE « Intercommunalité – Métropole » : composition communale of the EPCI at 1 January of a year.

Format (https://www.insee.fr/fr/information/2510634): `Intercommunalite-Metropole_au_01-01-20XX.xlsx`
(sometimes inside a zip whose name varies by year), 5 title rows, headers on row 6; sheets `EPCI`
(EPCI, LIBEPCI, NATURE_EPCI, NB_COM) and `Composition_communale` (CODGEO, LIBGEO, EPCI, LIBEPCI,
DEP, REG). Communes without EPCI carry the code `ZZZZZZZZZ`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from etl import readers
from etl.errors import Problem
from etl.insee.base import OfficialFormat, codes, raise_if, read_official, sheet_names, unzip_member, work_dir

FORMAT = OfficialFormat(
    key="insee-epci-composition", label="INSEE, Intercommunalité – Métropole (composition communale des EPCI)",
    publisher="INSEE (d'après DGCL, BANATIC)", doc_url="https://www.insee.fr/fr/information/2510634",
    patterns=("intercommunalite*metropole*20??.xlsx", "intercommunalite*metropole*20??.zip",
              "epci_au_01-01-20??.xlsx", "intercommunalite_metropole*.zip"))

SANS_EPCI = "ZZZZZZZZZ"


def vintage(path: Path) -> int | None:
    match = re.search(r"01[-_]01[-_](20\d\d)", Path(path).name)
    return int(match.group(1)) if match else None


def read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(epci: siren, nom, nature, nb_communes ; composition: code_insee, siren_epci)."""
    with work_dir() as tmp:
        data = unzip_member(Path(path), Path(tmp))
        sheets = {s.lower(): s for s in sheet_names(data)}
        problems = []
        comp_sheet = sheets.get("composition_communale") or next(
            (s for k, s in sheets.items() if k.startswith("composition")), None)
        if comp_sheet is None:
            raise_if([Problem(Path(path).name, None, None, list(sheets.values()),
                                      "une feuille « Composition_communale »")])
        comp = read_official(data, key="CODGEO", sheet=comp_sheet, display_name=f"{Path(path).name} [{comp_sheet}]")
        readers.require_columns(comp, ["CODGEO", "EPCI"])
        with_epci = comp[comp["EPCI"].str.upper() != SANS_EPCI]
        composition = pd.DataFrame({
            "code_insee": codes(with_epci, "CODGEO", readers.parse_code_commune, "un code commune INSEE", problems),
            "siren_epci": codes(with_epci, "EPCI", readers.parse_siren, "un SIREN d'EPCI (9 chiffres)", problems),
        })
        epci = pd.DataFrame(columns=["siren", "nom", "nature", "nb_communes"])
        if "epci" in sheets:
            sheet = read_official(data, key="EPCI", sheet=sheets["epci"], display_name=f"{Path(path).name} [EPCI]")
            readers.require_columns(sheet, ["EPCI", "LIBEPCI"])
            sheet = sheet[sheet["EPCI"].str.upper() != SANS_EPCI]
            epci = pd.DataFrame({
                "siren": codes(sheet, "EPCI", readers.parse_siren, "un SIREN d'EPCI (9 chiffres)", problems),
                "nom": sheet["LIBEPCI"],
                "nature": sheet.get("NATURE_EPCI", pd.Series("", index=sheet.index)),
                "nb_communes": pd.to_numeric(sheet.get("NB_COM", pd.Series(None, index=sheet.index)),
                                             errors="coerce"),
            })
        raise_if(problems)
        return epci.reset_index(drop=True), composition.reset_index(drop=True)
