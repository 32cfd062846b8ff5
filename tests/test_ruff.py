"""Ruff runs in `make test`: the lint rules of pyproject.toml on the whole tree, and the format check
on the files already formatted with `ruff format` (the rest of the tree is not formatted yet: a
whole-tree reformat is a separate, mechanical commit; add a path here once it is formatted)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Formatted with `ruff format`; `ruff format --check` keeps them so.
FORMATTED = [
    "common",
    "etl/dictionary.py",
    "etl/inputs.py",
    "pages/cfppa.py",
    "pages/ctg.py",
    "tests/test_layers.py",
    "tests/test_ruff.py",
    "tests/test_schema_docs.py",
]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    if (
        shutil.which("ruff") is None
        and subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode != 0
    ):
        pytest.fail("ruff is missing: `make test` installs it (pyproject [test] extra)")
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_passes():
    result = _ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_formatted_files_stay_formatted():
    result = _ruff("format", "--check", "--no-cache", *FORMATTED)
    assert result.returncode == 0, result.stdout + result.stderr
