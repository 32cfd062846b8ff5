"""The "fiche territoire": one EPCI or commune on one A4 page (PDF) for an élus meeting —
its map, key figures, and what each page of the observatory knows about it, with sources."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
#: Characters outside Latin-1 that French texts use, for the built-in font fallback.
LATIN1_FALLBACK = {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                   "…": "...", "\u202f": " ", "\u00a0": " ", "€": "EUR", "≥": ">=", "≤": "<=", "½": "1/2"}


@dataclass
class Section:
    title: str
    lines: list[str]
    simulated: bool = False
    sources: list[str] = field(default_factory=list)


@dataclass
class Fiche:
    title: str
    subtitle: str
    figures: list[tuple[str, str]]
    sections: list[Section]
    sources: list[str]
    map_png: bytes | None = None
    exported_on: dt.date = field(default_factory=dt.date.today)

    @property
    def simulated(self) -> bool:
        return any(s.simulated for s in self.sections)


class _Pdf(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.unicode = False
        for folder in FONT_DIRS:
            if (folder / "DejaVuSans.ttf").exists():
                self.add_font("DejaVu", "", str(folder / "DejaVuSans.ttf"))
                self.add_font("DejaVu", "B", str(folder / "DejaVuSans-Bold.ttf"))
                self.unicode = True
                break
        self.family = "DejaVu" if self.unicode else "Helvetica"

    def text_of(self, text: str) -> str:
        if self.unicode:
            return text
        for char, repl in LATIN1_FALLBACK.items():
            text = text.replace(char, repl)
        return text.encode("latin-1", "replace").decode("latin-1")

    def write_cell(self, w, h, text, style="", size=9, color=(0, 0, 0), **kwargs):
        self.set_font(self.family, style, size)
        self.set_text_color(*color)
        self.multi_cell(w, h, self.text_of(text), **kwargs)


def render_pdf(fiche: Fiche) -> bytes:
    pdf = _Pdf()
    pdf.add_page()
    pdf.set_fill_color(29, 92, 140)
    pdf.rect(0, 0, 210, 24, style="F")
    pdf.set_xy(10, 5)
    pdf.write_cell(190, 8, fiche.title, "B", 16, (255, 255, 255))
    pdf.set_x(10)
    pdf.write_cell(190, 5, f"{fiche.subtitle} — fiche du {fiche.exported_on:%d/%m/%Y}", "", 9, (230, 238, 245))
    top = 28
    if fiche.simulated:
        pdf.set_xy(10, top)
        pdf.write_cell(190, 5, "Contient des données simulées (méthode réelle, valeurs non réelles) : "
                       "voir les rubriques marquées « simulé ».", "B", 8.5, (176, 0, 32))
        top += 6
    if fiche.map_png:
        pdf.image(io.BytesIO(fiche.map_png), x=10, y=top, w=95)
    pdf.set_xy(110, top)
    pdf.write_cell(90, 6, "Chiffres clés", "B", 11, (29, 92, 140))
    for label, value in fiche.figures:
        pdf.set_x(110)
        pdf.set_font(pdf.family, "", 9)
        pdf.set_text_color(60, 60, 60)
        pdf.cell(55, 5.5, pdf.text_of(label))
        pdf.set_font(pdf.family, "B", 9)
        pdf.set_text_color(0, 0, 0)
        pdf.cell(35, 5.5, pdf.text_of(value), align="R", new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y(), top + 100) + 4
    for section in fiche.sections:
        if y > 262:
            break
        pdf.set_xy(10, y)
        title = section.title + ("  [simulé]" if section.simulated else "")
        pdf.write_cell(190, 6, title, "B", 10.5, (176, 0, 32) if section.simulated else (29, 92, 140))
        for line in section.lines:
            pdf.set_x(14)
            pdf.write_cell(186, 4.6, f"• {line}", "", 8.8)
        y = pdf.get_y() + 2.5
    pdf.set_xy(10, 272)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(10, 271, 200, 271)
    pdf.write_cell(190, 3.6, "Sources : " + " ; ".join(fiche.sources), "", 7, (80, 80, 80))
    pdf.set_x(10)
    pdf.write_cell(190, 3.6, "Observatoire territorial — secret statistique : aucune donnée ne décrit "
                   "moins de 11 personnes.", "", 7, (80, 80, 80))
    return bytes(pdf.output())


def epci_fiche_pdf(db, siren: str) -> bytes:
    """The fiche of one EPCI: its communes' map (kaleido, no tiles) and every known section."""
    from export import maps
    from query import fiche as fiche_query
    from query import territoires

    geojson = territoires.geojson(db, "communes", siren_epci=siren)
    communes = territoires.communes(db, siren_epci=siren)
    fig = maps.print_choropleth(communes, geojson, "code_insee", "population", "Population (hab.)", "nom")
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, width=700, height=700,
                      coloraxis_colorbar={"title": "hab.", "tickformat": ",.0f", "len": 0.5},
                      separators=", ")
    return render_pdf(fiche_query.fiche_epci(db, siren, _map_png(fig)))


def commune_fiche_pdf(db, code: str) -> bytes:
    """The fiche of one commune: the commune highlighted among its EPCI's communes."""
    from export import maps
    from query import fiche as fiche_query
    from query import territoires

    siren, departement = territoires.commune_place(db, code)
    if siren:
        geojson = territoires.geojson(db, "communes", siren_epci=siren)
        frame = territoires.communes(db, siren_epci=siren)
    else:
        geojson = territoires.geojson(db, "communes", departement)
        frame = territoires.communes(db, departement=departement)
    frame = frame.assign(role=["la commune" if c == code else "autres communes" for c in frame["code_insee"]])
    fig = maps.print_choropleth(frame, geojson, "code_insee", "role", "", "nom",
                                discrete={"la commune": "#1d5c8c", "autres communes": "#e8eef3"})
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, width=700, height=700, showlegend=False)
    return render_pdf(fiche_query.fiche_commune(db, code, _map_png(fig)))


def _map_png(fig) -> bytes:
    from export import figures
    with figures._lock:
        figures._configure()
        return fig.to_image(format="png", width=700, height=700)
