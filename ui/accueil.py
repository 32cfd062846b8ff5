"""The home page's maps, built once per territory and database version and shared by every session.

Building a plotly map (its print version is only a description, drawn when an export is clicked) is
the dearest part of a home-page run: about 0.3 s of CPU for a département with an EPCI selected, paid on every filter
change by every user. `st.cache_resource` keeps one copy of each figure for the whole server (not one
per session, and not unpickled per hit as `st.cache_data` would): the pages only read the figures
(`st.plotly_chart` and the exports copy them), so sharing is safe. Entries are bounded so memory is.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from export.maps import print_choropleth
from query import territoires as territoires_reads
from ui import data, maps
from ui.figures import shares_figures

#: Every département fits (101); an EPCI map holds its communes' contours, hence a tighter bound.
MAX_DEPARTEMENT_MAPS, MAX_EPCI_MAPS = 128, 64


@st.cache_resource(show_spinner=False, max_entries=MAX_DEPARTEMENT_MAPS)
@shares_figures
def epci_maps(db_version: str, departement: str) -> tuple[go.Figure, go.Figure]:
    """(on-screen map, print map) of the population of the EPCI touching `departement`."""
    epcis = data.read(territoires_reads.epci_of_departement, db_version, departement)
    geojson = data.geojson(db_version, "epci", departement)
    screen = maps.choropleth(
        epcis, geojson, key="siren", color="population", hover_name="nom",
        hover_data={"siren": False, "nature": True, "nb_communes": True, "population": ":,.0f"},
        labels={"population": "Population (hab.)", "nature": "Nature", "nb_communes": "Communes"})
    printed = print_choropleth(epcis, geojson, "siren", "population", "Population municipale (hab.)", "nom",
                               departement=departement)
    return screen, printed


@st.cache_resource(show_spinner=False, max_entries=MAX_EPCI_MAPS)
@shares_figures
def commune_maps(db_version: str, siren_epci: str) -> tuple[go.Figure, go.Figure]:
    """(on-screen map, print map) of the population of the member communes of `siren_epci`."""
    members = data.read(territoires_reads.communes, db_version, siren_epci=siren_epci)
    geojson = data.geojson(db_version, "communes", None, siren_epci)
    screen = maps.choropleth(
        members, geojson, key="code_insee", color="population", hover_name="nom",
        hover_data={"code_insee": True, "population": ":,.0f"},
        labels={"population": "Population (hab.)", "code_insee": "Code INSEE"}, height=480)
    printed = print_choropleth(members, geojson, "code_insee", "population", "Population municipale (hab.)",
                               "nom")
    return screen, printed
