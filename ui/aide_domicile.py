"""Cached reads and export helpers for the "Aide à domicile" page (keyed by the database version)."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from query import aide_domicile as q
from ui.data import database

#: Colour-blind-safe qualitative palette (Okabe & Ito, 2008).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@st.cache_data(show_spinner=False)
def paniers_suivi(db_version: str) -> pd.DataFrame:
    return q.paniers_suivi(database())


@st.cache_data(show_spinner=False)
def paniers_attribues(db_version: str) -> pd.DataFrame:
    return q.paniers_attribues(database())


@st.cache_data(show_spinner=False)
def paniers_reperes(db_version: str) -> pd.DataFrame:
    return q.paniers_reperes(database())


@st.cache_data(show_spinner=False)
def cpom_regles(db_version: str) -> pd.DataFrame:
    return q.cpom_regles(database())


@st.cache_data(show_spinner=False)
def saad_catalogue(db_version: str) -> pd.DataFrame:
    return q.saad_catalogue(database())


@st.cache_data(show_spinner=False)
def saad_reperes(db_version: str) -> pd.DataFrame:
    return q.saad_reperes(database())


@st.cache_data(show_spinner=False)
def saad_services(db_version: str, departement: str, siren_epci: str | None) -> pd.DataFrame:
    return q.saad_services(database(), departement, siren_epci)


@st.cache_data(show_spinner=False)
def saad_periodes(db_version: str, departement: str, periodicite: str | None) -> list[str]:
    return q.saad_periodes(database(), departement, periodicite)


@st.cache_data(show_spinner=False)
def saad_valeurs(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_valeurs(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_recettes(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_recettes_par_financeur(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_prix(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_prix_de_revient(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_serie(db_version: str, departement: str, siren_epci: str | None, indicateur: int) -> pd.DataFrame:
    return q.saad_serie(database(), departement, siren_epci, indicateur)


@st.cache_data(show_spinner=False)
def source_labels(db_version: str, keys: tuple[str, ...]) -> pd.DataFrame:
    return q.source_labels(database(), list(keys))


# -- exports -------------------------------------------------------------------------------------------------

def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: UTF-8 with BOM, `;` separator, decimal comma."""
    return frame.to_csv(sep=";", index=False, decimal=",").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "données") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def export_buttons(frame: pd.DataFrame, name: str, key: str, label: str = "") -> None:
    """Two download buttons (CSV ; UTF-8 BOM, XLSX) for a table exactly as shown (secret cells empty)."""
    suffix = f" — {label}" if label else ""
    left, right, _ = st.columns([1, 1, 2])
    left.download_button(f"CSV{suffix}", csv_bytes(frame), f"{name}.csv", "text/csv", key=f"{key}_csv",
                         icon=":material/download:")
    right.download_button(f"XLSX{suffix}", xlsx_bytes(frame), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", icon=":material/download:")


def with_secret(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Display copy: counts in French format, masked cells written "secret" (exports keep them empty)."""
    from ui.format import nombre
    out = frame.copy()
    for column in columns:
        out[column] = [("secret" if pd.isna(v) else nombre(v)) for v in out[column]]
    return out


def source_caption(labels: pd.DataFrame, keys: list[str], extra: str = "") -> str:
    shown = labels[labels["source"].isin(keys)]
    parts = [f"{r.name} ({r.publisher}{', ' + r.vintage if r.vintage else ''})" for r in shown.itertuples()]
    return "Source : " + " ; ".join(parts) + (f". {extra}" if extra else "")
