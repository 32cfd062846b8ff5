"""Observatoire territorial — entry point: navigation, first-start build, shared territory selector."""

import streamlit as st

from ui import auth, bootstrap, state

st.set_page_config(page_title="Observatoire territorial", page_icon=":material/map:", layout="wide")

bootstrap.ensure_database()

pages = {
    "Observatoire": [
        st.Page("pages/accueil.py", title="Accueil", icon=":material/home:", default=True,
                url_path="accueil"),
        st.Page("pages/fragilite.py", title="Fragilité des retraités", icon=":material/elderly:",
                url_path="fragilite"),
        st.Page("pages/cfppa.py", title="Financements CFPPA", icon=":material/savings:", url_path="cfppa"),
        st.Page("pages/ctg.py", title="Couverture CTG", icon=":material/handshake:", url_path="ctg"),
        st.Page("pages/portrait.py", title="Portrait de territoire", icon=":material/query_stats:",
                url_path="portrait"),
        st.Page("pages/aide-domicile.py", title="Aide à domicile", icon=":material/home_health:",
                url_path="aide-domicile"),
    ],
    "Données": [
        st.Page("pages/a-propos.py", title="À propos des données", icon=":material/menu_book:",
                url_path="a-propos"),
        st.Page("pages/verifier.py", title="Vérifier un fichier", icon=":material/fact_check:", url_path="verifier"),
    ],
}
# « Gérer les données » exists only for a signed-in manager (ui/auth.py); the page checks again itself.
if auth.current_manager():
    pages["Données"].append(st.Page("pages/gerer-donnees.py", title="Gérer les données", icon=":material/upload_file:",
                                    url_path="gerer-donnees"))
pages["Données"].append(st.Page("pages/connexion.py", title="Espace gestionnaire", icon=":material/login:",
                                url_path="connexion"))
navigation = st.navigation(pages)
with bootstrap.timed_run(navigation.url_path or "accueil"):
    st.session_state["territoire"] = state.territory_selector()
    navigation.run()
    state.share_link()
