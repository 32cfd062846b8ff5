"""The README's « Fichiers reconnus » table, generated from the loaders' declarations (`Format`s):
one place declares a file, the build, the check page and the documentation read it from there.

`python -m etl formats` prints the table; `python -m etl formats --readme README.md` rewrites the
section between the markers (a test fails when the README and the declarations differ).
"""

from __future__ import annotations

from pathlib import Path

from etl import contract

BEGIN = "<!-- fichiers-reconnus:début (généré par `python -m etl formats --readme README.md`) -->"
END = "<!-- fichiers-reconnus:fin -->"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(loaders: list[contract.Loader] | None = None) -> str:
    """Markdown table: one row per declared format, in build order."""
    lines = ["| Fichier (documentation) | Noms reconnus | Millésimes |", "|---|---|---|"]
    for loader in loaders if loaders is not None else contract.loaders():
        for fmt in loader.formats:
            names = ", ".join(f"`{p}`" for p in fmt.patterns)
            lines.append(f"| [{_cell(fmt.label)}]({fmt.doc_url}) | {names} | {_cell(fmt.vintage or '—')} |")
    return "\n".join(lines) + "\n"


def section(text: str) -> str | None:
    """The generated part of a README, or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def update(readme: Path) -> bool:
    """Rewrite the section; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    if section(text) is None:
        raise ValueError(f"{readme} : marqueurs {BEGIN!r} … {END!r} absents")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = f"{head}{BEGIN}\n{render()}{END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
