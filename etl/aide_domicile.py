"""Aide à domicile: CNAV service baskets, CPOM / forfait global rules, UNCCAS-MISAP SAAD indicators.

Embedded defaults are the figures quoted in the source reports (`data/aide_domicile/sources/`, with their
line numbers), loaded as `quoted-from-report`. SAAD services and indicators have no public per-service
source: unless an input file is given, one simulated CCAS service per EPCI is generated (source
`saad-simule`, nature `simulated`, values drawn inside the ranges quoted by UNCCAS-MISAP 2016).

Inputs picked from `--input DIR` (CSV or XLSX, any case; several files per pattern are concatenated):

- `paniers_suivi*`      monthly funnel by caisse: caisse; mois; demandes_recues; evaluations_commandees;
                        paniers_accordes
- `paniers_detail*`     baskets granted by caisse, month, level, family, territory type: caisse; mois;
                        niveau; famille; type_territoire; nb_paniers
- `saad_services*`      services: service_id; nom; statut; adresse; code_commune; latitude; longitude
- `saad_indicateurs*`   indicators (long format): service_id; periode; indicateur; ventilation; valeur

A file with any problem rejects the whole build with every problem listed (`InputRejected`).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from etl import contract, readers
from etl.build import BuildContext, Step
from etl.common import frame_csv, frame_xlsx, words
from etl.communes_map import CommuneResolver
from etl.contract import Format
from etl.errors import InputRejected, Problem
from etl.sources import Source, sha256_of
from methods import cpom
from methods.paniers import FAMILLES, TYPES_TERRITOIRE

STEP_ORDER = 300
DATA = Path(__file__).resolve().parent.parent / "data" / "aide_domicile"
SEEDS = DATA / "sources"
CATALOGUE_FILE = DATA / "indicateurs_saad_unccas.csv"

SEED_000 = "000_7a01445a244e9d32.txt"
SEED_003 = "003_c62734b4c9e4dd39.txt"

SOURCE_PANIERS_2015 = Source(
    "paniers-cnav-2015", "CNAV — Expérimentation des paniers de services, bilan intermédiaire",
    "CNAV, direction nationale de l'action sociale", "30/06/2015", "quoted-from-report",
    reference=f"{SEED_000}, l. 88-136 et 238-244")
SOURCE_CPOM_BESANCON = Source(
    "cpom-besancon", "CCAS de Besançon — expérience de CPOM en aide à domicile (Doubs)",
    "CCAS de Besançon, département du Doubs, ADF", None, "quoted-from-report",
    reference=f"{cpom.DOC_001}, l. 27-37 et 49-61")
SOURCE_FORFAIT_GLOBAL = Source(
    "forfait-global-2012", "Cahier des charges du forfait global négocié des SAAD (annexe 2)",
    "Journal officiel n° 220 du 21/09/2012, texte n° 4", "2012", "quoted-from-report",
    reference=f"{cpom.DOC_002}, § 1 à 7")
SOURCE_UNCCAS = Source(
    "unccas-misap-2016", "UNCCAS–MISAP — Modèle économique et bonnes pratiques d'un SAAD",
    "UNCCAS, MISAP (rapport de synthèse)", "18/03/2016", "quoted-from-report",
    reference=f"{SEED_003}, Partie 3 l. 1026-1110, Partie 1 l. 142-224, Annexe 1 l. 1374-1524")
SOURCE_SAAD_SIMULE = Source(
    "saad-simule", "SAAD simulés (un service de CCAS par EPCI)",
    "Observatoire territorial — simulation", "2024 (simulé)", "simulated",
    reference="Valeurs tirées dans les fourchettes du profil type UNCCAS-MISAP 2016 (l. 172-220) ; "
              "communes réelles (chef-lieu le plus peuplé de chaque EPCI), services fictifs")

PATTERNS = {
    "paniers_suivi": "paniers_suivi*",
    "paniers_detail": "paniers_detail*",
    "saad_services": "saad_services*",
    "saad_indicateurs": "saad_indicateurs*",
}
SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")

DDL = {
    "paniers_suivi": """
        CREATE TABLE paniers_suivi (
            caisse TEXT NOT NULL, mois DATE NOT NULL,
            type_valeur TEXT NOT NULL CHECK (type_valeur IN ('mensuel', 'cumul')),
            demandes_recues BIGINT, evaluations_commandees BIGINT, paniers_accordes BIGINT,
            source_line INTEGER, source TEXT NOT NULL)""",
    "paniers_attribues": """
        CREATE TABLE paniers_attribues (
            caisse TEXT NOT NULL, mois DATE NOT NULL, niveau TEXT NOT NULL, famille TEXT NOT NULL,
            type_territoire TEXT NOT NULL, nb_paniers BIGINT NOT NULL, source TEXT NOT NULL)""",
    "paniers_reperes": """
        CREATE TABLE paniers_reperes (
            theme TEXT NOT NULL, modalite TEXT NOT NULL, ordre INTEGER, valeur DOUBLE, unite TEXT,
            periode TEXT, citation TEXT NOT NULL, source_line INTEGER NOT NULL, source TEXT NOT NULL)""",
    "cpom_regles": """
        CREATE TABLE cpom_regles (
            regle TEXT PRIMARY KEY, titre TEXT NOT NULL, document TEXT NOT NULL, paragraphe TEXT NOT NULL,
            source_line INTEGER NOT NULL, citation TEXT NOT NULL, source TEXT NOT NULL)""",
    "saad_indicateurs_catalogue": """
        CREATE TABLE saad_indicateurs_catalogue (
            indicateur INTEGER PRIMARY KEY, famille TEXT NOT NULL, libelle TEXT NOT NULL,
            periodicite TEXT NOT NULL, unite TEXT NOT NULL, ventilations TEXT,
            compte_personnes BOOLEAN NOT NULL, source_line INTEGER NOT NULL, source TEXT NOT NULL)""",
    "saad_reperes": """
        CREATE TABLE saad_reperes (
            repere TEXT NOT NULL, indicateur INTEGER, valeur_min DOUBLE, valeur_max DOUBLE, unite TEXT,
            citation TEXT NOT NULL, source_line INTEGER NOT NULL, source TEXT NOT NULL)""",
    "saad_services": """
        CREATE TABLE saad_services (
            service_id TEXT PRIMARY KEY, nom TEXT NOT NULL, statut TEXT, adresse TEXT,
            code_commune TEXT NOT NULL, code_departement TEXT NOT NULL, siren_epci TEXT,
            latitude DOUBLE, longitude DOUBLE,
            localisation TEXT NOT NULL CHECK (localisation IN ('coordonnées', 'centre de la commune')),
            source TEXT NOT NULL)""",
    "saad_indicateurs": """
        CREATE TABLE saad_indicateurs (
            service_id TEXT NOT NULL, periode TEXT NOT NULL, periode_debut DATE NOT NULL,
            periodicite TEXT NOT NULL, indicateur INTEGER NOT NULL, ventilation TEXT NOT NULL,
            valeur DOUBLE NOT NULL, source TEXT NOT NULL)""",
}


# -- templates -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """A file layout the page documents and offers as a blank file (not a `contract.Template`, which is
    one downloadable file built from it: `templates()` below)."""

    name: str
    title: str
    columns: dict[str, str]          # column → what to write in it
    example: list[list[str]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.example, columns=list(self.columns))


TEMPLATES = {t.name: t for t in [
    Layout("paniers_suivi", "Suivi mensuel des paniers de services par caisse", {
        "caisse": "caisse de retraite (CARSAT / CNAV IdF / CGSS…), texte libre stable d'un mois à l'autre",
        "mois": "mois du flux : AAAA-MM (ou MM/AAAA, JJ/MM/AAAA : ramené au 1er du mois)",
        "demandes_recues": "demandes reçues dans le mois (entier ≥ 0)",
        "evaluations_commandees": "évaluations commandées dans le mois (entier ≥ 0)",
        "paniers_accordes": "paniers de services accordés dans le mois (entier ≥ 0)",
    }, [["CARSAT Bretagne", "2024-01", "120", "95", "40"],
        ["CARSAT Bretagne", "2024-02", "110", "90", "38"],
        ["CARSAT Normandie", "2024-01", "80", "60", "25"]]),
    Layout("paniers_detail", "Paniers accordés par niveau, famille de services et type de territoire", {
        "caisse": "caisse de retraite (même libellé que dans paniers_suivi)",
        "mois": "mois d'attribution : AAAA-MM",
        "niveau": "niveau du panier tel que défini par la caisse (ex. « niveau 1 »)",
        "famille": "famille de services : " + " ; ".join(FAMILLES),
        "type_territoire": "type de territoire : " + " ; ".join(TYPES_TERRITOIRE),
        "nb_paniers": "nombre de paniers accordés (entier ≥ 0)",
    }, [["CARSAT Bretagne", "2024-01", "niveau 1", FAMILLES[0], "rural", "25"],
        ["CARSAT Bretagne", "2024-01", "niveau 2", FAMILLES[1], "urbain", "15"]]),
    Layout("saad_services", "Services d'aide et d'accompagnement à domicile (SAAD)", {
        "service_id": "identifiant stable du service (FINESS, SIRET ou code interne)",
        "nom": "nom du service",
        "statut": "CCAS/CIAS ; associatif ; entreprise ; autre public",
        "adresse": "adresse postale (facultative)",
        "code_commune": "code INSEE de la commune du siège (5 caractères, 2A/2B pour la Corse)",
        "latitude": "latitude WGS84 en degrés décimaux (facultative ; sinon centre de la commune)",
        "longitude": "longitude WGS84 en degrés décimaux (facultative, avec la latitude)",
    }, [["350000001", "SAAD du CCAS de Fougères", "CCAS/CIAS", "1 place Aristide Briand", "35115",
         "48,3525", "-1,1986"],
        ["610000001", "Service d'aide à domicile d'Alençon", "associatif", "", "61001", "", ""]]),
    Layout("saad_indicateurs", "Indicateurs clés UNCCAS-MISAP par service et période (format long)", {
        "service_id": "identifiant du service (présent dans saad_services)",
        "periode": "AAAA (année), AAAA-S1/S2 (semestre), AAAA-T1…T4 (trimestre), AAAA-MM (mois), "
                   "AAAA-Wnn (semaine ISO)",
        "indicateur": "numéro de l'indicateur UNCCAS-MISAP (1 à 30, voir le catalogue)",
        "ventilation": "vide, ou une ventilation du catalogue (ex. financeur « CD — APA » pour l'indicateur 25)",
        "valeur": "valeur dans l'unité du catalogue (nombre, %, €, heures) ; virgule décimale acceptée",
    }, [["350000001", "2024", "4", "", "18500"],
        ["350000001", "2024", "25", "CD — APA", "210000"],
        ["350000001", "2024", "25", "CARSAT", "45000"],
        ["350000001", "2024", "27", "prix de revient", "21,40"],
        ["350000001", "2024", "27", "taux financé", "19,80"],
        ["350000001", "2024-03", "16", "", "4,2"]]),
]}


# -- quoted defaults -----------------------------------------------------------------------------------------

def _seed_line(name: str, line: int) -> str:
    return (SEEDS / name).read_text(encoding="utf-8").splitlines()[line - 1].strip()


#: (theme, modality, order, value, unit, period, line) quoted from seed 000.
PANIERS_REPERES = [
    ("territoires de l'expérimentation", "urbain", 1, 41.0, "% des territoires", "30/06/2015", 123),
    ("territoires de l'expérimentation", "rural", 2, 41.0, "% des territoires", "30/06/2015", 129),
    ("territoires de l'expérimentation", "mixte", 3, 18.0, "% des territoires", "30/06/2015", 136),
    ("caisses engagées", "caisses opérationnellement engagées", 0, 12.0, "caisses", "30/06/2015", 88),
    ("caisses engagées", "Rhône-Alpes (première caisse)", 1, None, None, "février 2014", 36),
    ("caisses engagées", "Sud-Est, Bourgogne Franche-Comté, Île-de-France", 2, 3.0, "caisses",
     "mars – mai 2014", 40),
    ("caisses engagées", "8 nouvelles caisses (non nommées)", 3, 8.0, "caisses",
     "décembre 2014 – juin 2015", 46),
    *[("familles de services", f, i, None, None, "cahier des charges 2013", 239 + i)
      for i, f in enumerate(FAMILLES, start=1)],
    ("prestataires pivots", "Structures associatives", 1, None, None, "30/06/2015", 150),
    ("prestataires pivots", "Entreprises", 2, None, None, "30/06/2015", 154),
    ("prestataires pivots", "Centres communaux d'action sociale", 3, None, None, "30/06/2015", 158),
]

#: Cumulative funnel at 30 June 2015, all 12 caisses (seed 000, l. 103, 107, 111).
PANIERS_FUNNEL_2015 = ("12 caisses engagées (ensemble)", dt.date(2015, 6, 1), 3285, 2543, 852, 103)

#: Benchmarks of the "profil type" of a balanced CCAS SAAD (seed 003, Partie 1), with indicator number.
SAAD_REPERES = [
    ("Volume d'activité (heures par an)", 4, 9000, 23000, "heures", 184),
    ("Bénéficiaires", 5, 50, 300, "personnes", 172),
    ("Âge moyen des intervenantes", 15, 45, 45, "ans", 196),
    ("Absentéisme", 16, 3, 5, "%", 198),
    ("ETP de gestion pour 40 000 heures", 13, 2.5, 2.5, "ETP", 200),
    ("Heures d'intervention par ETP (proche de 840, max 1 120)", None, 840, 1120, "heures/ETP", 206),
    ("Masse salariale / budget (min 70 %, max 95,6 %)", 28, 70, 95.6, "%", 210),
    ("Prix de revient horaire 2014 (min 16,30 €, max 21,76 €)", 27, 16.30, 21.76, "€/h", 218),
    ("Déficit horaire d'une 12e structure à l'équilibre par subvention", 27, 4, 4, "€/h", 96),
    ("Effort de formation (moins de 1 % des heures)", 19, 0, 1, "% des heures", 672),
]


def catalogue() -> pd.DataFrame:
    frame = pd.read_csv(CATALOGUE_FILE, sep=";", dtype=str, keep_default_na=False)
    frame["indicateur"] = frame["indicateur"].astype(int)
    frame["source_line"] = frame["source_line"].astype(int)
    frame["compte_personnes"] = frame["compte_personnes"].eq("oui")
    frame["ventilations"] = frame["ventilations"].replace("", None)
    return frame


def allowed_ventilations(cat: pd.DataFrame) -> dict[int, set[str]]:
    return {int(r.indicateur): set(r.ventilations.split("|")) if isinstance(r.ventilations, str) and r.ventilations
            else {""}
            for r in cat.itertuples()}


# -- readers -------------------------------------------------------------------------------------------------

_norm = words  # etl/common.py


def _choice(options) -> callable:
    by_norm = {_norm(o): o for o in options}

    def parse(value: str) -> str:
        key = _norm(value)
        if key not in by_norm:
            raise ValueError(value)
        return by_norm[key]
    return parse


def _count(text: str) -> int:
    value = readers.parse_int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _month(text: str) -> dt.date:
    return readers.parse_date(text).replace(day=1)


def _duplicates(v: readers.Validator, frame: pd.DataFrame, keys: list[str], label: str) -> None:
    dup = frame.duplicated(keys, keep="first")
    for position in np.flatnonzero(dup.to_numpy()):
        v.add(int(position), None, " ; ".join(str(frame.iloc[position][k]) for k in keys),
              f"une seule ligne par {label} (doublon)")


def read_paniers_suivi(path: Path) -> pd.DataFrame:
    """Monthly funnel by caisse, validated: counts ≥ 0, one row per caisse and month, and per caisse over
    the file evaluations ≤ requests and baskets ≤ evaluations (a basket follows an evaluation, seed 000
    l. 101-113)."""
    t = TEMPLATES["paniers_suivi"]
    frame = readers.require_columns(readers.read_table(path), list(t.columns))
    v = readers.Validator(frame)
    out = pd.DataFrame({
        "caisse": v.parse("caisse", str, "un nom de caisse"),
        "mois": v.parse("mois", _month, "un mois AAAA-MM"),
        **{c: v.parse(c, _count, "un entier positif ou nul")
           for c in ("demandes_recues", "evaluations_commandees", "paniers_accordes")},
    })
    _duplicates(v, out, ["caisse", "mois"], "caisse et mois")
    if not v.problems:
        totals = out.groupby("caisse")[["demandes_recues", "evaluations_commandees", "paniers_accordes"]].sum()
        for caisse, row in totals.iterrows():
            if row["evaluations_commandees"] > row["demandes_recues"]:
                v.add(None, "evaluations_commandees", f"{caisse} : {row['evaluations_commandees']}",
                      f"au plus les {row['demandes_recues']} demandes reçues de la caisse sur la période")
            if row["paniers_accordes"] > row["evaluations_commandees"]:
                v.add(None, "paniers_accordes", f"{caisse} : {row['paniers_accordes']}",
                      f"au plus les {row['evaluations_commandees']} évaluations commandées de la caisse")
    v.raise_if_any()
    out["type_valeur"] = "mensuel"
    return out


def read_paniers_detail(path: Path) -> pd.DataFrame:
    """Baskets granted by caisse, month, level, family (one of the five of seed 000 l. 238-244) and
    territory type (urbain, rural, mixte: l. 121-134)."""
    t = TEMPLATES["paniers_detail"]
    frame = readers.require_columns(readers.read_table(path), list(t.columns))
    v = readers.Validator(frame)
    out = pd.DataFrame({
        "caisse": v.parse("caisse", str, "un nom de caisse"),
        "mois": v.parse("mois", _month, "un mois AAAA-MM"),
        "niveau": v.parse("niveau", str, "un niveau de panier"),
        "famille": v.parse("famille", _choice(FAMILLES), "une des 5 familles : " + " ; ".join(FAMILLES)),
        "type_territoire": v.parse("type_territoire", _choice(TYPES_TERRITOIRE), "urbain, rural ou mixte"),
        "nb_paniers": v.parse("nb_paniers", _count, "un entier positif ou nul"),
    })
    _duplicates(v, out, ["caisse", "mois", "niveau", "famille", "type_territoire"],
                "caisse, mois, niveau, famille et type de territoire")
    v.raise_if_any()
    return out


STATUTS = ("CCAS/CIAS", "associatif", "entreprise", "autre public")


def read_saad_services(path: Path, resolve_commune=None) -> pd.DataFrame:
    """SAAD list. `resolve_commune(code) -> current code or None` checks codes against the reference
    (old codes are brought to today's commune); coordinates are optional but go in pairs, within France."""
    t = TEMPLATES["saad_services"]
    frame = readers.require_columns(readers.read_table(path), list(t.columns))
    v = readers.Validator(frame)
    lats = v.parse("latitude", readers.parse_number, "une latitude en degrés décimaux", required=False)
    lons = v.parse("longitude", readers.parse_number, "une longitude en degrés décimaux", required=False)
    out = pd.DataFrame({
        "service_id": v.parse("service_id", str, "un identifiant de service"),
        "nom": v.parse("nom", str, "un nom de service"),
        "statut": v.parse("statut", _choice(STATUTS), " ; ".join(STATUTS), required=False),
        "adresse": frame["adresse"].replace("", None).tolist(),
        "code_commune": v.parse("code_commune", readers.parse_code_commune, "un code commune INSEE"),
        "latitude": lats, "longitude": lons,
    })
    for position, (lat, lon) in enumerate(zip(lats, lons)):
        if (lat is None) != (lon is None):
            v.add(position, "latitude" if lat is None else "longitude", "", "latitude et longitude ensemble")
        elif lat is not None and not (-22 <= lat <= 52 and -62 <= lon <= 56):
            v.add(position, "latitude", f"{lat} ; {lon}", "des coordonnées WGS84 en France (lat ≤ 52)")
    if resolve_commune is not None:
        resolved = []
        for position, code in enumerate(out["code_commune"]):
            current = resolve_commune(code) if code else None
            if code and current is None:
                explain = getattr(resolve_commune, "expected", lambda _, default: default)
                v.add(position, "code_commune", code,
                      explain(code, "un code commune du référentiel (COG en vigueur)"))
            resolved.append(current or code)
        out["code_commune"] = resolved
    _duplicates(v, out, ["service_id"], "service")
    v.raise_if_any()
    return out


_PERIOD = [
    (re.compile(r"^(\d{4})$"), "A", lambda y: dt.date(int(y), 1, 1)),
    (re.compile(r"^(\d{4})-S([12])$", re.I), "S", lambda y, s: dt.date(int(y), 6 * int(s) - 5, 1)),
    (re.compile(r"^(\d{4})-T([1-4])$", re.I), "T", lambda y, q: dt.date(int(y), 3 * int(q) - 2, 1)),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "M", lambda y, m: dt.date(int(y), int(m), 1)),
    (re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$", re.I), "H",
     lambda y, w: dt.date.fromisocalendar(int(y), int(w), 1)),
]


def parse_periode(text: str) -> tuple[str, str, dt.date]:
    """(normalised period, periodicity H/M/T/S/A, first day). Periodicity letters of seed 003 l. 1034."""
    text = str(text).strip().upper()
    for pattern, letter, start in _PERIOD:
        match = pattern.match(text)
        if match:
            return text, letter, start(*match.groups())
    raise ValueError(text)


def read_saad_indicateurs(path: Path, cat: pd.DataFrame, known_services: set[str] | None) -> pd.DataFrame:
    """Indicators in long format, validated against the UNCCAS-MISAP catalogue: indicator 1-30,
    ventilation allowed for it, percentages within 0-100, people counts whole and ≥ 0, services known."""
    t = TEMPLATES["saad_indicateurs"]
    frame = readers.require_columns(readers.read_table(path), list(t.columns))
    v = readers.Validator(frame)
    allowed = allowed_ventilations(cat)
    units = dict(zip(cat["indicateur"], cat["unite"]))
    people = set(cat.loc[cat["compte_personnes"], "indicateur"])
    periods = v.parse("periode", parse_periode, "une période AAAA, AAAA-S1, AAAA-T1, AAAA-MM ou AAAA-Wnn")

    def indicator(text: str) -> int:
        value = readers.parse_int(text)
        if value not in allowed:
            raise ValueError(text)
        return value
    sids = v.parse("service_id", str, "un identifiant de service")
    inds = v.parse("indicateur", indicator, "un numéro d'indicateur de 1 à 30")
    vals = v.parse("valeur", readers.parse_number, "un nombre")
    ventilations = frame["ventilation"].tolist()
    for position, (sid, ind, value) in enumerate(zip(sids, inds, vals)):
        if known_services is not None and sid and sid not in known_services:
            v.add(position, "service_id", sid, "un service déclaré dans le fichier saad_services")
        if ind is None:
            continue
        options = allowed[ind]
        match = {_norm(o): o for o in options}.get(_norm(ventilations[position]))
        if match is None:
            v.add(position, "ventilation", ventilations[position],
                  f"pour l'indicateur {ind} : " + (" ; ".join(sorted(o for o in options if o))
                                                    if options != {""} else "vide"))
        else:
            ventilations[position] = match
        if value is None:
            continue
        unit = units[ind]
        if unit == "%" and not 0 <= value <= 100:
            v.add(position, "valeur", value, "un pourcentage entre 0 et 100")
        elif unit != "%" and value < 0 and ind not in (29, 30):  # working capital may be negative
            v.add(position, "valeur", value, "une valeur positive ou nulle")
        elif ind in people and value != int(value):
            v.add(position, "valeur", value, "un nombre entier de personnes")
    out = pd.DataFrame({
        "service_id": sids,
        "periode": [p[0] if p else None for p in periods],
        "periodicite": [p[1] if p else None for p in periods],
        "periode_debut": [p[2] if p else None for p in periods],
        "indicateur": inds, "ventilation": ventilations, "valeur": vals,
    })
    _duplicates(v, out, ["service_id", "periode", "indicateur", "ventilation"],
                "service, période, indicateur et ventilation")
    v.raise_if_any()
    return out


# -- build steps ---------------------------------------------------------------------------------------------

def input_files(input_dir: Path | None, kind: str) -> list[Path]:
    """Files of `input_dir` whose lower-cased name matches the kind's pattern (CSV, TXT, XLSX, XLS)."""
    if input_dir is None:
        return []
    return sorted(p for p in Path(input_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES
                  and fnmatch.fnmatch(p.stem.lower(), PATTERNS[kind]))


def _read_all(paths: list[Path], reader) -> pd.DataFrame:
    """Read every file, gather every problem of every file before rejecting."""
    frames, problems = [], []
    for path in paths:
        try:
            frames.append(reader(path))
        except InputRejected as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputRejected(problems)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _input_source(key: str, name: str, paths: list[Path], vintage: str | None) -> Source:
    return Source(key, name, "fichier fourni (--input)", vintage, "real",
                  reference=", ".join(p.name for p in paths))


def _vintage(months: pd.Series) -> str | None:
    if months.empty:
        return None
    lo, hi = pd.to_datetime(months).min(), pd.to_datetime(months).max()
    return f"{lo:%m/%Y}" if lo == hi else f"{lo:%m/%Y} – {hi:%m/%Y}"


def step_quoted(ctx: BuildContext) -> int:
    for ddl in DDL.values():
        ctx.con.execute(ddl)
    rows = 0
    reperes = pd.DataFrame(PANIERS_REPERES, columns=["theme", "modalite", "ordre", "valeur", "unite",
                                                     "periode", "source_line"])
    reperes["citation"] = [_seed_line(SEED_000, n) for n in reperes["source_line"]]
    reperes["source"] = SOURCE_PANIERS_2015.source
    rows += ctx.write("paniers_reperes", reperes)
    caisse, month, dem, eva, pan, line = PANIERS_FUNNEL_2015
    rows += ctx.write("paniers_suivi", pd.DataFrame([{
        "caisse": caisse, "mois": month, "type_valeur": "cumul", "demandes_recues": dem,
        "evaluations_commandees": eva, "paniers_accordes": pan, "source_line": line,
        "source": SOURCE_PANIERS_2015.source}]))
    ctx.add_source(SOURCE_PANIERS_2015, row_count=len(reperes) + 1, file_name=SEED_000,
                   sha256=sha256_of(SEEDS / SEED_000))

    rules = pd.DataFrame([{"regle": r.key, "titre": r.title, "document": r.document, "paragraphe": r.paragraph,
                           "source_line": r.line, "citation": r.quote,
                           "source": (SOURCE_CPOM_BESANCON if r.document == cpom.DOC_001
                                      else SOURCE_FORFAIT_GLOBAL).source} for r in cpom.RULES.values()])
    rows += ctx.write("cpom_regles", rules)
    for source, doc in ((SOURCE_CPOM_BESANCON, cpom.DOC_001), (SOURCE_FORFAIT_GLOBAL, cpom.DOC_002)):
        ctx.add_source(source, row_count=int((rules["document"] == doc).sum()), file_name=doc,
                       sha256=sha256_of(SEEDS / doc))

    cat = catalogue()
    cat["source"] = SOURCE_UNCCAS.source
    rows += ctx.write("saad_indicateurs_catalogue", cat)
    reperes_saad = pd.DataFrame(SAAD_REPERES, columns=["repere", "indicateur", "valeur_min", "valeur_max",
                                                       "unite", "source_line"])
    reperes_saad["citation"] = [_seed_line(SEED_003, n) for n in reperes_saad["source_line"]]
    reperes_saad["source"] = SOURCE_UNCCAS.source
    rows += ctx.write("saad_reperes", reperes_saad)
    ctx.add_source(SOURCE_UNCCAS, row_count=len(cat) + len(reperes_saad), file_name=SEED_003,
                   sha256=sha256_of(SEEDS / SEED_003, CATALOGUE_FILE))
    return rows


def read_paniers(input_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame, list[Path], list[Path]]:
    """(suivi, detail, their files): every problem of every file, then one line per caisse and month."""
    suivi_paths = input_files(input_dir, "paniers_suivi")
    detail_paths = input_files(input_dir, "paniers_detail")
    problems: list[Problem] = []
    suivi = contract.collect(problems, _read_all, suivi_paths, read_paniers_suivi)
    detail = contract.collect(problems, _read_all, detail_paths, read_paniers_detail)
    if suivi is not None and len(suivi):
        dup = suivi.duplicated(["caisse", "mois"])
        if dup.any():
            first = suivi[dup].iloc[0]
            problems.append(Problem(", ".join(p.name for p in suivi_paths), None, "caisse ; mois",
                                    f"{first['caisse']} ; {first['mois']}",
                                    "une seule ligne par caisse et mois sur l'ensemble des fichiers"))
    if problems:
        raise InputRejected(problems)
    return suivi, detail, suivi_paths, detail_paths


def step_paniers(ctx: BuildContext) -> int:
    suivi, detail, suivi_paths, detail_paths = read_paniers(ctx.input_dir)
    rows = 0
    if len(suivi) or len(detail):
        months = pd.concat([suivi.get("mois", pd.Series(dtype=object)),
                            detail.get("mois", pd.Series(dtype=object))])
        source = _input_source("paniers-saisie", "Suivi des paniers de services (fichiers des caisses)",
                               suivi_paths + detail_paths, _vintage(months))
        if len(suivi):
            rows += ctx.write("paniers_suivi", suivi.assign(source_line=None, source=source.source))
        if len(detail):
            rows += ctx.write("paniers_attribues", detail.assign(source=source.source))
        if len(suivi) and len(detail):
            granted = suivi.groupby(["caisse", "mois"])["paniers_accordes"].sum()
            detailed = detail.groupby(["caisse", "mois"])["nb_paniers"].sum()
            gaps = granted.to_frame().join(detailed, how="outer").fillna(0)
            gaps = gaps[gaps["paniers_accordes"] != gaps["nb_paniers"]]
            if len(gaps):
                ctx.warn("paniers de services", f"{len(gaps)} couple(s) caisse × mois dont le détail ne somme "
                         "pas aux paniers accordés du suivi (ex. "
                         f"{gaps.index[0][0]} {gaps.index[0][1]:%m/%Y})")
        ctx.add_source(source, row_count=rows, file_name=source.reference,
                       sha256=sha256_of(*(suivi_paths + detail_paths)))
    return rows


def _centroids(ctx: BuildContext, codes: list[str]) -> pd.DataFrame:
    ctx.con.register("_codes", pd.DataFrame({"code_insee": codes}))
    frame = ctx.con.execute(
        "SELECT c.code_insee, c.geometry_simple FROM communes c JOIN _codes USING (code_insee)").df()
    ctx.con.unregister("_codes")
    wkb = np.array([bytes(b) for b in frame["geometry_simple"]], dtype=object)  # DuckDB BLOB → bytearray
    points = shapely.point_on_surface(shapely.from_wkb(wkb))
    return pd.DataFrame({"code_commune": frame["code_insee"], "lat_c": shapely.get_y(points),
                         "lon_c": shapely.get_x(points)})


def _place(ctx: BuildContext, services: pd.DataFrame) -> pd.DataFrame:
    """Département and EPCI of each service's commune; coordinates given, else a point of the commune."""
    ctx.con.register("_svc", services[["service_id", "code_commune"]])
    geo = ctx.con.execute("""SELECT s.service_id, c.code_departement, c.siren_epci
                             FROM _svc s JOIN communes c ON c.code_insee = s.code_commune""").df()
    ctx.con.unregister("_svc")
    out = services.merge(geo, on="service_id", how="left")
    centres = _centroids(ctx, out["code_commune"].unique().tolist())
    out = out.merge(centres, on="code_commune", how="left")
    given = out["latitude"].notna()
    out["localisation"] = np.where(given, "coordonnées", "centre de la commune")
    out["latitude"] = out["latitude"].where(given, out["lat_c"]).astype(float)
    out["longitude"] = out["longitude"].where(given, out["lon_c"]).astype(float)
    return out.drop(columns=["lat_c", "lon_c"])


def read_saad(ctx: BuildContext, cat: pd.DataFrame) -> dict | None:
    """Services (communes resolved to today's codes; those of départements left out of the build
    dropped with a warning) and their indicators; None when no service file was given."""
    service_paths = input_files(ctx.input_dir, "saad_services")
    indicator_paths = input_files(ctx.input_dir, "saad_indicateurs")
    if indicator_paths and not service_paths:
        raise InputRejected([Problem(indicator_paths[0].name, None, None, None,
                                     "un fichier saad_services* à côté (liste des services et communes) — "
                                     "déposer les deux fichiers ensemble (dans un zip pour la vérification)")])
    if not service_paths:
        return None
    resolver = CommuneResolver(ctx.con)
    services = _read_all(service_paths, lambda p: read_saad_services(p, _resolver_in_build(ctx, resolver)))
    if services["service_id"].duplicated().any():
        dup = services.loc[services["service_id"].duplicated(), "service_id"].iloc[0]
        raise InputRejected([Problem(", ".join(p.name for p in service_paths), None, "service_id", dup,
                                     "un identifiant unique sur l'ensemble des fichiers")])
    if warning := resolver.warning():
        ctx.warn("SAAD", warning)
    outside = services["code_commune"].eq(OUTSIDE_BUILD)
    outside_ids = set(services.loc[outside, "service_id"])
    if outside_ids:
        ctx.warn("SAAD", f"{len(outside_ids)} service(s) hors des départements construits, ignorés")
        services = services[~outside]
    indicators = _read_all(indicator_paths, lambda p: read_saad_indicateurs(
        p, cat, set(services["service_id"]) | outside_ids))
    if len(indicators):
        indicators = indicators[~indicators["service_id"].isin(outside_ids)]
    return {"services": services, "indicators": indicators, "service_paths": service_paths,
            "indicator_paths": indicator_paths}


def step_saad(ctx: BuildContext) -> int:
    cat = catalogue()
    saad = read_saad(ctx, cat)
    if saad is None:
        return _simulate_saad(ctx, cat)
    services, indicators = saad["services"], saad["indicators"]
    service_paths, indicator_paths = saad["service_paths"], saad["indicator_paths"]
    source = _input_source("saad-saisie", "SAAD et indicateurs UNCCAS-MISAP (fichiers fournis)",
                           service_paths + indicator_paths,
                           ", ".join(sorted(indicators["periode"].str[:4].unique())) if len(indicators) else None)
    placed = _place(ctx, services)
    rows = ctx.write("saad_services", placed.assign(source=source.source))
    if len(indicators):
        rows += ctx.write("saad_indicateurs", indicators.assign(source=source.source))
    ctx.add_source(source, row_count=rows, file_name=source.reference,
                   sha256=sha256_of(*(service_paths + indicator_paths)))
    return rows


#: Marks a service whose commune lies in a département left out of a restricted build.
OUTSIDE_BUILD = "hors construction"


def _resolver_in_build(ctx: BuildContext, resolver: CommuneResolver):
    """Codes of départements left out of a restricted build are marked `OUTSIDE_BUILD` (dropped with a
    warning), not rejected; unknown codes of built départements are problems of the file."""
    built = tuple(ctx.departements or ())

    def resolve(code: str):
        current = resolver.resolve(code)
        if current is None and built and not code.startswith(built):
            return OUTSIDE_BUILD
        return current
    resolve.expected = resolver.expected  # why a code did not resolve (split commune), for the report
    return resolve


# -- simulation ----------------------------------------------------------------------------------------------

def _simulate_saad(ctx: BuildContext, cat: pd.DataFrame) -> int:
    """One simulated CCAS SAAD per EPCI, at its most populous commune; values drawn deterministically
    (hash of the EPCI SIREN) inside the ranges of the UNCCAS-MISAP profile (seed 003 l. 172-220)."""
    keys = ["h", "b", "g12", "g34", "gi", "att", "cov", "sat", "rec", "prod", "tit", "np", "p17", "p28",
            "age", "abs", "at", "rot", "for", "fpo", "i30", "lost", "iv", "km", "pr", "gap", "bud", "ms",
            "fr", "bfr", "act", "com", "apa", "pch", "as", "car", "msa", "cai", "usa", "aut"]
    draws = ", ".join(f"(hash(siren || '{k}') % 1000003) / 1000003.0 AS u_{k}" for k in keys)
    base = ctx.con.execute(f"""
        WITH seats AS (
            SELECT siren_epci AS siren, arg_max(code_insee, coalesce(population, 0)) AS code_commune,
                   arg_max(nom, coalesce(population, 0)) AS commune, max(population) AS population
            FROM communes WHERE siren_epci IS NOT NULL GROUP BY 1)
        SELECT siren, code_commune, commune, population, {draws} FROM seats ORDER BY siren""").df()
    u = {k: base[f"u_{k}"].to_numpy() for k in keys}
    hours = np.round(9000 + u["h"] * 14000)                       # 9 000-23 000 h (l. 184)
    benef = np.round(hours / (60 + u["b"] * 110))                 # ~ 50-300 beneficiaries (l. 172)
    g12 = np.round(benef * (0.02 + 0.08 * u["g12"]))              # GIR 1/2 < 10 % (l. 182)
    g34 = np.round(benef * (0.50 + 0.25 * u["g34"]))              # GIR 3/4 more than half (l. 180)
    gin = np.round(benef * 0.03 * u["gi"])
    g56 = benef - g12 - g34 - gin
    etp = hours / (800 + 320 * u["prod"])                          # 840 h/ETP, max 1 120 (l. 206)
    staff = np.ceil(etp / 0.85)                                    # part-time over 28 h (l. 196)
    # ASSUMPTION (simulation): 22-28 €/h, the order of magnitude of a home-help hour in 2024 (above the
    # national floor tariff of APA/PCH home help, 22 €/h since 2022) — not the 2014 UNCCAS band (l. 218).
    cost_price = np.round(22.0 + 6.0 * u["pr"], 2)
    rate = np.round(cost_price - (-1 + 5 * u["gap"]), 2)          # gap up to ~4 €/h (l. 96)
    charges = np.round(cost_price * hours, 0)
    p17 = 5 + 10 * u["p17"]
    p28 = 15 + 20 * u["p28"]
    weights = np.vstack([0.45 + 0.2 * u["apa"], 0.03 + 0.07 * u["pch"], 0.02 + 0.06 * u["as"],
                         0.08 + 0.12 * u["car"], 0.02 + 0.08 * u["msa"], 0.02 + 0.03 * u["cai"],
                         0.10 + 0.10 * u["usa"], 0.05 * u["aut"]])
    revenue = rate * hours
    financers = cat.loc[cat["indicateur"] == 25, "ventilations"].iloc[0].split("|")
    annual = {
        (1, ""): base["population"].fillna(0).to_numpy(), (2, ""): 2 + np.floor(5 * u["act"]),
        (3, ""): 1 + np.floor(6 * u["com"]), (4, ""): hours, (5, ""): benef,
        (6, "GIR 1-2"): g12, (6, "GIR 3-4"): g34, (6, "GIR 5-6"): g56, (6, "GIR inconnu"): gin,
        (7, ""): np.floor(5 * u["att"]), (8, ""): np.round(80 + 20 * u["cov"], 1),
        (9, ""): np.round(85 + 14 * u["sat"], 1), (10, ""): np.floor(12 * u["rec"]),
        (11, ""): staff, (12, ""): np.round(20 + 60 * u["tit"], 1),
        (13, ""): np.round(hours / 40000 * 2.5 * (0.8 + 0.6 * u["np"]), 2),   # 2,5 ETP / 40 000 h (l. 200)
        (14, "moins de 17 h"): np.round(p17, 1), (14, "17 à 28 h"): np.round(p28, 1),
        (14, "plus de 28 h"): np.round(100 - p17 - p28, 1),
        (15, ""): np.round(41 + 8 * u["age"], 1), (16, ""): np.round(3 + 2 * u["abs"], 2),  # (l. 196, 198)
        (17, ""): np.floor(4 * u["at"]), (18, ""): np.round(5 + 15 * u["rot"], 1),
        (19, ""): np.round(hours * (0.004 + 0.005 * u["for"]) / staff, 1),     # < 1 % des heures (l. 672)
        (20, ""): 2 + np.floor(10 * u["fpo"]), (21, ""): np.floor(15 * u["i30"]),
        (22, ""): np.round(hours * (0.2 + 0.6 * u["lost"]), 0), (23, ""): np.round(5 + 7 * u["iv"], 1),
        (24, ""): np.round(hours * (0.5 + u["km"]), 0),
        **{(25, f): np.round(revenue * weights[i] / weights.sum(axis=0), 0) for i, f in enumerate(financers)},
        (26, "charges réalisées"): charges,
        (26, "budget prévisionnel"): np.round(charges * (0.97 + 0.06 * u["bud"]), 0),
        (27, "prix de revient"): cost_price, (27, "taux financé"): rate,
        (28, "masse salariale"): np.round(charges * (0.80 + 0.156 * u["ms"]), 0),   # 70-95,6 % (l. 210)
        (28, "budget total"): charges,
        (29, ""): np.round(charges * (0.05 + 0.2 * u["fr"]), 0),
        (30, ""): np.round(charges * (0.02 + 0.1 * u["bfr"]), 0),
    }
    ids = ("SIM-" + base["siren"]).to_numpy()
    frames = [pd.DataFrame({"service_id": ids, "periode": "2024", "periodicite": "A",
                            "periode_debut": dt.date(2024, 1, 1), "indicateur": k[0], "ventilation": k[1],
                            "valeur": values.astype(float)}) for k, values in annual.items()]
    season = 1 + 0.08 * np.cos(np.arange(12) / 12 * 2 * np.pi)     # fewer hours in summer
    season = season / season.sum()
    for m in range(12):
        start = dt.date(2024, m + 1, 1)
        common = {"service_id": ids, "periode": f"2024-{m + 1:02d}", "periodicite": "M", "periode_debut": start}
        frames.append(pd.DataFrame({**common, "indicateur": 4, "ventilation": "",
                                    "valeur": np.round(hours * season[m])}))
        frames.append(pd.DataFrame({**common, "indicateur": 5, "ventilation": "",
                                    "valeur": np.round(benef * (0.97 + 0.02 * np.cos(m + u["b"] * 6)))}))
        frames.append(pd.DataFrame({**common, "indicateur": 16, "ventilation": "",
                                    "valeur": np.round(3 + 2 * u["abs"] + 0.8 * np.sin(m / 2 + 6 * u["at"]), 2)}))
    indicators = pd.concat(frames, ignore_index=True)
    services = pd.DataFrame({
        "service_id": ids, "nom": "SAAD du CCAS de " + base["commune"] + " (simulé)", "statut": "CCAS/CIAS",
        "adresse": None, "code_commune": base["code_commune"], "latitude": np.nan, "longitude": np.nan})
    placed = _place(ctx, services)
    rows = ctx.write("saad_services", placed.assign(source=SOURCE_SAAD_SIMULE.source))
    rows += ctx.write("saad_indicateurs", indicators.assign(source=SOURCE_SAAD_SIMULE.source))
    ctx.add_source(SOURCE_SAAD_SIMULE, row_count=rows)
    return rows


STEPS = [
    Step("aide à domicile : repères cités (paniers, CPOM, UNCCAS)", step_quoted),
    Step("aide à domicile : paniers de services", step_paniers),
    Step("aide à domicile : SAAD et indicateurs", step_saad),
]


# -- loader contract (etl/contract.py) -----------------------------------------------------------------

FORMATS = tuple(Format(f"aide-domicile-{name}", f"Aide à domicile — {TEMPLATES[name].title}",
                       "caisses de retraite, UNCCAS-MISAP (fichier fourni)", "docs/chargeurs.md#aide-a-domicile",
                       tuple(f"{PATTERNS[name]}{s}" for s in SUFFIXES), licence=None, family="aide_domicile",
                       columns=tuple(TEMPLATES[name].columns)) for name in PATTERNS)


def discover(input_dir: Path | None) -> list[Path]:
    return sorted({p for name in PATTERNS for p in input_files(input_dir, name)})


def read(ctx: BuildContext) -> contract.Parsed:
    """Paniers and SAAD files, every problem of both families before rejecting."""
    problems: list[Problem] = []
    paniers = contract.collect(problems, read_paniers, ctx.input_dir)
    saad = contract.collect(problems, read_saad, ctx, catalogue())
    if problems:
        raise InputRejected(problems)
    return contract.Parsed("aide_domicile", discover(ctx.input_dir), {"paniers": paniers, "saad": saad})


def preview(parsed: contract.Parsed, ctx: BuildContext) -> list[tuple[str, str]]:
    if parsed.data is None:
        return []
    lines = []
    suivi, detail, _, _ = parsed.data["paniers"]
    for table, frame in (("paniers_suivi", suivi), ("paniers_attribues", detail)):
        if len(frame):
            lines += [(f"Table {table}", f"{contract.count(len(frame))} ligne(s)"),
                      ("Caisses", contract.listing(frame["caisse"])), ("Mois", contract.span(frame["mois"]))]
    saad = parsed.data["saad"]
    if saad is not None:
        kept, indicators = saad["services"], saad["indicators"]
        lines += [("Table saad_services", f"{contract.count(len(kept))} service(s)"),
                  ("Départements", contract.listing(contract.departements_of_communes(ctx.con, kept["code_commune"]))),
                  ("Communes", contract.count(kept["code_commune"].nunique()))]
        if len(indicators):
            lines += [("Table saad_indicateurs", f"{contract.count(len(indicators))} valeur(s)"),
                      ("Périodes", contract.listing(indicators["periode"])),
                      ("Indicateurs", contract.listing(indicators["indicateur"].astype(int), limit=30))]
    return lines


def templates() -> list[contract.Template]:
    out = []
    for name, template in TEMPLATES.items():
        out.append(contract.Template("Aide à domicile", f"{template.title} (CSV)", f"{name}.csv", contract.CSV,
                                     (lambda t: lambda: frame_csv(t.frame()))(template)))
        out.append(contract.Template("Aide à domicile", f"{template.title} (XLSX)", f"{name}.xlsx", contract.XLSX,
                                     (lambda t: lambda: frame_xlsx(t.frame(), t.name))(template)))
    return out


LOADER = contract.Loader("aide_domicile", "Aide à domicile", FORMATS, discover, read, preview, templates)
