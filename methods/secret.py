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
