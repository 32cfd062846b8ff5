"""First start: build the database on the embedded default data if it is missing, with progress."""

from __future__ import annotations

import contextlib
import os
import time

import streamlit as st

from common.config import default_db_path
from etl import inputs


class StreamlitReporter:
    def __init__(self, steps: list[str], status):
        self.steps = steps
        self.status = status
        self.bar = status.progress(0.0, text="préparation…")
        self.done_count = 0

    def start(self, step: str) -> None:
        self.bar.progress(self.done_count / len(self.steps), text=f"{step}…")

    def detail(self, step: str, message: str) -> None:
        self.bar.progress(self.done_count / len(self.steps), text=f"{step} : {message}")

    def done(self, step: str, rows: int, seconds: float) -> None:
        self.done_count += 1
        self.status.write(f"✓ {step} — {rows:,} lignes en {seconds:.1f} s".replace(",", "\u202f"))
        self.bar.progress(self.done_count / len(self.steps), text=step)


def ensure_database() -> None:
    path = default_db_path()
    if path.exists():
        return
    steps = inputs.all_steps()
    # OBSERVATOIRE_DEPARTEMENTS=35,61 restricts the first build (demonstrations, tests).
    departements = [c.strip() for c in os.environ.get("OBSERVATOIRE_DEPARTEMENTS", "").split(",") if c.strip()]
    with st.status("Première ouverture : construction de la base sur les données embarquées…",
                   expanded=True) as status:
        t0 = time.perf_counter()
        inputs.build(path, departements or None,
                       reporter=StreamlitReporter([s.name for s in steps], status), steps=steps)
        status.update(label=f"Base construite en {time.perf_counter() - t0:.0f} s", state="complete",
                      expanded=False)


@contextlib.contextmanager
def timed_run(label: str):
    """Server time of one script run, appended to $OBSERVATOIRE_TIMINGS if set (load benchmark):
    `label<TAB>wall seconds<TAB>CPU seconds of the script's thread`. Under load the wall time also
    counts the wait for the interpreter and the cores; the CPU time is what the run itself costs."""
    path = os.environ.get("OBSERVATOIRE_TIMINGS")
    t0, cpu0 = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        if path:
            with open(path, "a") as handle:
                handle.write(f"{label}\t{time.perf_counter() - t0:.4f}\t{time.thread_time() - cpu0:.4f}\n")
