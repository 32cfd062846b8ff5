"""What every export says about itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportMeta:
    title: str
    territory: str
    sources: tuple[str, ...]                 # "label (millésime)" lines
    filters: tuple[tuple[str, str], ...] = ()
    simulated: bool = False
    exported_on: dt.date = field(default_factory=dt.date.today)
    count_columns: tuple[str, ...] = ()      # columns holding numbers of people (secrecy checked)

    def lines(self) -> list[tuple[str, str]]:
        out = [("Titre", self.title), ("Territoire", self.territory)]
        out += [(f"Filtre — {name}", value) for name, value in self.filters]
        out += [("Source", s) for s in self.sources]
        if self.simulated:
            out.append(("Avertissement", "données simulées — méthode réelle, valeurs non réelles"))
        out.append(("Export", f"Observatoire territorial, le {self.exported_on:%d/%m/%Y}"))
        return out

    def footer(self) -> str:
        parts = [f"Source : {' ; '.join(self.sources)}"]
        if self.filters:
            parts.append("Filtres : " + ", ".join(f"{k} = {v}" for k, v in self.filters))
        if self.simulated:
            parts.append("DONNÉES SIMULÉES — méthode réelle")
        parts.append(f"Observatoire territorial, export du {self.exported_on:%d/%m/%Y}")
        return " · ".join(parts)

    def file_stem(self) -> str:
        import re
        import unicodedata
        text = unicodedata.normalize("NFKD", f"{self.title} {self.territory}").encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80] or "export"
