"""Only managers reach « Gérer les données »: the navigation hides it, and the page checks the role
itself on every run — a session that runs its script directly (AppTest) or asks for it over the
websocket by its page hash (a crafted client) gets the refusal, never the uploader."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from bench.load_ws import ProtocolSession
from etl import accounts
from tests.conftest import ROOT, run_async, start_app
from ui import auth

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def home(tmp_path, monkeypatch, small_db_path):
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(tmp_path / "espace"))
    monkeypatch.setenv("OBSERVATOIRE_DB", str(small_db_path))
    monkeypatch.chdir(ROOT)
    return tmp_path / "espace"


def _app(page: str | None = None) -> AppTest:
    return AppTest.from_file(str(ROOT / (page or "app.py")), default_timeout=120)


def test_the_management_page_run_directly_refuses_a_viewer(home):
    at = _app("pages/gerer-donnees.py")
    at.run()
    assert not at.exception
    assert any("réservée aux gestionnaires" in e.value for e in at.error)
    assert not at.get("file_uploader") and not at.button


def test_without_any_account_the_sign_in_page_says_how_to_create_one(home):
    at = _app()
    at.run()
    at.switch_page("pages/connexion.py")
    at.run()
    assert any("python -m etl admin add-user" in i.value for i in at.info)
    assert not at.text_input  # no form, hence no default password to try


def test_a_local_manager_signs_in_and_gets_the_page(home):
    accounts.add_user("ana", PASSWORD, home / "comptes.json")
    at = _app()
    at.run()
    at.switch_page("pages/connexion.py")
    at.run()
    at.text_input[0].input("ana")
    at.text_input[1].input("faux mot de passe")
    at.button[0].click()
    at.run()
    assert any("incorrect" in e.value for e in at.error)
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Gérer les données"]
    assert at.get("file_uploader")


def test_a_signed_in_session_expires(home, monkeypatch):
    accounts.add_user("ana", PASSWORD, home / "comptes.json")
    monkeypatch.setattr(auth, "SESSION_SECONDS", -1)  # already over when it starts
    at = _app()
    at.run()
    at.switch_page("pages/connexion.py")
    at.run()
    at.text_input[0].input("ana")
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    at.run()
    assert [t.value for t in at.title] == ["Espace gestionnaire"]


# -- OIDC, through Streamlit's own testing hook for st.user ----------------------------------------

SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                    "client_id": "observatoire", "client_secret": "s",
                    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"},
           "observatoire": {"gestionnaires": ["ana@caf.example"], "groupes_gestionnaires": ["obs-gestion"]}}


@pytest.mark.parametrize("claims, manager", [
    ({"email": "ana@caf.example"}, True),
    ({"email": "ANA@caf.example"}, True),
    ({"email": "ana@caf.example", "email_verified": False}, False),
    ({"email": "bob@caf.example", "groups": ["obs-gestion"]}, True),
    ({"email": "bob@caf.example", "groups": ["autre"]}, False),
])
def test_oidc_managers_are_the_listed_e_mails_or_groups(home, claims, manager):
    # a manager through the app's navigation; anyone else by running the page's script directly
    at = _app() if manager else _app("pages/gerer-donnees.py")
    for key, value in SECRETS.items():
        at.secrets[key] = value
    at.user.update({"is_logged_in": True, **claims})
    at.run()
    if manager:
        at.switch_page("pages/gerer-donnees.py")
        at.run()
    assert not at.exception
    assert bool(at.get("file_uploader")) is manager
    assert any("réservée aux gestionnaires" in e.value for e in at.error) is not manager


def test_without_oidc_configuration_a_logged_in_claim_is_ignored(home):
    at = _app("pages/gerer-donnees.py")
    at.user.update({"is_logged_in": True, "email": "ana@caf.example"})
    at.run()
    assert not at.get("file_uploader")


# -- a crafted websocket client ---------------------------------------------------------------------

def test_a_crafted_websocket_session_asking_for_the_page_hash_gets_nothing(home, small_db_path):
    from streamlit.util import calc_hash
    page_hash = calc_hash("gerer-donnees")  # what st.Page(url_path="gerer-donnees") is known by
    proc, url = start_app(small_db_path, {"OBSERVATOIRE_HOME": str(home)})

    async def crafted() -> list[str]:
        async with ProtocolSession(url) as session:
            await session.open("connexion")
            assert "gerer-donnees" not in session.pages  # not in a viewer's navigation
            # ask for the page's script by the hash Streamlit gives `url_path="gerer-donnees"`
            session.page_hash = page_hash
            session.page_path = "gerer-donnees"
            result = await session._rerun("forged", page_hash=page_hash,
                                          page_name="gerer-donnees")
            assert not result.exceptions
            return session.texts

    try:
        texts = run_async(crafted())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert texts  # the session did get a page (the default one)
    assert not any("Gérer les données" in t for t in texts)
    assert not any("Fichiers à publier" in t for t in texts)


def test_the_page_refuses_a_second_publication_while_one_runs(home):
    from common.store import Store
    accounts.add_user("ana", PASSWORD, home / "comptes.json")
    at = _app()
    at.run()
    at.switch_page("pages/connexion.py")
    at.run()
    at.text_input[0].input("ana")
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not any("publication est en cours" in w.value for w in at.warning)
    with Store(home).ensure().lock():  # another publication holds the lock
        at.switch_page("pages/gerer-donnees.py")
        at.run()
        assert any("Une publication est en cours" in w.value for w in at.warning), (
            [t.value for t in at.title],
            [w.value for w in at.warning],
            [e.value for e in at.exception],
        )
        publier = next(b for b in at.button if b.label == "Publier")
        assert publier.disabled


def test_a_manager_withdraws_a_published_file_from_the_page(home, tmp_path, monkeypatch):
    """« Retirer et republier » starts `python -m etl publish --withdraw` in its own process."""
    import time

    from common.store import REUSSIE, Store
    from etl import build, publish
    db = tmp_path / "servie.duckdb"
    build.build(db, ["33"])
    monkeypatch.setenv("OBSERVATOIRE_DB", str(db))
    store = Store(home).ensure()
    registry = ROOT / "tests" / "fixtures" / "publication" / "ctg_registre_gironde_essai.csv"
    publish.publish(db, [(registry.name, registry.read_bytes())], who="ana", store=store)
    published = publish.table_checksums(db.resolve())
    accounts.add_user("ana", PASSWORD, home / "comptes.json")
    at = _app()
    at.run()
    at.switch_page("pages/connexion.py")
    at.run()
    at.text_input[0].input("ana")
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    at.run()
    at.switch_page("pages/gerer-donnees.py")
    at.run()
    at.multiselect(key="gerer_retirer").select(registry.name)
    at.run()
    at.button(key="gerer_retirer_bouton").click()
    at.run()
    deadline = time.time() + 90
    while time.time() < deadline and not (store.rows()[-1]["action"] == "retrait"
                                          and store.rows()[-1]["status"] == REUSSIE):
        time.sleep(0.5)
    last = store.rows()[-1]
    assert last["action"] == "retrait" and last["status"] == REUSSIE and last["who"] == "ana"
    assert last["files_withdrawn"][0]["name"] == registry.name
    assert publish.table_checksums(db.resolve()) != published
