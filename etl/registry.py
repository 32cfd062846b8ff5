"""Source modules register their build steps by exposing `STEPS` (one module per source).

Every module of the `etl` package (or the `loader` module of a source package, e.g. `etl/insee/`)
that defines `STEPS: list[etl.build.Step]` is run after the reference, ordered by its `STEP_ORDER`
(default 100) then by name: adding a source is adding a module, nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

import etl


def source_modules():
    modules = []
    for info in pkgutil.iter_modules(etl.__path__):
        if info.name.startswith("_") or info.name in {"build", "registry"}:
            continue
        # a source package (etl/insee/) exposes its loader and steps in its `loader` module
        name = f"etl.{info.name}.loader" if info.ispkg else f"etl.{info.name}"
        module = importlib.import_module(name)
        if hasattr(module, "STEPS"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "STEP_ORDER", 100), m.__name__))


def source_steps():
    return [step for module in source_modules() for step in module.STEPS]
