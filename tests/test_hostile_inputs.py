"""Hostile files as people send them: every reader case pinned, fuzzed parsers, nothing half-loaded."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import readers
from etl.communes_map import CommuneResolver
from etl.errors import InputRejected

HOSTILE = Path(__file__).parent / "hostile"
EXPECTED_CODES = ["35238", "2A004", "1001"]


@pytest.mark.parametrize("name", ["utf8.csv", "utf8_bom.csv", "latin1_semicolon.csv", "tab.txt",
                                  "comma_quoted.csv"])
def test_encodings_and_separators_read_to_the_same_table(name):
    frame = readers.read_table(HOSTILE / name)
    assert list(frame.columns) == ["code_insee", "libelle", "montant", "taux", "date"]
    assert frame["code_insee"].tolist() == EXPECTED_CODES
    assert frame["libelle"].iloc[2] == "L'Abergement-Clémenciat"


def test_excel_sheet_with_merged_title_block_and_numeric_codes():
    frame = readers.read_table(HOSTILE / "merged_header.xlsx", header_row=2)
    assert frame.attrs["first_row"] == 4
    codes = [readers.parse_code_commune(c) for c in frame["code_insee"]]
    assert codes == ["35238", "2A004", "01001"]


@pytest.mark.parametrize("name, expected", [
    ("truncated.csv", "nombre de colonnes constant"),
    ("empty.csv", "non vide"),
    ("truncated.xlsx", "classeur Excel lisible"),
])
def test_broken_files_are_rejected_with_a_reason(name, expected):
    with pytest.raises(InputRejected) as rejected:
        frame = readers.read_table(HOSTILE / name)
        # a truncated CSV may still parse: its last row then lacks columns
        validator = readers.Validator(frame)
        validator.parse("date", readers.parse_date, "une date")
        validator.raise_if_any()
    assert expected in str(rejected.value) or "valeur obligatoire" in str(rejected.value)


def test_unsupported_extension_is_rejected():
    with pytest.raises(InputRejected, match=r"\.csv, \.xlsx ou \.xls"):
        readers.read_table(HOSTILE / "binary.csv".replace(".csv", ".bin"))


@pytest.mark.parametrize("text, value", [
    ("12 345,67 €", 12345.67), ("12\u202f345,67", 12345.67), ("1.234,5", 1234.5), ("1,234.5", 1234.5),
    ("14,9 %", 14.9), ("-0,27%", -0.27), ("1e3", 1000.0), ("0", 0.0),
])
def test_french_numbers(text, value):
    assert readers.parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "12,34,56x", "€", "--1"])
def test_non_numbers_are_refused(text):
    with pytest.raises(ValueError):
        readers.parse_number(text)


def test_negative_amount_is_refused():
    with pytest.raises(ValueError):
        readers.parse_amount("-12,50 €")


@pytest.mark.parametrize("text, code", [("1001", "01001"), ("01001", "01001"), ("2a004", "2A004"),
                                        ("2B033", "2B033"), ("35238.0", "35238"), (" 97411 ", "97411")])
def test_commune_codes_get_their_leading_zero_back(text, code):
    assert readers.parse_code_commune(text) == code


@pytest.mark.parametrize("text", ["101", "123456", "2C004", "ABCDE", "35 238"])
def test_ambiguous_or_malformed_commune_codes_are_refused(text):
    with pytest.raises(ValueError):
        readers.parse_code_commune(text)


@pytest.mark.parametrize("text, iso", [("14/11/2019", "2019-11-14"), ("2019-09", "2019-09-01"),
                                       ("09/2019", "2019-09-01"), ("43800", "2019-12-01"),
                                       ("2020-12-31", "2020-12-31")])
def test_dates_in_every_shape_people_type_them(text, iso):
    assert readers.parse_date(text).isoformat() == iso


def test_validator_lists_every_problem_with_row_and_column():
    frame = readers.read_table(HOSTILE / "utf8.csv")
    frame.loc[0, "montant"] = "douze"
    frame.loc[2, "date"] = "31/02/2019"
    validator = readers.Validator(frame)
    validator.parse("montant", readers.parse_amount, "un montant positif en euros")
    validator.parse("date", readers.parse_date, "une date JJ/MM/AAAA")
    with pytest.raises(InputRejected) as rejected:
        validator.raise_if_any()
    problems = [(p.row, p.column, p.value) for p in rejected.value.problems]
    assert problems == [(2, "montant", "douze"), (4, "date", "31/02/2019")]
    assert "utf8.csv, ligne 2, colonne « montant »" in str(rejected.value)


def test_merged_commune_codes_are_remapped_with_a_warning(small_db_path):
    import duckdb
    con = duckdb.connect(str(small_db_path), read_only=True)
    old, new = con.execute("SELECT code_ancien, code_insee FROM communes_historique "
                           "WHERE type = 'COMD' AND code_ancien <> code_insee LIMIT 1").fetchone()
    resolver = CommuneResolver(con)
    assert resolver.resolve(old) == new
    assert resolver.resolve("35238") == "35238"
    assert resolver.resolve("99999") is None
    assert f"{old} → {new}" in resolver.warning()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_number_parser_never_crashes_otherwise_than_by_value_error(text):
    try:
        value = readers.parse_number(text)
    except ValueError:
        return
    assert isinstance(value, float)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABab .", max_size=8))
def test_commune_code_parser_returns_a_valid_code_or_refuses(text):
    try:
        code = readers.parse_code_commune(text)
    except ValueError:
        return
    assert len(code) == 5 and (code.isdigit() or code[:2] in ("2A", "2B"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_read_or_rejected_never_crash(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.csv"
    path.write_bytes(data)
    try:
        readers.read_table(path)
    except InputRejected:
        pass
