"""`python -m bench <what> [options]`: runs `bench/<what>.py`'s `main(options)`."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    known = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    if not argv or argv[0] not in known or argv[0] == "load_ws":
        print(f"usage : python -m bench {{{','.join(k for k in known if k != 'load_ws')}}} [options]", file=sys.stderr)
        return 1
    return importlib.import_module(f"bench.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
