"""The « Fichiers reconnus » table of docs/chargeurs.md, generated from the loaders' declarations
(`Format`s): one place declares a file, the build, the check page and the documentation read it there.

`python -m etl formats` prints the table; `python -m etl formats --docs docs/chargeurs.md` rewrites the
section between the markers of that file (`--readme FILE` is the same option, for any Markdown file);
tests/test_readme_formats.py fails when the page and the declarations differ.
"""

from __future__ import annotations

import os
from pathlib import Path

from etl import contract

BEGIN = "<!-- fichiers-reconnus:début (généré par `python -m etl formats --docs docs/chargeurs.md`) -->"
END = "<!-- fichiers-reconnus:fin -->"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "chargeurs.md"


def _link(url: str, page: Path) -> str:
    """A repository-relative link (`docs/chargeurs.md#cfppa`) made relative to the page holding it."""
    if "://" in url:
        return url
    target, _, anchor = url.partition("#")
    rel = os.path.relpath(ROOT / target, page.resolve().parent).replace(os.sep, "/")
    if rel == page.name:
        rel = ""
    return f"{rel}#{anchor}" if anchor else rel


def render(loaders: list[contract.Loader] | None = None, page: Path = DOCS) -> str:
    """Markdown table: one row per declared format, in build order, links relative to `page`."""
    lines = ["| Fichier (documentation) | Noms reconnus | Millésimes |", "|---|---|---|"]
    for loader in loaders if loaders is not None else contract.loaders():
        for fmt in loader.formats:
            names = ", ".join(f"`{p}`" for p in fmt.patterns)
            lines.append(
                f"| [{_cell(fmt.label)}]({_link(fmt.doc_url, page)}) | {names} | {_cell(fmt.vintage or '—')} |"
            )
    return "\n".join(lines) + "\n"


def section(text: str) -> str | None:
    """The generated part of a page, or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def update(readme: Path = DOCS) -> bool:
    """Rewrite the section of `readme` (a Markdown page); True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    if section(text) is None:
        raise ValueError(f"{readme} : marqueurs {BEGIN!r} … {END!r} absents")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = f"{head}{BEGIN}\n{render(page=readme)}{END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
