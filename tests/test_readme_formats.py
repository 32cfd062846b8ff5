"""The « Fichiers reconnus » table of docs/chargeurs.md is the loaders' declarations, regenerated."""

from pathlib import Path

from etl import contract, formats_doc

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "chargeurs.md"


def test_docs_table_matches_the_loaders_declarations():
    section = formats_doc.section(PAGE.read_text(encoding="utf-8"))
    assert section is not None, "marqueurs « fichiers-reconnus » absents de docs/chargeurs.md"
    assert section == formats_doc.render(page=PAGE), "régénérer : python -m etl formats --docs docs/chargeurs.md"


def test_the_readme_links_to_the_table():
    assert "docs/chargeurs.md#fichiers-reconnus" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_links_are_relative_to_the_page_holding_the_table():
    assert "](#cfppa)" in formats_doc.render(page=PAGE)
    assert "](docs/chargeurs.md#cfppa)" in formats_doc.render(page=ROOT / "README.md")


def test_the_table_has_one_row_per_declared_format_and_names_todays_files():
    table = formats_doc.render()
    assert len(table.splitlines()) == 2 + len(contract.all_formats())
    for name in ("`filosofi_cc_csv.zip`", "`txcouv_pe_epci*.csv`", "`s_ben_com_f*.csv`", "`v_commune_20??.csv`",
                 "`*petites*villes*demain*.csv`"):
        assert name in table


def test_update_rewrites_only_the_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"avant\n{formats_doc.BEGIN}\nvieux\n{formats_doc.END}\naprès\n", encoding="utf-8")
    assert formats_doc.update(readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("avant\n") and text.endswith("après\n") and "vieux" not in text
    assert not formats_doc.update(readme)  # idempotent
