"""What the other pages know about an EPCI (portrait page, fiche territoire)."""

from query import synthese


def test_sections_of_an_epci_carry_their_sources_and_the_simulated_flag(small_db):
    siren = small_db.scalar("SELECT siren FROM epci WHERE nom LIKE '%Flers Agglo%'")
    sections = {s.title.split(" (")[0]: s for s in synthese.sections(small_db, siren)}
    assert set(sections) == {"Fragilité des retraités", "Conventions territoriales", "Actions de prévention CFPPA"}
    assert sections["Fragilité des retraités"].simulated and sections["Actions de prévention CFPPA"].simulated
    assert not sections["Conventions territoriales"].simulated  # quoted from the report
    assert all(s.sources for s in sections.values())
    assert "Contrat de ville de Flers" in " ".join(sections["Conventions territoriales"].lines)


def test_ctg_coverage_of_rennes_metropole_counts_the_communal_ctg_of_2020(small_db):
    section = synthese.conventions(small_db, "243500139")
    assert "au 31/12/2020" in section.lines[0]
    assert section.lines[0].count("%") == 1 and not section.lines[0].startswith(
        "Population couverte par une CTG au 31/12/2020 (fin de la dernière année du registre) : 0,0"
    )
