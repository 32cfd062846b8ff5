"""Programmes territoriaux de l'ANCT with open lists: « Petites villes de demain » (PVD) and « Action cœur
de ville » (ACV), table `programmes_territoriaux`, shown next to the conventions (CTG page, portrait).

Formats (data.gouv.fr, ANCT): PVD `insee_com, lib_com, id_pvd, date_signature` (the date went from ISO
`2021-03-15` to `15/03/2021` in 2026); ACV `insee_com, lib_com, id_acv, date_signature` (`15-03-2018`).
Separator `,` or `;`. A former commune code is brought to today's commune; communes of départements
left out of a restricted build are dropped with a count in the warnings. No list is embedded: the
table is empty until the files are given.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from etl import contract, readers
from etl.build import BuildContext, Step
from etl.common import departement_of
from etl.communes_map import CommuneResolver
from etl.contract import Format, Loader, Parsed
from etl.errors import InputRejected, Problem
from etl.sources import Source, sha256_of

STEP_ORDER = 160  # after the conventions

PROGRAMMES = {"PVD": "Petites villes de demain", "ACV": "Action cœur de ville"}
FORMATS = (
    Format("anct-pvd", "ANCT — Petites villes de demain, communes lauréates", "ANCT (data.gouv.fr)",
           "https://www.data.gouv.fr/fr/datasets/programme-petites-villes-de-demain/",
           ("*petites*villes*demain*.csv", "*pvd*.csv"), vintage="liste en vigueur",
           columns=("insee_com", "lib_com", "id_pvd", "date_signature"), family="programmes"),
    Format("anct-acv", "ANCT — Action cœur de ville, communes du programme", "ANCT (data.gouv.fr)",
           "https://www.data.gouv.fr/fr/datasets/programme-action-coeur-de-ville/",
           ("*action*coeur*ville*.csv", "*action*c?ur*ville*.csv", "*acv*.csv"), vintage="liste en vigueur",
           columns=("insee_com", "lib_com", "id_acv", "date_signature"), family="programmes"),
)
KEYS = {"anct-pvd": "PVD", "anct-acv": "ACV"}

DDL = """
CREATE TABLE programmes_territoriaux (
    programme TEXT NOT NULL CHECK (programme IN ('PVD', 'ACV')),
    code_insee TEXT NOT NULL,        -- today's commune (a former code is brought to it)
    code_insee_publie TEXT NOT NULL, -- the code as published
    nom TEXT,                        -- lib_com as published
    identifiant TEXT,                -- id_pvd / id_acv
    date_signature DATE,             -- convention signed (NULL if not given)
    source TEXT NOT NULL,
    PRIMARY KEY (programme, code_insee, code_insee_publie))"""


def parse_signature(text: str) -> dt.date:
    """ISO `2021-03-15`, `15/03/2021` (PVD since 2026) or `15-03-2018` (ACV)."""
    text = str(text).strip()
    try:
        return dt.datetime.strptime(text, "%d-%m-%Y").date()
    except ValueError:
        return readers.parse_date(text)


def _format_of(path: Path) -> Format | None:
    return next((f for f in FORMATS if f.matches(path.name)), None)


def discover(input_dir: Path | None) -> list[Path]:
    return sorted({p for f in FORMATS for p in f.find(input_dir)})


def read_list(path: Path, programme: str, resolve) -> pd.DataFrame:
    """One programme list, every problem listed (file, row, column, value, expected)."""
    frame = readers.require_columns(readers.read_table(path), ["insee_com", "date_signature"],
                                    {"code_insee": "insee_com", "com": "insee_com", "codgeo": "insee_com"})
    validator = readers.Validator(frame)
    codes = validator.parse("insee_com", readers.parse_code_commune, "un code commune INSEE")
    dates = validator.parse("date_signature", parse_signature,
                            "une date AAAA-MM-JJ, JJ/MM/AAAA ou JJ-MM-AAAA", required=False)
    current = []
    for position, code in enumerate(codes):
        now = resolve(code) if code else None
        if code and now is None:
            validator.add(position, "insee_com", code, resolve.expected(code, "une commune du référentiel"))
        current.append(now)
    validator.raise_if_any()
    ident = next((c for c in frame.columns if c.lower() in ("id_pvd", "id_acv", "identifiant")), None)
    return pd.DataFrame({"programme": programme, "code_insee": current, "code_insee_publie": codes,
                         "nom": frame["lib_com"].to_numpy() if "lib_com" in frame else None,
                         "identifiant": frame[ident].to_numpy() if ident else None, "date_signature": dates})


#: Marks a commune of a département left out of a restricted build.
OUTSIDE_BUILD = "hors construction"


def read(ctx: BuildContext) -> Parsed:
    files = discover(ctx.input_dir)
    if not files:
        return Parsed("programmes", [])
    resolver = CommuneResolver(ctx.con)
    known = {r[0] for r in ctx.con.execute("SELECT code FROM departements").fetchall()}

    def resolve(code: str):
        # a national list: communes of départements left out of the build (or outside the reference,
        # e.g. collectivités d'outre-mer) are skipped and counted; an unknown code of a built one is a problem
        now = resolver.resolve(code)
        if now is None and departement_of(code) not in known:
            return OUTSIDE_BUILD
        return now
    resolve.expected = resolver.expected
    problems: list[Problem] = []
    frames = []
    for path in files:
        programme = KEYS[_format_of(path).key]
        frame = contract.collect(problems, read_list, path, programme, resolve)
        if frame is not None:
            frames.append((path, frame))
    if problems:
        raise InputRejected(problems)
    warnings = []
    if (w := resolver.warning()):
        warnings.append(w)
    for path, frame in frames:
        outside = frame["code_insee"].eq(OUTSIDE_BUILD)
        if outside.any():
            warnings.append(f"{path.name} : {int(outside.sum())} commune(s) hors des départements construits "
                            "(ou du référentiel), ignorée(s)")
    for w in warnings:
        ctx.warn("programmes territoriaux", w)
    return Parsed("programmes", files, [(p, f[~f["code_insee"].eq(OUTSIDE_BUILD)]) for p, f in frames], warnings)


def preview(parsed: Parsed, ctx: BuildContext) -> list[tuple[str, str]]:
    lines = []
    for path, frame in parsed.data or []:
        programme = frame["programme"].iloc[0] if len(frame) else "?"
        lines += [(f"Table programmes_territoriaux ({path.name})",
                   f"{contract.count(len(frame))} commune(s) — {PROGRAMMES.get(programme, programme)}"),
                  ("Départements", contract.listing(contract.departements_of_communes(ctx.con, frame["code_insee"]))),
                  ("Signatures", contract.span(frame["date_signature"]))]
    return lines


def step_programmes(ctx: BuildContext) -> int:
    ctx.con.execute(DDL)
    return write(ctx, read(ctx))


def write(ctx: BuildContext, parsed: Parsed) -> int:
    rows = 0
    for path, frame in parsed.data or []:
        fmt = _format_of(path)
        source = Source(f"{fmt.key}:{path.name}", f"{fmt.label} (fichier « {path.name} »)", fmt.publisher,
                        None, "real", fmt.licence, fmt.doc_url)
        frame = frame.drop_duplicates(["programme", "code_insee", "code_insee_publie"])
        rows += ctx.write("programmes_territoriaux", frame.assign(source=source.source))
        ctx.add_source(source, row_count=len(frame), file_name=path.name, sha256=sha256_of(path))
    return rows


STEPS = [Step("programmes territoriaux (PVD, ACV)", step_programmes)]
LOADER = Loader("programmes", "Programmes territoriaux (ANCT)", FORMATS, discover, read, preview, write=write)
