"""INSEE Code officiel géographique (COG): communes, départements, and commune events (`mvtcommune`)
used to bring a file of any vintage to the reference geography.

Formats (https://www.insee.fr/fr/information/2560452):
- `commune_20XX.csv` (`,`): TYPECOM, COM, REG, DEP, CTCD, ARR, TNCC, NCC, NCCENR, LIBELLE, CAN,
  COMPARENT — lower-case headers before 2022, no CTCD before 2022. Only `TYPECOM == 'COM'` rows are
  communes (COMA/COMD/ARM are associated/delegated communes and municipal arrondissements).
- `departement_20XX.csv`: DEP, REG, CHEFLIEU, TNCC, NCC, NCCENR, LIBELLE.
- `mvtcommune_20XX.csv`: MOD, DATE_EFF, TYPECOM_AV, COM_AV, TNCC_AV, NCC_AV, NCCENR_AV, LIBELLE_AV,
  TYPECOM_AP, COM_AP, TNCC_AP, NCC_AP, NCCENR_AP, LIBELLE_AP (one row per commune before/after).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import readers
from etl.insee.base import OfficialFormat, codes, raise_if, read_official

COMMUNES = OfficialFormat(
    key="insee-cog-communes", label="INSEE, Code officiel géographique — communes",
    publisher="INSEE", doc_url="https://www.insee.fr/fr/information/2560452",
    patterns=("commune_20??.csv", "v_commune_20??.csv", "commune*20??.csv"))
DEPARTEMENTS = OfficialFormat(
    key="insee-cog-departements", label="INSEE, Code officiel géographique — départements",
    publisher="INSEE", doc_url="https://www.insee.fr/fr/information/2560452",
    patterns=("departement_20??.csv", "v_departement_20??.csv"))
MOUVEMENTS = OfficialFormat(
    key="insee-cog-mvtcommune", label="INSEE, COG — événements sur les communes (mvtcommune)",
    publisher="INSEE", doc_url="https://www.insee.fr/fr/information/2560452",
    patterns=("mvtcommune_20??.csv", "v_mvt_commune_20??.csv", "mvtcommune*.csv"))

#: mvtcommune event codes that move a commune's population to another code (mergers, code changes).
MOD_FUSION = {"31", "32", "33", "34", "41", "50"}
#: Re-establishment of a commune: its former population cannot be split back from the merged one.
MOD_RETABLISSEMENT = {"21"}


def read_communes(path: Path) -> pd.DataFrame:
    """code_insee, nom, code_departement, code_region of the communes (`TYPECOM == 'COM'`)."""
    frame = read_official(path, key="COM")
    frame = frame[frame["TYPECOM"].str.upper() == "COM"] if "TYPECOM" in frame else frame
    readers.require_columns(frame, ["COM", "DEP", "REG", "LIBELLE"])
    problems = []
    out = pd.DataFrame({
        "code_insee": codes(frame, "COM", readers.parse_code_commune, "un code commune INSEE", problems),
        "nom": frame["LIBELLE"],
        "code_departement": codes(frame, "DEP", readers.parse_code_departement, "un code département", problems),
        "code_region": frame["REG"].str.zfill(2),
    })
    raise_if(problems)
    return out.reset_index(drop=True)


def read_departements(path: Path) -> pd.DataFrame:
    frame = read_official(path, key="DEP")
    readers.require_columns(frame, ["DEP", "REG", "LIBELLE"])
    problems = []
    out = pd.DataFrame({
        "code": codes(frame, "DEP", readers.parse_code_departement, "un code département", problems),
        "code_region": frame["REG"].str.zfill(2), "nom": frame["LIBELLE"]})
    raise_if(problems)
    return out.reset_index(drop=True)


def read_mouvements(path: Path) -> pd.DataFrame:
    """mod, date_eff, typecom_av, com_av, typecom_ap, com_ap (codes as TEXT, dates as dates)."""
    frame = read_official(path, key="MOD")
    readers.require_columns(frame, ["MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "TYPECOM_AP", "COM_AP"])
    problems = []
    out = pd.DataFrame({
        "mod": frame["MOD"].str.replace(r"\.0$", "", regex=True),
        "date_eff": pd.to_datetime(frame["DATE_EFF"], errors="coerce", format="mixed", dayfirst=False),
        "typecom_av": frame["TYPECOM_AV"].str.upper(),
        "com_av": codes(frame, "COM_AV", readers.parse_code_commune, "un code commune INSEE", problems),
        "typecom_ap": frame["TYPECOM_AP"].str.upper(),
        "com_ap": codes(frame, "COM_AP", readers.parse_code_commune, "un code commune INSEE", problems),
    })
    raise_if(problems)
    return out


@dataclass
class Remapping:
    """Old commune code → today's code, from mvtcommune; splits are kept to be reported."""

    target: dict[str, str]
    splits: dict[str, list[str]] = field(default_factory=dict)
    direct: dict[str, str] = field(default_factory=dict)  # one event, before chains are followed

    @classmethod
    def from_mouvements(cls, events: pd.DataFrame) -> Remapping:
        com = events[(events["typecom_av"] == "COM") & (events["typecom_ap"] == "COM")]
        moves = com[com["mod"].isin(MOD_FUSION) & (com["com_av"] != com["com_ap"])]
        moves = moves.sort_values("date_eff", kind="stable")
        target: dict[str, str] = {}
        for old, new in zip(moves["com_av"], moves["com_ap"]):  # a few thousand events at most
            target[old] = new
        direct = dict(target)
        # Follow chains (A merged into B in 2016, B into C in 2019): A → C.
        for old in list(target):
            seen, code = {old}, target[old]
            while code in target and code not in seen:
                seen.add(code)
                code = target[code]
            target[old] = code
        restored = com[com["mod"].isin(MOD_RETABLISSEMENT)]
        splits = restored.groupby("com_av")["com_ap"].agg(lambda s: sorted(set(s))).to_dict()
        return cls(target, {k: v for k, v in splits.items() if len(v) > 1}, direct)

    def current(self, code: str, keep: set[str] = frozenset()) -> str:
        """Today's code; a chain stops at the first code of `keep` (the reference's communes: the
        mvtcommune file may be newer than the reference, and a re-established commune exists again)."""
        if not keep or not self.direct:
            return code if code in keep else self.target.get(code, code)
        seen = {code}
        while code not in keep and code in self.direct and self.direct[code] not in seen:
            code = self.direct[code]
            seen.add(code)
        return code

    def apply(self, code: pd.Series, keep: set[str] = frozenset()) -> pd.Series:
        return code.map({c: self.current(c, keep) for c in code.unique()})

    def report(self, found: set[str], keep: set[str] = frozenset()) -> list[str]:
        """Warnings for the codes of a file: merged communes remapped, splits that cannot be undone."""
        messages = []
        merged = sorted(c for c in found if self.current(c, keep) != c)
        if merged:
            pairs = ", ".join(f"{c} → {self.current(c, keep)}" for c in merged[:20])
            messages.append(f"{len(merged)} commune(s) fusionnée(s) ramenée(s) à la commune actuelle "
                            f"(comptes additionnés) : {pairs}{' …' if len(merged) > 20 else ''}")
        split = sorted(c for c in found if c in self.splits)
        if split:
            pairs = ", ".join(f"{c} → {'/'.join(self.splits[c])}" for c in split[:20])
            messages.append(f"{len(split)} commune(s) rétablie(s) depuis le millésime du fichier : leurs "
                            f"comptes restent sur le code d'origine, non répartis ({pairs})")
        return messages
