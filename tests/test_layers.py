"""The architecture of the README is a contract: this AST test fails as soon as an import breaks it.

Layers, top to bottom (a module imports only its own package or a lower layer):

    pages (and app.py) → ui → export → query → methods | geo → common

- `common/` holds what every layer needs (French number formats, palettes, the fiche's data model,
  configuration such as the database path); `methods` and `geo` are independent of each other.
- `etl` (the writer) is imported by no module of these layers, except pages and `ui` through the one
  public inputs API, `etl.inputs` (templates, upload check, publication, accounts, first build).
- No import inside a function that closes a cycle: an import tucked into a function to dodge a
  circle is a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"pages": 5, "ui": 4, "export": 3, "query": 2, "methods": 1, "geo": 1, "common": 0}
PACKAGES = [*LAYERS, "etl", "serving", "bench"]
INPUTS_API = "etl.inputs"


ORDER = "pages → ui → export → query → methods | geo → common"


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts == ["app"]:
        return "pages.app"  # the navigation script sits with the pages, at the top
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_files(root: Path = ROOT) -> dict[str, Path]:
    files = {"pages.app": root / "app.py"} if (root / "app.py").exists() else {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            files[_module_name(path, root)] = path
    return files


def imports(files: dict[str, Path]) -> list[tuple[str, str, int, bool]]:
    """(importer, imported module, line, inside a function) for every import of a project module."""
    known = set(files)
    out = set()
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                in_function.update(id(n) for n in ast.walk(node) if n is not node)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names
                ]
            for target in targets:
                if target.split(".")[0] in PACKAGES:
                    out.add((name, target, node.lineno, id(node) in in_function))
    return sorted(out)


def _package(module: str) -> str:
    return module.split(".")[0]


def violations(root: Path = ROOT) -> list[str]:
    files = project_files(root)
    found = imports(files)
    problems = []
    for importer, target, line, _ in found:
        src, dst = _package(importer), _package(target)
        where = f"{files[importer].relative_to(root)}:{line} imports {target}"
        if src in LAYERS and dst in LAYERS and src != dst and not LAYERS[src] > LAYERS[dst]:
            problems.append(f"{where}: {src} may not import {dst} (layers {ORDER})")
        elif src in LAYERS and dst in ("etl", "serving", "bench"):
            if not (src in ("pages", "ui") and target == INPUTS_API):
                problems.append(
                    f"{where}: {src} reaches {dst} only through {INPUTS_API}"
                    if src in ("pages", "ui")
                    else f"{where}: {src} may not import {dst}"
                )
    graph = defaultdict(set)
    for importer, target, _, _ in found:
        graph[importer].add(target)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    for importer, target, line, in_function in found:
        if in_function and target != importer and reaches(target, importer):
            problems.append(
                f"{files[importer].relative_to(root)}:{line} imports {target} inside a function: "
                f"{target} imports {importer} back (a hidden cycle)"
            )
    return problems


def test_imports_follow_the_layers():
    problems = violations()
    assert not problems, f"{len(problems)} import(s) break the layers:\n" + "\n".join(problems)


def test_the_test_sees_a_violation(tmp_path):
    (tmp_path / "query").mkdir()
    (tmp_path / "ui").mkdir()
    (tmp_path / "query" / "a.py").write_text("from ui import b\n")
    (tmp_path / "ui" / "b.py").write_text("def f():\n    from query import a\n")
    (tmp_path / "ui" / "c.py").write_text("from etl import build\n")
    problems = violations(tmp_path)
    assert any("query may not import ui" in p for p in problems)
    assert any("hidden cycle" in p for p in problems)
    assert any("only through etl.inputs" in p for p in problems)
