"""Publish, withdraw, roll back: the data manager's operations, journalled, one at a time.

A publication:

1. checks every file with the upload check of « Vérifier un fichier » (`staging.check_upload`:
   limits, sniffing, the build's own readers) — a rejected file is journalled with its report and
   changes nothing;
2. stores it by SHA-256 in the input store (`etl/store.py`) and computes the new set of published
   inputs (the *manifest*: the previous one, plus added or replaced files, minus withdrawn ones);
3. builds a new kept database `versions/<id>.duckdb` from the manifest. *Incremental* when the
   changed files feed only source modules (CTG, CFPPA, fragility, home help): the served database
   is copied, the tables of the affected modules (and of modules reading them) are dropped and only
   their steps re-run on the copy, then the checks; otherwise (INSEE/COG files, no served
   database) a complete build;
4. journals row counts per table before → after, the key figures that moved (computed by the
   declared reads of `query/journal.py`) and the content checksums, then swaps the served path (a
   symbolic link) to the new version in one `rename`, then marks the row « réussie ».

Whatever point a `kill -9` hits, the served link still points at a complete database and the
journal row is « en cours » or « bascule »; the next operation (holding the lock) finishes it:
« bascule » with the link already on the new version is « réussie », anything else « échouée »
with the reason, and its half-built files are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from common.store import BASCULE, ECHOUEE, EN_COURS, REUSSIE, Store, keep_versions, now, point_served_at, served_version
from etl import build as building
from etl import checks, dictionary, readers, registry, staging
from etl.errors import CheckFailed, InputRejected, Problem

# The one etl module that reads through the query layer: key figures of the journal are the pages' own
# declared reads (statistical secrecy included), never a second copy of them.
from query import journal
from query.db import Database

#: Families of `staging.KINDS` whose files feed one source module only: published incrementally.
INCREMENTAL_FAMILIES = {"ctg": "etl.ctg", "cfppa": "etl.cfppa", "fragilite": "etl.fragilite",
                        "aide_domicile": "etl.aide_domicile"}


class PublicationRefused(ValueError):
    """The files were checked and rejected, or the request makes no sense (nothing changes)."""


@dataclass(frozen=True)
class Entry:
    """One published input: the name the build reads it under, its checksum, who sent it."""

    name: str
    sha256: str
    original: str
    kind: str

    def as_manifest(self, who: str) -> dict:
        return {"sha256": self.sha256, "original": self.original, "kind": self.kind, "who": who, "at": now()}


# -- checks and the store ----------------------------------------------------------------------------

def build_name(kind: staging.Kind, display: str, data: bytes) -> str:
    """The name the build picks the file under: the sender's if the build's discovery takes it,
    else the kind's canonical name (as « Vérifier un fichier » stages it)."""
    with tempfile.TemporaryDirectory(dir=staging.staging_root()) as tmp:
        path = Path(tmp) / display
        path.write_bytes(data)
        if path in kind.discover(Path(tmp)):
            return display
    return kind.staged_name(Path(display).suffix.lower(), None)


def check_and_store(store: Store, db_path: Path, files: list[tuple[str, bytes]],
                    kinds: list[str | None] | None = None, manifest: dict | None = None
                    ) -> tuple[list[Entry], list[staging.Report]]:
    """Check each file as the build would read it; accepted ones go into the input store.

    Files that only make sense together (SAAD services and their indicators, CFPPA actions and
    their communes) fail alone: those are checked again together, with the published files they
    would sit next to, as one lot — exactly as « Vérifier un fichier » checks a zip."""
    kinds = kinds or [None] * len(files)
    reports = [staging.check_upload(data, name, db_path, kind) for (name, data), kind in zip(files, kinds)]
    names = [build_name(r.kind, r.file_name, data) if r.kind is not None and r.kind.family != "lot" else r.file_name
             for r, (_, data) in zip(reports, files)]
    lot = None
    if any(not r.accepted and r.kind is not None and not r.refused_before_reading for r in reports):
        lot = check_together(store, db_path, list(zip(names, (d for _, d in files))), manifest or {})
    entries = []
    for report, name, (_, data) in zip(reports, names, files):
        if report.kind is not None and report.kind.family == "lot":
            report.problems.append(Problem(report.file_name, None, None, "archive de lot",
                                           "publier les fichiers du lot un par un (ils sont vérifiés ensemble)"))
            continue
        if not report.accepted and not (lot is not None and lot.accepted and report.kind is not None
                                        and not report.refused_before_reading):
            continue
        entries.append(Entry(name, store.put(data), report.file_name, report.kind.key))
    if lot is not None and lot.accepted:
        reports = [r if r.accepted else _accepted_with(r, lot) for r in reports]
    return entries, reports


def _accepted_with(report: staging.Report, lot: staging.Report) -> staging.Report:
    return replace(report, problems=[], warnings=[*lot.warnings, "vérifié avec les fichiers qui l'accompagnent"],
                   preview=lot.preview)


def check_together(store: Store, db_path: Path, files: list[tuple[str, bytes]], manifest: dict) -> staging.Report:
    """`files` (build names) checked as one lot with the published files they do not replace."""
    buffer = io.BytesIO()
    new = {name for name, _ in files}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
        for name, item in manifest.items():
            if name not in new:
                archive.writestr(name, store.read(item["sha256"]))
    return staging.check_upload(buffer.getvalue(), "publication.zip", db_path, "lot")


def describe_reports(reports: list[staging.Report]) -> str:
    lines = []
    for report in reports:
        if report.accepted and not report.problems:
            continue
        lines.append(f"{report.file_name} : refusé")
        lines += [f"  - {p}" for p in report.problems]
    return "\n".join(lines)


# -- incremental plan --------------------------------------------------------------------------------

_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\{[A-Z_]+\}|[a-z_][a-z0-9_]*)")
_WARN = re.compile(r"ctx\.warn\(\s*\"([^\"]+)\"")


def module_tables(module) -> set[str]:
    """Tables a source module creates, read from its DDL (`CREATE TABLE name` / `{CONSTANT}`)."""
    names = set()
    for name in _CREATE.findall(inspect.getsource(module)):
        names.add(str(getattr(module, name.strip("{}"))) if name.startswith("{") else name)
    return names


def _warn_labels(module) -> set[str]:
    return set(_WARN.findall(inspect.getsource(module))) | {s.name for s in module.STEPS}


def plan(families: set[str]) -> list | None:
    """Source modules to re-run for files of these families (None: a complete build is needed):
    the modules fed by the files, then every later module whose code names one of their tables."""
    if not families or not families <= set(INCREMENTAL_FAMILIES):
        return None
    modules = registry.source_modules()
    chosen = [m for m in modules if m.__name__ in {INCREMENTAL_FAMILIES[f] for f in families}]
    owned = set().union(*(module_tables(m) for m in chosen))
    for module in modules:
        if module in chosen or modules.index(module) < min(modules.index(m) for m in chosen):
            continue
        text = inspect.getsource(module)
        if any(re.search(rf"\b{t}\b", text) for t in owned):
            chosen.append(module)
            owned |= module_tables(module)
    return [m for m in modules if m in chosen]


class _UpsertContext(building.BuildContext):
    """On the copy of the served database a re-run module registers its sources again."""

    def add_source(self, source, **kwargs) -> None:
        self.con.execute("DELETE FROM sources WHERE source = ?", [source.source])
        super().add_source(source, **kwargs)


def build_incremental(base: Path, target: Path, modules: list, input_dir: Path,
                      departements: list[str] | None, reporter=None, extra_info: dict | None = None) -> list[str]:
    """Copy `base` and re-run only `modules`' steps (then the checks) on the copy; `target` appears
    only complete (`os.replace`). Returns the names of the steps run."""
    reporter = reporter or building.NullReporter()
    work = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.copyfile(base, work)
    con = duckdb.connect(str(work))
    try:
        owned = set().union(*(module_tables(m) for m in modules))
        existing = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        own_sources, other_sources = set(), set()
        for table in existing:
            columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_schema = 'main' AND table_name = ?", [table]).fetchall()}
            if "source" in columns and table not in ("sources", "fichiers_entree"):  # the latter: rewritten below
                keys = {r[0] for r in con.execute(f'SELECT DISTINCT source FROM "{table}"').fetchall()}
                (own_sources if table in owned else other_sources).update(keys)
        for table in sorted(owned & existing):
            con.execute(f'DROP TABLE "{table}"')
        con.execute("DELETE FROM sources WHERE list_contains(?, source)", [sorted(own_sources - other_sources)])
        labels = set().union(*(_warn_labels(m) for m in modules)) | {building.INPUT_FILES_STEP}
        con.execute("DELETE FROM build_warnings WHERE list_contains(?, step)", [sorted(labels)])
        con.execute("DROP TABLE IF EXISTS fichiers_entree")  # every input file's fate, written anew below
        loaded_at = dt.datetime.now().replace(microsecond=0)
        ctx = _UpsertContext(con, departements, input_dir, loaded_at)
        steps = [s for m in modules for s in m.STEPS] + [building.Step("contrôles", checks.run_checks)]
        for step in steps:
            reporter.start(step.name)
            t0 = time.perf_counter()
            rows = step.run(ctx)
            reporter.done(step.name, rows, time.perf_counter() - t0)
        building.input_files_report(ctx)
        if ctx.warnings:
            con.executemany("INSERT INTO build_warnings VALUES (?, ?)", ctx.warnings)
        info = {"built_at": loaded_at.isoformat(), "input_dir": str(input_dir), **(extra_info or {})}
        con.execute("DELETE FROM build_info WHERE list_contains(?, key)", [list(info)])
        con.executemany("INSERT INTO build_info VALUES (?, ?)", list(info.items()))
        dictionary.apply(con)  # the re-created tables get their COMMENT ON back
        con.execute("CHECKPOINT")
        con.close()
        os.replace(work, target)
    except BaseException:
        with contextlib.suppress(Exception):
            con.close()
        work.unlink(missing_ok=True)
        Path(f"{work}.wal").unlink(missing_ok=True)
        raise
    return [s.name for s in steps]


# -- reading a database (counts, checksums, restriction) ---------------------------------------------

@contextlib.contextmanager
def _read_only(path: Path):
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS obs (READ_ONLY)", [str(path)])
        con.execute("USE obs")
        yield con
    finally:
        con.close()


def table_checksums(path: Path, only: set[str] | None = None, known: dict | None = None) -> dict[str, list]:
    """{table: [rows, md5]} of a database file (`etl.checks.table_checksums`). With `only` and
    `known` (the checksums of the database it was copied from), tables outside `only` are taken
    from `known` instead of being read again: an incremental publication rewrites only `only`."""
    with _read_only(path) as con:
        if only is None or known is None:
            return {t: list(v) for t, v in checks.table_checksums(con).items()}
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        tables -= checks.VOLATILE_TABLES
        if not (tables - only) <= set(known):
            return {t: list(v) for t, v in checks.table_checksums(con).items()}
        out = {t: list(known[t]) for t in tables - only if t in known}
        for table in sorted(tables & only):
            out[table] = list(checks.table_checksum(con, table))
        return dict(sorted(out.items()))


def _served_checksums(store: Store, db_path: Path) -> dict:
    """Checksums the journal holds for the served version (kept versions are read-only), else read."""
    version = served_version(store, db_path)
    rows = store.rows(where="version = ? AND status = ?", params=[version, REUSSIE]) if version else []
    known = rows[-1].get("checksums") if rows else None
    return known or table_checksums(Path(db_path).resolve())


def departements_of(path: Path) -> list[str] | None:
    with _read_only(path) as con:
        row = con.execute("SELECT value FROM build_info WHERE key = 'departements'").fetchone()
    return [c for c in (row[0] if row else "").split(",") if c] or None


def _key_figures(path: Path | None) -> list[dict]:
    # The publication is the one place where etl reads a database the way viewers do: through the
    # declared reads of the query layer, so the journal shows nothing the pages would not.
    if path is None or not Path(path).exists():
        return []
    return journal.key_figures(Database(path))


def _moved(before, after) -> list[dict]:
    return journal.moved(before, after)


# -- progress written to the journal ------------------------------------------------------------------

class JournalReporter:
    def __init__(self, store: Store, row: int, total: int, echo=None):
        self.store, self.row, self.total, self.count, self.echo = store, row, total, 0, echo

    def start(self, step: str) -> None:
        self.store.update_row(self.row, progress=f"{self.count}/{self.total} {step}…")
        if self.echo:
            self.echo(f"… {step}")

    def detail(self, step: str, message: str) -> None:
        pass

    def done(self, step: str, rows: int, seconds: float) -> None:
        self.count += 1
        self.store.update_row(self.row, progress=f"{self.count}/{self.total} {step} ✓")
        if self.echo:
            self.echo(f"✓ {step} — {rows} lignes en {seconds:.1f} s")


# -- operations ----------------------------------------------------------------------------------------

def recover(store: Store, db_path: Path) -> list[int]:
    """Finish the rows a killed process left (call with the lock held): returns their ids."""
    served = served_version(store, db_path)
    fixed = []
    for row in store.rows(where="status IN (?, ?)", params=[EN_COURS, BASCULE]):
        if row["status"] == BASCULE and row.get("version") is not None and served == row["version"]:
            store.update_row(row["id"], status=REUSSIE, finished_at=row.get("finished_at") or now(),
                             report="bascule faite, journal complété à la reprise")
        else:
            store.update_row(row["id"], status=ECHOUEE, finished_at=now(),
                             report=(row.get("report") or "") + "interrompue : le processus de publication "
                             "s'est arrêté avant la fin ; base servie inchangée")
            if row["action"] != "retour" and served != row["id"]:
                store.version_path(row["id"]).unlink(missing_ok=True)
        fixed.append(row["id"])
    for stale in store.versions.glob("*.tmp-*"):
        stale.unlink(missing_ok=True)
    for stale in store.work.glob("pub-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return fixed


def adopt_base(store: Store, db_path: Path) -> None:
    """A served database built outside publications (`python -m etl build`) becomes a kept
    version, journalled as « base », so that the first publication can be rolled back."""
    db_path = Path(db_path)
    if served_version(store, db_path) is not None or not db_path.exists():
        return
    row = store.start_row("base", "python -m etl build", mode="existante")
    target = store.version_path(row)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        os.link(db_path.resolve(), tmp)
    except OSError:
        shutil.copyfile(db_path.resolve(), tmp)
    os.replace(tmp, target)
    os.chmod(target, 0o444)
    store.update_row(row, status=BASCULE, version=row, manifest={}, checksums=table_checksums(target))
    point_served_at(db_path, target)
    store.update_row(row, status=REUSSIE, finished_at=now())


def served_manifest(store: Store, db_path: Path) -> dict:
    version = served_version(store, db_path)
    if version is None:
        return {}
    rows = store.rows(where="version = ? AND status = ?", params=[version, REUSSIE])
    return dict((rows[-1].get("manifest") if rows else None) or {})


def _assemble(store: Store, manifest: dict, row: int) -> Path:
    folder = store.work / f"pub-{row}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    for name, item in manifest.items():
        safe = staging.safe_name(name)  # names in the manifest are build names: plain, confined
        target = folder / safe
        if target.resolve().parent != folder.resolve():
            raise ValueError(name)
        shutil.copyfile(store.blob_path(item["sha256"]), target)
    readers.check_input_folder(folder)
    return folder


def prune(store: Store, db_path: Path, keep: int | None = None) -> list[int]:
    """Keep the `keep` newest versions and the served one; remove the others."""
    keep = keep or keep_versions()
    served = served_version(store, db_path)
    versions = store.kept_versions()
    drop = [v for v in versions[:-keep] if v != served] if len(versions) > keep else []
    for v in drop:
        store.version_path(v).unlink(missing_ok=True)
    for lock in store.versions.glob(".*.duckdb.lock"):  # left by complete builds (etl.build's lock)
        if not (store.versions / lock.name[1:].removesuffix(".lock")).exists():
            lock.unlink(missing_ok=True)
    return drop


def publish(db_path: Path, files: list[tuple[str, bytes]] = (), withdraw: list[str] = (), who: str = "",
            store: Store | None = None, kinds: list[str | None] | None = None, echo=None) -> int:
    """Publish `files` (name, content) and withdraw the published inputs named in `withdraw`.
    Returns the journal id; raises `PublicationRunning` (nothing journalled) if another runs, and
    `PublicationRefused` / the build's errors after journalling the failure."""
    store = (store or Store()).ensure()
    db_path = Path(db_path)
    if not who:
        raise ValueError("qui publie ? (identifiant du gestionnaire)")
    with store.lock():
        recover(store, db_path)
        adopt_base(store, db_path)
        action = "retrait" if withdraw and not files else "publication"
        row = store.start_row(action, who)
        t0 = time.perf_counter()
        folder = None
        target = store.version_path(row)
        try:
            current = served_manifest(store, db_path)
            entries, reports = check_and_store(store, db_path, list(files), kinds, current)
            if len(entries) < len(files):
                raise PublicationRefused(describe_reports(reports))
            manifest = dict(current)
            added, replaced, withdrawn = [], [], []
            for e in entries:
                if e.name in current:
                    if current[e.name]["sha256"] == e.sha256:
                        continue
                    replaced.append({"name": e.name, "sha256": e.sha256, "original": e.original,
                                     "previous": current[e.name]["sha256"]})
                else:
                    added.append({"name": e.name, "sha256": e.sha256, "original": e.original})
                manifest[e.name] = e.as_manifest(who)
            for name in withdraw:
                if name not in manifest:
                    raise PublicationRefused(f"« {name} » n'est pas un fichier publié (voir `python -m etl history`)")
                withdrawn.append({"name": name, "sha256": manifest.pop(name)["sha256"]})
            store.update_row(row, files_added=added, files_replaced=replaced, files_withdrawn=withdrawn,
                             manifest=manifest)
            if not (added or replaced or withdrawn):
                raise PublicationRefused("rien ne change : ces fichiers sont déjà publiés à l'identique")
            changed = [e.kind for e in entries] + [current[n["name"]]["kind"] for n in withdrawn]
            families = {staging.KINDS[k].family for k in changed if k in staging.KINDS}
            folder = _assemble(store, manifest, row)
            base = db_path.resolve() if db_path.exists() else None
            departements = departements_of(base) if base else _env_departements()
            modules = plan(families) if base else None
            info = {"publication": str(row)}
            if modules is None:
                steps = building.all_steps()
                reporter = JournalReporter(store, row, len(steps), echo)
                store.update_row(row, mode="complète", steps=[s.name for s in steps])
                building.build(target, departements, folder, reporter, steps)
            else:
                names = [s.name for m in modules for s in m.STEPS] + ["contrôles"]
                store.update_row(row, mode="incrémentale", steps=names)
                reporter = JournalReporter(store, row, len(names), echo)
                build_incremental(base, target, modules, folder, departements, reporter, info)
            before = _served_checksums(store, db_path) if base else {}
            rewritten = None if modules is None else \
                set().union(*(module_tables(m) for m in modules)) | {"sources", "build_warnings", "fichiers_entree"}
            after = table_checksums(target, rewritten, before)
            counts = {
                t: [before.get(t, [None])[0], after.get(t, [None])[0]] for t in sorted(before.keys() | after.keys())
            }
            figures = _moved(_key_figures(base), _key_figures(target))
            store.update_row(row, status=BASCULE, version=row, row_counts=counts, key_figures=figures,
                             checksums=after, progress="bascule de la base servie")
            os.chmod(target, 0o444)  # a kept version never changes: rollback restores it exactly
            point_served_at(db_path, target)
            store.update_row(row, status=REUSSIE, finished_at=now(), duration_s=round(time.perf_counter() - t0, 2),
                             progress="terminée")
        except BaseException as exc:
            report = _describe(exc)
            with contextlib.suppress(Exception):
                store.update_row(row, status=ECHOUEE, finished_at=now(), report=report,
                                 duration_s=round(time.perf_counter() - t0, 2))
            if served_version(store, db_path) != row:
                target.unlink(missing_ok=True)
            raise
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        prune(store, db_path)
        return row


def rollback(db_path: Path, version: int, who: str, store: Store | None = None) -> int:
    """Serve the kept database of `version` again (« Revenir à cette version »), journalled."""
    store = (store or Store()).ensure()
    db_path = Path(db_path)
    with store.lock():
        recover(store, db_path)
        adopt_base(store, db_path)
        target = store.version_path(version)
        origin = store.rows(where="version = ? AND status = ?", params=[int(version), REUSSIE])
        row = store.start_row("retour", who, rollback_of=int(version))
        t0 = time.perf_counter()
        try:
            if not target.exists() or not origin:
                raise PublicationRefused(f"la version {version} n'est plus conservée (les {keep_versions()} "
                                         "dernières le sont)")
            base = db_path.resolve()
            before, after = _served_checksums(store, db_path), table_checksums(target)
            if after != origin[-1].get("checksums") and origin[-1].get("checksums"):
                raise PublicationRefused(f"la version {version} a été modifiée depuis sa publication "
                                         "(empreintes différentes du journal) : retour refusé")
            counts = {
                t: [before.get(t, [None])[0], after.get(t, [None])[0]] for t in sorted(before.keys() | after.keys())
            }
            store.update_row(row, status=BASCULE, version=int(version), manifest=origin[-1].get("manifest") or {},
                             row_counts=counts, key_figures=_moved(_key_figures(base), _key_figures(target)),
                             checksums=after, mode="retour")
            point_served_at(db_path, target)
            store.update_row(row, status=REUSSIE, finished_at=now(), duration_s=round(time.perf_counter() - t0, 2))
        except BaseException as exc:
            with contextlib.suppress(Exception):
                store.update_row(row, status=ECHOUEE, finished_at=now(), report=_describe(exc))
            raise
        return row


def _env_departements() -> list[str] | None:
    return [c.strip() for c in os.environ.get("OBSERVATOIRE_DEPARTEMENTS", "").split(",") if c.strip()] or None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (PublicationRefused, InputRejected, CheckFailed, ValueError, FileNotFoundError)):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrompue (Ctrl-C)"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


# -- the page starts the same command in the background -------------------------------------------------

def start_background(db_path: Path, files: list[tuple[str, bytes]], withdraw: list[str], who: str,
                     store: Store | None = None) -> subprocess.Popen:
    """Run `python -m etl publish` in its own process (never in the Streamlit script thread): the
    files go to the input store first, the process is handed their checksums."""
    store = (store or Store()).ensure()
    args = [sys.executable, "-m", "etl", "publish", "--db", str(db_path), "--who", who]
    for name, data in files:
        args += ["--stored", f"{store.put(data)}:{staging.safe_name(name)}"]
    for name in withdraw:
        args += ["--withdraw", name]
    log = open(store.work / "derniere-publication.log", "w")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return _reaped(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                    cwd=Path(__file__).resolve().parent.parent))


def _reaped(proc: subprocess.Popen) -> subprocess.Popen:
    """The server waits for its publication processes in a thread: no zombie left per publication."""
    threading.Thread(target=proc.wait, daemon=True, name=f"publication-{proc.pid}").start()
    return proc


def start_background_rollback(db_path: Path, version: int, who: str, store: Store | None = None) -> subprocess.Popen:
    """`python -m etl rollback VERSION` in its own process (it re-reads the kept database's checksums)."""
    store = (store or Store()).ensure()
    log = open(store.work / "dernier-retour.log", "w")
    root = Path(__file__).resolve().parent.parent
    return _reaped(subprocess.Popen([sys.executable, "-m", "etl", "rollback", str(int(version)), "--db",
                                     str(db_path), "--who", who], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={**os.environ, "PYTHONPATH": str(root)}, cwd=root))
