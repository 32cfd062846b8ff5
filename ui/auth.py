"""Who is a data manager: Streamlit's OIDC login (real deployments) or local accounts (standalone).

Viewers never sign in. A manager is:

- signed in with `st.login()` (OIDC, `[auth]` in `.streamlit/secrets.toml`) and listed in
  `[observatoire]`: `gestionnaires = ["ana@caf.fr", …]` (e-mail claim) or `groupes_gestionnaires =
  ["observatoire-gestion"]` matched against the claim named `claim_groupes` (default `groups`);
- or signed in with a local account of `etl/accounts.py` (`python -m etl admin add-user NAME`);
  the session expires after `SESSION_SECONDS` (`OBSERVATOIRE_SESSION_MINUTES`) and is checked again
  on every run (an account removed from the file is signed out at once).

Every management page calls `require_manager()` itself, on every run: being absent from the
navigation is not the protection, the check is.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from etl.inputs import accounts

_SESSION_KEY = "_observatoire_gestionnaire"  # set only by this module, never a widget key


def session_seconds() -> int:
    minutes = os.environ.get("OBSERVATOIRE_SESSION_MINUTES", "")
    return int(minutes) * 60 if minutes.isdigit() and int(minutes) > 0 else 8 * 3600


#: How long a local sign-in lasts (default 8 h, a working day).
SESSION_SECONDS = session_seconds()


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}))
    except Exception:  # noqa: BLE001 - no secrets.toml at all: nothing configured
        return {}


def oidc_configured() -> bool:
    return bool(_secrets_section("auth"))


def managers_config() -> dict:
    section = _secrets_section("observatoire")
    return {"emails": {str(e).strip().lower() for e in section.get("gestionnaires", [])},
            "groups": {str(g) for g in section.get("groupes_gestionnaires", [])},
            "claim": str(section.get("claim_groupes", "groups"))}


def is_oidc_manager(claims: dict, config: dict) -> bool:
    """Pure rule: the e-mail is listed, or one of the groups of the configured claim is."""
    email = str(claims.get("email") or "").strip().lower()
    if email and email in config["emails"] and claims.get("email_verified", True) is not False:
        return True
    groups = claims.get(config["claim"]) or []
    groups = [groups] if isinstance(groups, str) else list(groups)
    return bool(config["groups"] & {str(g) for g in groups})


def oidc_user() -> dict | None:
    if not oidc_configured():
        return None
    try:
        user = st.user
        if not user.is_logged_in:
            return None
        return dict(user)
    except Exception:  # noqa: BLE001 - st.user unavailable (old Streamlit, no auth extra)
        return None


def current_manager() -> str | None:
    """The signed-in manager's name (e-mail for OIDC), or None for a viewer."""
    claims = oidc_user()
    if claims is not None and is_oidc_manager(claims, managers_config()):
        return str(claims.get("email") or claims.get("sub"))
    local = st.session_state.get(_SESSION_KEY)
    if not isinstance(local, dict):
        return None
    if local.get("expires", 0) <= time.time() or local.get("user") not in accounts.users():
        st.session_state.pop(_SESSION_KEY, None)
        return None
    return local["user"]


def require_manager() -> str:
    user = current_manager()
    if user is None:
        st.error("Page réservée aux gestionnaires de données : se connecter depuis « Espace gestionnaire ».",
                 icon=":material/lock:")
        st.stop()
    return user


def sign_in_local(user: str, password: str) -> str | None:
    """None when signed in, else the message to show (wrong password, locked account)."""
    try:
        ok = accounts.verify(user.strip(), password)
    except accounts.AccountLocked as exc:
        return str(exc)
    if not ok:
        return "identifiant ou mot de passe incorrect"
    st.session_state[_SESSION_KEY] = {"user": user.strip(), "expires": time.time() + SESSION_SECONDS}
    return None


def sign_out() -> None:
    st.session_state.pop(_SESSION_KEY, None)
    if oidc_user() is not None:
        st.logout()
