"""Charts and maps to PNG (300 dpi at A4 width), SVG and PDF. Charts: plotly rendered server-side
by kaleido driving the system Chromium (no network, no CDN). Maps: `export.printmap` (matplotlib in
Lambert-93), which also owns the header/footer wording both share."""

from __future__ import annotations

import base64
import copy
import os
import shutil
import threading
from html import escape
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from common.format import PLOTLY_SEPARATORS
from export.meta import ExportMeta
from export.printmap import PrintMap, footer_blocks, header_lines, wrap
from export.printmap import render as render_map

TOPOJSON_DIR = Path(__file__).resolve().parent.parent / "data" / "topojson"
#: A4 width at 300 dpi is 2480 px: a 1240 px layout rendered at scale 2.
A4_WIDTH_PX, SCALE = 1240, 2
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}

_lock = threading.Lock()
_started = False


def _configure() -> None:
    """Point kaleido at Debian's Chromium and at the local topojson (plotly's CDN is unreachable)."""
    global _started
    if not os.environ.get("BROWSER_PATH"):
        for candidate in ("chromium", "chromium-browser", "google-chrome"):
            if shutil.which(candidate):
                os.environ["BROWSER_PATH"] = shutil.which(candidate)
                break
    pio.defaults.topojson = TOPOJSON_DIR.as_uri() + "/"
    if not _started:
        import kaleido
        kaleido.start_sync_server(silence_warnings=True)  # one browser kept for every export
        _started = True


def decorate(figure: go.Figure, meta: ExportMeta, width: int = A4_WIDTH_PX, height: int | None = None
              ) -> go.Figure:
    """Copy of the figure with the header block (title, territory, filters) and the footer (sources,
    « données simulées », date) of the print maps, wrapped at word boundaries, and values on bars."""
    fig = go.Figure(copy.deepcopy(figure))
    # on-screen heights (300 px for a histogram) are too flat for a page: at least half the width
    height = max(height or int(figure.layout.height or width * 0.7), width // 2)
    width_in = (width - 80) / 96  # layout pixels at 96 px per inch: the same wrap as the print maps
    subtitle, _ = header_lines(meta)
    title = wrap(meta.title, width_in, 13 * 1.35)
    sub = wrap(subtitle, width_in, 8.5 * 1.6)
    footer = footer_blocks(meta, width_in, 11 * 0.75)
    top = 40 + 26 * len(title) + 19 * len(sub)
    bottom = 60 + 15 * len(footer)
    head = "<br>".join(f"<b>{escape(line)}</b>" for line in title) + "<br>" + "<br>".join(
        f"<span style='font-size:13px'>{escape(line)}</span>" for line in sub)
    fig.update_layout(
        title={"text": head, "x": 0.01, "xanchor": "left", "xref": "container", "yref": "container", "y": 1,
               "yanchor": "top", "pad": {"t": 26}, "font": {"size": 19}},
        margin={"t": top + 20, "b": bottom, "l": 60, "r": 40}, width=width, height=height + top,
        separators=PLOTLY_SEPARATORS, paper_bgcolor="white", uniformtext={"minsize": 9, "mode": "hide"},
        font={"family": "DejaVu Sans, Arial, sans-serif"})
    text = "<br>".join(f"<b style='color:#b00020'>{escape(line)}</b>" if warning else escape(line)
                       for line, warning in footer)
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=0, yshift=-48, name="footer",
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font={"size": 11, "color": "#444"})
    _values_on_bars(fig)
    _french_ticks(fig)
    return fig


def _array(values) -> list:
    """Trace data as a list of Python values (plotly may hold it as a base64 typed array)."""
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return [v.item() if hasattr(v, "item") else v for v in list(values)]


def _french_ticks(fig: go.Figure) -> None:
    """`1 234,5` on numeric axes left without a format (plotly would write 1200 or 1.2k)."""
    for name in ("xaxis", "yaxis"):
        axis = fig.layout[name]
        if axis.tickformat or axis.type in ("category", "date", "log"):
            continue
        values = [v for trace in fig.data if getattr(trace, "type", "") in ("bar", "scatter", "histogram")
                  for v in _array(getattr(trace, name[0]))[:50]]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            axis.tickformat = ",~f"


def _values_on_bars(fig: go.Figure) -> None:
    """French-formatted values on the bars (hidden by `uniformtext` where they do not fit)."""
    for trace in fig.data:
        if trace.type != "bar" or trace.text is not None or trace.texttemplate:
            continue
        horizontal = trace.orientation == "h"
        values = _array(trace.x if horizontal else trace.y)
        axis = fig.layout.xaxis if horizontal else fig.layout.yaxis
        numbers = [v for v in values if isinstance(v, (int, float))]
        if not numbers:
            continue
        if "%" in (axis.tickformat or ""):
            fmt = ".1%"
        else:
            fmt = ",.0f" if all(float(v).is_integer() for v in numbers) else ",.1f"
        trace.update(texttemplate=f"%{{{'x' if horizontal else 'y'}:{fmt}}}", textposition="auto",
                     textfont={"size": 11}, cliponaxis=False)


def render(figure, meta: ExportMeta, fmt: str, width: int = A4_WIDTH_PX,
           height: int | None = None, db=None) -> bytes:
    """A chart (plotly figure, through kaleido) or a print map (`export.printmap.PrintMap`, through
    matplotlib; `db` gives it its surroundings: neighbours, département outline, chef-lieu)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} not in {sorted(FORMATS)}")
    if isinstance(figure, PrintMap):
        data = render_map(figure, meta, fmt, db)
    else:
        fig = decorate(figure, meta, width, height)
        with _lock:
            _configure()
            data = fig.to_image(format=fmt, width=width, height=fig.layout.height,
                                scale=SCALE if fmt == "png" else 1)
    if fmt == "png":
        return _png_with_text(data, {"Title": meta.title, "Description": alt_text(meta),
                                     "Source": "; ".join(meta.sources)})
    if fmt == "svg":
        return _svg_with_alt(data, meta.title, alt_text(meta))
    return data


def _png_with_text(png: bytes, fields: dict[str, str]) -> bytes:
    """Adds UTF-8 text chunks (iTXt) before IEND: the alt text travels with the image."""
    import struct
    import zlib

    chunks = b""
    for key, text in fields.items():
        body = key.encode("latin-1") + b"\x00\x00\x00" + b"fr" + b"\x00" + b"\x00" + text.encode("utf-8")
        chunks += struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunks + png[end:]


def _svg_with_alt(svg: bytes, title: str, description: str) -> bytes:
    """`<title>` and `<desc>` as the first children of the root element (read by screen readers)."""
    from xml.sax.saxutils import escape

    text = svg.decode("utf-8")
    start = text.index("<svg")
    end = text.index(">", start) + 1
    head = text[start:end]
    if "role=" not in head:
        head = head[:-1] + ' role="img">'
    return (text[:start] + head + f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
            + text[end:]).encode("utf-8")


def alt_text(meta: ExportMeta, summary: str = "") -> str:
    """Alternative text for an exported image (accessibility)."""
    return f"{meta.title} — {meta.territory}. {summary} {meta.footer()}".strip()
