"""The one loader contract every source implements (the embedded référentiel aside).

A source module declares its `Format`s (file patterns, publisher, documentation link, vintage,
expected header) and exposes one `Loader`:

- `discover(folder) -> list[Path]`  the files of an input folder it reads;
- `read(ctx) -> Parsed`             reads and validates every discovered file, raising
                                    `InputRejected` with every problem (nothing loaded);
- `preview(parsed, ctx)`            what would be loaded, as (rubrique, valeur) lines;
- `templates()`                     the blank/example files a user can download.

The build and the « Vérifier un fichier » check call the same functions (the check against the
served reference, read-only), so a rule is written once. The build's write step per source is
still the module's `STEPS` (they call the same `discover`/`read` functions).

`inventory(folder, …)` then says, for *every* file of the folder, whether it was loaded, rejected
or not read — with the reason and the list of recognised formats, and for a file that looks
official in an unknown layout, the columns found and those expected. Nothing is ignored in silence.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from etl import registry
from etl.common import column_key
from etl.errors import InputRejected, Problem

CSV, ZIP = "text/csv", "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LOADED, REJECTED, NOT_READ = "chargé", "rejeté", "non lu"
STATUSES = (LOADED, REJECTED, NOT_READ)


@dataclass(frozen=True)
class Format:
    """An input file as its publisher (or the observatory's template) ships it. The label is written
    under every figure it feeds; the declaration also feeds the « Fichiers reconnus » table of docs/chargeurs.md."""

    key: str            # short key, prefix of the `sources.source` value
    label: str          # human label (captions, exports)
    publisher: str
    doc_url: str        # publisher's documentation page
    patterns: tuple[str, ...]  # file-name patterns (case-insensitive, fnmatch)
    licence: str = "Licence Ouverte / Etalab 2.0"
    vintage: str | None = None   # millésimes read (text: « 2015, 2019–2022 »)
    columns: tuple[str, ...] = ()  # expected header (key columns), shown when a layout is unknown
    family: str = ""             # the loader (cfppa, ctg, fragilite, aide_domicile, insee)
    definition: str = ""         # generation of the definition (two vintages compare only if equal)

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name.lower(), p.lower()) for p in self.patterns)

    def find(self, folder: Path | None) -> list[Path]:
        if folder is None:
            return []
        return sorted(p for p in Path(folder).iterdir() if p.is_file() and self.matches(p.name))


@dataclass
class Parsed:
    """What a loader read from the files it discovered: validated data, its files, its warnings."""

    family: str
    files: list[Path]
    data: Any = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Template:
    family: str
    title: str
    file_name: str
    mime: str
    content: Callable[[], bytes]


@dataclass(frozen=True)
class Loader:
    family: str
    label: str
    formats: tuple[Format, ...]
    discover: Callable[[Path | None], list[Path]]
    read: Callable[[Any], Parsed]                 # (BuildContext) -> Parsed, raises InputRejected
    preview: Callable[[Parsed, Any], list[tuple[str, str]]]
    templates: Callable[[], list[Template]] = lambda: []
    #: (BuildContext, Parsed) -> rows written; None where the module's STEPS still mix writing with a
    #: simulated default (CFPPA, fragilité, aide à domicile) or with an embedded registry (CTG).
    write: Callable[[Any, Parsed], int] | None = None


def loaders() -> list[Loader]:
    """Every source's loader, in build order (the modules declare `LOADER`)."""
    return [m.LOADER for m in registry.source_modules() if hasattr(m, "LOADER")]


def all_formats(found: list[Loader] | None = None) -> list[Format]:
    return [fmt for loader in (found if found is not None else loaders()) for fmt in loader.formats]


# -- every file of a folder ends loaded, rejected or not read --------------------------------------

@dataclass(frozen=True)
class FileOutcome:
    file: str
    status: str           # LOADED, REJECTED, NOT_READ
    family: str | None    # loader that discovered it
    source: str | None    # `sources.source` it feeds (loaded)
    reason: str           # why (not read / rejected), or what it fed

    def message(self) -> str:
        return f"{self.file} : {self.status} — {self.reason}"


#: Headers that identify a publisher's file whatever its name: (who, columns all present, a column
#: prefix one column must start with). A file carrying one of them but no recognised name or layout is
#: reported with the columns found and those expected.
OFFICIAL_SIGNATURES = (
    ("INSEE (Melodi / SDMX)", ("geo", "geo_object", "time_period", "obs_value"), None),
    ("INSEE (base communale)", ("codgeo",), None),
    ("INSEE (COG)", ("typecom", "com"), None),
    ("INSEE (COG)", ("mod", "date_eff"), None),
    ("Cnaf data.caf.fr", ("annee",), "txcouv"),
    ("Cnaf data.caf.fr", ("annee",), "nbpla"),
    ("Cnaf data.caf.fr", ("annee", "numcom"), None),
    ("Cnaf data.caf.fr", ("annee", "numepci"), None),
    ("Cnaf data.caf.fr", ("dtreffre",), None),
    ("Cnaf data.caf.fr", ("date_reference",), None),
    ("ANCT (programmes)", ("insee_com", "lib_com"), None),
)


def header_of(path: Path) -> list[str]:
    """Header cells of a CSV (first line, separator sniffed), of the first sheet of a workbook, or of
    the largest CSV inside a zip. Empty if unreadable."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))
                           and not Path(m).name.lower().startswith(("meta", "doc"))]
                if not members:
                    return []
                member = max(members, key=lambda m: archive.getinfo(m).file_size)
                with archive.open(member) as handle:
                    return _split_header(handle.read(65536))
        if suffix in (".xlsx", ".xls", ".xlsm"):
            import pandas as pd
            head = pd.read_excel(path, header=None, nrows=1, dtype=str)
            return [str(v).strip() for v in head.iloc[0].tolist() if isinstance(v, str)] if len(head) else []
        with open(path, "rb") as handle:
            return _split_header(handle.read(65536))
    except Exception:  # noqa: BLE001 — only used to explain; the reader reports real problems
        return []


def _split_header(raw: bytes) -> list[str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("latin-1")
    line = next((line for line in io.StringIO(text) if line.strip()), "")
    sep = max(";,\t|", key=line.count)
    return [c.strip().strip('"').strip() for c in line.rstrip("\r\n").split(sep)]


def looks_official(header: list[str]) -> str | None:
    keys = {column_key(c) for c in header}
    for who, signature, prefix in OFFICIAL_SIGNATURES:
        if all(s in keys for s in signature) and (prefix is None or any(k.startswith(prefix) for k in keys)):
            return who
    return None


def recognised_names(formats: list[Format]) -> str:
    """The recognised names, extension variants folded (`ctg*.csv`, `ctg*.xlsx` → `ctg*`)."""
    stems = (re.sub(r"\.(csv|txt|tsv|xlsx?|xls\*|xlsm|zip|parquet)$", "", p.lower()) for f in formats
             for p in f.patterns)
    return ", ".join(dict.fromkeys(stems))


def not_read_reason(path: Path, formats: list[Format]) -> str:
    """Why a file of the input folder is read by no loader, in words the data manager can act on."""
    if path.is_dir():
        return "sous-dossier : aucun chargeur ne lit les sous-dossiers (y déposer les fichiers directement)"
    if path.name == "SHA256SUMS":
        return "sommes de contrôle écrites par `python -m etl download` (vérification : sha256sum -c SHA256SUMS)"
    header = header_of(path)
    who = looks_official(header)
    if who:
        publisher = who.split()[0].lower()  # INSEE, Cnaf, ANCT
        same = [f for f in formats if f.columns and f.label.lower().startswith(publisher)]
        expected = " | ".join(f"{f.label} : {', '.join(f.columns)} (nom {' ou '.join(f.patterns[:3])})"
                              for f in (same or [f for f in formats if f.columns])[:6])
        return (f"ressemble à un fichier {who} mais sa disposition n'est pas reconnue — colonnes trouvées : "
                f"{', '.join(header[:15])}{' …' if len(header) > 15 else ''} ; dispositions attendues : {expected}")
    return f"nom non reconnu par les chargeurs ; noms reconnus : {recognised_names(formats)}"


def inventory(folder: Path | None, claimed: dict[Path, str], loaded: dict[str, str],
              rejected: dict[str, str] | None = None, formats: list[Format] | None = None) -> list[FileOutcome]:
    """One outcome per entry of `folder`.

    `claimed` maps each discovered file to its loader family; `loaded` maps a file name to the
    `sources.source` that recorded it; `rejected` maps a file name to its first problem. A claimed
    file neither loaded nor rejected was recognised but not used (an older vintage, a file superseded
    by another): it is reported as not read, with that reason.
    """
    if folder is None:
        return []
    formats = formats if formats is not None else all_formats()
    rejected = rejected or {}
    out = []
    for path in sorted(Path(folder).iterdir()):
        name = path.name
        family = claimed.get(path)
        if name in rejected:
            out.append(FileOutcome(name, REJECTED, family, None, rejected[name]))
        elif name in loaded:
            out.append(FileOutcome(name, LOADED, family, loaded[name], f"source « {loaded[name]} »"))
        elif family:
            out.append(FileOutcome(name, NOT_READ, family, None,
                                   f"reconnu ({family}) mais non utilisé : un autre fichier du même type est "
                                   "prioritaire ou le fichier ne couvre aucun territoire construit (voir les "
                                   "avertissements)"))
        else:
            out.append(FileOutcome(name, NOT_READ, None, None, not_read_reason(path, formats)))
    return out


def claimed_files(folder: Path | None, found: list[Loader] | None = None) -> dict[Path, str]:
    claimed: dict[Path, str] = {}
    for loader in (found if found is not None else loaders()):
        for path in loader.discover(folder):
            claimed.setdefault(path, loader.family)
    return claimed


def loaded_files(con) -> dict[str, str]:
    """File name → source key, from the `sources` table (a source lists its files joined by `, `)."""
    out = {}
    for source, names in con.execute("SELECT source, file_name FROM sources WHERE file_name IS NOT NULL").fetchall():
        for name in str(names).split(", "):
            out.setdefault(name.strip(), source)
    return out


def rejected_files(exc: InputRejected) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in exc.problems:
        base = problem.file.split(" [")[0].split(" › ")[0]
        for name in base.split(", "):
            out.setdefault(name.strip(), str(problem))
    return out


# -- preview helpers (the check page's wording, used by every loader) -------------------------------

def count(n) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def listing(values, limit: int = 12) -> str:
    values = sorted({str(v) for v in values if v is not None and str(v) != ""})
    if not values:
        return "—"
    return ", ".join(values[:limit]) + (f" … (+{len(values) - limit})" if len(values) > limit else "")


def span(values) -> str:
    import pandas as pd
    values = sorted({v for v in values if v is not None and not pd.isna(v)})
    if not values:
        return "—"
    first, last = values[0], values[-1]
    fmt = (lambda d: d.strftime("%m/%Y")) if isinstance(first, dt.date) else str
    return fmt(first) if first == last else f"{fmt(first)} – {fmt(last)}"


def people(n) -> str:
    """A head count shown in a preview: under the secrecy threshold it is not displayed."""
    from methods.secret import SECRET_THRESHOLD
    n = int(n or 0)
    if 0 < n < SECRET_THRESHOLD:
        return f"moins de {SECRET_THRESHOLD} (secret statistique)"
    return count(n)


def departements_of_communes(con, codes) -> set[str]:
    codes = sorted({c for c in codes if c})
    if not codes:
        return set()
    return {r[0] for r in con.execute(
        "SELECT DISTINCT code_departement FROM communes WHERE list_contains(?, code_insee)", [codes]).fetchall()}


def collect(problems: list[Problem], func, *args):
    """`func(*args)`, its rejection's problems appended to `problems` (None then)."""
    try:
        return func(*args)
    except InputRejected as exc:
        problems.extend(exc.problems)
        return None
