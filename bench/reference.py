"""`python -m bench reference [--repeat N] [--departements 35]`: whole-France reference build.

Prints per-step median seconds over N builds (each in a fresh subprocess, so peak RSS is the
build's own), the wall time, the peak RSS, and the EPCI GeoJSON sizes (one département, France).
Targets (issue 2): build < 30 s wall, peak < 2 GiB, GeoJSON < 200 KB (département), < 2 MB (France).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
from etl import build
result = build.build(sys.argv[1], sys.argv[2].split(",") if sys.argv[2] else None, steps=build.REFERENCE_STEPS
                     + [build.Step("contrôles", build.checks.run_checks)])
print(json.dumps(result.summary))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reference")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--departements", default="", help="restreint (défaut : toute la France)")
    parser.add_argument("--geojson-departement", default="35")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        walls, steps = [], {}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, str(db), args.departements],
                                 check=True, capture_output=True, text=True).stdout
            walls.append(time.perf_counter() - t0)
            for name, _rows, seconds in json.loads(out.strip().splitlines()[-1]):
                steps.setdefault(name, []).append(seconds)
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"reference build, {args.repeat} run(s), {'France entière' if not args.departements else args.departements}"
        )
        for name, values in steps.items():
            print(f"  {name:<32} median {statistics.median(values):6.2f} s")
        print(f"  {'wall (process incl. imports)':<32} median {statistics.median(walls):6.2f} s"
              f"   (target < 30 s)")
        print(f"  peak RSS {peak_mib:,.0f} MiB   (target < 2048 MiB)")
        from query import territoires
        from query.db import Database
        database = Database(db)
        for label, dep in ((f"EPCI GeoJSON, département {args.geojson_departement}", args.geojson_departement),
                           ("EPCI GeoJSON, France", None)):
            if dep and not territoires.is_departement(database, dep):
                continue
            size = len(json.dumps(territoires.geojson(database, "epci", dep), separators=(",", ":")))
            target = "200 KB" if dep else "2 MB"
            print(f"  {label:<32} {size / 1000:8.1f} KB   (target < {target})")
    return 0
