"""Shared machinery of the INSEE readers: official file declarations, header rows found by their
key column (INSEE sheets carry 4 to 6 title rows), zips whose inner name varies by year, numeric
columns with suppressed cells, codes as TEXT.

Each format module (`etl/insee/cog.py`, `epci.py`, `rp.py`, `filosofi.py`,
`petite_enfance.py`, `caf.py`) declares its `OfficialFormat`s and exposes `read(path)`.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from etl import readers
from etl.common import compact
from etl.contract import Format
from etl.errors import InputRejected, Problem

#: Cells INSEE leaves empty or marks when a figure is under its secrecy/quality threshold.
SUPPRESSED = {"", "s", "nd", "n.d.", "nc", "n.c.", "so", "//", "-", "secret"}

DATA_SUFFIXES = (".csv", ".txt", ".xls", ".xlsx")


#: An official file as its publisher ships it (the loader contract's declaration).
OfficialFormat = Format


def vintage_from_name(name: str) -> int | None:
    """The 4-digit year in an official file name (`base-cc-filosofi-2015.xls` → 2015)."""
    years = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", name)
    return int(years[-1]) if years else None


def unzip_member(path: Path, workdir: Path, prefer: str | None = None) -> Path:
    """The data file inside an official zip (inner names vary by year, sometimes in a folder):
    the member matching `prefer` (fnmatch on its base name) if any, else the largest data file;
    documentation files (`meta_*`, `doc*`, `*.pdf`) are skipped. A plain file is returned as is."""
    path = Path(path)
    if path.suffix.lower() != ".zip":
        return path
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist()
                       if m.lower().endswith(DATA_SUFFIXES) and not Path(m).name.lower().startswith(("meta", "doc"))]
            if not members:
                raise InputRejected([Problem(path.name, None, None, archive.namelist()[:5],
                                             "une archive contenant un fichier .xls, .xlsx ou .csv")])
            preferred = [m for m in members if prefer and fnmatch.fnmatch(Path(m).name.lower(), prefer.lower())]
            member = max(preferred or members, key=lambda m: archive.getinfo(m).file_size)
            target = workdir / Path(member).name
            target.write_bytes(archive.read(member))
            return target
    except zipfile.BadZipFile:
        raise InputRejected([Problem(path.name, None, None, "zip illisible", "une archive zip valide")]) from None


_norm = compact  # etl/common.py


def find_header_row(path: Path, sheet, key: str, max_rows: int = 15) -> int:
    """0-based row of the header of an Excel sheet: the first row holding `key` (e.g. CODGEO)."""
    head = pd.read_excel(path, sheet_name=sheet, header=None, nrows=max_rows, dtype=str)
    for index, row in head.iterrows():
        if any(_norm(v) == _norm(key) for v in row.tolist() if isinstance(v, str)):
            return int(index)
    raise InputRejected([Problem(Path(path).name, None, key, None,
                                 f"une ligne d'en-tête contenant {key} dans les {max_rows} premières "
                                 f"lignes de la feuille {sheet}")])


def sheet_names(path: Path) -> list[str]:
    try:
        return list(pd.ExcelFile(path).sheet_names)
    except Exception as exc:  # corrupt or truncated workbook
        raise InputRejected([Problem(Path(path).name, None, None, type(exc).__name__,
                                     "un classeur Excel lisible (fichier tronqué ?)")]) from exc


def read_official(path: Path, key: str = "CODGEO", sheet: str | int | None = None,
                  display_name: str | None = None, keep: str | None = None) -> pd.DataFrame:
    """Every cell as text, header found by `key` (Excel) or on the first line (CSV), column names
    upper-cased (the COG switched from lower- to upper-case headers in 2022)."""
    path = Path(path)
    if path.suffix.lower() in (".xls", ".xlsx", ".xlsm"):
        sheet = 0 if sheet is None else sheet
        frame = readers.read_table(path, sheet=sheet, header_row=find_header_row(path, sheet, key))
    else:
        frame = _read_csv_fast(path, keep=None if keep is None else f"(?i)^({key}|{keep})$")
    frame.columns = [str(c).strip().upper() for c in frame.columns]
    if display_name:
        frame.attrs["file"] = display_name
    if key.upper() not in frame.columns:
        raise InputRejected([Problem(frame.attrs.get("file", path.name), frame.attrs["first_row"] - 1,
                                     key, list(frame.columns)[:8], f"une colonne {key} dans l'en-tête")])
    return frame


def _read_csv_fast(path: Path, keep: str | None = None) -> pd.DataFrame:
    """A whole-France base-cc CSV (35 000 rows × 100+ columns) with pandas' C parser: every cell as
    stripped text, same attributes as `readers.read_table` (first_row, file)."""
    text, _ = readers.read_text(path)
    if not text.strip():
        raise InputRejected([Problem(Path(path).name, None, None, "", "un fichier non vide")])
    first_line = text.split("\n", 1)[0]
    sep = max(";,\t|", key=first_line.count)
    try:
        usecols = (lambda c: re.match(keep, str(c).strip()) is not None) if keep else None  # noqa: E731
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, engine="c",
                            usecols=usecols)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputRejected([Problem(Path(path).name, None, None, str(exc)[:200],
                                     "un CSV au nombre de colonnes constant (fichier tronqué ?)")]) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.loc[~(frame == "").all(axis=1)]
    frame.attrs["first_row"] = 2
    frame.attrs["file"] = Path(path).name
    return frame


def numeric(frame: pd.DataFrame, column: str, problems: list[Problem], allow_suppressed: bool = True
            ) -> pd.Series:
    """A numeric column: suppressed cells (`s`, blank, `nd`…) become NaN; anything else that is not
    a number is a problem (file, spreadsheet row, column, value). Vectorised."""
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce")  # fast path: plain numbers (INSEE CSV and xls)
    retry = values.isna() & (text != "")
    if retry.any():  # French numbers: `1 234,5`
        cleaned = text[retry].str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(",", ".", regex=False)
        values = values.astype(float)
        values[retry] = pd.to_numeric(cleaned, errors="coerce")
    suppressed = text.str.lower().isin(SUPPRESSED)
    bad = values.isna() & ~suppressed if allow_suppressed else values.isna()
    first = frame.attrs.get("first_row", 2)
    for position in np.flatnonzero(bad.to_numpy())[:50]:
        problems.append(Problem(frame.attrs.get("file", "?"), first + int(position), column,
                                text.iloc[position], "un nombre (ou « s » / vide si secret)"))
    return values.astype(float)


def codes(frame: pd.DataFrame, column: str, parser, expected: str, problems: list[Problem]) -> pd.Series:
    """A code column parsed as TEXT (leading zeros restored); bad codes are problems."""
    out = []
    first = frame.attrs.get("first_row", 2)
    for position, value in enumerate(frame[column].tolist()):
        try:
            out.append(parser(value))
        except (ValueError, TypeError):
            if len(problems) < 200:
                problems.append(Problem(frame.attrs.get("file", "?"), first + position, column, value, expected))
            out.append(None)
    return pd.Series(out, index=frame.index, dtype="object")


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InputRejected(problems)


def work_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="insee-")
