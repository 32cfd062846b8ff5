"""`python -m etl export fiches --departement 61 [--db PATH] [--out FILE]`: every EPCI fiche of a
département in one PDF; `python -m etl export cartes --departement 61 --out cartes.zip`: the print
maps of the home page (EPCI and communes of the département) as PNG/SVG/PDF in a zip. A rich
progress bar shows the EPCI being drawn; the elapsed time is printed at the end."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from common.config import default_db_path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["fiches", "cartes"], help="fiches : fiches EPCI en un PDF ; cartes : zip")
    p.add_argument("--departement", required=True, help="code du département, ex. 61")
    p.add_argument("--db", type=Path, default=None, help="fichier DuckDB (défaut : $OBSERVATOIRE_DB)")
    p.add_argument("--out", type=Path, default=None, help="fichier produit (défaut : fiches-<dep>.pdf)")


def main(args, console: Console) -> int:
    from export import batch
    from query.db import Database

    db = Database(args.db or default_db_path())
    dep = args.departement.zfill(2) if args.departement.isdigit() else args.departement.upper()
    out = args.out or Path(f"{args.what}-{dep}.{'pdf' if args.what == 'fiches' else 'zip'}")
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("…", total=None)

        def step(i: int, n: int, name: str) -> None:
            progress.update(task, total=n, completed=i, description=name[:50] or "terminé")

        data = (batch.fiches_departement(db, dep, step) if args.what == "fiches"
                else batch.cartes_zip(db, dep, step))
    out.write_bytes(data)
    console.print(f"{out} : {len(data) / 1e6:.1f} Mo en {time.perf_counter() - started:.1f} s")
    return 0
