"""The territory selection shared by every page, kept in the URL query string.

`?dep=35&epci=243500139` reproduces the view: values are validated against the reference before
use (an unknown code falls back to the default, it never reaches SQL unchecked).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from common.format import nombre
from query import territoires as territoires_reads
from ui import data

DEFAULT_DEPARTEMENT = "35"
ALL = ""  # "tout le département"


@dataclass(frozen=True)
class Territory:
    departement: str
    departement_nom: str
    epci: str | None
    epci_nom: str | None

    @property
    def label(self) -> str:
        return self.epci_nom or f"{self.departement_nom} ({self.departement})"


def _sync(key: str, allowed: list[str], default: str) -> None:
    """Initialise a widget's state from the URL (if valid) or keep the session's choice."""
    from_url = st.query_params.get(key)
    if key not in st.session_state or (from_url is not None and from_url != st.session_state[key]
                                       and st.session_state.get(f"_{key}_url") != from_url):
        st.session_state[key] = from_url if from_url in allowed else default
        st.session_state[f"_{key}_url"] = from_url
    if st.session_state[key] not in allowed:
        st.session_state[key] = default


def territory_selector() -> Territory:
    """Sidebar selector (département, then EPCI or the whole département)."""
    version = data.version()
    deps = data.read(territoires_reads.departements, version)
    codes = deps["code"].tolist()
    names = dict(zip(deps["code"], deps["nom"]))
    default = DEFAULT_DEPARTEMENT if DEFAULT_DEPARTEMENT in codes else codes[0]
    _sync("dep", codes, default)
    dep = st.sidebar.selectbox("Département", codes, key="dep",
                               format_func=lambda c: f"{c} — {names[c]}")
    epcis = data.read(territoires_reads.epci_of_departement, version, dep)
    epci_names = dict(zip(epcis["siren"], epcis["nom"]))
    # labels computed once: format_func runs for every option on every run of every session
    labels = {ALL: "Tout le département"} | {
        siren: f"{nom} ({nombre(population)} hab.)"
        for siren, nom, population in zip(epcis["siren"], epcis["nom"], epcis["population"])}
    options = [ALL, *epcis["siren"].tolist()]
    _sync("epci", options, ALL)
    epci = st.sidebar.selectbox("EPCI", options, key="epci", format_func=labels.__getitem__)
    st.query_params["dep"] = dep
    if epci:
        st.query_params["epci"] = epci
    elif "epci" in st.query_params:
        del st.query_params["epci"]
    st.session_state["_dep_url"] = dep
    st.session_state["_epci_url"] = epci or None
    return Territory(dep, names[dep], epci or None, epci_names.get(epci))


def share_link() -> None:
    """"Copier le lien": the current view's URL (territory, filters, date) with a copy button."""
    from urllib.parse import urlencode
    base = (st.context.url or "").split("?")[0]
    query = urlencode(st.query_params.to_dict())
    # Drawn only once opened: `st.code` makes every page's first visit fetch Streamlit's 1.6 MB
    # syntax-highlighting bundle, for a box most visits never open.
    box = st.sidebar.expander("Copier le lien de cette vue", icon=":material/link:", key="lien_vue",
                              on_change="rerun")
    if box.open:
        with box:
            st.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)
            st.caption("Ce lien rouvre la même vue : territoire, filtres, date.")


def territory() -> Territory:
    """The shared selection, for pages. On the very first request of a fresh server Streamlit may
    run a `pages/` file directly (its legacy pages-folder mode, before `app.py` has declared the
    navigation): switch that mode off and rerun, so `app.py` runs and the selector exists."""
    if "territoire" not in st.session_state:
        from streamlit.runtime.pages_manager import PagesManager
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["territoire"]
