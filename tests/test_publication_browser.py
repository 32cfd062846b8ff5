"""Publishing from the browser, two people at once (headless Chromium, two contexts):

a manager signs in with a local account and publishes a CTG registry for the Gironde; a viewer
whose CTG tab stays open all along sees the coverage of 33 leave 0 % at their next interaction;
the manager goes back to the previous version and the viewer sees 0 % again. A viewer never
reaches the management page, not even by its URL.
"""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from common.store import Store
from etl import accounts, build
from tests.conftest import ROOT, assert_no_exception, screenshot, start_app, wait_for_app

pytestmark = pytest.mark.browser

REGISTRY = ROOT / "tests" / "fixtures" / "publication" / "ctg_registre_gironde_essai.csv"
PASSWORD = "correct cheval batterie agrafe"


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("publication-browser")
    db = tmp / "observatoire.duckdb"
    build.build(db, ["33"])  # no embedded convention in the Gironde: 0 % until a registry is published
    home = tmp / "espace"
    accounts.add_user("ana", PASSWORD, home / "comptes.json")
    proc, url = start_app(db, {"OBSERVATOIRE_HOME": str(home), "OBSERVATOIRE_STAGING_DIR": str(tmp / "staging")})
    yield url, db, home
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


def _context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


def _expect_coverage(page, expected: str) -> None:
    """The coverage metric reads `expected`, awaited (a rerun redraws the metrics one by one; the
    page never reruns by itself, so waiting cannot bring new data without an interaction)."""
    from playwright.sync_api import expect
    expect(page.locator("[data-testid='stMetricValue']").first).to_have_text(expected, timeout=120_000)


def _interact(page) -> None:
    """One viewer interaction: the « Au » slider one month back (the app reruns)."""
    before = page.url
    thumb = page.locator("[data-testid='stSlider'] input[type='range']").first
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("u => window.location.href !== u", arg=before, timeout=30_000)
    wait_for_app(page)


def _wait_outcome(page, text: str) -> None:
    page.get_by_text(text).first.wait_for(timeout=120_000)
    wait_for_app(page)


def test_manager_publishes_viewer_sees_it_manager_rolls_back(served_app, browser):
    url, db, home = served_app
    viewer_ctx, viewer = _context(browser)
    manager_ctx, manager = _context(browser)
    try:
        # the viewer opens the CTG page of the Gironde and keeps it open
        viewer.goto(f"{url}/?dep=33")
        viewer.get_by_role("link", name="Couverture CTG").wait_for(timeout=60_000)
        wait_for_app(viewer)
        viewer.goto(f"{url}/ctg?dep=33&date=2020-12-31")
        wait_for_app(viewer)
        _expect_coverage(viewer, "0,0\u202f%")
        assert viewer.get_by_role("link", name="Gérer les données").count() == 0

        # the manager signs in
        manager.goto(f"{url}/connexion")
        manager.get_by_role("heading", name="Espace gestionnaire").wait_for(timeout=60_000)
        wait_for_app(manager)
        manager.get_by_label("Identifiant").fill("ana")
        manager.get_by_label("Mot de passe").fill(PASSWORD)
        manager.get_by_role("button", name="Se connecter").click()
        manager.get_by_role("heading", name="Gérer les données").wait_for(timeout=60_000)
        wait_for_app(manager)
        assert manager.get_by_role("link", name="Gérer les données").count() == 1

        # drops the registry and reads the report while another publication holds the lock: refused
        with Store(home).ensure().lock():
            manager.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(REGISTRY))
            manager.get_by_text("accepté").first.wait_for(timeout=60_000)
            manager.get_by_text("Une publication est en cours").first.wait_for(timeout=30_000)
            manager.get_by_text("Publication en cours : démarrage").first.wait_for(timeout=30_000)  # progress
            wait_for_app(manager)
            assert manager.get_by_role("button", name="Publier", exact=True).is_disabled()
            screenshot(manager, "publication-refusee-verrou")
        # the other one ends: the page follows by itself, « Publier » is offered again
        manager.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Publier')"
            " && !b.disabled)", timeout=30_000)
        wait_for_app(manager)
        screenshot(manager, "publication-rapport")
        manager.get_by_role("button", name="Publier", exact=True).click()
        _wait_outcome(manager, "réussie en")
        assert manager.get_by_text("couverture CTG 33 : 0,0 % → 12,7 %").count() >= 1
        assert_no_exception(manager)
        screenshot(manager, "publication-reussie")

        # the viewer, at their next interaction, sees the new coverage
        _interact(viewer)
        _expect_coverage(viewer, "12,7\u202f%")
        assert_no_exception(viewer)
        screenshot(viewer, "publication-lecteur-apres")

        # « À propos des données » says who published which file, when, with its checksum
        about_ctx, about = _context(browser)
        try:
            about.goto(f"{url}/a-propos")
            about.get_by_role("heading", name="Fichiers publiés par l'observatoire").wait_for(timeout=60_000)
            wait_for_app(about)
            table = about.locator("[data-testid='stTable']").first
            table.wait_for()
            cells = [c.strip() for c in re.split(r"[\t\n]+", table.inner_text()) if c.strip()]
            assert {REGISTRY.name, "ctg_registre", "ana", hashlib.sha256(REGISTRY.read_bytes()).hexdigest()} <= set(
                cells
            )
            screenshot(about, "publication-a-propos")
        finally:
            about_ctx.close()

        # the manager goes back to the base as it was
        manager.get_by_role("tab", name="Journal et retour arrière").click()
        manager.get_by_text("Version conservée").wait_for()
        screenshot(manager, "publication-journal")
        manager.get_by_role("button", name="Revenir à cette version", exact=True).click()
        _wait_outcome(manager, "(retour) réussie")
        assert_no_exception(manager)

        _interact(viewer)
        _expect_coverage(viewer, "0,0\u202f%")
        assert_no_exception(viewer)
    finally:
        viewer_ctx.close()
        manager_ctx.close()


def test_a_viewer_gets_no_management_page_by_url(served_app, browser):
    url, _, _ = served_app
    context, page = _context(browser)
    try:
        page.goto(f"{url}/?dep=33")
        page.get_by_role("link", name="Couverture CTG").wait_for(timeout=60_000)
        wait_for_app(page)
        page.goto(f"{url}/gerer-donnees")
        wait_for_app(page)
        assert page.get_by_role("heading", name="Gérer les données").count() == 0
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert page.get_by_role("link", name="Gérer les données").count() == 0
        screenshot(page, "publication-lecteur-refuse")
    finally:
        context.close()
