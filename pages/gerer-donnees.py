import streamlit as st

from ui import auth, gerer, state

manager = auth.require_manager()  # on every run: the navigation is not the protection
state.territory()

st.title("Gérer les données")
st.caption(f"Connecté : **{manager}**. Chaque publication est vérifiée, construite dans un processus séparé, "
           "journalisée, et la base servie n'est remplacée qu'une fois la nouvelle complète et contrôlée ; les "
           "versions précédentes restent disponibles pour y revenir.")
gerer.progress_panel()
publier, fichiers, historique = st.tabs(["Publier", "Fichiers publiés", "Journal et retour arrière"])
with publier:
    gerer.publish_section(manager)
with fichiers:
    gerer.published_section(manager)
with historique:
    gerer.journal_section(manager)
