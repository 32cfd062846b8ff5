"""Vérifier un fichier avant de le déposer : the upload is staged and validated like any build input.

A file sent through the « Vérifier un fichier » page goes through, in order:

1. limits — size (`MAX_UPLOAD_BYTES`), a file name that is a plain name (no path, no control
   character), an extension of the allow-list of the kind's loader, and content sniffing (an
   `.xlsx` must be an OOXML workbook, an `.xls` an OLE2 one, a `.zip` a sane archive, a `.csv` /
   `.txt` text without NUL bytes): a binary or a workbook renamed `.csv` is refused before any parser
   sees it;
2. staging — a fresh directory per upload under `staging_root()` (`OBSERVATOIRE_STAGING_DIR`), the
   file written under a sanitised name (never the sender's name as a path), removed afterwards;
3. validation — the staging directory is handed to the *build's own* discovery and reading
   functions (`etl/cfppa.py`, `etl/fragilite.py`, `etl/ctg.py`, `etl/aide_domicile.py`,
   `etl/insee/loader.py`), with the reference of the served database attached READ_ONLY in a fresh
   in-memory DuckDB (commune remapping through `CommuneResolver`): the problems listed are those
   the build would reject the file with, the warnings those it would log.

Nothing here writes the served database: the attachment is read-only, and the `BuildContext`
handed to the loaders has no table to write to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from etl import aide_domicile, cfppa, contract, ctg, fragilite, programmes, readers
from etl.build import BuildContext
from etl.common import column_key, frame_csv, sha256_bytes
from etl.errors import Problem
from etl.insee import loader as insee
from methods.secret import SECRET_THRESHOLD

#: Largest upload accepted (the page's `server.maxUploadSize` is the same 20 Mo).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Largest total a zip may unpack to (declared sizes, which zipfile enforces while reading).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Most members a zip may hold.
MAX_ZIP_MEMBERS = 50
#: Longest file name kept (the extension is preserved).
MAX_NAME_CHARS = 120
#: Staging directories older than this are removed (left behind by a killed process).
STALE_SECONDS = 3600
STAGING_ENV = "OBSERVATOIRE_STAGING_DIR"

ERREUR, AVERTISSEMENT = "erreur", "avertissement"

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
#: Magic numbers of files that are never text (PDF, PNG, JPEG, GIF, gzip, 7z, rar, ELF, Parquet).
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF",
                 b"PAR1")


def staging_root() -> Path:
    """Where uploads are staged: `OBSERVATOIRE_STAGING_DIR`, else `<tmp>/observatoire-staging`."""
    root = Path(os.environ.get(STAGING_ENV) or Path(tempfile.gettempdir()) / "observatoire-staging")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


# -- kinds of input --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """One input file the build accepts, as the page offers it."""

    key: str
    label: str
    family: str                       # cfppa, fragilite, ctg, aide_domicile, insee, lot
    suffixes: tuple[str, ...]         # the loader's allow-list
    discover: Callable[[Path], list[Path]]  # the build's own discovery, on a folder
    canonical: str                    # staged name when the sender's is not one the build picks
    expected_names: str               # what the build looks for, in words
    signature: tuple[tuple[str, ...], ...] = ()  # header: each group = accepted names of a column
    official_name_required: bool = False  # INSEE: year and level are read from the name

    def staged_name(self, suffix: str, millesime: int | None) -> str:
        return self.canonical.format(suffix=suffix, millesime=millesime or dt.date.today().year - 1)


def _columns_signature(required: list[str], aliases: dict[str, str] | None = None) -> tuple[tuple[str, ...], ...]:
    """Header signature from a loader's own required columns and aliases."""
    aliases = aliases or {}
    return tuple(tuple({_norm(c), *(_norm(a) for a, t in aliases.items() if t == c)}) for c in required)


_norm = column_key  # etl/common.py


def _cfppa_table(table: str | None) -> Callable[[Path], list[Path]]:
    return lambda folder: [p for p, t in cfppa.find_input_files(folder).cfppa if t == table]


def _insee_format(kind: str):
    return next(fmt for fmt, k in insee.FORMATS if k == kind)


def _insee_kind(kind: str, label: str) -> Kind:
    fmt = _insee_format(kind)
    suffixes = tuple(sorted({s for p in fmt.patterns for s in (".csv", ".xls", ".xlsx", ".zip")
                             if p.lower().endswith(s) or (p.lower().endswith(".xls*") and s.startswith(".xls"))}))
    return Kind(f"insee_{kind}", label, "insee", suffixes, fmt.find, "", " ; ".join(fmt.patterns),
                official_name_required=True)


_AD = aide_domicile.TEMPLATES
KINDS: dict[str, Kind] = {k.key: k for k in [
    Kind("cfppa_classeur", "CFPPA — classeur (feuilles financements, actions, actions_communes, actions_financeurs)",
         "cfppa", (".xlsx", ".xls"), _cfppa_table(None), "cfppa{suffix}", "cfppa*.xlsx ou cfppa*.xls"),
    Kind("cfppa_financements", "CFPPA — lignes de financement (CSV)", "cfppa", (".csv", ".txt"),
         _cfppa_table("financements"), "cfppa_financements{suffix}", "cfppa_financements*.csv",
         _columns_signature(cfppa.TABLES["financements"][0], cfppa.ALIASES)),
    Kind("cfppa_actions", "CFPPA — actions de prévention (CSV)", "cfppa", (".csv", ".txt"),
         _cfppa_table("actions"), "cfppa_actions{suffix}", "cfppa_actions*.csv",
         _columns_signature(cfppa.TABLES["actions"][0], cfppa.ALIASES)),
    Kind("cfppa_actions_communes", "CFPPA — communes des actions (CSV)", "cfppa", (".csv", ".txt"),
         _cfppa_table("actions_communes"), "cfppa_actions_communes{suffix}", "cfppa_actions_communes*.csv",
         _columns_signature(cfppa.TABLES["actions_communes"][0], cfppa.ALIASES)),
    Kind("cfppa_actions_financeurs", "CFPPA — financeurs des actions (CSV)", "cfppa", (".csv", ".txt"),
         _cfppa_table("actions_financeurs"), "cfppa_actions_financeurs{suffix}", "cfppa_actions_financeurs*.csv",
         _columns_signature(cfppa.TABLES["actions_financeurs"][0], cfppa.ALIASES)),
    Kind("cnsa_synthese", "CNSA — synthèse nationale des CFPPA", "cfppa", (".csv", ".txt", ".xlsx", ".xls"),
         lambda folder: cfppa.find_input_files(folder).cnsa, "cnsa_synthese{suffix}", "cnsa_synthese*.csv ou .xlsx",
         _columns_signature(["annee", "financeur", "montant_engage"], cfppa.ALIASES)),
    Kind("fragilite_communes", "Fragilité — agrégats communaux de l'Observatoire des fragilités", "fragilite",
         (".csv", ".xlsx", ".xls"), lambda folder: fragilite.find_inputs(folder, "communes"),
         "fragilite_communes_{millesime}{suffix}", "fragilite_communes_AAAA.csv|xlsx|xls",
         _columns_signature(["code_insee", "n_retraites", "n_reversion", "n_exo_csg", "score_moyen"],
                            fragilite.AGGREGATE_ALIASES)),
    Kind("fragilite_individus", "Fragilité — extrait individuel pseudonymisé (CSV)", "fragilite", (".csv",),
         lambda folder: fragilite.find_inputs(folder, "individus"),
         "fragilite_individus_{millesime}{suffix}", "fragilite_individus_AAAA.csv",
         (("code_insee", "codgeo", "code_commune", "com", "depcom"), ("age", "age_annees", "annee_naissance",
                                                                     "an_naissance"),
          ("reversion", "pension_reversion", "flag_reversion"), ("exo_csg", "exoneration_csg", "flag_exo_csg"))),
    Kind("fragilite_pop60", "Fragilité — population de 60 ans et plus par commune", "fragilite",
         (".csv", ".xlsx", ".xls"), lambda folder: fragilite.find_inputs(folder, "pop60"),
         "fragilite_pop60{suffix}", "fragilite_pop60*.csv|xlsx|xls ou base-cc-evol-struct-pop-20AA.csv",
         _columns_signature(["code_insee", "n_60_plus"], {"codgeo": "code_insee", "pop_60_plus": "n_60_plus",
                                                         "nb_60_plus": "n_60_plus"})),
    Kind("ctg_registre", "CTG — registre des conventions territoriales (CTG, CEJ, chartes MSA)", "ctg",
         tuple(ctg.INPUT_SUFFIXES), ctg.input_files, "ctg_registre{suffix}",
         "conventions_territoriales*.csv|xlsx|xls ou ctg*.csv|xlsx|xls",
         _columns_signature([c for c, (req, _) in ctg.TEMPLATE_COLUMNS.items() if req], ctg.ALIASES)),
    *[Kind(name, f"Aide à domicile — {_AD[name].title}", "aide_domicile", tuple(aide_domicile.SUFFIXES),
           (lambda n: lambda folder: aide_domicile.input_files(folder, n))(name), f"{name}{{suffix}}",
           f"{aide_domicile.PATTERNS[name]}.csv|txt|xlsx|xls", _columns_signature(list(_AD[name].columns)))
      for name in ("paniers_suivi", "paniers_detail", "saad_services", "saad_indicateurs")],
    _insee_kind("rp_struct", "INSEE — recensement, évolution et structure de la population (base-cc)"),
    _insee_kind("rp_emploi", "INSEE — recensement, emploi et population active (base-cc)"),
    _insee_kind("filosofi_base_cc", "INSEE — Filosofi, base communale"),
    _insee_kind("filosofi_disp", "INSEE — Filosofi, revenus disponibles (DISP)"),
    _insee_kind("filosofi_melodi", "INSEE — Filosofi 2, base communale format long (Melodi, 2021 géo. 2025 et 2023)"),
    _insee_kind("epci", "INSEE — composition communale des EPCI"),
    _insee_kind("cog_communes", "INSEE — COG, communes"),
    _insee_kind("cog_departements", "INSEE — COG, départements"),
    _insee_kind("cog_mvt", "INSEE — COG, événements sur les communes (mvtcommune)"),
    _insee_kind("couverture", "Cafdata / ONAPE — taux de couverture petite enfance"),
    _insee_kind("potentiel", "DGCL — potentiel financier"),
    _insee_kind("revenu", "DGFiP — revenu fiscal de référence (IRCOM)"),
    _insee_kind("caf_allocataires", "Cnaf data.caf.fr — foyers allocataires et personnes couvertes (s_ben_com_f)"),
    Kind("programmes", "ANCT — Petites villes de demain ou Action cœur de ville (liste des communes)", "programmes",
         (".csv",), programmes.discover, "petites_villes_de_demain{suffix}",
         "petites_villes_de_demain*.csv, pvd*.csv, action_coeur_de_ville*.csv ou acv*.csv",
         _columns_signature(["insee_com", "lib_com", "date_signature"])),
    Kind("lot", "Lot de fichiers (zip) — vérifié comme un dossier --input complet", "lot", (".zip",),
         lambda folder: [], "lot.zip", "une archive .zip de fichiers nommés comme dans le dossier --input"),
]}

#: Suffixes accepted by at least one kind (the page's uploader `type`).
ALLOWED_SUFFIXES = tuple(sorted({s for k in KINDS.values() for s in k.suffixes}))


# -- report ---------------------------------------------------------------------------------------

@dataclass
class Report:
    """What the page shows and the CSV export holds."""

    file_name: str                     # sanitised display name
    size: int
    sha256: str | None = None
    kind: Kind | None = None
    detected_by: str | None = None     # "choix", "nom du fichier", "en-tête", None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    preview: list[tuple[str, str]] = field(default_factory=list)  # (rubrique, valeur)
    refused_before_reading: bool = False  # limits, not content

    @property
    def accepted(self) -> bool:
        return self.kind is not None and not self.problems

    def frame(self) -> pd.DataFrame:
        """One row per problem then per warning: gravité, fichier, ligne, colonne, valeur, attendu."""
        rows = [{"gravite": ERREUR, "fichier": p.file, "ligne": p.row, "colonne": p.column,
                 "valeur": _text(p.value), "attendu": p.expected} for p in self.problems]
        rows += [{"gravite": AVERTISSEMENT, "fichier": self.file_name, "ligne": None, "colonne": None,
                  "valeur": None, "attendu": w} for w in self.warnings]
        frame = pd.DataFrame(rows, columns=["gravite", "fichier", "ligne", "colonne", "valeur", "attendu"])
        frame["ligne"] = pd.array(frame["ligne"].tolist(), dtype="Int64")
        return frame

    def csv_bytes(self) -> bytes:
        """The report as a French CSV: `;`, UTF-8 with BOM, cells neutralised against formulas."""
        frame = self.frame().rename(columns={"gravite": "gravité", "attendu": "attendu ou message"})
        frame = frame.astype("object").where(frame.notna(), "")
        return frame_csv(frame.map(_neutralise))


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):  # a value the loader already parsed: French decimal comma
        return f"{value:.15g}".replace(".", ",")
    return str(value)


def _neutralise(cell):
    """A cell a spreadsheet would run as a formula (=, +, @, or - not followed by a number) gets a `'`."""
    text = str(cell)
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not re.fullmatch(r"-[\d\s.,]+", text)):
        return "'" + text
    return cell


# -- limits: name, size, type --------------------------------------------------------------------

_PATH_LIKE = re.compile(r"[/\\\x00-\x1f\x7f]")


def safe_name(name: str) -> str:
    """A plain file name to stage under: ASCII letters, digits, `._-()` and spaces; the extension kept.
    Raises ValueError for anything path-like (separators, `..`, control characters, drive letters)."""
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    if not name or _PATH_LIKE.search(name) or name in (".", "..") or name.startswith("..") \
            or re.match(r"^[A-Za-z]:", name):
        raise ValueError(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._\-() ]+", "_", ascii_name).strip(" .")
    stem, dot, suffix = ascii_name.rpartition(".")
    if not dot:
        stem, suffix = ascii_name, ""
    suffix = suffix[:10]
    stem = stem[:MAX_NAME_CHARS - len(suffix) - 1].lstrip(".") or "fichier"
    return f"{stem}.{suffix}" if suffix else stem


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def _size_label(size: int) -> str:
    return f"{size / 2**20:.1f} Mo".replace(".", ",")


def sniff_content(data: bytes, suffix: str, label: str) -> list[Problem]:
    """Problems if the bytes are not what the extension says (checked before any parser runs)."""
    head = data[:8]
    if suffix == ".xlsx":
        if not head.startswith(_ZIP[0]):
            return [Problem(label, None, None, _describe(data), "un classeur Excel .xlsx (contenu OOXML)")]
        return _zip_problems(data, label, workbook=True)
    if suffix == ".xls":
        if not head.startswith(_OLE2):
            return [Problem(label, None, None, _describe(data), "un classeur Excel 97-2003 .xls (contenu OLE2)")]
        return []
    if suffix == ".zip":
        if not head.startswith(_ZIP):
            return [Problem(label, None, None, _describe(data), "une archive .zip")]
        return _zip_problems(data, label, workbook=False)
    # text: .csv, .txt
    if not data.strip():
        return [Problem(label, None, None, "fichier vide", "un fichier non vide")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return [Problem(label, None, None, "texte UTF-16",
                        "un CSV en UTF-8 ou Windows-1252 (dans Excel : « CSV UTF-8 (délimité par des "
                        "points-virgules) »)")]
    if head.startswith((*_ZIP, _OLE2, *_BINARY_MAGIC)) or b"\x00" in data:
        return [Problem(label, None, None, _describe(data),
                        f"un fichier texte {suffix} (ce fichier est binaire : un classeur ou une archive renommé ? "
                        "l'enregistrer au format CSV, ou le déposer avec sa vraie extension)")]
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(sample) / 100:
        return [Problem(label, None, None, f"{controls} caractères de contrôle", "un fichier texte (CSV)")]
    return []


def _describe(data: bytes) -> str:
    if data.startswith(_ZIP):
        return "contenu zip/xlsx"
    if data.startswith(_OLE2):
        return "contenu Excel 97-2003 (OLE2)"
    for magic, what in ((b"%PDF", "contenu PDF"), (b"\x89PNG", "image PNG"), (b"\xff\xd8\xff", "image JPEG"),
                        (b"\x1f\x8b", "contenu gzip"), (b"PAR1", "contenu Parquet")):
        if data.startswith(magic):
            return what
    return "contenu binaire" if b"\x00" in data[:65536] else "contenu texte"


def _zip_problems(data: bytes, label: str, workbook: bool) -> list[Problem]:
    """An archive must open, stay small once unpacked, hold no absolute or `..` path, no encrypted
    member; a workbook must also be an OOXML spreadsheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            total = sum(i.file_size for i in infos)
            bad = [n for n in names if n.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", n)
                   or re.match(r"^[A-Za-z]:", n)]
            encrypted = [i.filename for i in infos if i.flag_bits & 0x1]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return [Problem(label, None, None, "archive illisible ou tronquée",
                        "un classeur .xlsx valide" if workbook else "une archive .zip valide")]
    problems = []
    if bad:
        problems.append(Problem(label, None, None, bad[:5], "des noms de fichiers sans chemin absolu ni « .. »"))
    if encrypted:
        problems.append(Problem(label, None, None, encrypted[:5], "une archive sans mot de passe"))
    if total > MAX_UNPACKED_BYTES:
        problems.append(Problem(label, None, None, f"{_size_label(total)} une fois décompressé",
                                f"au plus {_size_label(MAX_UNPACKED_BYTES)} une fois décompressé"))
    if not workbook and len(infos) > MAX_ZIP_MEMBERS:
        problems.append(Problem(label, None, None, f"{len(infos)} fichiers", f"au plus {MAX_ZIP_MEMBERS} fichiers"))
    if workbook and not ("[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)):
        problems.append(Problem(label, None, None, "archive zip sans classeur",
                                "un classeur Excel .xlsx (une archive .zip renommée ?)"))
    return problems


# -- kind detection -------------------------------------------------------------------------------

def header_names(path: Path) -> list[str]:
    """Normalised names of the first row (CSV/TXT: first line; workbook: first sheet, or its sheet names
    for a multi-table CFPPA workbook). Empty if unreadable: detection then just fails."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            book = pd.ExcelFile(path)
            names = [_norm(s) for s in book.sheet_names]
            head = pd.read_excel(book, sheet_name=0, header=None, nrows=1, dtype=str)
            return names + [_norm(v) for v in head.iloc[0].tolist() if isinstance(v, str)] if len(head) else names
        text, _ = readers.read_text(path)
        lines = [line for line in text.splitlines()[:5] if line.strip()]
        if not lines:
            return []
        sep = readers.sniff_separator(text[:20000])
        return [_norm(c.strip().strip('"')) for c in lines[0].split(sep)]
    except Exception:  # noqa: BLE001 — detection is a convenience; validation reports the real problem
        return []


def _header_score(kind: Kind, names: set[str]) -> int:
    if not kind.signature or not all(any(a in names for a in group) for group in kind.signature):
        return 0
    return len(kind.signature)


def detect_kinds(folder: Path, staged: Path) -> tuple[list[Kind], str | None]:
    """The kinds the build would load `staged` as (its own discovery, on its own file-name rules: a
    census file feeds both the indicators and the fragility page), else the kind whose header the file
    carries (most specific signature first). Best first."""
    by_name = [k for k in KINDS.values() if k.family != "lot" and staged in k.discover(folder)]
    names = set(header_names(staged)) if staged.suffix.lower() != ".zip" else set()
    if by_name:
        # best header first; on a tie the official INSEE format (whose name the build reads) first
        return sorted(by_name, key=lambda k: (-_header_score(k, names), not k.official_name_required)), \
            "nom du fichier"
    if staged.suffix.lower() == ".zip":
        return [KINDS["lot"]], "archive zip"
    if {"financements", "actions", "actions_communes", "actions_financeurs"} & names \
            and staged.suffix.lower() in (".xlsx", ".xls"):
        return [KINDS["cfppa_classeur"]], "en-tête"
    scored = [(s, k) for k in KINDS.values() if (s := _header_score(k, names)) and staged.suffix.lower() in k.suffixes]
    if scored:
        return [max(scored, key=lambda sk: sk[0])[1]], "en-tête"
    return [], None


# -- the served reference, read-only --------------------------------------------------------------

@contextlib.contextmanager
def reference_context(db_path: Path, input_dir: Path):
    """A `BuildContext` whose connection is a fresh in-memory DuckDB with the served database attached
    READ_ONLY (as `query/db.py` does): loaders read the reference through it and cannot write."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS obs (READ_ONLY)", [str(db_path)])
        con.execute("USE obs")
        row = con.execute("SELECT value FROM build_info WHERE key = 'departements'").fetchone()
        departements = [d for d in (row[0] if row else "").split(",") if d] or None
        yield BuildContext(con, departements, input_dir, dt.datetime.now().replace(microsecond=0))
    finally:
        con.close()


# -- validation: the loaders' own read and preview (etl/contract.py) ------------------------------

#: family → the source's loader; the check runs `read` then `preview`, as the build runs `read`.
LOADERS: dict[str, contract.Loader] = {loader.family: loader for loader in
                                       (cfppa.LOADER, fragilite.LOADER, ctg.LOADER, aide_domicile.LOADER,
                                        insee.LOADER, programmes.LOADER)}


def _validator(loader: contract.Loader) -> Callable[[BuildContext, list[Problem]], list[tuple[str, str]]]:
    def validate(ctx: BuildContext, problems: list[Problem]) -> list[tuple[str, str]]:
        parsed = contract.collect(problems, loader.read, ctx)
        return loader.preview(parsed, ctx) if parsed is not None else []
    return validate


FAMILIES: dict[str, Callable[[BuildContext, list[Problem]], list[tuple[str, str]]]] = {
    family: _validator(loader) for family, loader in LOADERS.items()}


_PEOPLE_IN_TEXT = re.compile(r"\b(\d+)(\s+)(retraités|personnes|bénéficiaires|participants|individus)\b")


def secret_counts(message: str) -> str:
    """A loader's warning may count people (« 3 retraités … ignorés »): under the secrecy threshold the
    number is not displayed."""
    return _PEOPLE_IN_TEXT.sub(lambda m: m.group(0) if not 0 < int(m.group(1)) < SECRET_THRESHOLD
                               else f"moins de {SECRET_THRESHOLD}{m.group(2)}{m.group(3)}", message)


# -- staging and the whole check ------------------------------------------------------------------

def _remove_stale(root: Path) -> None:
    now = time.time()
    for old in root.glob("verif-*"):
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)


def _unpack_lot(data: bytes, folder: Path, label: str, report: Report) -> None:
    """Members of a lot, flattened under sanitised names; unknown types skipped with a warning."""
    allowed = set(ALLOWED_SUFFIXES)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            base = re.split(r"[/\\]", info.filename)[-1]
            if base.startswith(("__MACOSX", "._")) or "__MACOSX" in info.filename:
                continue
            try:
                name = safe_name(base)
            except ValueError:
                report.problems.append(Problem(label, None, None, info.filename, "un nom de fichier simple"))
                continue
            if _suffix(name) not in allowed:
                report.warnings.append(f"{info.filename} : extension non acceptée, fichier ignoré")
                continue
            target = folder / name
            if target.exists():
                report.problems.append(Problem(label, None, None, info.filename,
                                               "des noms de fichiers distincts dans l'archive"))
                continue
            content = archive.read(info)
            member_problems = sniff_content(content, _suffix(name), f"{label} › {base}")
            if member_problems:
                report.problems.extend(member_problems)
                continue
            target.write_bytes(content)


def check_upload(data: bytes, file_name: str, db_path: Path, kind: str | None = None,
                 millesime: int | None = None, root: Path | None = None) -> Report:
    """Check an uploaded file like the build would read it, without touching the served database.

    `kind` is a key of `KINDS` (None: detected from the file name, then from the header);
    `millesime` names the vintage of a fragility file whose name does not carry it.
    """
    try:
        display = safe_name(file_name)
    except ValueError:
        report = Report(_text(file_name)[:80] if file_name else "", len(data), refused_before_reading=True)
        report.problems.append(Problem("(nom du fichier)", None, None, _text(file_name)[:200],
                                       "un nom de fichier simple, sans chemin (ni « / », ni « \\ », ni « .. »)"))
        return report
    report = Report(display, len(data))
    if len(data) > MAX_UPLOAD_BYTES:
        report.refused_before_reading = True
        report.problems.append(Problem(display, None, None, _size_label(len(data)),
                                       f"un fichier de {_size_label(MAX_UPLOAD_BYTES)} au plus"))
        return report
    suffix = _suffix(display)
    chosen = KINDS.get(kind) if kind else None
    if kind and chosen is None:
        raise KeyError(kind)
    accepted = chosen.suffixes if chosen else ALLOWED_SUFFIXES
    if suffix not in accepted:
        report.refused_before_reading = True
        report.problems.append(Problem(display, None, None, suffix or "(aucune extension)",
                                       "un fichier " + ", ".join(accepted)
                                       + (f" (formats lus pour « {chosen.label} »)" if chosen else "")))
        return report
    sniffed = sniff_content(data, suffix, display)
    if sniffed:
        report.refused_before_reading = True
        report.problems.extend(sniffed)
        return report
    report.sha256 = sha256_bytes(data)

    root = Path(root) if root is not None else staging_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="verif-", dir=root))
    try:
        _stage_and_validate(report, data, display, folder, Path(db_path), chosen, millesime)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _stage_and_validate(report: Report, data: bytes, display: str, folder: Path, db_path: Path,
                        chosen: Kind | None, millesime: int | None) -> None:
    staged = folder / display
    if staged.resolve().parent != folder.resolve():  # belt and braces: safe_name already forbids it
        raise ValueError(display)
    staged.write_bytes(data)
    os.chmod(staged, 0o600)
    detected, how = detect_kinds(folder, staged)
    kind = chosen or (detected[0] if detected else None)
    report.kind, report.detected_by = kind, ("choix" if chosen else how)
    if kind is None:
        report.problems.append(Problem(display, None, None, "type de fichier non reconnu",
                                       "un nom de fichier ou un en-tête de l'un des modèles (choisir le type "
                                       "de fichier dans la liste) — la construction ne lirait pas ce fichier : "
                                       + contract.not_read_reason(staged, contract.all_formats(
                                           list(LOADERS.values())))))
        return
    label = display
    if kind.family == "lot":
        staged.unlink()
        _unpack_lot(data, folder, display, report)
        if report.problems:
            return
        picked = {p for k in KINDS.values() if k.family != "lot" for p in k.discover(folder)}
        formats = contract.all_formats(list(LOADERS.values()))
        for path in sorted(folder.iterdir()):
            if path not in picked:  # what the build would report for it: not read, and why
                report.warnings.append(f"{path.name} : {contract.NOT_READ} — {contract.not_read_reason(path, formats)}")
        if not picked:
            report.problems.append(Problem(display, None, None, sorted(p.name for p in folder.iterdir())[:10],
                                           "au moins un fichier nommé comme dans le dossier --input (cfppa_*.csv, "
                                           "ctg*.csv, saad_services*.csv, base-cc-*.zip…)"))
            return
        families = list(FAMILIES)
    else:
        if staged not in kind.discover(folder):
            if kind.official_name_required:
                report.problems.append(Problem(display, None, None, display,
                                               f"un nom officiel ({kind.expected_names}) : la construction lit "
                                               "l'année et le niveau dans le nom et ignorerait ce fichier"))
                return
            canonical = folder / kind.staged_name(_suffix(display), millesime)
            staged.rename(canonical)
            report.warnings.append(f"nom non reconnu : la construction ne chargerait pas ce fichier sous ce nom ; "
                                   f"le nommer selon « {kind.expected_names} » "
                                   f"(vérifié ici comme « {canonical.name} »)")
            label = canonical.name
            if kind.discover(folder) != [canonical]:  # the canonical name must be picked, alone
                raise RuntimeError(f"nom canonique non reconnu : {canonical.name}")
        families = [kind.family]
        if not chosen and len(detected) > 1:  # the build reads it for each of them
            families = list(dict.fromkeys(k.family for k in detected))
            report.warnings.append("ce fichier alimente aussi : " + " ; ".join(k.label for k in detected[1:]))
    with reference_context(db_path, folder) as ctx:
        for family in families:
            report.preview += FAMILIES[family](ctx, report.problems)
        report.warnings += [secret_counts(m) for _, m in ctx.warnings]
    if label != display:  # messages name the file as the sender knows it
        report.problems = [replace(p, file=p.file.replace(label, display)) for p in report.problems]
        report.warnings = [w.replace(label, display) if not w.startswith("nom non reconnu") else w
                           for w in report.warnings]
        report.preview = [(item.replace(label, display), value) for item, value in report.preview]


# -- templates: each loader's own ------------------------------------------------------------------

Template = contract.Template


def templates() -> list[Template]:
    """Every template the loaders define, downloadable from the page."""
    return [template for loader in LOADERS.values() for template in loader.templates()]


def official_formats() -> pd.DataFrame:
    """INSEE and partner files are read in their official format: name patterns and documentation."""
    return pd.DataFrame([{"fichier": fmt.label, "noms reconnus": " ; ".join(fmt.patterns),
                          "documentation": fmt.doc_url} for fmt in insee.LOADER.formats])
