"""Figures shared read-only between sessions, serialised once instead of on every run.

`st.plotly_chart` turns the figure into a dict with `figure.to_dict()` on every run — a deep copy of
the whole figure, the map's contours included — before writing it as JSON. The views the pages
show are built once per (territory, filters) for the whole server (`st.cache_resource`) and never
modified afterwards, so that dict can be computed once: `shared(view)` marks the figures of a view
(a figure, or the figures held by a dataclass, tuple or list) as `SharedFigure`s, whose `to_dict()`
returns the dict computed the first time (with fresh trace dicts: plotly.io pops their `uid`).

A figure must not be modified after `shared()`: derive a copy (`go.Figure(figure)`, as the exports
do) to change it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading

import plotly.graph_objects as go


class SharedFigure(go.Figure):
    """A `go.Figure` whose dict form is computed once (see the module docstring)."""

    _shared_lock = threading.Lock()

    def to_dict(self) -> dict:
        memo = self.__dict__.get("_shared_dict")
        if memo is None:
            with self._shared_lock:
                memo = self.__dict__.get("_shared_dict")
                if memo is None:
                    memo = super().to_dict()
                    self.__dict__["_shared_dict"] = memo
        return {**memo, "data": [dict(trace) for trace in memo.get("data", [])]}

    def __deepcopy__(self, memo):
        # A copy (e.g. for an export) is a plain, modifiable figure built from this one.
        return go.Figure(copy.deepcopy(self.to_dict()))


def shared(view):
    """Marks the figures of `view` as shared (in place) and returns `view`."""
    if isinstance(view, go.Figure):
        if type(view) is go.Figure:
            view.__class__ = SharedFigure
    elif dataclasses.is_dataclass(view) and not isinstance(view, type):
        for f in dataclasses.fields(view):
            shared(getattr(view, f.name))
    elif isinstance(view, (tuple, list)):
        for item in view:
            shared(item)
    return view


def shares_figures(function):
    """Decorator (under `@st.cache_resource`): the view the function builds has its figures shared."""
    @functools.wraps(function)
    def build(*args, **kwargs):
        return shared(function(*args, **kwargs))
    return build
