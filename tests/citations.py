"""Finding a printed value on the line a source row cites, allowing the report's own formats
(thousands separated by a space, a narrow or a no-break space, or nothing; typographic apostrophes and
quotes; line wraps inside a quotation). Used by the tests that check the sources, not the code."""

from __future__ import annotations

import re
import unicodedata

SPACES = "\u00a0\u202f\u2009\u2007\t"
FRAGMENT_SPLIT = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\(\s*(?:\.\.\.|…)\s*\)|\.{3,}|…| - )\s*")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    for s in SPACES:
        text = text.replace(s, " ")
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = text.replace("«", '"').replace("»", '"').replace("–", "-").replace("—", "-")
    text = re.sub(r"(?<=\d) (?=\d{3}\b)", "", text)       # 1 234 → 1234
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r'" ', '"', re.sub(r' "', '"', text))   # « texte » → "texte"
    return text.strip().lower()


def fragments(quote: str, minimum: int = 6) -> list[str]:
    """The pieces of a quotation between its ellipses, without the surrounding quote marks."""
    body = normalise(quote).strip('"').strip()
    return [f.strip(" ,;:.\"'") for f in FRAGMENT_SPLIT.split(body) if len(f.strip(" ,;:.\"'")) >= minimum]


def on_line(lines: list[str], line: int, value: str, span: int = 1) -> bool:
    """`value` printed on `line` (1-based) — or starting there and running over the next `span` − 1
    lines when a quotation wraps: its beginning must be on the cited line itself."""
    if not 1 <= line <= len(lines):
        return False
    target = normalise(value)
    here = normalise(lines[line - 1])
    if target in here:
        return True
    if span <= 1:
        return False
    joined = normalise(" ".join(lines[line - 1:line - 1 + span]))
    head = target[:max(12, len(target) // 3)]
    return target in joined and any(here.endswith(target[:k]) or target[:k] in here
                                    for k in range(len(head), len(head) + 1))


def quote_on_line(lines: list[str], line: int, quote: str, span: int = 4) -> bool:
    """Every fragment of `quote` is in the text starting at `line` (wraps allowed), and the first one
    begins on `line` itself."""
    parts = fragments(quote)
    if not parts or not 1 <= line <= len(lines):
        return False
    joined = normalise(" ".join(lines[line - 1:line - 1 + span]))
    here = normalise(lines[line - 1])
    first = parts[0]
    starts_here = first in here or any(first.startswith(here[-k:]) for k in range(12, len(here) + 1)) \
        or first[:12] in here
    return starts_here and all(p in joined for p in parts)


def printed_number(value: float, decimals: int | None = None) -> list[str]:
    """The ways the report prints a number: 81,4 / 81.4 / 1 234 / 1234."""
    if decimals is None:
        text = f"{value:g}" if abs(value) < 1e15 else f"{value:.0f}"
    else:
        text = f"{value:.{decimals}f}"
    if "e" in text:
        text = f"{value:.0f}"
    return list(dict.fromkeys([text.replace(".", ","), text]))


NUMBER = re.compile(r"(?<![\w,.])[-+−]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[,.]\d+)?|(?<![\w,.])[-+−]?\d+(?:[,.]\d+)?")


#: Numbers the report writes in words (« onze conventions », « trois sites »); « un/une » left out.
WORDS = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
         "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20,
         "trente": 30, "quarante": 40, "cinquante": 50, "cent": 100}
_WORD = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.I)


def numbers(text: str) -> list[str]:
    """Number tokens of a text in one canonical form: no thousands separator, decimal comma, no sign;
    numbers written in words count too."""
    out = []
    for token in NUMBER.findall(str(text)):
        token = re.sub(r"[ \u00a0\u202f]", "", token).lstrip("+-−").replace(".", ",")
        out.append(token.rstrip(","))
    out += [str(WORDS[w.lower()]) for w in _WORD.findall(str(text))]
    return out


def _is_year(token: str) -> bool:
    return token.isdigit() and 1990 <= int(token) <= 2035


def leading_figure(printed: str) -> str | None:
    """The figure a « value as printed » starts with (« 562 800 habitants (54 %) » → 562800), a year
    used as a label (« 2019: 416 », « dépenses 2019 319 974,79 ») skipped."""
    found = NUMBER.findall(str(printed))
    found = [re.sub(r"[ \u00a0\u202f]", "", t).lstrip("+-−").replace(".", ",").rstrip(",") for t in found]
    if not found:
        return None
    return next((t for t in found if not _is_year(t)), found[0])


def figure_on_line(lines: list[str], line: int, figure: str) -> bool:
    """`figure` (canonical, see `numbers`) is one of the numbers printed on `line` (1-based)."""
    if not 1 <= line <= len(lines):
        return False
    return figure in numbers(lines[line - 1])
