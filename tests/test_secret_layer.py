"""Statistical secrecy lives in the query layer: every read declares what it publishes, pages and
exports cannot read around it, and what the `@people` reads return on the test database holds no
cell of 1 to 10 people and no masked cell recoverable from a published total."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pandas as pd
import pytest

import query
from methods.secret import SECRET_THRESHOLD, protect, small_cells
from query.db import Database, DirectReadRefused
from query.publication import People, SecrecyBreach, people

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"db", "publication"}


def _reads():
    """Every public function defined in a module of the `query` package."""
    for info in pkgutil.iter_modules(query.__path__):
        if info.name in LAYER:
            continue
        module = importlib.import_module(f"query.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{info.name}.{name}", fn


def test_every_public_read_of_the_query_layer_declares_what_it_publishes():
    undeclared = [name for name, fn in _reads() if not hasattr(fn, "__secrecy__")]
    assert undeclared == []
    reasons = [fn.__secrecy__ for _, fn in _reads() if isinstance(fn.__secrecy__, str)]
    assert all(len(r) > 5 for r in reasons)


@pytest.mark.parametrize("module, filename", [
    ("__main__", str(ROOT / "pages" / "fragilite.py")),
    ("__main__", str(ROOT / "app.py")),
    ("ui.fragilite", str(ROOT / "ui" / "fragilite.py")),
    ("export.tables", str(ROOT / "export" / "tables.py")),
])
def test_pages_ui_and_exports_cannot_read_the_database_directly(small_db_path, module, filename):
    db = Database(small_db_path)
    code = compile("db.frame('SELECT n_retraites FROM fragilite_communes')", filename, "eval")
    with pytest.raises(DirectReadRefused, match="couche query"):
        eval(code, {"__name__": module, "db": db})
    # the same read from a module of the query layer is allowed
    code = compile("db.scalar('SELECT count(*) FROM fragilite_communes')", str(ROOT / "query" / "x.py"), "eval")
    assert eval(code, {"__name__": "query.x", "db": db}) > 0


def test_no_page_ui_or_export_module_opens_duckdb_itself():
    offenders = []
    for folder in ("pages", "ui", "export"):
        for path in (ROOT / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(n.split(".")[0] == "duckdb" for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# -- the rules ---------------------------------------------------------------------------------------

def test_a_subcount_masked_alone_in_its_epci_takes_the_next_smallest_with_it():
    frame = pd.DataFrame({"epci": ["A", "A", "A"], "n": [100, 120, 300], "k": [4, 30, 50],
                          "part": [0.04, 0.25, 0.17]})
    out = protect(frame, "n", subcounts={"k": ["part"]}, group="epci")
    assert out["secret"].tolist() == [False, False, False]
    assert out["k"].tolist() == [None, None, 50]
    assert out["part"].tolist() == [None, None, 0.17]


def test_a_row_masked_whole_counts_as_masked_for_its_subcounts():
    # commune 1 is secret (5 people) and, alone, takes commune 2 with it: its subcount is hidden too
    frame = pd.DataFrame({"epci": ["A", "A", "A"], "n": [5, 40, 300], "k": [2, 20, 60]})
    out = protect(frame, "n", subcounts={"k": []}, group="epci")
    assert out["secret"].tolist() == [True, True, False]
    assert out["k"].tolist() == [None, None, 60]


def test_rows_without_data_are_neither_masked_nor_counted_as_masked():
    frame = pd.DataFrame({"epci": ["A", "A", "A"], "n": [None, 40, 300]})
    out = protect(frame, "n", group="epci")
    assert out["secret"].tolist() == [False, False, False]
    assert out["n"].tolist()[1:] == [40, 300]


def test_a_dict_read_loses_its_small_count_and_says_so():
    @people("participants")
    def totals():
        return {"actions": 3, "participants": 7}
    assert totals() == {"actions": 3, "participants": None, "secret": True}


def test_a_read_that_masks_inside_and_leaks_is_stopped():
    @people("n", masked_inside=True)
    def leaky():
        return pd.DataFrame({"n": [3, 40]})
    with pytest.raises(SecrecyBreach, match="moins de 11"):
        leaky()


def test_the_check_only_looks_at_rows_flagged_as_counting_people():
    @people("valeur", masked_inside=True, where="compte_personnes")
    def mixed():
        return pd.DataFrame({"valeur": [3.5, 40], "compte_personnes": [False, True]})
    assert len(mixed()) == 2


# -- every @people read on the test database ----------------------------------------------------------

def _calls(db):
    """(name, call) for each @people read, with every argument combination the pages use."""
    from query import aide_domicile as ad
    from query import cfppa, fragilite, indicateurs, synthese
    year = fragilite.millesimes(db)[0]
    years = cfppa.annees(db)
    caisses = tuple(ad.paniers_caisses(db))
    for dep in ("35", "61"):
        for level in ("communes", "epci"):
            yield "fragilite.assessed", lambda: fragilite.assessed(db, level, year, code=dep)
            yield "fragilite.assessed", lambda: fragilite.assessed(db, level, year, (65, 75, 85), 6, code=dep)
        for annee in years:  # one year at a time: « all years » is refused (tests/test_secret_linked.py)
            for niveau in ("communes", "epci"):
                yield "cfppa.carte_actions", lambda: cfppa.carte_actions(db, dep, annee, niveau)
            yield "cfppa.actions_totaux", lambda: cfppa.actions_totaux(db, dep, annee)
            yield "cfppa.actions_liste", lambda: cfppa.actions_liste(db, dep, annee)
            for by in ("theme", "axe", "porteur"):
                yield "cfppa.actions_par", lambda: cfppa.actions_par(db, dep, annee, by)
            yield "cfppa.communes_prioritaires", lambda: cfppa.communes_prioritaires(db, dep, annee)
            if annee is not None:  # the fiche territoire's themes, of an EPCI and of its largest commune
                siren = db.scalar("SELECT siren_epci FROM communes WHERE code_departement = ? "
                                  "ORDER BY population DESC LIMIT 1", [dep])
                yield "synthese.actions_by_theme", lambda: synthese.actions_by_theme(db, "epci", siren, annee)
                code = db.scalar("SELECT code_insee FROM communes WHERE siren_epci = ? ORDER BY population "
                                 "LIMIT 1", [siren])
                yield "synthese.actions_by_theme", lambda: synthese.actions_by_theme(db, "commune", code, annee)
        for periode in ad.saad_periodes(db, dep, "A"):
            yield "aide_domicile.saad_valeurs", lambda: ad.saad_valeurs(db, dep, None, periode)
        for indicateur in (4, 5, 16):
            yield "aide_domicile.saad_serie", lambda: ad.saad_serie(db, dep, None, indicateur)
        yield "indicateurs.territory_values", lambda: indicateurs.territory_values(db, dep, "departement")
        yield "indicateurs.vintages", lambda: indicateurs.vintages(db, dep, "departement")
    yield "fragilite.departements", lambda: fragilite.departements(db, year)
    yield "aide_domicile.paniers_bilan", lambda: ad.paniers_bilan(db)
    yield "aide_domicile.paniers_mensuel", lambda: ad.paniers_mensuel(db, caisses)
    yield "aide_domicile.paniers_tableau", lambda: ad.paniers_tableau(db, caisses)
    for dimension in ("niveau", "famille", "type_territoire"):
        yield "aide_domicile.paniers_repartition", lambda: ad.paniers_repartition(db, caisses, dimension)


def _lone_masked_groups(frame: pd.DataFrame, spec: People) -> list:
    """Groups (whose total is published) holding exactly one masked head count among rows with data."""
    group = next((g for g in spec.group if g == "*" or g in frame.columns), None)
    if group is None or "secret" not in frame:
        return []
    rows = frame[frame[spec.count].notna() | frame["secret"]]
    keys = rows[group] if group != "*" else pd.Series(0, index=rows.index)
    counts = rows.groupby(keys)["secret"].agg(["sum", "size"])
    return counts[(counts["sum"] == 1) & (counts["size"] > 1)].index.tolist()


def test_people_reads_publish_no_small_cell_and_no_lone_masked_sibling(small_db):
    declared = {name for name, fn in _reads() if isinstance(getattr(fn, "__secrecy__", None), People)}
    seen, masked = set(), 0
    for name, call in _calls(small_db):
        result = call()
        seen.add(name)
        if result is None or isinstance(result, dict):
            continue
        spec = dict(_reads())[name].__secrecy__
        rows = result[result[spec.where].astype(bool)] if spec.where else result
        assert small_cells(rows, [c for c in spec.counts if c in rows]) == {}, name
        assert _lone_masked_groups(result, spec) == [], name
        masked += int(result["secret"].sum()) if "secret" in result else 0
    assert seen == declared  # a new @people read must be exercised here
    assert masked > 0  # the test database does hold small cells: the masks were exercised


def test_fragility_communes_of_the_orne_keep_no_epci_with_a_single_secret_commune(small_db):
    from query import fragilite
    frame = fragilite.assessed(small_db, "communes", fragilite.millesimes(small_db)[0], code="61")
    with_data = frame[~frame["sans_donnees"]]
    secret_per_epci = with_data.groupby("siren_epci")["secret"].sum()
    assert secret_per_epci.max() >= 2 and (secret_per_epci != 1).all()
    published = with_data[~with_data["secret"]]
    assert (published["n_retraites"] >= SECRET_THRESHOLD).all()
