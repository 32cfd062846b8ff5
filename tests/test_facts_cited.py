"""The quoted figures of `data/facts/*.csv` are checked against the sources, not against the code:
for each row, the figure it prints is read on the line it cites in `../shared/seeds/` (allowing the
report's own number formats: « 1 234,5 », narrow spaces, numbers in words). A row citing the wrong
line fails; the same check on lines shifted by one fails for (almost) every row.

Rows that gather figures printed over several lines cite one of them: those are listed in
`SPANS` with the lines where each figure really is (a reviewer's reading, kept short and explicit)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from tests import citations as c

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "data" / "facts"
SEEDS = ROOT.parent / "shared" / "seeds"

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds absent : les documents sources "
                                "cités par data/facts ne sont pas disponibles pour vérifier les lignes")

#: File → column holding the printed figure (cfppa.csv: the quotation).
PRINTED = {"ctg_coverage.csv": "value_as_printed", "dept_context.csv": "value_as_printed",
           "oss_budgets.csv": "value_as_printed", "cfppa.csv": "text_quote"}
#: (file, CSV row number) → the lines the row's leading figure is printed on, when the row sums up
#: several lines and cites another one of them.
SPANS = {
    ("oss_budgets.csv", 394): (5073,),   # « prestation de service 330 » l.5073; the row cites l.5080 (tickets loisirs)
    ("oss_budgets.csv", 539): (5738,),   # QF < 600 € l.5738; the row cites the amounts' line l.5740
}

_lines: dict[str, list[str]] = {}


def _source(name: str) -> list[str]:
    if name not in _lines:
        _lines[name] = (SEEDS / name).read_text(encoding="utf-8").splitlines()
    return _lines[name]


def _quoted(text: str) -> str | None:
    parts = re.findall(r'"([^"]{3,})"', text)
    return parts[0] if parts else None


def _rows():
    for name, column in PRINTED.items():
        with open(FACTS / name, encoding="utf-8") as f:
            for number, row in enumerate(csv.DictReader(f), start=2):
                yield name, number, row, column


def _found(name: str, number: int, row: dict, column: str, shift: int = 0) -> bool | None:
    """True/False whether the row's figure is on its cited line (shifted by `shift`); None when the
    row prints no figure (a date, « idem », a description)."""
    lines, line = _source(row["source_file"]), int(row["source_line"]) + shift
    if column == "text_quote":
        quote = _quoted(row[column])
        if quote is None:
            return None
        figure = c.leading_figure(quote)
        if figure is None:
            return None  # a quotation without a figure (a rule, a description): not a quoted figure
        # the quotation starts on the cited line; its figure may sit on a wrapped line just below
        window = [c.figure_on_line(lines, n, figure) for n in range(line, line + 3)]
        return window[0] or (any(window) and c.quote_on_line(lines, line, quote, span=6))
    figure = c.leading_figure(row[column])
    if figure is None:
        return None
    cited = SPANS.get((name, number), (line,)) if shift == 0 else (line,)
    return any(c.figure_on_line(lines, n, figure) for n in cited)


def test_every_quoted_figure_is_printed_on_the_line_it_cites():
    missing = [(name, number, row[column][:60], row["source_line"])
               for name, number, row, column in _rows() if _found(name, number, row, column) is False]
    assert missing == [], f"{len(missing)} chiffre(s) absents de la ligne citée : {missing[:20]}"


def test_the_check_fails_on_lines_shifted_by_one():
    checked = found_shifted = 0
    for name, number, row, column in _rows():
        if _found(name, number, row, column) is not True:
            continue
        checked += 1
        found_shifted += bool(_found(name, number, row, column, shift=1)) or \
            bool(_found(name, number, row, column, shift=-1))
    assert checked > 600
    assert found_shifted / checked < 0.05, (found_shifted, checked)


def test_orne_tableau_1_cells_are_printed_on_their_row_line():
    with open(FACTS / "orne_epci_indicators.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    wrong = []
    for row in rows[1:]:
        line = int(row[-1])
        printed = [v for v in row[1:8] if v]
        if not all(c.figure_on_line(_source(row[-2]), line, c.leading_figure(v)) for v in printed):
            wrong.append((row[0], line))
    assert wrong == []
