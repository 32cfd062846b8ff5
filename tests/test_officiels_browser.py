"""Today's official files in headless Chromium: the portrait of an EPCI shows the latest millésime of
each indicator, the evolution between two of the same definition, and the ANCT programmes next to the
conventions."""

from pathlib import Path

import pytest

from etl import build
from tests.conftest import assert_no_exception, screenshot, start_app, wait_for_app

pytestmark = pytest.mark.browser

OFFICIELS = Path(__file__).resolve().parent / "fixtures" / "officiels"


@pytest.fixture(scope="module")
def officiels_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("officiels-app") / "app.duckdb"
    build.build(db, ["61"], input_dir=OFFICIELS)
    proc, url = start_app(db)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_portrait_with_todays_files(officiels_url, page):
    page.goto(f"{officiels_url}/portrait?dep=61&epci=246100663")
    wait_for_app(page, timeout=90_000)
    assert_no_exception(page)
    page.get_by_role("heading", name="Évolution entre deux millésimes").wait_for()
    screenshot(page, "portrait-fichiers-du-jour")
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "Programmes territoriaux (Petites villes de demain, Action cœur de ville)" in text
    assert "Action cœur de ville — Alençon (61001), convention signée le 28/09/2018" in text
    # default comparison: 2023 against the latest comparable millésime (2021, Filosofi 2 both)
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Comparé à")
    assert box.locator("input").input_value() == "2021" or "2021" in box.inner_html()
    assert "Évolution calculée seulement entre deux valeurs de même définition" in text
    screenshot(page, "portrait-fichiers-du-jour")


def test_ctg_registry_tab_lists_the_programmes_next_to_the_conventions(officiels_url, page):
    page.goto(f"{officiels_url}/ctg?dep=61")
    wait_for_app(page, timeout=90_000)
    page.get_by_role("tab", name="Registre").click()
    page.get_by_role(
        "heading", name="Programmes territoriaux : Petites villes de demain, Action cœur de ville"
    ).wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    caption = page.get_by_text("Communes lauréates, à croiser avec les conventions ci-dessus.").inner_text()
    assert "ANCT — Action cœur de ville" in caption and "ANCT — Petites villes de demain" in caption
    screenshot(page, "ctg-programmes")
