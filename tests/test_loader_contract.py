"""The loader contract holds: every source declares its formats and exposes the same functions, the
check page uses them, and no module reaches into another module's private functions."""

import ast
from pathlib import Path

from etl import contract, staging

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("etl", "query", "methods", "ui", "pages", "geo", "export", "common", "bench")
#: Calls left on purpose, with why (none left: `ui.maps.geojson_bounds` is public since the layer work).
KNOWN: dict[str, list[str]] = {}


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _private_calls(path: Path, project: set[str]) -> list[str]:
    """`module._name(...)` or `from module import _name` where module is another project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name → project module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in project:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in project:
                    aliases[alias.asname or alias.name] = full
                elif node.module in project and alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in aliases:
                found.append(f"{aliases[value.id]}.{'.'.join(reversed(chain))}")
    return found


def test_no_module_calls_another_modules_private_function():
    modules = _project_modules()
    offenders = {name: calls for name, path in modules.items()
                 if (calls := _private_calls(path, set(modules)))}
    assert offenders == KNOWN


def test_the_private_call_detector_finds_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from etl import fragilite\nfrom etl.cfppa import _reference\nfragilite._find(None, None)\n")
    assert sorted(_private_calls(sample, {"etl.fragilite", "etl.cfppa"})) == [
        "etl.fragilite._find", "from etl.cfppa import _reference"]


def test_every_source_module_declares_one_loader_with_its_formats():
    loaders = {loader.family: loader for loader in contract.loaders()}
    assert set(loaders) == {"cfppa", "ctg", "fragilite", "aide_domicile", "insee", "programmes"}
    for loader in loaders.values():
        assert loader.formats, loader.family
        for fmt in loader.formats:
            assert fmt.patterns and fmt.label and fmt.publisher and fmt.doc_url, fmt.key
        assert callable(loader.discover) and callable(loader.read) and callable(loader.preview)
    # the build of these sources is discover → read → write through the contract itself
    assert {family for family, loader in loaders.items() if loader.write} == {"insee", "programmes"}


def test_the_check_page_runs_the_loaders_own_functions():
    assert {family: loader for family, loader in staging.LOADERS.items()} == \
        {loader.family: loader for loader in contract.loaders()}
    assert len(staging.templates()) == sum(len(loader.templates()) for loader in contract.loaders())


def test_format_keys_are_unique():
    keys = [fmt.key for fmt in contract.all_formats()]
    assert len(keys) == len(set(keys))
