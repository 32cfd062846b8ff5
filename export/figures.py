"""Charts and maps to PNG (300 dpi at A4 width), SVG and PDF, rendered server-side by kaleido
driving the system Chromium. No network: maps use `go.Choropleth` on a local (empty) topojson
base, never web tiles or the plotly CDN."""

from __future__ import annotations

import copy
import os
import shutil
import threading
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from export.meta import ExportMeta
from ui.format import PLOTLY_SEPARATORS

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
    """Copy of the figure with the title, territory and the source/date footer drawn in."""
    fig = go.Figure(copy.deepcopy(figure))
    height = height or int(figure.layout.height or width * 0.7)
    fig.update_layout(
        title={"text": f"<b>{meta.title}</b><br><span style='font-size:14px'>{meta.territory}</span>",
               "x": 0.01, "xanchor": "left"},
        margin={"t": 90, "b": 80 + 14 * (len(meta.footer()) // 170), "l": 40, "r": 40},
        width=width, height=height, separators=PLOTLY_SEPARATORS, paper_bgcolor="white",
        font={"family": "DejaVu Sans, Arial, sans-serif"})
    footer = meta.footer()
    wrapped = "<br>".join(footer[i:i + 170] for i in range(0, len(footer), 170))
    fig.add_annotation(text=wrapped, xref="paper", yref="paper", x=0, y=0, yshift=-60,
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font={"size": 11, "color": "#b00020" if meta.simulated else "#444"})
    return fig


def render(figure: go.Figure, meta: ExportMeta, fmt: str, width: int = A4_WIDTH_PX,
           height: int | None = None) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} not in {sorted(FORMATS)}")
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
