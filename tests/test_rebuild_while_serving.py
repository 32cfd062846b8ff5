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


def _departements_offered(url: str) -> list[str]:
    """The département selector of a new session on `url` (one worker, or the proxy)."""
    import asyncio
    import concurrent.futures

    from bench.load_ws import ProtocolSession

    async def read():
        async with ProtocolSession(url, timeout=120) as session:
            result = await session.open("")          # the default page: the home page
            assert not result.exceptions, result.exceptions
            return [o.split(" ")[0] for w in session.widgets.values() if w.key == "dep"
                    for o in w.proto.options]
    # In a thread of its own: the browser tests' sync Playwright keeps an event loop running in the
    # main thread for the whole session, where `asyncio.run` is refused.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_every_worker_behind_the_proxy_sees_a_rebuild(tmp_path):
    """`make serve`: each worker process re-attaches the file the build swapped in."""
    import shutil

    import pytest

    from serving.cluster import Cluster, free_ports

    if shutil.which("caddy") is None:
        pytest.fail("caddy is missing: `make test` installs it (apt-get install caddy)")
    path = tmp_path / "obs.duckdb"
    build.build(path, ["61"], steps=list(build.REFERENCE_STEPS))
    port, *workers = free_ports(3)
    with Cluster(workers=2, port=port, address="127.0.0.1", worker_ports=workers,
                 env={"OBSERVATOIRE_DB": str(path)}, log_dir=tmp_path / "logs") as cluster:
        assert all(_departements_offered(w.url) == ["61"] for w in cluster.pool)
        subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(path), "--departements", "35,61"],
                       cwd=ROOT, check=True, capture_output=True)
        for worker in cluster.pool:
            assert _departements_offered(worker.url) == ["35", "61"], worker.upstream
        assert _departements_offered(cluster.url) == ["35", "61"]
