"""Observatoire territorial — entry point: navigation, first-start build, shared territory selector."""

import streamlit as st

from ui import bootstrap, state

st.set_page_config(page_title="Observatoire territorial", page_icon=":material/map:", layout="wide")

bootstrap.ensure_database()

pages = {
    "Observatoire": [
        st.Page("pages/accueil.py", title="Accueil", icon=":material/home:", default=True, url_path="accueil"),
    ],
    "Données": [
        st.Page("pages/a_propos.py", title="À propos des données", icon=":material/menu_book:", url_path="a-propos"),
    ],
}
navigation = st.navigation(pages)
with bootstrap.timed_run(navigation.url_path or "accueil"):
    st.session_state["territoire"] = state.territory_selector()
    navigation.run()
    state.share_link()
