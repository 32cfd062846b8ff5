"""Terminal reporting for the build: a rich progress line per step and a final summary table."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


class RichReporter:
    def __init__(self, steps: list[str], console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                                 BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                 console=self.console, transient=False)
        self.tasks = {name: self.progress.add_task(name, total=1, info="", start=False)
                      for name in steps}

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def start(self, step: str) -> None:
        self.progress.start_task(self.tasks[step])

    def detail(self, step: str, message: str) -> None:
        self.progress.update(self.tasks[step], info=message)

    def done(self, step: str, rows: int, seconds: float) -> None:
        self.progress.update(self.tasks[step], completed=1, info=f"{rows:,} lignes".replace(",", " "))


def summary_table(summary: list[tuple[str, int, float]], title: str) -> Table:
    table = Table(title=title)
    table.add_column("étape")
    table.add_column("lignes", justify="right")
    table.add_column("secondes", justify="right")
    for name, rows, seconds in summary:
        table.add_row(name, f"{rows:,}".replace(",", " "), f"{seconds:.2f}".replace(".", ","))
    total = sum(s for _, _, s in summary)
    table.add_row("[bold]total", "", f"[bold]{total:.2f}".replace(".", ","))
    return table


def files_table(files) -> Table:
    """Every file of --input: loaded (its source), rejected or not read (why)."""
    table = Table(title="Fichiers du dossier d'entrée")
    for column in ("fichier", "statut", "source ou motif"):
        table.add_column(column)
    colours = {"chargé": "green", "rejeté": "red", "non lu": "yellow"}
    for f in files:
        table.add_row(f.file, f"[{colours.get(f.status, 'white')}]{f.status}", f.reason)
    return table
