"""The one door from the database to the pages and the exports, where statistical secrecy is applied.

Every public read of the `query` package declares what its result says about people:

- `@people("n_retraites", values=…, subcounts=…, group=…)`: the result counts people. Secrecy is
  applied here on every call (`methods.secret.protect`: cells of 1 to 10 people masked with what is
  derived from them, and a second cell masked where a published total would give the first away),
  then checked: a published count under the threshold raises `SecrecyBreach`.
- `@people(…, masked_inside=True)`: the read applies a method's own rule (funnel stages, GIR
  classes of a service) before returning; the layer still checks the result.
- `@no_people("why")`: the result counts nobody (geography, public INSEE populations, amounts,
  sources, dates). The reason is part of the declaration and is read in review.
- `@composed`: a text assembled only from `@people` reads of this layer (fiche sections).

Linked tables. A parameter that moves a boundary over people (the individual score threshold, the
age-band edges) lets a user publish the same count under each of its values, and the difference of
two of them is a cell too. A read declares such parameters and their allowed values in
`sweep={"threshold": (…)}` (`tests/test_secret_linked.py` sweeps them and attacks the results) and
returns, in `frame.attrs["linked"]`, the rows whose count may not be published under the values
asked (`methods.secret.linked_chain`, `linked_groups`, `all_cells_safe`): `{"n_fragiles": rows}`
masks that count and what derives from it, `{"*": rows}` the whole row (as secret). The masks are
applied here, before (sub-counts) and after (rows) the ordinary rule, on every call.

`query.db.Database` refuses reads called from a page, from `ui` or from `export`, so nothing shown
or exported can go around these declarations; `tests/test_secret_layer.py` checks that every public
read of the package declares itself.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field

import pandas as pd

from methods import secret

#: `group` value meaning "all the rows": their total is published (a département's KPI).
ALL = "*"


class SecrecyBreach(AssertionError):
    """A read was about to publish a count of 1 to 10 people."""


@dataclass(frozen=True)
class People:
    count: str
    values: tuple[str, ...] = ()
    subcounts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group: tuple[str, ...] = ()
    masked_inside: bool = False
    where: str | None = None
    #: parameter → allowed values, for parameters moving a boundary over people (linked tables).
    sweep: dict = field(default_factory=dict)

    @property
    def counts(self) -> tuple[str, ...]:
        return (self.count, *self.subcounts)

    def apply(self, result):
        if result is None:
            return None
        if isinstance(result, dict):
            return self._apply_dict(result)
        if not isinstance(result, pd.DataFrame):
            raise TypeError(f"une lecture @people rend un DataFrame ou un dict, pas {type(result).__name__}")
        linked = result.attrs.pop("linked", {}) if isinstance(result, pd.DataFrame) else {}
        if linked:
            result = self._mask_linked_counts(result, linked)
        if not self.masked_inside:
            attrs = dict(result.attrs)
            group = next((g for g in self.group if g == ALL or g in result.columns), None)
            frame = result.assign(**{ALL: 0}) if group == ALL else result
            result = secret.protect(frame, self.count, list(self.values),
                                    {k: list(v) for k, v in self.subcounts.items()}, group=group)
            result = result.drop(columns=[ALL], errors="ignore")
            result.attrs.update(attrs)
        if "*" in linked:
            result = self._mask_linked_rows(result, linked["*"])
        self.check(result)
        return result

    def _mask_linked_counts(self, frame: pd.DataFrame, linked: dict) -> pd.DataFrame:
        frame = frame.copy()
        for column, rows in linked.items():
            if column == "*":
                continue
            rows = pd.Series(rows, index=frame.index).astype(bool)
            for c in (column, *self.subcounts.get(column, ())):
                frame[c] = frame[c].astype("object").where(~rows, None)
        return frame

    def _mask_linked_rows(self, frame: pd.DataFrame, rows) -> pd.DataFrame:
        frame = frame.copy()
        rows = pd.Series(rows, index=frame.index).astype(bool)
        derived = [c for cs in self.subcounts.values() for c in cs]
        for c in (*self.counts, *self.values, *derived):
            if c in frame.columns:
                frame[c] = frame[c].astype("object").where(~rows, None)
        frame["secret"] = frame["secret"].astype(bool) | rows if "secret" in frame else rows
        return frame

    def _apply_dict(self, result: dict) -> dict:
        out = dict(result, secret=False)
        for key in self.counts:
            n = out.get(key)
            if n is not None and 0 < n < secret.SECRET_THRESHOLD:
                out[key] = None
                out["secret"] |= key == self.count
                for derived in (self.values if key == self.count else self.subcounts[key]):
                    out[derived] = None
        return out

    def check(self, frame: pd.DataFrame) -> None:
        rows = frame[frame[self.where].astype(bool)] if self.where else frame
        columns = [c for c in self.counts if c in rows.columns]
        found = secret.small_cells(rows, columns)
        if found:
            raise SecrecyBreach(f"cellules de moins de {secret.SECRET_THRESHOLD} personnes publiées : {found}")


def people(count: str, *, values: tuple[str, ...] | list[str] = (), subcounts: dict | None = None,
           group: str | tuple[str, ...] | None = None, masked_inside: bool = False, where: str | None = None,
           sweep: dict | None = None):
    """Declares a read whose result counts people in column (or key) `count`; see the module doc.

    `subcounts` maps other people counts of the row to the columns derived from them. `group` names
    the column of siblings whose total is published elsewhere (communes of an EPCI), `"*"` when the
    total of all rows is, or a tuple of such choices: the first present in the result is used.
    `where` restricts the check to rows flagged as counting people. `sweep` declares the parameters
    moving a boundary over people and their allowed values (linked tables, see the module doc)."""
    groups = (group,) if isinstance(group, str) else tuple(group or ())
    spec = People(count, tuple(values), {k: tuple(v) for k, v in (subcounts or {}).items()}, groups,
                  masked_inside, where, dict(sweep or {}))

    def decorate(read):
        signature = inspect.signature(read)

        @functools.wraps(read)
        def published(*args, **kwargs):
            if spec.sweep:
                _check_swept(spec, signature.bind(*args, **kwargs))
            return spec.apply(read(*args, **kwargs))
        published.__secrecy__ = spec
        return published
    return decorate


def allowed_values(spec: People, parameter: str, db) -> list:
    """The values a swept parameter may take (a tuple, or a function of the database)."""
    values = spec.sweep[parameter]
    return list(values(db) if callable(values) else values)


def _check_swept(spec: People, bound: inspect.BoundArguments) -> None:
    """A parameter that moves a boundary over people takes only its declared values: any other
    (« all years » next to each year…) would publish a table linked to the allowed ones."""
    bound.apply_defaults()
    db = next(iter(bound.arguments.values()))
    for parameter in spec.sweep:
        value = bound.arguments.get(parameter)
        value = tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else value
        if value not in allowed_values(spec, parameter, db):
            raise SecrecyBreach(f"{parameter} = {value!r} : valeur non publiable (tableaux liés) ; "
                                f"valeurs permises : {allowed_values(spec, parameter, db)[:12]}")


def no_people(reason: str):
    """Declares a read whose result counts nobody, and why."""
    if not reason.strip():
        raise ValueError("une lecture @no_people dit pourquoi")

    def decorate(read):
        read.__secrecy__ = reason
        return read
    return decorate


def composed(read):
    """Declares a text assembled only from `@people` reads of this layer."""
    read.__secrecy__ = "composed"
    return read
