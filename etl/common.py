"""Small helpers every loader needs, written once: accent folding and name normalisation, INSEE
code normalisation, the département of a commune code, checksums, French CSV / XLSX writers.

A leaf module: it imports nothing from the rest of the project, so every loader (and `staging`)
can use it without a cycle.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd


def fold(text) -> str:
    """Lower-case ASCII: accents, ligatures and case removed (« Cœur » → « coeur »)."""
    text = str(text).replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def words(text) -> str:
    """Folded words separated by single spaces (« CARSAT  Bretagne » → « carsat bretagne »)."""
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def column_key(name) -> str:
    """A header cell as a comparable key: folded, non-alphanumerics as `_` (« N° commune » → `n_commune`)."""
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")


def compact(text) -> str:
    """Folded letters and digits only (`Code géo` → `codegeo`)."""
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def commune_code_text(raw) -> str:
    """A commune code as TEXT without validation: stripped, upper-cased, `.0` of a spreadsheet number
    removed, the leading zero a 4-digit code lost restored (`1001` → `01001`)."""
    code = "" if raw is None else str(raw).strip().upper()
    code = code.removesuffix(".0")
    return "0" + code if re.fullmatch(r"\d{4}", code) else code


def departement_of(code: str) -> str:
    """The département of a commune code by its prefix: 3 characters overseas (`97411` → `974`)."""
    return code[:3] if code.startswith("97") else code[:2]


def departements_of(codes: pd.Series, known: dict[str, str] | None = None) -> pd.Series:
    """Vectorised `departement_of`, a known commune → département table taking precedence."""
    prefix = codes.str[:2].where(~codes.str.startswith("97"), codes.str[:3])
    if not known:
        return prefix.astype(object)
    found = codes.map(known)
    return found.astype(object).where(found.notna(), prefix)  # all-unknown maps to float NaN


def sha256_of(*paths: Path) -> str:
    """Checksum of one file, or of several concatenated in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def frame_csv(frame: pd.DataFrame, quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    """A frame as French CSV: `;`, CRLF, UTF-8 with BOM (what Excel opens without an import wizard)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=";", index=False, lineterminator="\r\n", quoting=quoting)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def frame_xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    """A frame as a one-sheet workbook (sheet names are cut to Excel's 31 characters)."""
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
    return out.getvalue()
