"""Reading the files people actually send: CSV in UTF-8/UTF-8-BOM/Latin-1/CP1252 with `,` `;` or tab,
XLSX/XLS sheets, French numbers (`12 345,67 €`, `14,9 %`), codes that lost their leading zero.

Every parser collects `Problem`s instead of stopping at the first one, so a rejected file comes back
with the full list (file, row, column, value, expected). Row numbers are those a spreadsheet shows
(header on row 1, first data row = 2, shifted by `header_row` for sheets with a title block).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import stat
from pathlib import Path

import pandas as pd

from etl.common import column_key
from etl.errors import InputRejected, Problem

ENCODINGS = ("utf-8-sig", "cp1252")
SEPARATORS = ";,\t|"
MAX_BYTES = 200 * 1024 * 1024

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def check_input_folder(folder: Path) -> None:
    """Loaders read only regular files inside the configured input folder: an entry that is a
    symbolic link resolving outside it (or nowhere), or a pipe, socket or device, rejects the build
    with one problem per entry. Sub-folders are not read by any loader and are left alone."""
    root = Path(folder).resolve()
    problems = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_symlink():
            try:
                target = entry.resolve()
            except (OSError, RuntimeError):  # a loop of links
                problems.append(Problem(entry.name, None, None, f"lien en boucle vers {os.readlink(entry)}",
                                        "un fichier ordinaire du dossier d'entrée"))
                continue
            if not target.is_relative_to(root):
                problems.append(Problem(entry.name, None, None, f"lien vers {os.readlink(entry)}",
                                        f"un fichier ordinaire du dossier d'entrée {root} (lien symbolique "
                                        "vers l'extérieur refusé : copiez le fichier dans le dossier)"))
            elif not target.exists():
                problems.append(Problem(entry.name, None, None, f"lien cassé vers {os.readlink(entry)}",
                                        "un fichier ordinaire du dossier d'entrée"))
            continue
        mode = entry.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            problems.append(Problem(entry.name, None, None, "tube, socket ou périphérique",
                                    "un fichier ordinaire du dossier d'entrée"))
    if problems:
        raise InputRejected(problems)


def read_text(path: Path) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM) first, then Windows-1252 (a superset of Latin-1)."""
    raw = Path(path).read_bytes()
    if len(raw) > MAX_BYTES:
        raise InputRejected([Problem(Path(path).name, None, None, f"{len(raw)} octets",
                                     f"un fichier de moins de {MAX_BYTES // 2**20} Mio")])
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def sniff_separator(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        counts = {sep: sample.splitlines()[0].count(sep) if sample else 0 for sep in SEPARATORS}
        return max(counts, key=counts.get)


def read_table(path: Path, sheet: str | int | None = None, header_row: int = 0) -> pd.DataFrame:
    """Every cell as stripped text ('' for empty), columns as found. CSV, TXT, XLSX or XLS.

    `header_row` is the 0-based row of the header in a sheet (INSEE files: 5 or 6 title rows).
    The frame's attribute `first_row` holds the spreadsheet row number of its first data row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0,
                                  header=header_row, dtype=str, keep_default_na=False)
        except ValueError as exc:  # unknown sheet
            raise InputRejected([Problem(path.name, None, None, sheet, f"une feuille existante ({exc})")]) from exc
        except Exception as exc:  # corrupt or truncated workbook
            raise InputRejected([Problem(path.name, None, None, type(exc).__name__,
                                         "un classeur Excel lisible (fichier tronqué ?)")]) from exc
    elif suffix in (".csv", ".txt", ".tsv"):
        text, _ = read_text(path)
        if not text.strip():
            raise InputRejected([Problem(path.name, None, None, "", "un fichier non vide")])
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sniff_separator(text), dtype=str,
                                keep_default_na=False, skiprows=header_row, engine="python")
        except (pd.errors.ParserError, csv.Error) as exc:
            raise InputRejected([Problem(path.name, None, None, str(exc)[:200],
                                         "un CSV au nombre de colonnes constant (fichier tronqué ?)")]) from exc
        short = frame.isna().any(axis=1).to_numpy().nonzero()[0]
        if len(short):  # rows with fewer fields than the header: a cut download or a lost separator
            raise InputRejected([Problem(path.name, header_row + 2 + int(i), None,
                                         f"{int(frame.iloc[i].notna().sum())} champ(s)",
                                         f"{frame.shape[1]} champs, comme l'en-tête (un CSV au nombre de "
                                         "colonnes constant ; fichier tronqué ?)") for i in short])
    else:
        raise InputRejected([Problem(path.name, None, None, suffix, "un fichier .csv, .xlsx ou .xls")])
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda s: s.str.strip() if s.dtype == object or pd.api.types.is_string_dtype(s) else s)
    frame = frame.loc[~(frame == "").all(axis=1)]  # blank lines
    frame.attrs["first_row"] = header_row + 2
    frame.attrs["file"] = path.name
    return frame


def require_columns(frame: pd.DataFrame, required: list[str], aliases: dict[str, str] | None = None
                    ) -> pd.DataFrame:
    """Columns matched case- and accent-insensitively (and through `aliases`); missing ones rejected."""
    norm = column_key
    wanted = {norm(c): c for c in required}
    for alias, target in (aliases or {}).items():
        wanted.setdefault(norm(alias), target)
    rename = {c: wanted[norm(c)] for c in frame.columns if norm(c) in wanted}
    frame = frame.rename(columns=rename)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputRejected([Problem(frame.attrs.get("file", "?"), frame.attrs.get("first_row", 2) - 1,
                                     c, None, "une colonne de ce nom dans l'en-tête") for c in missing])
    return frame


class Validator:
    """Collects problems while parsing columns; `raise_if_any()` rejects the whole file."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.file = frame.attrs.get("file", "?")
        self.first_row = frame.attrs.get("first_row", 2)
        self.problems: list[Problem] = []

    def row_number(self, position: int) -> int:
        return self.first_row + position

    def add(self, position: int | None, column: str | None, value, expected: str) -> None:
        row = None if position is None else self.row_number(position)
        self.problems.append(Problem(self.file, row, column, value, expected))

    def parse(self, column: str, parser, expected: str, required: bool = True) -> list:
        """Parse every cell of a column with `parser` (raises ValueError on bad input)."""
        out = []
        for position, value in enumerate(self.frame[column].tolist()):
            if value == "" or value is None:
                if required:
                    self.add(position, column, value, f"{expected} (valeur obligatoire)")
                out.append(None)
                continue
            try:
                out.append(parser(value))
            except (ValueError, TypeError):
                self.add(position, column, value, expected)
                out.append(None)
        return out

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputRejected(self.problems)


def parse_number(text: str) -> float:
    """`12 345,67 €`, `1.234,5`, `14,9 %`, `-0,27%`, `1e3` → float. Percent signs are dropped
    (the value stays in percent units); raises ValueError otherwise."""
    if isinstance(text, (int, float)):
        return float(text)
    value = _SPACES.sub("", str(text)).replace("€", "").replace("%", "").replace("EUR", "")
    if value in ("", "-", "+"):
        raise ValueError(text)
    if "," in value and "." in value:  # 1.234,56 (French) or 1,234.56 (English)
        value = value.replace(".", "").replace(",", ".") if value.rfind(",") > value.rfind(".") \
            else value.replace(",", "")
    else:
        value = value.replace(",", ".")
    return float(value)


def parse_amount(text: str) -> float:
    """A non-negative amount in euros, rounded to the cent."""
    value = parse_number(text)
    if value < 0 or value != value:
        raise ValueError(text)
    return round(value, 2)


def parse_int(text: str) -> int:
    """A whole number (counts, years): `1 200` is 1200, but `30 %` or `12 €` is refused — a share or
    an amount in a count column is a wrong column, not a count."""
    if isinstance(text, str) and ("%" in text or "€" in text or "EUR" in text.upper()):
        raise ValueError(text)
    value = parse_number(text)
    if value != int(value):
        raise ValueError(text)
    return int(value)


def parse_date(text: str) -> dt.date:
    """ISO `2019-09-01`, French `01/09/2019`, month `2019-09` or `09/2019` (1st of the month),
    or an Excel serial day number."""
    text = str(text).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    for fmt in ("%Y-%m", "%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            pass
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # Excel serial (1900 date system)
        return (dt.datetime(1899, 12, 30) + dt.timedelta(days=int(float(text)))).date()
    raise ValueError(text)


_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def parse_code_commune(text: str) -> str:
    """INSEE commune code as TEXT. A code that lost its leading zero (`1001`) gets it back; Corsica
    keeps `2A`/`2B`. Anything else is rejected (a 4-digit code can only be 0XXXX: unambiguous)."""
    code = str(text).strip().upper()
    if code.endswith(".0"):
        code = code[:-2]
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code
    if not _COMMUNE.match(code):
        raise ValueError(text)
    return code


def parse_code_departement(text: str) -> str:
    code = str(text).strip().upper()
    if code.endswith(".0"):
        code = code[:-2]
    if re.fullmatch(r"\d", code):
        code = "0" + code
    if not re.fullmatch(r"(\d{2}|2[AB]|97[1-6])", code) or code in ("00", "20", "96", "97"):
        raise ValueError(text)
    return code


def parse_siren(text: str) -> str:
    code = re.sub(r"\s", "", str(text))
    if code.endswith(".0"):
        code = code[:-2]
    if re.fullmatch(r"\d{8}", code):  # lost leading zero (rare for EPCI, kept for symmetry)
        code = "0" + code
    if not re.fullmatch(r"\d{9}", code):
        raise ValueError(text)
    return code

