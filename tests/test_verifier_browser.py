"""« Vérifier un fichier » in headless Chromium: upload through the real page, read the report on
screen, download it as CSV."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.conftest import assert_no_exception, metric_values, screenshot, wait_for_app

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures" / "staging"


def open_verifier(page, app_url: str) -> None:
    page.goto(f"{app_url}/verifier?dep=35")  # a deep link, as a bookmark would open it
    wait_for_app(page)
    page.get_by_role("heading", name="Vérifier un fichier").wait_for()
    page.get_by_role("link", name="Vérifier un fichier").wait_for()  # the app's navigation is there


def upload(page, path: Path | None = None, name: str | None = None, data: bytes | None = None,
           mime: str = "text/csv") -> None:
    target = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    if path is not None:
        target.set_input_files(str(path))
    else:
        target.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_rejected_file_lists_every_problem_and_downloads_the_report(app_url, page, tmp_path):
    open_verifier(page, app_url)
    upload(page, FIXTURES / "hostile" / "cfppa_financements_erreurs.csv")
    page.get_by_text("serait rejeté en entier par la construction").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    table = page.locator("[data-testid='stTable']").first
    text = table.inner_text()
    for expected in ("code_departement", "99", "20x1", "Banque inconnue", "un axe de 1 à 6 (art. L233-1 CASF)",
                     "la somme des lignes de 35 2021, soit 1\u202f000,00 €"):
        assert expected in text, expected
    assert table.locator("tbody tr").count() == 6
    metrics = metric_values(page, ["6", "0"])
    assert metrics[:2] == ["6", "0"]
    screenshot(page, "verifier-rejete")

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Rapport de vérification (CSV)").click()
    assert download.value.suggested_filename.startswith("verification_cfppa_financements_erreurs_")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "gravité;fichier;ligne;colonne;valeur;attendu ou message"
    assert len(lines) == 7
    assert lines[1] == ("erreur;cfppa_financements_erreurs.csv;2;code_departement;99;un code de département "
                        "existant (texte : « 35 », « 2A »)")


def test_valid_lot_shows_what_would_be_loaded(app_url, page):
    valid = FIXTURES / "valide"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(valid.glob("cfppa_*.csv")):
            archive.write(path, path.name)
    open_verifier(page, app_url)
    upload(page, name="envoi_cfppa.zip", data=out.getvalue(), mime="application/zip")
    page.get_by_text("serait accepté par la construction").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    preview = page.locator("[data-testid='stTable']").first.inner_text()
    for expected in ("Table cfppa_financements", "Table actions_prevention_financeurs",
                     "Départements (les données simulées y seraient remplacées)", "35, 61"):
        assert expected in preview, expected
    assert page.get_by_text("35011 → 35292").count() >= 1
    screenshot(page, "verifier-accepte")


def test_renamed_workbook_is_refused_before_reading(app_url, page):
    from etl import cfppa
    open_verifier(page, app_url)
    upload(page, name="cfppa_financements.csv", data=cfppa.template_xlsx())
    page.get_by_text("est refusé avant lecture").wait_for(timeout=60_000)
    wait_for_app(page)
    assert "contenu zip/xlsx" in page.locator("[data-testid='stTable']").first.inner_text()
    assert_no_exception(page)


def test_template_is_downloadable_from_the_page(app_url, page):
    open_verifier(page, app_url)
    page.get_by_text("Modèles — CTG").click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Registre des conventions (CSV, avec exemples réels)").click()
    assert download.value.suggested_filename == "conventions_territoriales.csv"
    header = Path(download.value.path()).read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("identifiant;instrument;code_departement;intitule")
    assert_no_exception(page)


def test_official_file_in_unknown_layout_says_columns_found_and_expected(app_url, page):
    open_verifier(page, app_url)
    upload(page, Path(__file__).parent / "fixtures" / "officiels" / "txcouv_pe_nat.csv")
    page.get_by_text("serait rejeté en entier par la construction").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    text = page.locator("[data-testid='stTable']").first.inner_text()
    assert "ressemble à un fichier Cnaf data.caf.fr" in text
    assert "colonnes trouvées : annee, txcouv_nat" in text and "txcouv_epci" in text
    screenshot(page, "verifier-disposition-inconnue")
