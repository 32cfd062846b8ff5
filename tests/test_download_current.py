"""`python -m etl download --millesime dernier` against a loopback `http.server` serving, under insee.fr's
and data.caf.fr's paths, files in today's layouts (tests/fixtures/officiels): checksums recorded, the
folder builds, and a failed download names the URL and what to do by hand."""

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

OFFICIELS = Path(__file__).resolve().parent / "fixtures" / "officiels"
#: catalogue name → fixture served in its place (the publisher's layout)
SERVED = {"txcouv_pe_com.csv": "txcouv_pe_epci.csv", "txcouv_pe_dep.csv": "txcouv_pe_dep.csv"}


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    for file in download.CATALOGUE["dernier"]:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(OFFICIELS / SERVED.get(file.name, file.name), target)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


def test_latest_catalogue_knows_todays_releases():
    names = {f.name for f in download.CATALOGUE["dernier"]}
    assert {"base-cc-evol-struct-pop-2022_csv.zip", "base-cc-filosofi-2021-geo2025_csv.zip", "FILOSOFI_CC_csv.zip",
            "v_commune_2025.csv", "v_mvt_commune_2025.csv", "txcouv_pe_epci.csv", "s_ben_com_f.csv"} <= names
    caf = next(f for f in download.CATALOGUE["caf"] if f.name == "txcouv_pe_epci.csv")
    assert caf.url() == ("https://data.caf.fr/api/explore/v2.1/catalog/datasets/txcouv_pe_epci/exports/csv"
                         "?delimiter=%3B&lang=fr&timezone=Europe%2FParis")
    assert download.RP_2022.url() == ("https://www.insee.fr/fr/statistiques/fichier/8581696/"
                                      "base-cc-evol-struct-pop-2022_csv.zip")


def test_download_latest_records_checksums_and_the_folder_builds(mirror, tmp_path):
    url, root = mirror
    dest = tmp_path / "entrees"
    assert cli(["download", "--millesime", "dernier", "--dest", str(dest), "--base-url", url]) == 0
    sums = download.read_sums(dest)
    assert set(sums) == {f.name for f in download.CATALOGUE["dernier"]}
    for file in download.CATALOGUE["dernier"]:
        assert sums[file.name] == hashlib.sha256((root / file.path).read_bytes()).hexdigest()
    result = build.build(tmp_path / "db.duckdb", ["61"], input_dir=dest, steps=[*build.REFERENCE_STEPS, *insee.STEPS])
    status = {f.file: f.status for f in result.files}
    assert status.pop("SHA256SUMS") == "non lu"  # its reason: the checksums of the download
    assert set(status.values()) == {"chargé"}
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("SELECT valeur FROM indicateurs WHERE indicateur = 'revenu_median_uc' AND code_geo = '61001' "
                       "AND millesime = 2023").fetchone()[0] == 19850
    con.close()


def test_a_failed_download_names_the_url_and_what_to_do_by_hand(tmp_path):
    fetched, errors = download.download("caf", tmp_path, "http://127.0.0.1:9/", only=["s_ben_com_f"],
                                        log=lambda m: None)
    assert fetched == []
    assert "http://127.0.0.1:9/s_ben_com_f/exports/csv?delimiter=%3B" in errors[0]
    assert "https://data.caf.fr/explore/dataset/s_ben_com_f/" in errors[0]
    assert "déposer le fichier à la main" in errors[0] and "sous le nom s_ben_com_f.csv" in errors[0]
