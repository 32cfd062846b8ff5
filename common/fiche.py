"""The fiche territoire's data model: `query/fiche.py` and `query/synthese.py` fill it from the declared
reads, `export/fiche.py` lays it out in PDF. A neutral leaf, so the query layer never imports export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Chart:
    """Data of a section's chart. kind: "compare" (rows indicateur × columns territories),
    "timeline" (label, start, end, state), "barh" (label, value), "indicators" (libelle, valeur,
    reference, defavorable), "map" (`spec`: the keyword arguments of a `printmap.PrintMap`)."""

    kind: str
    data: pd.DataFrame | None = None
    title: str = ""
    unit: str = ""
    spec: dict | None = None


@dataclass
class Section:
    title: str
    lines: list[str]
    simulated: bool = False
    sources: list[str] = field(default_factory=list)
    millesime: str | None = None
    chart: Chart | None = None


@dataclass
class Fiche:
    title: str
    subtitle: str
    figures: list[tuple[str, str]]
    sections: list[Section]
    sources: list[str]
    map_png: bytes | None = None
    exported_on: dt.date = field(default_factory=dt.date.today)
    url: str = ""
    method: str = ""

    @property
    def simulated(self) -> bool:
        return any(s.simulated for s in self.sections)
