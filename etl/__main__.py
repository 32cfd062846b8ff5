"""Command line: `python -m etl build …`, `export …`, `schema …`, `publish …` (also `observatoire-etl`).

Benchmarks moved to `python -m bench <what>` (bench/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from common.config import default_db_path
from etl import build as building
from etl.errors import CheckFailed, InputRejected


def _departements(text: str) -> list[str]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    return [c.zfill(2) if c.isdigit() else c for c in codes]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m etl", description="Base de l'Observatoire territorial")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="construit la base DuckDB (atomique)")
    b.add_argument("--db", type=Path, default=None,
                   help="fichier DuckDB (défaut : $OBSERVATOIRE_DB ou data/observatoire.duckdb)")
    b.add_argument("--input", type=Path, default=None, help="dossier de fichiers sources supplémentaires")
    b.add_argument("--departements", type=_departements, default=None,
                   help="restreint la construction, ex. 35,61 (défaut : toute la France)")
    b.add_argument("--if-missing", action="store_true", help="ne construit que si la base est absente")
    # -- export (etl/export_cli.py) --
    from etl import download, export_cli
    export_cli.add_arguments(sub.add_parser("export", help="exports par lot : fiches EPCI d'un département, cartes"))
    # -- download (etl/download.py) --
    download.add_arguments(
        sub.add_parser("download", help="télécharge les fichiers officiels INSEE et data.caf.fr (sommes de contrôle)")
    )
    # -- formats (etl/formats_doc.py): the « Fichiers reconnus » table from the loaders' declarations --
    f = sub.add_parser("formats", help="table des fichiers reconnus (déclarations des chargeurs)")
    f.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="réécrit la section « Fichiers reconnus » de ce fichier (docs/chargeurs.md)",
    )
    f.add_argument("--docs", dest="readme", type=Path, help="même option : la page docs/chargeurs.md")
    # -- schema (etl/dictionary.py): docs/schema.md from a built database's COMMENT ON --
    sc = sub.add_parser("schema", help="dictionnaire des données (COMMENT ON de la base construite)")
    sc.add_argument(
        "--db", type=Path, default=None, help="base lue (défaut : $OBSERVATOIRE_DB ou data/observatoire.duckdb)"
    )
    sc.add_argument("--docs", type=Path, default=None, help="réécrit ce fichier Markdown (docs/schema.md)")
    # -- publish, history, rollback, admin (etl/publish_cli.py) --
    from etl import publish_cli
    publish_cli.add_arguments(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=True)
    if args.command == "download":  # etl/download.py
        from etl import download
        return download.main(args, log=console.print)
    if args.command == "export":  # etl/export_cli.py
        from etl import export_cli
        return export_cli.main(args, console)
    if args.command == "formats":  # etl/formats_doc.py
        from etl import formats_doc
        if args.readme:
            try:
                changed = formats_doc.update(args.readme)
            except ValueError as exc:  # the table lives in docs/chargeurs.md since the README was shortened
                console.print(f"[red]{exc}[/red] — la table est dans docs/chargeurs.md : --docs docs/chargeurs.md")
                return 1
            console.print(f"{args.readme} : {'mis à jour' if changed else 'déjà à jour'}")
        else:
            print(formats_doc.render(), end="")
        return 0
    if args.command == "schema":  # etl/dictionary.py
        from etl import dictionary
        db = Path(args.db or default_db_path())
        if args.docs:
            console.print(f"{args.docs} : {'mis à jour' if dictionary.write_docs(db, args.docs) else 'déjà à jour'}")
        else:
            import duckdb
            with duckdb.connect(str(db), read_only=True) as con:
                print(dictionary.render(con), end="")
        return 0
    if args.command in ("publish", "history", "rollback", "admin"):  # etl/publish_cli.py
        from etl import publish_cli
        return publish_cli.main(args, console)
    db = Path(args.db or default_db_path())
    if args.if_missing and db.exists():
        console.print(f"base présente : {db}")
        return 0
    from etl import publish_cli  # a served database managed by publications is never rebuilt in place
    if (refusal := publish_cli.managed_refusal(db)):
        console.print(f"[red]{refusal}[/red]")
        return 5
    from etl.cli_report import RichReporter, files_table, summary_table
    steps = building.all_steps()
    try:
        with RichReporter([s.name for s in steps], console) as reporter:
            result = building.build(db, args.departements, args.input, reporter, steps)
    except InputRejected as exc:
        console.print(f"[red]Fichier rejeté, base inchangée.[/red]\n{exc}")
        for outcome in getattr(exc, "files", []):  # every file of --input: loaded / rejected / not read
            console.print(f"  {outcome.message()}")
        return 2
    except CheckFailed as exc:
        console.print(f"[red]Contrôles échoués, base inchangée.[/red]\n{exc}")
        return 3
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        console.print(f"[red]Échec, base inchangée :[/red] {exc}")
        return 1
    console.print(summary_table(result.summary, f"Base construite : {result.db_path}"))
    for step, message in result.warnings:
        console.print(f"[yellow]avertissement[/yellow] ({step}) : {message}")
    if result.files:
        console.print(files_table(result.files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
