"""Tables to CSV (UTF-8 with BOM, `;`, decimal comma: what French spreadsheets open directly) and
XLSX (a data sheet with the header block above the table, plus a "Sources" sheet)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from export.meta import ExportMeta
from methods.secret import assert_no_small_cells


def _checked(frame: pd.DataFrame, meta: ExportMeta) -> pd.DataFrame:
    for column in meta.count_columns:
        if column in frame:
            assert_no_small_cells(frame, column)
    return frame


def _french(value):
    if isinstance(value, float):
        return "" if pd.isna(value) else repr(value).replace(".", ",")
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return value


def to_csv(frame: pd.DataFrame, meta: ExportMeta) -> bytes:
    """Header block as `# key;value` lines, a blank line, then the table."""
    frame = _checked(frame, meta)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for key, value in meta.lines():
        writer.writerow([f"# {key}", value])
    writer.writerow([])
    writer.writerow([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow([_french(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def read_csv_export(data: bytes) -> tuple[dict[str, str], pd.DataFrame]:
    """The inverse of `to_csv` (used by tests and by anyone re-loading an export)."""
    text = data.decode("utf-8-sig")
    head, _, body = text.partition("\r\n\r\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(";")
        meta.setdefault(key.removeprefix("# "), value)
    return meta, pd.read_csv(io.StringIO(body), sep=";", dtype=str, keep_default_na=False)


def to_xlsx(frames: dict[str, pd.DataFrame] | pd.DataFrame, meta: ExportMeta) -> bytes:
    """One sheet per frame (header block, blank row, table) and a "Sources" sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if isinstance(frames, pd.DataFrame):
        frames = {"Données": frames}
    book = Workbook()
    book.remove(book.active)
    for name, frame in frames.items():
        frame = _checked(frame, meta)
        sheet = book.create_sheet(name[:31])
        for key, value in meta.lines():
            sheet.append([key, value])
            sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append([])
        sheet.append([str(c) for c in frame.columns])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([None if (not isinstance(v, (list, tuple)) and pd.isna(v)) else v for v in row])
        sheet.freeze_panes = sheet.cell(header_row + 1, 1)
        for i, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)]) + 2
            sheet.column_dimensions[get_column_letter(i)].width = min(60, width)
    sources = book.create_sheet("Sources")
    for key, value in meta.lines():
        sources.append([key, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
