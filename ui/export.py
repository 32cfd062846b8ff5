"""Download buttons for every table (CSV, XLSX) and every chart or map (PNG, SVG, PDF).

Images are rendered only when the button is clicked (deferred callable), so pages stay fast.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from export import figures, tables
from export.meta import ExportMeta
from ui import data

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_downloads(frame: pd.DataFrame, meta: ExportMeta, key: str) -> None:
    stem = meta.file_stem()
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("CSV", lambda: tables.to_csv(frame, meta), file_name=f"{stem}.csv",
                         mime="text/csv", key=f"{key}_csv", icon=":material/download:",
                         on_click="ignore", help="CSV UTF-8, séparateur « ; », en-tête sources et filtres")
    right.download_button("XLSX", lambda: tables.to_xlsx(frame, meta), file_name=f"{stem}.xlsx",
                          mime=XLSX, key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")


def figure_downloads(figure: go.Figure, meta: ExportMeta, key: str,
                     print_figure: go.Figure | Callable[[], go.Figure] | None = None) -> None:
    """`print_figure` replaces the on-screen figure in exports (maps: an `export.printmap.PrintMap`,
    drawn in Lambert-93 with its surroundings read from the database); it may be a callable building
    it, then called only when a button is clicked (a print map is dear)."""
    stem = meta.file_stem()

    def source() -> go.Figure:
        if print_figure is None:
            return figure
        return print_figure() if callable(print_figure) else print_figure

    columns = st.columns([1, 1, 1, 3])
    for column, fmt in zip(columns, ("png", "svg", "pdf")):
        column.download_button(
            fmt.upper(),
            lambda fmt=fmt: figures.render(source(), meta, fmt, db=data.database()),
            file_name=f"{stem}.{fmt}",
            mime=figures.FORMATS[fmt],
            key=f"{key}_{fmt}",
            icon=":material/image:",
            on_click="ignore",
            help=f"Image {fmt.upper()} avec titre, source et date ; texte alternatif : {figures.alt_text(meta)[:200]}",
        )
