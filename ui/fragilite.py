"""Cached reads and view assembly for the fragility page (keyed by the build version and every
parameter: a filter change already seen is served from the cache)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from methods import fragilite as method
from query import fragilite as q
from ui import data

SECRET = "secret (< 11 retraités)"
NO_DATA = "pas de données"
NOT_PRIORITY = "non prioritaire"
PRIORITY = "prioritaire"
#: Colour-blind-safe classes (ColorBrewer YlOrRd for the rule, YlGnBu-like for quantiles), greys
#: for secret and missing.
RULE_COLOURS = dict(zip(method.RULE_CLASSES, ("#ffffcc", "#fd8d3c", "#bd0026")))
QUANTILE_PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#2c7fb8", "#253494")
GREYS = {SECRET: "#9e9e9e", NO_DATA: "#e0e0e0"}


@st.cache_data(show_spinner=False)
def millesimes(version: str) -> list[int]:
    return q.millesimes(data.database())


@st.cache_data(show_spinner=False)
def has_detail(version: str, millesime: int) -> bool:
    return q.has_detail(data.database(), millesime)


@st.cache_data(show_spinner=False)
def action_years(version: str) -> list[int]:
    return q.action_years(data.database())


@st.cache_data(show_spinner=False)
def sources(version: str) -> pd.DataFrame:
    return pd.concat([q.sources(data.database()), q.action_sources(data.database())], ignore_index=True)


@st.cache_data(show_spinner=False)
def references(version: str) -> pd.DataFrame:
    return q.references(data.database())


@st.cache_data(show_spinner=False)
def regions(version: str) -> dict[str, str]:
    return q.regions(data.database())


@st.cache_data(show_spinner=False, max_entries=64)
def assessed(version: str, level: str, millesime: int, edges: tuple, threshold: int, scope: str,
             code: str | None, years: tuple | None, params: method.Parameters) -> pd.DataFrame:
    """Territories of the reference scope with scores, reference statistics and flags, as the query
    layer publishes them (secret rows keep their code and name only)."""
    return q.assessed(data.database(), level, millesime, edges, threshold, scope, code, years, params)


def classes(frame: pd.DataFrame, mode: str, only_priority: bool) -> tuple[pd.Series, dict[str, str]]:
    """Map class per row and the legend (class → colour), secret and missing in grey."""
    score = pd.to_numeric(frame["score_moyen"], errors="coerce")
    if only_priority:
        cls = np.where(frame["prioritaire"].fillna(False).astype(bool), PRIORITY, NOT_PRIORITY).astype(object)
        legend = {PRIORITY: "#bd0026", NOT_PRIORITY: "#f7f7f7"}
    elif mode == "regle":
        cls = method.rule_classes(score, frame["ref_moyenne"].to_numpy(dtype=float),
                                  frame["ref_seuil"].to_numpy(dtype=float))
        legend = dict(RULE_COLOURS)
    else:
        cls, labels = method.quantile_classes(score, 5)
        legend = dict(zip(labels, QUANTILE_PALETTE[-len(labels):] if len(labels) < 5 else QUANTILE_PALETTE))
    cls = pd.Series(cls, index=frame.index, dtype=object)
    cls[frame["secret"]] = SECRET
    cls[frame["sans_donnees"]] = NO_DATA
    legend.update(GREYS)
    return cls, legend


def flags_text(frame: pd.DataFrame, actions_max: int) -> pd.Series:
    parts = [("fragile", "fragile"), ("concentration", "> seuil 60 ans et +"),
             ("moins_de_n_actions", f"< {actions_max} actions"), ("prioritaire", "PRIORITAIRE")]
    def row_text(row):
        if row["secret"]:
            return "secret statistique"
        return " · ".join(label for col, label in parts if row[col] is True or row[col] == 1) or "—"
    return frame.apply(row_text, axis=1)
