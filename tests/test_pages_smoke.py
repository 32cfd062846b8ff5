"""Every page runs without exception (streamlit.testing), on the small real database."""

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_page

PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))


#: Pages only a signed-in data manager's navigation holds: run as a manager in tests/test_publication_roles.py.
MANAGER_ONLY = {"pages/gerer-donnees.py"}


@pytest.mark.parametrize("page", [p for p in PAGES if p not in MANAGER_ONLY])
def test_page_runs_without_exception(page, small_db_path, monkeypatch):
    run_page(small_db_path, monkeypatch, page, {"dep": "61"}, timeout=60)


def test_every_page_file_is_declared_in_the_navigation():
    declared = (ROOT / "app.py").read_text()
    assert all(f'"{p}"' in declared for p in PAGES), "a page file is missing from app.py"


def test_each_page_url_is_its_file_name_and_goes_through_the_shared_selector():
    """A cold deep link on a fresh server runs `pages/<url>.py` itself (Streamlit's legacy pages
    folder mode): the url must name the file, and the page must call `state.territory()`, which
    hands the run back to app.py."""
    import re
    declared = re.findall(r'st\.Page\("(pages/[^"]+)\.py".*?url_path="([^"]+)"', (ROOT / "app.py").read_text(),
                          re.S)
    assert len(declared) == len(PAGES)
    for path, url in declared:
        assert Path(path).name == url, (path, url)
        assert "state.territory()" in (ROOT / f"{path}.py").read_text(), path
