import streamlit as st

from query import territoires as territoires_reads
from ui import aide_domicile_cpom, aide_domicile_paniers, aide_domicile_saad, data, state

# Figures, method results and tables come built once per (territory, filters) and shared by every
# session (ui.aide_domicile): this page reads them and never mutates them.
territoire = state.territory()
version = data.version()
labels = data.read(territoires_reads.sources, version, shared=True)


st.title("Aide à domicile")
st.caption("Paniers de services des caisses de retraite, CPOM et forfait global négocié des services d'aide "
           "et d'accompagnement à domicile (SAAD), indicateurs clés de pilotage d'un SAAD.")

# The paniers and SAAD tabs run only when open (`.open`; the tab is kept in the URL). The CPOM
# simulator runs on every run: its two tables of hours and objectives are data editors, whose edits
# Streamlit forgets when the widget is not drawn in a run (every other input is in the URL).
tab_paniers, tab_cpom, tab_saad = st.tabs(
    ["Suivi des paniers de services", "Simulateur CPOM / forfait global", "Indicateurs SAAD"],
    key="aide_onglet", bind="query-params")

# == Paniers de services ==================================================================================
if tab_paniers.open:
    with tab_paniers:
        aide_domicile_paniers.render(version, territoire, labels)

# == Simulateur CPOM ======================================================================================
with tab_cpom:
    aide_domicile_cpom.render(version, territoire, labels)

# == Indicateurs SAAD =====================================================================================
if tab_saad.open:
    with tab_saad:
        aide_domicile_saad.render(version, territoire, labels)
