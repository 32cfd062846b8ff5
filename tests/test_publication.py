"""Publishing from the command line: journal, kept versions, rollback, lock, kill -9, incremental build."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.store import BASCULE, ECHOUEE, EN_COURS, REUSSIE, PublicationRunning, Store, served_version
from etl import accounts, build, publish
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
REGISTRY = FIXTURES / "publication" / "ctg_registre_gironde_essai.csv"
ERRORS = FIXTURES / "ctg" / "registre_erreurs.csv"


@pytest.fixture(scope="module")
def gironde_base(tmp_path_factory) -> Path:
    """Every source step, restricted to the Gironde (no embedded CTG convention there)."""
    path = tmp_path_factory.mktemp("base") / "gironde.duckdb"
    build.build(path, ["33"])
    return path


@pytest.fixture
def served(gironde_base, tmp_path) -> tuple[Path, Store]:
    db = tmp_path / "servie.duckdb"
    shutil.copyfile(gironde_base, db)
    return db, Store(tmp_path / "espace").ensure()


def _files(*paths: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def _coverage_33(path: Path) -> float:
    from query import journal
    from query.db import Database
    return next(f["valeur"] for f in journal.key_figures(Database(path))
                if f["indicateur"] == "couverture CTG" and f["territoire"] == "33")


def test_publication_is_incremental_and_matches_a_complete_build(served, tmp_path):
    db, store = served
    row = publish.publish(db, _files(REGISTRY), who="ana", store=store)
    entry = store.row(row)
    assert entry["status"] == REUSSIE and entry["mode"] == "incrémentale"
    assert "fragilité des retraités" not in entry["steps"]  # the CTG registry feeds the CTG module only
    assert served_version(store, db) == row
    assert _coverage_33(db) > 0.05
    assert any(f["texte"].startswith("couverture CTG 33 : 0,0 % → ") for f in entry["key_figures"])
    assert entry["row_counts"]["conventions_territoriales"] == [0, 3]
    # the same inputs through the complete build give the same tables, row for row
    folder = tmp_path / "entrees"
    folder.mkdir()
    shutil.copyfile(REGISTRY, folder / REGISTRY.name)
    full = tmp_path / "complete.duckdb"
    build.build(full, ["33"], folder)
    assert publish.table_checksums(db.resolve()) == publish.table_checksums(full)
    assert entry["checksums"] == publish.table_checksums(db.resolve())


def test_rollback_restores_identical_table_checksums(served):
    db, store = served
    before = publish.table_checksums(db)
    first = publish.publish(db, _files(REGISTRY), who="ana", store=store)
    published = publish.table_checksums(db.resolve())
    assert published != before
    base_version = store.rows(where="action = 'base'")[0]["version"]
    back = publish.rollback(db, base_version, "ana", store)
    assert publish.table_checksums(db.resolve()) == before
    assert store.row(back)["action"] == "retour" and store.row(back)["status"] == REUSSIE
    assert _coverage_33(db) == 0.0
    publish.rollback(db, first, "ana", store)
    assert publish.table_checksums(db.resolve()) == published


def test_withdrawing_the_registry_gives_back_the_base_tables(served):
    db, store = served
    before = publish.table_checksums(db)
    publish.publish(db, _files(REGISTRY), who="ana", store=store)
    row = publish.publish(db, withdraw=[REGISTRY.name], who="ana", store=store)
    assert store.row(row)["action"] == "retrait"
    assert publish.table_checksums(db.resolve()) == before


def test_rejected_file_is_journalled_and_changes_nothing(served):
    db, store = served
    before = publish.table_checksums(db)
    with pytest.raises(publish.PublicationRefused, match="E1"):
        publish.publish(db, [("ctg_registre.csv", ERRORS.read_bytes())], who="ana", store=store)
    failed = store.rows()[-1]
    assert failed["status"] == ECHOUEE and "32/13/2019" in failed["report"]
    assert publish.table_checksums(db.resolve()) == before
    assert served_version(store, db) == store.rows(where="action = 'base'")[0]["version"]


def test_publication_refused_while_another_runs(served):
    db, store = served
    with store.lock():
        with pytest.raises(PublicationRunning, match="déjà en cours"):
            publish.publish(db, _files(REGISTRY), who="ana", store=store)
        cli = subprocess.run(
            [sys.executable, "-m", "etl", "publish", "--db", str(db), "--who", "bob", str(REGISTRY)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "OBSERVATOIRE_HOME": str(store.root)},
        )
    assert cli.returncode == 4 and "déjà en cours" in cli.stderr
    assert store.rows() == []  # nothing journalled, nothing swapped
    assert not db.is_symlink()


def test_only_the_last_versions_are_kept(served, monkeypatch):
    db, store = served
    monkeypatch.setenv("OBSERVATOIRE_KEEP_VERSIONS", "2")
    text = REGISTRY.read_text(encoding="utf-8")
    for month in ("01", "02", "03"):
        publish.publish(db, [(REGISTRY.name, text.replace("2019-03", f"2019-{month}1"[:7]).encode())],
                        who="ana", store=store)
    assert len(store.kept_versions()) == 2
    assert served_version(store, db) == store.kept_versions()[-1]


def test_store_paths_are_confined(served):
    _, store = served
    for bad in ("../../etc/passwd", "a" * 63 + "/", "A" * 64):
        with pytest.raises(ValueError):
            store.blob_path(bad)
    with pytest.raises(ValueError):
        publish.staging.safe_name("../ctg.csv")


def _states(store: Store, db: Path):
    return [(r["id"], r["status"], r.get("version")) for r in store.rows()]


def test_kill_9_of_the_publication_at_random_points_leaves_a_consistent_state(served):
    db, store = served
    base_sums = publish.table_checksums(db)
    with store.lock():
        publish.adopt_base(store, db)  # the served file becomes kept version 1 (same inode)
    env = {**os.environ, "OBSERVATOIRE_HOME": str(store.root), "PYTHONPATH": str(ROOT)}
    rng = random.Random(14)
    text = REGISTRY.read_text(encoding="utf-8")
    # one uninterrupted run gives the length of a publication (from its journal row to its end)
    t0 = time.perf_counter()
    publish.publish(db, [(REGISTRY.name, text.replace("2020-06", "2020-07").encode())], who="ana", store=store)
    length = time.perf_counter() - t0
    # kills at random delays after the journal row appears, and at what the journal shows
    points = [("délai", rng.uniform(0, length)) for _ in range(4)] + [("étape", "conventions"), ("étape", "contrôles"),
                                                                     ("statut", BASCULE)]
    seen_outcomes, kills = set(), 0
    for i, point in enumerate(points):
        previous = db.resolve()
        previous_sums = publish.table_checksums(previous)
        (store.root.parent / str(i)).mkdir()
        variant = tmp = store.root.parent / str(i) / REGISTRY.name  # replaces the one published before
        tmp.write_text(text.replace("2020-06", f"2020-06-{i + 10:02d}"), encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "etl", "publish", "--db", str(db), "--who", "ana",
                                 str(variant)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        if point[0] == "délai":
            while time.time() < deadline and not [r for r in store.rows() if r.get("pid") == proc.pid]:
                time.sleep(0.002)
            time.sleep(point[1])
        else:
            while time.time() < deadline and proc.poll() is None:
                rows = [r for r in store.rows() if r.get("pid") == proc.pid]
                if rows and (point[1] in (rows[-1].get("progress") or "") if point[0] == "étape"
                             else rows[-1]["status"] == point[1]):
                    break
                time.sleep(0.005)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += killed
        # the served database is complete: the previous one, or the new one when the swap was done
        now_served = db.resolve()
        assert now_served.exists()
        with store.lock():
            publish.recover(store, db)
        mine = [r for r in store.rows() if r.get("pid") == proc.pid and r["action"] == "publication"]
        assert all(r["status"] in (REUSSIE, ECHOUEE) for r in store.rows())
        if now_served == previous:
            assert publish.table_checksums(now_served) == previous_sums
            assert not mine or mine[-1]["status"] == ECHOUEE
            seen_outcomes.add("ancienne")
        else:
            assert mine and mine[-1]["status"] == REUSSIE and served_version(store, db) == mine[-1]["version"]
            assert publish.table_checksums(now_served) == mine[-1]["checksums"]
            seen_outcomes.add("nouvelle")
        assert not list(store.versions.glob("*.tmp-*")) and not list(store.work.glob("pub-*"))
        assert set(store.kept_versions()) <= {r["version"] for r in store.rows() if r["status"] == REUSSIE}
    assert "ancienne" in seen_outcomes and kills >= 4
    interrupted = [r for r in store.rows() if "interrompue" in (r.get("report") or "")]
    assert len(interrupted) >= 3, _states(store, db)  # kills did land inside publications
    # and publishing works again afterwards
    publish.publish(db, _files(REGISTRY), who="ana", store=store)
    assert publish.table_checksums(db.resolve()) != base_sums
    assert not [r for r in store.rows() if r["status"] == EN_COURS]


# -- local accounts ---------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(tmp_path):
    path = tmp_path / "comptes.json"
    assert accounts.users(path) == []  # no default account
    accounts.add_user("ana", "un mot de passe long", path)
    clock = [1000.0]
    for _ in range(accounts.MAX_FAILURES - 1):
        assert accounts.verify("ana", "faux", path, clock=lambda: clock[0]) is False
    with pytest.raises(accounts.AccountLocked):
        accounts.verify("ana", "faux", path, clock=lambda: clock[0])
    with pytest.raises(accounts.AccountLocked):
        accounts.verify("ana", "un mot de passe long", path, clock=lambda: clock[0])
    clock[0] += accounts.LOCK_SECONDS + 1
    assert accounts.verify("ana", "un mot de passe long", path, clock=lambda: clock[0]) is True
    assert "un mot de passe long" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_short_passwords_and_odd_names_are_refused(tmp_path):
    with pytest.raises(ValueError):
        accounts.add_user("ana", "court", tmp_path / "c.json")
    with pytest.raises(ValueError):
        accounts.add_user("../ana", "un mot de passe long", tmp_path / "c.json")


def test_etl_build_refuses_to_overwrite_a_published_database(served):
    db, store = served
    publish.publish(db, _files(REGISTRY), who="ana", store=store)
    kept = publish.table_checksums(db.resolve())
    cli = subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(db), "--departements", "33"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "OBSERVATOIRE_HOME": str(store.root)})
    assert cli.returncode == 5 and "version conservée" in cli.stderr.replace("\n", " ")
    assert publish.table_checksums(db.resolve()) == kept


def test_every_table_of_a_build_belongs_to_the_reference_or_to_one_source_module(gironde_base):
    """The incremental plan drops a module's tables before re-running it: each table must be found
    in exactly one module's DDL, or a publication would keep a stale table or drop another's."""
    from etl import registry, schema
    with publish._read_only(gironde_base) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    owners: dict[str, list[str]] = {}
    for module in registry.source_modules():
        for table in publish.module_tables(module):
            owners.setdefault(table, []).append(module.__name__)
    shared = {"sources", "build_info", "build_warnings", "fichiers_entree", *schema.REFERENCE_DDL}
    assert {t: o for t, o in owners.items() if len(o) > 1} == {}
    assert sorted(tables - shared - set(owners)) == []


@pytest.mark.parametrize("files", [
    ["fragilite/agrege/fragilite_communes_2021.csv"],
    ["aide_domicile/valide/paniers_suivi_2024.csv"],
    ["aide_domicile/valide/saad_services.csv", "aide_domicile/valide/saad_indicateurs.csv"],
], ids=["fragilite", "paniers", "saad"])
def test_incremental_publication_of_other_sources_matches_a_complete_build(files, small_db_path, tmp_path):
    db = tmp_path / "servie.duckdb"
    shutil.copyfile(small_db_path, db)
    store = Store(tmp_path / "espace").ensure()
    paths = [FIXTURES / f for f in files]
    row = publish.publish(db, _files(*paths), who="ana", store=store)
    assert store.row(row)["mode"] == "incrémentale"
    folder = tmp_path / "entrees"
    folder.mkdir()
    for path in paths:
        shutil.copyfile(path, folder / path.name)
    full = tmp_path / "complete.duckdb"
    build.build(full, ["35", "61"], folder)
    assert publish.table_checksums(db.resolve()) == publish.table_checksums(full)


def test_an_insee_file_triggers_a_complete_build_with_its_key_figure(small_db_path, tmp_path):
    db = tmp_path / "servie.duckdb"
    shutil.copyfile(small_db_path, db)
    store = Store(tmp_path / "espace").ensure()
    row = publish.publish(db, _files(FIXTURES / "insee" / "FILO2019_DISP_EPCI.csv"), who="ana", store=store)
    entry = store.row(row)
    assert entry["mode"] == "complète" and entry["status"] == REUSSIE
    moved = [f for f in entry["key_figures"] if f["indicateur"] == "EPCI avec indicateurs INSEE"]
    assert moved and moved[0]["apres"] > (moved[0]["avant"] or 0)
    assert publish.departements_of(db.resolve()) == ["35", "61"]  # the served restriction is kept


def test_history_exports_the_journal_as_french_csv(served, tmp_path):
    import csv
    import io
    db, store = served
    publish.publish(db, _files(REGISTRY), who="=ana", store=store)  # a name a spreadsheet would run
    out = tmp_path / "journal.csv"
    cli = subprocess.run([sys.executable, "-m", "etl", "history", "--csv", str(out)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "OBSERVATOIRE_HOME": str(store.root)})
    assert cli.returncode == 0, cli.stderr
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["action"] for r in rows] == ["publication", "base"]  # newest first
    assert rows[0]["qui"] == "'=ana" and rows[0]["statut"] == "réussie"
    assert "couverture CTG 33 : 0,0 % → 12,7 %" in rows[0]["chiffres_cles"]
    assert (
        REGISTRY.name in rows[0]["empreintes"] and "conventions_territoriales : 0 → 3" in rows[0]["lignes_avant_apres"]
    )


def test_key_figures_go_through_the_secrecy_of_the_query_layer(tmp_path):
    """A département's fragility score computed on 1 to 10 retirees is « secret » in the journal too."""
    import duckdb

    from query import journal
    from query.db import Database
    path = tmp_path / "petite.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE departements (code TEXT, nom TEXT)")
    con.execute("INSERT INTO departements VALUES ('01', 'Ain'), ('02', 'Aisne')")
    con.execute("CREATE TABLE fragilite_communes (code_insee TEXT, millesime INTEGER)")
    con.execute("INSERT INTO fragilite_communes VALUES ('01001', 2021)")
    con.execute("CREATE TABLE fragilite_departements (code_departement TEXT, millesime INTEGER, n_retraites BIGINT, "
                "score_moyen DOUBLE, n_fragiles BIGINT, n_60_plus BIGINT)")
    con.execute("INSERT INTO fragilite_departements VALUES ('01', 2021, 7, 3.4, 0, 40), "
                "('02', 2021, 50000, 3.1, 9000, 70000)")
    con.close()
    figures = {f["territoire"]: f for f in journal.key_figures(Database(path))
               if f["indicateur"].startswith("score de fragilité")}
    assert figures["01"]["texte"] == "secret" and figures["01"]["valeur"] is None
    assert figures["02"]["texte"] == "3,10"
