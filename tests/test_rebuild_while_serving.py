"""Readers never see a partial database and never crash while `python -m etl build` swaps a new one in."""

import subprocess
import sys
import threading

from etl import build, checks
from query.db import Database
from tests.conftest import ROOT


def test_readers_keep_answering_complete_results_during_rebuilds(tmp_path):
    path = tmp_path / "obs.duckdb"
    build.build(path, ["61"], steps=[*build.REFERENCE_STEPS, build.Step("contrôles", checks.run_checks)])
    reader = Database(path)
    errors, answers = [], []
    stop = threading.Event()

    def read_loop():
        while not stop.is_set():
            try:
                communes, epci_sum = reader.rows(
                    "SELECT count(*), (SELECT sum(nb_communes) FROM epci) FROM communes")[0]
                answers.append((communes, epci_sum))
            except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(repr(exc))

    threads = [threading.Thread(target=read_loop) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for departements in ("35,61", "61", "35,61"):
            subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(path),
                            "--departements", departements], cwd=ROOT, check=True, capture_output=True)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    # Every answer comes from one complete database: its communes are exactly the EPCI members.
    assert answers and all(communes == epci_sum for communes, epci_sum in answers)
    assert len({a for a in answers}) >= 2  # readers did see the rebuilt databases
