"""Errors that speak to the user: which file, which row, which column, what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None      # 1-based data row as a spreadsheet shows it (header = row 1), or None
    column: str | None
    value: object
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", ligne {self.row}"
        if self.column:
            where += f", colonne « {self.column} »"
        return f"{where} : valeur {self.value!r} — attendu : {self.expected}"


class InputRejected(Exception):
    """A source file failed validation; nothing of it was loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:200])
        more = f"\n  … et {len(problems) - 200} autres" if len(problems) > 200 else ""
        super().__init__(f"{len(problems)} problème(s) :\n{lines}{more}")


class CheckFailed(Exception):
    """A post-build sanity check failed; the new database is not swapped in."""
