"""The A4 fiche territoire (2 to 4 pages)."""

import re

import pytest

from export.fiche import Fiche, Section, epci_fiche_pdf, render_pdf


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_fiche_with_many_sections_flows_onto_numbered_a4_pages():
    fiche = Fiche("CC du Pays Fertois et du Bocage Carrougien", "Communauté de communes — Orne (61)",
                  [("Population", "12 345")], [Section(f"Rubrique {i}", ["ligne"] * 6, simulated=i == 2)
                                               for i in range(12)], ["source A", "source B"])
    pdf = render_pdf(fiche)
    assert pdf.startswith(b"%PDF") and _pages(pdf) >= 2
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf or b"595.28" in pdf  # A4 in points


def test_epci_fiche_has_its_map_and_the_reference_section(small_db):
    from query import territoires
    epcis = territoires.epci_of_departement(small_db, "61")
    pdf = epci_fiche_pdf(small_db, epcis[epcis["nom"].str.contains("Flers Agglo")]["siren"].iloc[0])
    assert 2 <= _pages(pdf) <= 4 and b"/Subtype /Image" in pdf


def test_commune_fiche_has_its_map_and_secret_safe_sections(small_db):
    from export.fiche import commune_fiche_pdf
    from query import synthese

    pdf = commune_fiche_pdf(small_db, "61169")  # Flers
    assert 2 <= _pages(pdf) <= 4 and b"/Subtype /Image" in pdf
    titles = [s.title.split(" (")[0] for s in synthese.commune_sections(small_db, "61169")]
    assert titles == ["Fragilité des retraités", "Conventions territoriales", "Actions de prévention CFPPA"]


def test_commune_with_fewer_than_eleven_retirees_shows_no_score(small_db):
    from query import synthese

    code = small_db.scalar("SELECT code_insee FROM fragilite_communes WHERE n_retraites BETWEEN 1 AND 10 LIMIT 1")
    if code is None:
        pytest.skip("no commune under the secrecy threshold in the small build")
    section = synthese.commune_fragility(small_db, code)
    assert section.lines == ["Score couvert par le secret statistique (moins de 11 retrait"
                             "és, ou commune masquée avec une autre pour que le total de l'EPCI ne la révèle pas)."]
