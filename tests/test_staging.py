"""« Vérifier un fichier »: limits, staging, and validation by the build's own loaders (etl/staging.py).

The served database is the small real build (Ille-et-Vilaine + Orne); it is attached read-only and
its content checksum must not move, whatever is uploaded.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from etl import cfppa, staging
from etl.checks import table_checksums

FIXTURES = Path(__file__).parent / "fixtures" / "staging"
VALID, HOSTILE = FIXTURES / "valide", FIXTURES / "hostile"


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "staging"


def check(db, path_or_bytes, name: str | None = None, root: Path | None = None, **options) -> staging.Report:
    if isinstance(path_or_bytes, Path):
        data, name = path_or_bytes.read_bytes(), name or path_or_bytes.name
    else:
        data = path_or_bytes
    return staging.check_upload(data, name, db, root=root, **options)


def problems(report: staging.Report) -> list[tuple]:
    return [(p.row, p.column, p.value) for p in report.problems]


def preview(report: staging.Report) -> dict[str, str]:
    return dict(report.preview)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def checksums(db_path: Path) -> dict:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return table_checksums(con)
    finally:
        con.close()


# -- each kind: a valid file is accepted with the right preview ----------------------------------

@pytest.mark.parametrize("file_name, kind, expected", [
    ("cfppa_financements_2021.csv", "cfppa_financements",
     {"Table cfppa_financements": "3 ligne(s)", "Départements (les données simulées y seraient remplacées)": "35, 61",
      "Années": "2021"}),
    ("cnsa_synthese_2019.csv", "cnsa_synthese",
     {"Table cfppa_national_financements (cnsa_synthese_2019.csv)": "2 ligne(s)", "Années (synthèse CNSA)": "2019"}),
    ("fragilite_communes_2022.csv", "fragilite_communes",
     {"Table fragilite_communes (fragilite_communes_2022.csv)": "4 commune(s), millésime 2022",
      "Départements": "35, 61"}),
    ("fragilite_individus_2023.csv", "fragilite_individus",
     {"Table fragilite_communes (fragilite_individus_2023.csv)": "4 commune(s), millésime 2023",
      "Retraités agrégés": "moins de 11 (secret statistique)", "Départements": "35, 61"}),
    ("ctg_registre_35.csv", "ctg_registre",
     {"Table conventions_territoriales": "6 convention(s)", "EPCI signataires": "3",
      "Départements (le registre embarqué y serait remplacé)": "35, 61", "Signatures": "12/2016 – 05/2021"}),
    ("paniers_suivi_2024.csv", "paniers_suivi",
     {"Table paniers_suivi": "3 ligne(s)", "Caisses": "CARSAT Bretagne, CARSAT Normandie",
      "Mois": "01/2024 – 02/2024"}),
    ("saad_services_2024.csv", "saad_services",
     {"Table saad_services": "2 service(s)", "Départements": "35, 61", "Communes": "2"}),
    ("base-cc-evol-struct-pop-2019.csv", "insee_rp_struct",
     {"Table indicateurs": "72 valeur(s)", "Millésimes": "2019", "  dont niveau commune": "18"}),
])
def test_valid_file_of_each_kind_is_accepted_with_what_would_be_loaded(small_db_path, root, file_name, kind, expected):
    report = check(small_db_path, VALID / file_name, root=root)
    assert report.problems == []
    assert report.accepted
    assert report.kind.key == kind and report.detected_by == "nom du fichier"
    shown = preview(report)
    for item, value in expected.items():
        assert shown[item] == value, item


def test_old_commune_code_is_remapped_with_a_warning_not_rejected(small_db_path, root):
    report = check(small_db_path, VALID / "fragilite_communes_2022.csv", root=root)
    assert report.accepted
    assert any("35011 → 35292" in w and "communes_historique" in w for w in report.warnings)


def test_restricted_build_skips_conventions_of_other_departements_with_a_warning(small_db_path, root):
    report = check(small_db_path, VALID / "ctg_registre_35.csv", root=root)
    assert "ctg_registre_35.csv : 1 convention(s) hors des départements construits ignorée(s)" in report.warnings


def test_census_file_is_checked_for_every_loader_that_reads_it(small_db_path, root):
    report = check(small_db_path, VALID / "base-cc-evol-struct-pop-2019.csv", root=root)
    assert report.kind.key == "insee_rp_struct"
    assert "60 ans et plus (base-cc-evol-struct-pop-2019.csv)" in preview(report)
    assert any("Fragilité — population de 60 ans et plus" in w for w in report.warnings)


def test_cfppa_csv_lot_is_checked_together_like_an_input_folder(small_db_path, root):
    names = ["cfppa_financements_2021.csv", "cfppa_actions_2021.csv", "cfppa_actions_communes_2021.csv",
             "cfppa_actions_financeurs_2021.csv"]
    lot = zipped({f"envoi/{n}": (VALID / n).read_bytes() for n in names} | {"LISEZ-MOI.txt": b"notes"})
    report = check(small_db_path, lot, "envoi CFPPA 2021.zip", root=root)
    assert report.problems == []
    assert report.kind.key == "lot"
    shown = preview(report)
    assert shown["Table cfppa_financements"] == "3 ligne(s)"
    assert shown["Table actions_prevention"] == "2 ligne(s)"
    assert shown["Table actions_prevention_communes"] == "3 ligne(s)"
    assert shown["Table actions_prevention_financeurs"] == "3 ligne(s)"
    assert shown["Communes des actions"] == "3"
    assert any("35011 → 35292" in w for w in report.warnings)
    readme = next(w for w in report.warnings if w.startswith("LISEZ-MOI.txt"))
    assert readme.startswith("LISEZ-MOI.txt : non lu — nom non reconnu par les chargeurs ; noms reconnus : ")
    assert "cfppa_financements*" in readme and "txcouv_pe_epci*" in readme


def test_cfppa_workbook_is_recognised_by_its_sheets_and_its_unknown_name_reported(small_db_path, root):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(cfppa.template_xlsx()))
    book["financements"].append(["35", "2021", "CARSAT", "6", "", "15000", "", ""])
    out = io.BytesIO()
    book.save(out)
    report = check(small_db_path, out.getvalue(), "Données CFPPA 35.xlsx", root=root)
    assert report.kind.key == "cfppa_classeur" and report.detected_by == "en-tête"
    assert report.accepted, report.problems
    assert preview(report)["Table cfppa_financements"] == "1 ligne(s)"
    assert report.warnings[0].startswith("nom non reconnu : la construction ne chargerait pas ce fichier")
    assert report.file_name == "Donnees CFPPA 35.xlsx"


def test_file_with_an_unknown_name_is_detected_from_its_header(small_db_path, root):
    report = check(small_db_path, (VALID / "paniers_suivi_2024.csv").read_bytes(), "export_caisse.csv", root=root)
    assert report.kind.key == "paniers_suivi" and report.detected_by == "en-tête"
    assert report.accepted
    assert "« paniers_suivi*.csv|txt|xlsx|xls »" in report.warnings[0]


def test_saad_lot_checks_indicators_against_the_services(small_db_path, root):
    lot = zipped({n: (VALID / n).read_bytes() for n in ("saad_services_2024.csv", "saad_indicateurs_2024.csv")})
    report = check(small_db_path, lot, "saad.zip", root=root)
    assert report.problems == []
    assert preview(report)["Table saad_indicateurs"] == "3 valeur(s)"
    assert preview(report)["Périodes"] == "2024, 2024-T1"


# -- hostile files: the exact problems the build would reject them with -------------------------

def test_cfppa_financing_file_lists_every_problem(small_db_path, root):
    report = check(small_db_path, HOSTILE / "cfppa_financements_erreurs.csv", root=root)
    assert not report.accepted
    assert problems(report) == [
        (2, "code_departement", "99"), (3, "annee", "20x1"), (4, "financeur", "Banque inconnue"),
        (5, "axe", "7"), (5, "montant_engage", "-5"), (6, "montant_engage", 999.0)]
    assert report.problems[5].expected == ("la somme des lignes de 35 2021, soit 1\u202f000,00 € (le total ne "
                                           "correspond pas au détail)")
    assert all(p.file == "cfppa_financements_erreurs.csv" for p in report.problems)


def test_fragility_aggregate_lists_every_problem(small_db_path, root):
    report = check(small_db_path, HOSTILE / "fragilite_communes_2022.csv", root=root)
    assert problems(report) == [
        (4, "code_insee", "ABCDE"), (2, "n_reversion", "120"), (2, "score_moyen", "3,0"),
        (3, "score_moyen", "9,5"), (5, "code_insee", "35999"), (6, "code_insee", "35001")]
    assert report.problems[1].expected == "au plus n_retraites (100)"
    assert report.problems[5].expected == "une seule ligne par commune (doublon)"


def test_ctg_registry_lists_every_problem(small_db_path, root):
    report = check(small_db_path, HOSTILE / "ctg_registre_erreurs.csv", root=root)
    assert problems(report) == [
        (5, "instrument", "dispositif inconnu"), (10, "date_signature", "32/13/2019"),
        (2, "siren_epci", "123456789"), (3, "communes", "35999"), (4, "date_fin", "2019-01-01"),
        (6, "identifiant", "E1"), (7, "siren_epci", ""), (8, "date_signature", ""),
        (9, "siren_epci", "200068468")]
    assert report.problems[8].expected == "un EPCI qui touche le département 35"


def test_ctg_identifier_of_the_embedded_registry_is_rejected(small_db_path, root):
    text = ("identifiant;instrument;code_departement;intitule;siren_epci;communes;date_signature\n"
            "35-CTG-COUESNON;CTG;61;Reprise d'un identifiant;200068468;;2019\n")
    report = check(small_db_path, text.encode(), "ctg_orne.csv", root=root)
    assert [(p.column, p.value, p.expected) for p in report.problems] == [
        ("identifiant", "35-CTG-COUESNON", "un identifiant différent de ceux du registre embarqué")]


def test_paniers_file_lists_every_problem(small_db_path, root):
    report = check(small_db_path, HOSTILE / "paniers_suivi_erreurs.csv", root=root)
    assert problems(report) == [(2, "mois", "2024-13"), (3, "demandes_recues", "-3"),
                                (4, None, "CARSAT Bretagne ; 2024-02-01")]


def test_census_file_lists_its_problems_for_each_loader(small_db_path, root):
    report = check(small_db_path, HOSTILE / "base-cc-evol-struct-pop-2019.csv", root=root)
    assert problems(report) == [(3, "CODGEO", "ABCDE"), (4, "P19_POP", "deux cent mille"),
                                (3, "code_insee", "ABCDE")]


def test_saad_indicators_alone_are_rejected_as_the_build_does(small_db_path, root):
    report = check(small_db_path, VALID / "saad_indicateurs_2024.csv", root=root)
    assert len(report.problems) == 1
    assert report.problems[0].expected.startswith("un fichier saad_services* à côté")


def test_official_insee_file_under_another_name_is_refused(small_db_path, root):
    report = check(small_db_path, VALID / "base-cc-evol-struct-pop-2019.csv", "recensement.csv", root=root,
                   kind="insee_rp_struct")
    assert len(report.problems) == 1
    assert "un nom officiel (base-cc-evol-struct-pop-20??.zip" in report.problems[0].expected


def test_fragility_file_without_vintage_in_its_name_takes_the_chosen_one(small_db_path, root):
    report = check(small_db_path, VALID / "fragilite_communes_2022.csv", "agregats.csv", root=root,
                   kind="fragilite_communes", millesime=2019)
    assert report.accepted
    assert preview(report)["Table fragilite_communes (agregats.csv)"] == "4 commune(s), millésime 2019"


# -- limits: size, type, content, name -------------------------------------------------------------

def test_oversize_file_is_refused_before_staging(small_db_path, root):
    data = b"a;b\n" + b"1;2\n" * (staging.MAX_UPLOAD_BYTES // 4)
    report = check(small_db_path, data, "paniers_suivi.csv", root=root)
    assert report.refused_before_reading and not report.accepted
    assert problems(report) == [(None, None, "20,0 Mo")]
    assert report.problems[0].expected == "un fichier de 20,0 Mo au plus"
    assert not root.exists()


@pytest.mark.parametrize("name, kind", [("paniers.exe", None), ("paniers", None), ("rapport.pdf", None),
                                        ("fragilite_communes_2022.txt", "fragilite_communes"),
                                        ("saad.zip", "saad_services")])
def test_extension_outside_the_loaders_allow_list_is_refused(small_db_path, root, name, kind):
    report = check(small_db_path, b"code_insee;n\n35001;1\n", name, root=root, kind=kind)
    assert report.refused_before_reading
    assert report.problems[0].expected.startswith("un fichier .")


def test_workbook_renamed_csv_is_refused_cleanly(small_db_path, root):
    report = check(small_db_path, cfppa.template_xlsx(), "cfppa_financements.csv", root=root)
    assert report.refused_before_reading
    assert problems(report) == [(None, None, "contenu zip/xlsx")]
    assert "binaire" in report.problems[0].expected


@pytest.mark.parametrize("data, name, value", [
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "cfppa.xlsx", "image PNG"),
    (b"code;n\n35001;1\n", "paniers_detail.xlsx", "contenu texte"),
    (b"code;n\n35001;1\n", "paniers_detail.xls", "contenu texte"),
    (zipped({"a.csv": b"x"}), "ctg.xlsx", "archive zip sans classeur"),
    (b"PK\x03\x04 tronque", "ctg.xlsx", "archive illisible ou tronquée"),
    ("caisse;mois\n".encode("utf-16"), "paniers_suivi.csv", "texte UTF-16"),
    (b"%PDF-1.7\n", "paniers_suivi.csv", "contenu PDF"),
    (b"caisse;mois\x00\x00\n", "paniers_suivi.txt", "contenu binaire"),
    (b"  \n", "paniers_suivi.csv", "fichier vide"),
])
def test_content_that_does_not_match_its_extension_is_refused(small_db_path, root, data, name, value):
    report = check(small_db_path, data, name, root=root)
    assert report.refused_before_reading
    assert [p.value for p in report.problems][:1] == [value]


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\..\\boot.ini.csv", "/tmp/ctg.csv", "dossier/ctg.csv",
                                  "C:ctg.csv", "ctg\x00.csv", "..", "", "ctg\n.csv"])
def test_path_like_file_names_are_refused(small_db_path, root, name):
    report = check(small_db_path, (VALID / "ctg_registre_35.csv").read_bytes(), name, root=root)
    assert report.refused_before_reading and not report.accepted
    assert report.problems[0].expected.startswith("un nom de fichier simple")
    assert not root.exists()


def test_sender_name_is_sanitised_before_staging():
    assert staging.safe_name("Données CFPPA (35) été.xlsx") == "Donnees CFPPA (35) ete.xlsx"
    assert staging.safe_name("~$cfppa;rm -rf.csv") == "_cfppa_rm -rf.csv"
    assert staging.safe_name(".cache.csv") == "cache.csv"
    assert staging.safe_name("a" * 300 + ".csv") == "a" * 116 + ".csv"


def test_zip_with_a_path_outside_the_folder_is_refused(small_db_path, root):
    lot = zipped({"../../ctg_registre.csv": (VALID / "ctg_registre_35.csv").read_bytes()})
    report = check(small_db_path, lot, "lot.zip", root=root)
    assert report.refused_before_reading
    assert problems(report) == [(None, None, ["../../ctg_registre.csv"])]


def test_zip_unpacking_beyond_the_limit_is_refused(small_db_path, root, monkeypatch):
    monkeypatch.setattr(staging, "MAX_UNPACKED_BYTES", 10_000)
    lot = zipped({"paniers_suivi.csv": b"caisse;mois\n" + b"x;2024-01\n" * 2_000})
    report = check(small_db_path, lot, "lot.zip", root=root)
    assert report.refused_before_reading
    assert report.problems[0].expected == "au plus 0,0 Mo une fois décompressé"


def test_lot_without_any_file_the_build_would_read_is_rejected(small_db_path, root):
    report = check(small_db_path, zipped({"notes.txt": b"rien", "export.csv": b"a;b\n1;2\n"}), "lot.zip", root=root)
    assert not report.accepted
    assert problems(report) == [(None, None, ["export.csv", "notes.txt"])]


def test_zip_member_renamed_binary_is_refused(small_db_path, root):
    lot = zipped({"paniers_suivi.csv": cfppa.template_xlsx()})
    report = check(small_db_path, lot, "lot.zip", root=root)
    assert problems(report) == [(None, None, "contenu zip/xlsx")]
    assert report.problems[0].file == "lot.zip › paniers_suivi.csv"


# -- staging area and database ---------------------------------------------------------------------

def test_staging_directory_is_removed_after_each_check(small_db_path, root):
    for path in [VALID / "ctg_registre_35.csv", HOSTILE / "ctg_registre_erreurs.csv"]:
        check(small_db_path, path, root=root)
        assert list(root.iterdir()) == []


def test_staging_directory_is_removed_even_when_a_loader_crashes(small_db_path, root, monkeypatch):
    def crash(ctx, problems):
        assert ctx.input_dir.parent == root and any(ctx.input_dir.iterdir())
        raise RuntimeError("boom")
    monkeypatch.setitem(staging.FAMILIES, "ctg", crash)
    with pytest.raises(RuntimeError):
        check(small_db_path, VALID / "ctg_registre_35.csv", root=root)
    assert list(root.iterdir()) == []


def test_staging_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(staging.STAGING_ENV, str(tmp_path / "ici"))
    assert staging.staging_root() == tmp_path / "ici"
    assert (tmp_path / "ici").stat().st_mode & 0o777 == 0o700


def test_stale_staging_directories_are_removed(small_db_path, root):
    root.mkdir()
    stale, fresh = root / "verif-old", root / "verif-new"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (time.time() - 2 * staging.STALE_SECONDS,) * 2)
    check(small_db_path, VALID / "paniers_suivi_2024.csv", root=root)
    assert sorted(p.name for p in root.iterdir()) == ["verif-new"]


def test_checks_never_change_the_served_database(small_db_path, root):
    before, mtime = checksums(small_db_path), small_db_path.stat().st_mtime_ns
    for path in [*VALID.iterdir(), *HOSTILE.iterdir()]:
        check(small_db_path, path, root=root)
    check(small_db_path, zipped({n.name: n.read_bytes() for n in VALID.glob("cfppa_*.csv")}), "lot.zip", root=root)
    assert checksums(small_db_path) == before
    assert small_db_path.stat().st_mtime_ns == mtime


def test_loaders_get_a_read_only_reference(small_db_path, tmp_path):
    with staging.reference_context(small_db_path, tmp_path) as ctx:
        assert ctx.departements == ["35", "61"]
        with pytest.raises(duckdb.Error):
            ctx.con.execute("DELETE FROM communes")


# -- report ------------------------------------------------------------------------------------------

def test_report_csv_is_french_and_neutralises_formulas(small_db_path, root):
    text = "caisse;mois;demandes_recues;evaluations_commandees;paniers_accordes\n=HYPERLINK(1);2024-01;-1;0;0\n"
    report = check(small_db_path, text.encode(), "paniers_suivi.csv", root=root)
    raw = report.csv_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "gravité;fichier;ligne;colonne;valeur;attendu ou message"
    assert lines[1] == "erreur;paniers_suivi.csv;2;demandes_recues;-1;un entier positif ou nul"


def test_formula_like_cells_are_neutralised():
    assert staging._neutralise("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert staging._neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert staging._neutralise("-12,5") == "-12,5"
    assert staging._neutralise("-x") == "'-x"


def test_people_counts_under_the_threshold_are_not_shown_in_warnings():
    assert staging.secret_counts("f.csv : 3 retraités de communes hors des départements construits ignorés") \
        == "f.csv : moins de 11 retraités de communes hors des départements construits ignorés"
    assert staging.secret_counts("f.csv : 12 retraités ignorés") == "f.csv : 12 retraités ignorés"


def test_every_template_is_downloadable_and_read_back_as_its_kind(small_db_path, root):
    templates = staging.templates()
    assert {t.file_name for t in templates} >= {"cfppa_modele.xlsx", "cfppa_modeles_csv.zip",
                                                "conventions_territoriales.csv", "paniers_suivi.xlsx",
                                                "saad_indicateurs.csv", "fragilite_communes_AAAA.csv"}
    for template in templates:
        content = template.content()
        assert content, template.file_name
        assert staging.sniff_content(content, Path(template.file_name).suffix, template.file_name) == []
    report = check(
        small_db_path,
        next(t for t in templates if t.file_name == "conventions_territoriales.xlsx").content(),
        "conventions_territoriales.xlsx",
        root=root,
    )
    assert report.accepted and preview(report)["Table conventions_territoriales"] == "3 convention(s)"


OFFICIELS = Path(__file__).parent / "fixtures" / "officiels"


def test_todays_melodi_filosofi_file_is_recognised_and_previewed(small_db_path, root):
    report = check(small_db_path, OFFICIELS / "FILOSOFI_CC_csv.zip", root=root)
    assert report.problems == []
    assert report.kind.key == "insee_filosofi_melodi" and report.detected_by == "nom du fichier"
    shown = preview(report)
    assert shown["Millésimes"] == "2023"
    assert "revenu_median_uc" in shown["Indicateurs"] and "indice_gini" in shown["Indicateurs"]
    assert any("2 valeur(s) sous secret statistique" in w for w in report.warnings)


def test_an_official_looking_file_in_an_unknown_layout_says_found_and_expected_columns_on_the_check(
        small_db_path, root):
    report = check(small_db_path, OFFICIELS / "txcouv_pe_nat.csv", root=root)
    assert report.kind is None and not report.accepted
    expected = report.problems[0].expected
    assert "ressemble à un fichier Cnaf data.caf.fr" in expected
    assert "colonnes trouvées : annee, txcouv_nat" in expected and "txcouv_epci" in expected


def test_a_lot_of_todays_official_files_reports_each_file_not_read(small_db_path, root):
    names = ["txcouv_pe_epci.csv", "txcouv_pe_nat.csv", "v_commune_2025.csv", "lisez-moi.txt"]
    report = check(small_db_path, zipped({n: (OFFICIELS / n).read_bytes() for n in names}), "envoi.zip", root=root)
    assert report.problems == []
    not_read = sorted(w.split(" : ")[0] for w in report.warnings if " : non lu — " in w)
    assert not_read == ["lisez-moi.txt", "txcouv_pe_nat.csv"]
    assert preview(report)["Table indicateurs"].endswith("valeur(s)")
