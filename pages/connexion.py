import streamlit as st

from etl.inputs import accounts
from ui import auth, state

state.territory()

st.title("Espace gestionnaire")
st.markdown("La consultation du tableau de bord ne demande aucun compte. Les **gestionnaires de données** "
            "de l'observatoire se connectent ici pour publier des fichiers, voir le journal des publications "
            "et revenir à une version précédente.")

manager = auth.current_manager()
if manager and st.session_state.pop("_connexion_vers_gestion", False):
    st.switch_page("pages/gerer-donnees.py")
if manager:
    st.success(f"Connecté en tant que **{manager}**.", icon=":material/verified_user:")
    if st.button("Gérer les données", icon=":material/upload_file:", type="primary"):
        st.switch_page("pages/gerer-donnees.py")
    if st.button("Se déconnecter", icon=":material/logout:"):
        auth.sign_out()
        st.rerun()
    st.stop()

if auth.oidc_configured():
    st.subheader("Connexion avec le compte de votre organisme")
    if st.button("Se connecter (OpenID Connect)", icon=":material/login:", type="primary"):
        st.login()
    claims = auth.oidc_user()
    if claims is not None:
        st.warning(f"Connecté comme {claims.get('email') or claims.get('sub')}, qui n'est pas parmi les "
                   "gestionnaires déclarés (`[observatoire] gestionnaires` ou `groupes_gestionnaires` dans "
                   "`.streamlit/secrets.toml`).", icon=":material/person_off:")

users = accounts.users()
st.subheader("Compte local")
if not users:
    st.info("Aucun compte local n'existe : il n'y a pas de mot de passe par défaut. Sur le serveur, créer un "
            "compte de gestionnaire avec\n\n`python -m etl admin add-user NOM`\n\n(le mot de passe est demandé ; "
            f"fichier des comptes : `{accounts.accounts_path()}`).", icon=":material/person_add:")
else:
    with st.form("connexion_locale"):
        user = st.text_input("Identifiant")
        password = st.text_input("Mot de passe", type="password")
        submitted = st.form_submit_button("Se connecter", icon=":material/login:")
    if submitted:
        error = auth.sign_in_local(user, password)
        if error:
            st.error(error, icon=":material/error:")
        else:  # the next run's navigation holds the management page
            st.session_state["_connexion_vers_gestion"] = True
            st.rerun()
    st.caption(f"{accounts.MAX_FAILURES} essais manqués verrouillent le compte {accounts.LOCK_SECONDS // 60} min ; "
               f"la session expire après {auth.SESSION_SECONDS // 3600} h.")
