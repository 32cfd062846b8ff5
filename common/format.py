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


#: How a masked cell is shown in an on-screen table (never an empty « None »), and its legend.
SECRET_MARK = "secret"
SECRET_LEGEND = (
    "« secret » : cellule masquée par le secret statistique (1 à 10 personnes, ou cellule qui "
    "permettrait de les retrouver par différence)."
)


def with_secret_marks(frame, columns, decimals: int = 0, rows=None):
    """Copy of `frame` for display where the masked cells of `columns` read « secret » and the
    others are French-formatted numbers (text columns: the table is for reading; exports keep numbers).
    `rows` (boolean) limits the marking to rows that do publish people (others keep « — »)."""
    import pandas as pd

    out = frame.copy()
    mark_rows = pd.Series(True, index=out.index) if rows is None else pd.Series(rows, index=out.index)
    for column in columns:
        if column not in out:
            continue
        values = pd.to_numeric(out[column], errors="coerce")
        text = values.map(lambda v: nombre(v, decimals))
        out[column] = text.where(values.notna() | ~mark_rows, SECRET_MARK).where(values.notna() | mark_rows, "—")
    return out
