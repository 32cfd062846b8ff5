"""OIDC sign-in honoured end to end: Streamlit's `st.login` against a real OpenID Connect provider
program on loopback (PyPI `oidc-provider-mock`: authorization code flow, discovery, JWKS, ID
tokens), managers listed by e-mail in `[observatoire]` of the secrets file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from etl import build
from tests.conftest import ARTIFACTS, ROOT, _free_port, screenshot, wait_for_app

pytestmark = pytest.mark.browser
pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock (test dependency) is not installed")
pytest.importorskip("authlib", reason="Authlib (st.login's dependency) is not installed")


def _wait(url: str, proc) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process ended")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    db = tmp / "observatoire.duckdb"
    build.build(db, ["61"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    idp_port, app_port = _free_port(), _free_port()
    idp = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(idp_port),
         "--user-claims", json.dumps({"sub": "ana", "email": "ana@caf.example", "email_verified": True}),
         "--user-claims", json.dumps({"sub": "bob", "email": "bob@caf.example", "email_verified": True})],
        stdout=open(ARTIFACTS / "oidc-provider.log", "w"), stderr=subprocess.STDOUT)
    secrets = tmp / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "{os.urandom(16).hex()}"
client_id = "observatoire"
client_secret = "secret-de-test"
server_metadata_url = "http://127.0.0.1:{idp_port}/.well-known/openid-configuration"

[observatoire]
gestionnaires = ["ana@caf.example"]
""", encoding="utf-8")
    env = {**os.environ, "OBSERVATOIRE_DB": str(db), "OBSERVATOIRE_HOME": str(tmp / "espace")}
    app = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(app_port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--secrets.files", str(secrets)],
        cwd=ROOT, env=env, stdout=open(ARTIFACTS / f"streamlit-oidc-{app_port}.log", "w"), stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration", idp)
        _wait(f"http://127.0.0.1:{app_port}/_stcore/health", app)
        yield f"http://127.0.0.1:{app_port}"
    finally:
        for proc in (app, idp):
            proc.terminate()
            proc.wait(timeout=10)


def _sign_in(browser, url: str, sub: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{url}/connexion")
    page.get_by_role("heading", name="Espace gestionnaire").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="Se connecter (OpenID Connect)").click()
    page.get_by_role("heading", name="Authorize Client").wait_for(timeout=30_000)  # the provider's page
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=30_000)
    page.get_by_role("link", name="Accueil").wait_for(timeout=60_000)
    wait_for_app(page)
    return context, page


def test_a_listed_e_mail_is_a_manager_and_another_is_not(oidc_app, browser):
    context, page = _sign_in(browser, oidc_app, "ana")
    try:
        page.get_by_role("link", name="Gérer les données").wait_for(timeout=30_000)
        page.get_by_role("link", name="Gérer les données").click()
        page.get_by_role("heading", name="Gérer les données").wait_for(timeout=30_000)
        wait_for_app(page)
        assert page.get_by_text("ana@caf.example").count() >= 1
        assert page.locator("[data-testid='stFileUploader']").count() == 1
        screenshot(page, "oidc-gestionnaire")
    finally:
        context.close()
    context, page = _sign_in(browser, oidc_app, "bob")
    try:
        page.goto(f"{oidc_app}/connexion")
        page.get_by_text("n'est pas parmi les gestionnaires").wait_for(timeout=30_000)
        assert page.get_by_role("link", name="Gérer les données").count() == 0
        page.goto(f"{oidc_app}/gerer-donnees")
        wait_for_app(page)
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        screenshot(page, "oidc-non-gestionnaire")
    finally:
        context.close()
