"""The `indicateurs INSEE` build step on the real reference (35 + 61), with and without the official
fixture files, and `python -m etl download` against a loopback HTTP server."""

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from etl import build, download
from etl.__main__ import main as cli
from etl.insee import loader as insee
from query import indicateurs as q
from query import synthese
from query.db import Database

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "insee"
STEPS = [*build.REFERENCE_STEPS, *insee.STEPS]


@pytest.fixture(scope="module")
def default_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("insee") / "default.duckdb"
    build.build(path, ["35", "61"], steps=STEPS)
    return path


@pytest.fixture(scope="module")
def files_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("insee") / "files.duckdb"
    result = build.build(path, ["35", "61"], input_dir=FIXTURES, steps=STEPS)
    return path, result.warnings


def _rows(path, sql, params=()):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_default_build_holds_tableau1_as_quoted_from_report(default_db):
    assert _rows(default_db, "SELECT nature, reference FROM sources WHERE source = ?",
                 [insee.SOURCE_TABLEAU1.source])[0][0] == "quoted-from-report"
    assert _rows(default_db, "SELECT count(*) FROM indicateurs WHERE niveau = 'epci'")[0][0] == 16 * 7
    # no invented INSEE value: nothing for Ille-et-Vilaine without files
    assert _rows(default_db, "SELECT count(*) FROM indicateurs WHERE code_geo IN "
                 "(SELECT siren FROM epci_departements WHERE code_departement = '35')")[0][0] == 0


def test_mapped_sirens_are_the_epci_of_the_orne_in_the_reference(default_db):
    mapped = {r[0] for r in _rows(default_db, "SELECT DISTINCT code_geo FROM indicateurs WHERE niveau = 'epci'")}
    orne = {r[0] for r in _rows(default_db, "SELECT siren FROM epci_departements WHERE code_departement = '61'")}
    assert mapped == orne and len(mapped) == 16


def test_every_table_row_has_a_registered_source(default_db):
    for table in ("indicateurs", "indicateurs_catalogue", "indicateurs_cumul_publie", "indicateurs_formats"):
        assert (
            _rows(default_db, f"SELECT count(*) FROM {table} WHERE source NOT IN (SELECT source FROM sources)")[0][0]
            == 0
        )


def test_query_table_reproduces_printed_cumul_and_rank(default_db):
    db = Database(default_db)
    ref = q.references(db, "61", "sdaasp", 2015)[0]
    assert (ref.code_geo, ref.libelle) == ("FRM", "France métropolitaine")
    table = q.tableau_epci(db, "61", "sdaasp", 2015, ref)
    assert (table["cumul"] == table["cumul_publie"]).all()
    assert int((table["cumul"] >= 6).sum()) == 9
    andaine = table.set_index("code_geo").loc["200068443"]
    assert andaine["cumul"] == 5 and andaine["rang"] == 10


def test_portrait_reads_nothing_from_absent_topic_tables(default_db):
    assert synthese.sections(Database(default_db), "200068443") == []


def test_epci_rate_in_database_equals_ratio_of_its_communes_sums(files_db):
    path, _ = files_db
    communes = _rows(path, """SELECT sum(numerateur), sum(denominateur) FROM indicateurs
        WHERE niveau = 'commune' AND indicateur = 'taux_chomage' AND millesime = 2015
          AND code_geo IN ('61096', '61483')""")[0]
    epci = _rows(path, """SELECT valeur, numerateur, denominateur FROM indicateurs WHERE niveau = 'epci'
        AND code_geo = '200068443' AND indicateur = 'taux_chomage' AND millesime = 2015 AND jeu = 'insee'""")[0]
    assert (epci[1], epci[2]) == communes == (130 + 60 + 100, 1300 + 400 + 1000)
    assert epci[0] == pytest.approx(100 * 290 / 2700)


def test_merged_commune_counts_are_added_to_todays_commune(files_db):
    path, warnings = files_db
    pop = _rows(path, "SELECT valeur FROM indicateurs WHERE code_geo = '61096' AND indicateur = 'population' "
                "AND millesime = 2015")[0][0]
    assert pop == pytest.approx(4000)
    assert any("61135 → 61096" in message for _, message in warnings)


def test_france_metropolitaine_excludes_overseas_communes(files_db):
    path, _ = files_db
    rows = dict(_rows(path, "SELECT code_geo, numerateur FROM indicateurs WHERE niveau = 'france' "
                      "AND indicateur = 'population' AND millesime = 2015"))
    assert rows["FR"] - rows["FRM"] == pytest.approx(145000)


def test_medians_come_from_the_publishers_epci_sheet(files_db):
    path, warnings = files_db
    assert _rows(path, "SELECT valeur FROM indicateurs WHERE code_geo = '200068443' AND "
                 "indicateur = 'revenu_median_uc' AND millesime = 2015 AND jeu = 'insee'")[0][0] == 19100
    assert _rows(path, "SELECT count(*) FROM indicateurs WHERE niveau = 'departement' AND "
                 "indicateur = 'revenu_median_uc' AND jeu = 'insee'")[0][0] == 0
    assert any("pas de feuille" in message for _, message in warnings)


def test_petite_enfance_priority_from_loaded_files(files_db):
    path, _ = files_db
    db = Database(path)
    assert q.petite_enfance(db, "200068443").prioritaire is True
    assert q.petite_enfance(db, "246100663").prioritaire is False
    assert q.petite_enfance(db, "243500139").prioritaire is None


def test_commune_values_of_an_epci_are_listed_with_recomputed_rates(files_db):
    path, _ = files_db
    table = q.communes_of_epci(Database(path), "200068443", 2015)
    assert set(table["code_geo"]) >= {"61096", "61483"}
    assert table.set_index("code_geo").at["61096", "taux_chomage"] == pytest.approx(100 * 190 / 1700)


def test_formats_table_says_which_files_were_loaded(files_db, default_db):
    path, _ = files_db
    # Melodi (Filosofi 2) and s_ben_com_f have their fixtures in tests/fixtures/officiels (test_officiels.py)
    assert all(r[0] for r in _rows(path, "SELECT charge FROM indicateurs_formats WHERE format NOT IN "
                                      "('insee-filosofi-melodi', 'cnaf-allocataires-commune')"))
    assert not any(r[0] for r in _rows(default_db, "SELECT charge FROM indicateurs_formats"))


# -- download ----------------------------------------------------------------------------------------

@pytest.fixture
def mirror(tmp_path):
    """insee.fr's `fichier` layout served on 127.0.0.1 from the fixtures."""
    root = tmp_path / "mirror"
    for file in download.CATALOGUE[2015]:
        source = FIXTURES / file.name
        if not source.exists():
            source = next(FIXTURES.glob("Intercommunalite-Metropole*.xlsx")) if "Intercommunalite" in file.name \
                else FIXTURES / "v_mvt_commune_2023.csv"
        (root / file.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / file.path)
    (root / "3560121" / "filo-revenu-pauvrete-menage-2015.zip").unlink()
    import zipfile
    with zipfile.ZipFile(root / "3560121" / "filo-revenu-pauvrete-menage-2015.zip", "w") as archive:
        archive.write(
            FIXTURES / "base-cc-filosofi-2015.xls", "filo-revenu-pauvrete-menage-2015/base-cc-filosofi-2015.xls"
        )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


def test_download_fetches_every_file_with_checksums(mirror, tmp_path):
    url, root = mirror
    dest = tmp_path / "entrees"
    assert cli(["download", "--millesime", "2015", "--dest", str(dest), "--base-url", url]) == 0
    sums = download.read_sums(dest)
    assert set(sums) == {f.name for f in download.CATALOGUE[2015]}
    for file in download.CATALOGUE[2015]:
        assert sums[file.name] == hashlib.sha256((root / file.path).read_bytes()).hexdigest()
    assert not list(dest.glob("*.part"))
    # the folder is a valid build input: files recognised by their official names
    kinds = {kind for fmt, kind in insee.FORMATS if fmt.find(dest)}
    assert {"rp_struct", "rp_emploi", "filosofi_base_cc", "epci", "cog_mvt"} <= kinds


def test_download_rerun_skips_intact_files(mirror, tmp_path):
    url, _ = mirror
    logs = []
    download.download(2015, tmp_path, url, only=["struct-pop"], log=logs.append)
    download.download(2015, tmp_path, url, only=["struct-pop"], log=logs.append)
    assert logs[-1].startswith("déjà présent et intact")


def test_download_rejects_a_file_whose_pinned_checksum_differs(mirror, tmp_path):
    url, _ = mirror
    pinned = {2015: [download.OfficialFile("base-cc-evol-struct-pop-2015.zip",
                                           "3564100/base-cc-evol-struct-pop-2015.zip", "doc", sha256="0" * 64)]}
    fetched, errors = download.download(2015, tmp_path, url, catalogue=pinned, log=lambda m: None)
    assert fetched == [] and "somme de contrôle" in errors[0]
    assert not (tmp_path / "base-cc-evol-struct-pop-2015.zip").exists()


def test_download_without_network_says_what_to_do(tmp_path):
    fetched, errors = download.download(2015, tmp_path, "http://127.0.0.1:9/", only=["struct-pop"], log=lambda m: None)
    assert fetched == [] and "déposer le fichier à la main" in errors[0]
