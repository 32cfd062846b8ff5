"""French number and date formats: `1 234,5`, `12,3 %`, `27/11/2026`."""

from __future__ import annotations

import datetime as dt
import math

NBSP = "\u202f"  # narrow no-break space, the French thousands separator


def nombre(value, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    try:
        import pandas as pd
        if pd.isna(value):
            return "—"
    except (TypeError, ValueError):
        pass
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", NBSP)


def pourcentage(value, decimals: int = 1) -> str:
    return "—" if value is None else f"{nombre(value * 100, decimals)}{NBSP}%"


def date(value: dt.date | dt.datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


#: plotly `layout.separators`: decimal comma, thin space for thousands.
PLOTLY_SEPARATORS = ", "
