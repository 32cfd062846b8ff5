"""Statistical secrecy: no displayed or exported cell may describe fewer than 11 people.

Primary secrecy masks every cell describing 1 to threshold − 1 people (an empty cell, 0, describes
nobody and stays published). Secondary secrecy: when a
group total is published, a single masked cell in the group could be recovered by subtraction, so
the next smallest cell of that group is masked too.
"""

from __future__ import annotations

import pandas as pd

#: Minimum number of people a published cell may describe (French practice for social data,
#: e.g. CNAF/INSEE small-cell rules). A parameter of the query layer.
SECRET_THRESHOLD = 11


def mask(frame: pd.DataFrame, count: str, values: list[str] | None = None, group: str | None = None,
         threshold: int = SECRET_THRESHOLD) -> pd.DataFrame:
    """Copy of `frame` with a boolean `secret` column and `values` (and `count`) set to NA where secret.

    `count` is the column holding the number of people a row describes. With `group`, rows are
    siblings whose sum is published elsewhere (communes of an EPCI): a group with exactly one
    masked row gets its smallest unmasked row masked as well (secondary secrecy).
    """
    out = frame.copy()
    people = pd.to_numeric(out[count], errors="coerce")
    secret = people.isna() | ((people > 0) & (people < threshold))
    if group is not None:
        for _, idx in out.groupby(group, dropna=False).groups.items():
            masked = secret.loc[idx]
            if masked.sum() == 1 and len(idx) > 1:
                candidates = people.loc[idx][~masked]
                secret.loc[candidates.idxmin()] = True
    out["secret"] = secret.to_numpy()
    for column in [count, *(values or [])]:
        out[column] = out[column].astype("object").where(~secret, None)
    return out


def assert_no_small_cells(frame: pd.DataFrame, count: str, threshold: int = SECRET_THRESHOLD) -> None:
    """Guard used before any export: raises if a published count is under the threshold."""
    people = pd.to_numeric(frame[count], errors="coerce").dropna()
    small = people[(people > 0) & (people < threshold)]
    if len(small):
        raise ValueError(f"{len(small)} cellule(s) sous le seuil de secret statistique ({threshold})")


def protect(frame: pd.DataFrame, count: str, values: list[str] | tuple[str, ...] = (),
            subcounts: dict[str, list[str]] | None = None, group: str | None = None,
            threshold: int = SECRET_THRESHOLD) -> pd.DataFrame:
    """Secrecy of a table whose rows describe people: the row mask of `mask` on the head count
    `count` (rows of 1 to threshold − 1 people lose `count`, `values` and every subcount), then each
    subcount (people among them: survivors' pensions, fragile retirees…) is masked on its own when it
    describes 1 to threshold − 1 people, together with the columns derived from it.

    Rows without a head count (no data) are left as they are and do not count as masked. With
    `group`, the sibling rule holds for the head count and for every subcount: a group whose
    published total could reveal exactly one masked cell gets its smallest published cell masked too.
    Adds the boolean `secret` (the whole row is masked).
    """
    subcounts = subcounts or {}
    out = frame.copy()
    has_data = pd.to_numeric(out[count], errors="coerce").notna()
    columns = [*values, *subcounts, *(c for derived in subcounts.values() for c in derived)]
    masked = mask(out[has_data], count, columns, group=group, threshold=threshold)
    for column in [count, *columns]:
        out[column] = out[column].astype("object")
        out.loc[has_data, column] = masked[column].to_numpy()
    out["secret"] = False
    out.loc[has_data, "secret"] = masked["secret"].to_numpy()
    out["secret"] = out["secret"].astype(bool)
    for sub, derived in subcounts.items():
        people = pd.to_numeric(frame[sub], errors="coerce")
        hidden = (people > 0) & (people < threshold) & ~out["secret"]
        if group is not None:
            for _, idx in out[has_data].groupby(group, dropna=False).groups.items():
                known = people.loc[idx].notna()
                if (hidden.loc[idx] | out["secret"].loc[idx]).sum() == 1 and known.sum() > 1:
                    candidates = people.loc[idx][known & ~hidden.loc[idx] & ~out["secret"].loc[idx]]
                    if len(candidates):
                        hidden.loc[candidates.idxmin()] = True
        for column in [sub, *derived]:
            out[column] = out[column].astype("object").where(~hidden, None)
    return out


def small_cells(frame: pd.DataFrame, columns: list[str] | tuple[str, ...],
                threshold: int = SECRET_THRESHOLD) -> dict[str, int]:
    """Published cells of 1 to threshold − 1 people, per column (empty when the table is safe)."""
    found = {}
    for column in columns:
        people = pd.to_numeric(frame[column], errors="coerce")
        n = int(((people > 0) & (people < threshold)).sum())
        if n:
            found[column] = n
    return found


# -- linked tables: the same count published under several values of a parameter -----------------

def _safe_difference(d, threshold: int = SECRET_THRESHOLD):
    d = abs(d)
    return (d == 0) | (d >= threshold)


def linked_chain(values: pd.DataFrame, default, threshold: int = SECRET_THRESHOLD) -> pd.DataFrame:
    """Which values of a count a row may publish when the count is published for every column (a
    parameter value, in order) and moves monotonically along them (people with a score ≥ T, T
    increasing): the default column always, then, walking away from it on each side, a column only
    when it differs by 0 or by at least `threshold` from the last published one. Any two published
    values of a row then differ by 0 or ≥ `threshold` (a sum of same-signed steps that each do), so
    no difference describes 1 to threshold − 1 people. Unknown values are not published."""
    columns = list(values.columns)
    start = columns.index(default)
    ok = pd.DataFrame(False, index=values.index, columns=columns)
    ok[default] = values[default].notna()
    for side in (columns[start + 1:], columns[:start][::-1]):
        last = values[default].astype(float)
        for column in side:
            v = values[column].astype(float)
            keep = v.notna() & last.notna() & _safe_difference(v - last, threshold)
            ok[column] = keep
            last = last.where(~keep, v)
    return ok


def linked_groups(ok: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    """Secondary protection of linked tables whose group total is published (communes of an EPCI):
    a parameter value is published for a row only when it is for every row of its group, so the
    total minus the published rows never isolates what masked rows hold between two values."""
    return ok.groupby(group.reindex(ok.index).fillna("∅").to_numpy()).transform("all")


def all_cells_safe(counts: pd.DataFrame, threshold: int = SECRET_THRESHOLD) -> pd.Series:
    """Rows whose every cell (people of each age band…) is 0 or at least `threshold`: any union or
    difference of those cells that a parameter can isolate then describes 0 or ≥ `threshold` people."""
    c = counts.astype(float).fillna(0)
    return ((c == 0) | (c >= threshold)).all(axis=1)
