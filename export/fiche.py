"""The "fiche territoire": one EPCI or commune on 2 to 4 A4 pages (PDF) for a departmental schema —
the fragility map of its communes, key figures beside the département and France, the CTG/chartes
timeline, CFPPA actions by theme, the INSEE indicators against their reference with the cumul of
unfavourable ones; each section with its chart, sources, millésime and « simulé » flag; page
numbers, the link to the live view and a method annex.

fpdf2 lays out the pages (text stays text, fonts embedded); charts and the map are drawn by
matplotlib (`export.printmap`, no browser to start), so a département's batch stays fast.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from fpdf import FPDF  # noqa: E402

from common.fiche import Chart, Fiche, Section  # noqa: E402,F401  (the data model, re-exported)
from common.format import nombre  # noqa: E402
from common.palettes import COMPARE_COLOURS  # noqa: E402
from export import printmap  # noqa: E402
from query import fiche as fiche_query  # noqa: E402
from query import territoires  # noqa: E402

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"),
             Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
#: Characters outside Latin-1 that French texts use, for the built-in font fallback.
LATIN1_FALLBACK = {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                   "…": "...", "\u202f": " ", "\u00a0": " ", "€": "EUR", "≥": ">=", "≤": "<=", "½": "1/2"}
BLUE, RED, GREY = (29, 92, 140), (176, 0, 32), (80, 80, 80)
_lock = threading.Lock()


class _Pdf(FPDF):
    def __init__(self, fiche: Fiche | None = None):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.fiche, self.batch, self.first_page = fiche, False, 1
        self.set_auto_page_break(True, margin=18)
        self.set_margins(12, 14, 12)
        self.unicode = False
        for folder in FONT_DIRS:
            if (folder / "DejaVuSans.ttf").exists():
                self.add_font("DejaVu", "", str(folder / "DejaVuSans.ttf"))
                self.add_font("DejaVu", "B", str(folder / "DejaVuSans-Bold.ttf"))
                self.unicode = True
                break
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.alias_nb_pages()

    def text_of(self, text: str) -> str:
        if self.unicode:
            return text
        for char, repl in LATIN1_FALLBACK.items():
            text = text.replace(char, repl)
        return text.encode("latin-1", "replace").decode("latin-1")

    def write_cell(self, w, h, text, style="", size=9, color=(0, 0, 0), **kwargs):
        self.set_font(self.family, style, size)
        self.set_text_color(*color)
        self.multi_cell(w, h, self.text_of(text), new_x="LMARGIN", new_y="NEXT", **kwargs)

    def footer(self):
        if self.fiche is None:
            return
        self.set_y(-13)
        self.set_draw_color(180, 180, 180)
        self.line(12, self.get_y() - 1, 198, self.get_y() - 1)
        self.set_font(self.family, "", 7)
        self.set_text_color(*GREY)
        left = f"{self.fiche.title} — fiche territoire du {self.fiche.exported_on:%d/%m/%Y} — Observatoire territorial"
        self.cell(150, 4, self.text_of(left))
        within = self.page_no() - self.first_page + 1
        number = f"page {within} · {self.page_no()}/{{nb}} du recueil" if self.batch else f"page {within} / {{nb}}"
        self.cell(36, 4, self.text_of(number), align="R")


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=200, facecolor="white")
    plt.close(fig)
    return out.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)


def _label(value, decimals=1) -> str:
    return nombre(value, decimals)


def chart_png(chart: Chart, db=None) -> tuple[bytes, float]:
    """(PNG, height/width) of a section's chart."""
    if chart.kind == "map":
        return printmap.png_for_fiche(printmap.PrintMap(**chart.spec), db, width_in=7.2, max_height_in=4.6)
    with _lock:
        plt.rcParams.update({"font.family": printmap.FONT})
        data = chart.data
        if chart.kind == "compare":
            n = len(data)
            fig, axes = plt.subplots(1, n, figsize=(7.2, 1.9), squeeze=False)
            for ax, (label, row) in zip(axes[0], data.iterrows()):
                values = row.astype(float)
                bars = ax.bar(range(len(values)), values.fillna(0), color=COMPARE_COLOURS[:len(values)])
                for bar, v in zip(bars, values):
                    ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), _label(v), ha="center",
                            va="bottom", fontsize=6)
                ax.set_xticks([])
                ax.set_title("\n".join(printmap.wrap(label, 1.2, 6.5)), fontsize=6.5)
                _style(ax)
                top = float(values.abs().max()) if values.notna().any() else 0
                digits = 0 if top >= 10 else (1 if top >= 1 else 2)
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
                    lambda v, _, d=digits: nombre(v, d)))
                ax.margins(y=0.25)
            handles = [matplotlib.patches.Patch(color=c) for c in COMPARE_COLOURS[:len(data.columns)]]
            fig.legend(handles, list(data.columns), loc="lower center", ncol=len(data.columns), fontsize=7,
                       frameon=False)
            fig.tight_layout(rect=(0, 0.1, 1, 1))
        elif chart.kind == "timeline":
            rows = len(data)
            fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.32 * max(rows, 1)))
            today = pd.Timestamp(dt.date.today())
            for i, r in enumerate(data.itertuples()):
                start = pd.Timestamp(r.start) if pd.notna(r.start) else None
                end = pd.Timestamp(r.end) if pd.notna(r.end) else (start + pd.DateOffset(years=4) if start else None)
                if start is None:
                    continue
                colour = {"en cours": "#0072B2", "échue": "#999999"}.get(r.state, "#E69F00")
                ax.barh(i, (end - start).days, left=start, height=0.55, color=colour,
                        hatch=None if pd.notna(r.end) else "///", edgecolor="white")
                ax.text(start, i, "  " + r.label, va="center", ha="left", fontsize=6.2, color="#111111")
            ax.axvline(today, color=RED_HEX, lw=0.8, ls="--")
            ax.set_yticks([])
            ax.invert_yaxis()
            _style(ax)
            ax.set_title("Bleu : en cours · gris : échue · orange : autre état · hachures : échéance non "
                         "connue (4 ans supposés) · tirets : aujourd'hui", fontsize=6.2, loc="left")
            fig.tight_layout()
        elif chart.kind == "barh":
            data = data.sort_values("value")
            fig, ax = plt.subplots(figsize=(7.2, 0.5 + 0.27 * max(len(data), 1)))
            bars = ax.barh(data["label"], data["value"], color="#0072B2")
            for bar, v in zip(bars, data["value"]):
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + nombre(v), va="center",
                        fontsize=6.5)
            ax.set_xlabel(chart.unit, fontsize=7)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: nombre(v, 0)))
            _style(ax)
            ax.margins(x=0.12)
            fig.tight_layout()
        elif chart.kind == "indicators":
            fig, ax = plt.subplots(figsize=(7.2, 0.6 + 0.3 * len(data)))
            value, ref = data["valeur"].astype(float), data["reference"].astype(float)
            gap = ((value - ref) / ref.abs().where(ref != 0) * 100).clip(-60, 60).fillna(0)
            colours = ["#D55E00" if d else "#0072B2" for d in data["defavorable"]]
            y = range(len(data))
            ax.barh(list(y), gap, color=colours, height=0.55)
            for i, (g, v, r) in enumerate(zip(gap, value, ref)):
                ax.text(max(g, 0) + 1.5, i, f"{nombre(v, 1)} / réf. {nombre(r, 1)}", va="center", ha="left",
                        fontsize=6)
            ax.set_xlim(-80, 80)
            ax.axvline(0, color="#333333", lw=0.8)
            ax.set_yticks(list(y))
            ax.set_yticklabels(["\n".join(printmap.wrap(t, 2.4, 6.5)) for t in data["libelle"]], fontsize=6.5)
            ax.invert_yaxis()
            ax.set_xlabel("Écart relatif à la référence (%, borné à ± 60) — orange : défavorable", fontsize=7)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: nombre(v, 0)))
            _style(ax)
            fig.tight_layout()
        else:
            raise ValueError(f"graphique inconnu : {chart.kind}")
        w, h = fig.get_size_inches()
        return _png(fig), h / w


RED_HEX = "#b00020"


def render_pdf(fiche: Fiche, db=None) -> bytes:
    pdf = _Pdf(fiche)
    add_fiche(pdf, fiche, db)
    return bytes(pdf.output())


def add_fiche(pdf: _Pdf, fiche: Fiche, db=None, batch: bool = False) -> int:
    """Appends the fiche's pages to `pdf` (batches put many fiches in one file, each with a
    bookmark); returns its first page."""
    pdf.add_page()  # closes the previous fiche's last page with that fiche's own footer
    pdf.fiche, pdf.batch = fiche, batch
    first = pdf.first_page = pdf.page_no()
    pdf.start_section(pdf.text_of(fiche.title))
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, 210, 24, style="F")
    pdf.set_xy(12, 5)
    pdf.write_cell(186, 8, fiche.title, "B", 15, (255, 255, 255))
    pdf.set_x(12)
    pdf.write_cell(186, 5, f"{fiche.subtitle} — fiche du {fiche.exported_on:%d/%m/%Y}", "", 9, (230, 238, 245))
    pdf.set_xy(12, 27)
    if fiche.simulated:
        pdf.write_cell(186, 4.5, "Données simulées dans les rubriques marquées « simulé » : méthode réelle, "
                       "valeurs non réelles.", "B", 8.5, RED)
    if fiche.figures:
        pdf.set_font(pdf.family, "", 8.5)
        pdf.set_text_color(0, 0, 0)
        pdf.write_cell(186, 4.6, " · ".join(f"{label} : {value}" for label, value in fiche.figures), "", 8.5)
    if fiche.url:
        pdf.set_font(pdf.family, "", 7.5)
        pdf.set_text_color(*BLUE)
        pdf.multi_cell(186, 4, pdf.text_of(f"Vue en ligne : {fiche.url}"), link=fiche.url,
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for section in fiche.sections:
        _section(pdf, section, db)
    if fiche.method:
        _need(pdf, 30)
        pdf.write_cell(186, 6, "Annexe — méthode", "B", 10.5, BLUE)
        pdf.write_cell(186, 4.2, fiche.method, "", 8, (30, 30, 30))
        pdf.ln(1)
        pdf.write_cell(186, 3.8, "Sources de la fiche : " + " ; ".join(fiche.sources), "", 7.2, GREY)
    return first


def _need(pdf: _Pdf, height_mm: float) -> None:
    if pdf.get_y() + height_mm > pdf.h - 18:
        pdf.add_page()


def _section(pdf: _Pdf, section: Section, db) -> None:
    image, ratio = (None, 0.0)
    if section.chart is not None:
        image, ratio = chart_png(section.chart, db)
    width = 186 if section.chart is None or section.chart.kind != "map" else 160
    height = width * ratio if image else 0
    _need(pdf, 12 + 4.5 * min(len(section.lines), 3) + min(height, 120))
    vintage = section.millesime or ""
    title = section.title + (f" — {'millésime ' if vintage[:1].isdigit() else ''}{vintage}" if vintage else "") \
        + ("  [simulé]" if section.simulated else "")
    pdf.write_cell(186, 6, title, "B", 10.5, RED if section.simulated else BLUE)
    for line in section.lines:
        pdf.set_x(14)
        pdf.write_cell(184, 4.3, f"• {line}", "", 8.3)
    if image:
        _need(pdf, height + 2)
        pdf.image(io.BytesIO(image), x=12 + (186 - width) / 2, y=pdf.get_y() + 1, w=width,
                  alt_text=section.chart.title or section.title)
        pdf.set_y(pdf.get_y() + height + 2)
    sources = "Source : " + (" ; ".join(section.sources) or "—") + (
        " — données simulées (méthode réelle, valeurs non réelles)" if section.simulated else "")
    pdf.write_cell(186, 3.6, sources, "", 7, RED if section.simulated else GREY)
    pdf.ln(3)


def epci_fiche_pdf(db, siren: str, base_url: str | None = None) -> bytes:
    """The fiche of one EPCI (2 to 4 pages)."""
    return render_pdf(fiche_query.fiche_epci(db, siren, base_url=base_url), db)


def commune_fiche_pdf(db, code: str, base_url: str | None = None) -> bytes:
    """The fiche of one commune, its fragility drawn among its EPCI's communes."""
    return render_pdf(fiche_query.fiche_commune(db, code, base_url=base_url), db)


def departement_fiches_pdf(db, departement: str, progress=None, base_url: str | None = None) -> bytes:
    """Every EPCI fiche of a département in one PDF (EPCI touching it, by name); `progress(i, n, name)`
    is called before each fiche."""
    epcis = territoires.epci_of_departement(db, departement)
    pdf = _Pdf()
    n = len(epcis)
    for i, (siren, nom) in enumerate(zip(epcis["siren"], epcis["nom"])):
        if progress:
            progress(i, n, nom)
        add_fiche(pdf, fiche_query.fiche_epci(db, siren, base_url=base_url), db, batch=True)
    if progress:
        progress(n, n, "")
    return bytes(pdf.output())
