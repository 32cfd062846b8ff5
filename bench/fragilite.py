"""`python -m bench fragilite --rows 17000000`: aggregation of a national individual extract.

1. Generates, in a subprocess (the parent stays small), a synthetic extract of about `--rows`
   retirees for all of France with the simulated extract of `etl.fragilite` (retirees scaled to the
   requested total), rows shuffled (a real extract is not sorted by commune), written as Parquet (and
   CSV unless `--no-csv`).
2. Each measurement runs in a fresh subprocess of that small parent, alternately, `--repeat` times:
   the bare DuckDB `GROUP BY code_insee` computing count, markers and mean score over the Parquet
   file (the issue's reference); the bare `GROUP BY` to the same cells as ours (code × 5-year band ×
   réversion × CSG, no validation); then our full aggregation step (validation counted in the same
   scan, commune remapping, cells, commune, EPCI and département tables) over the same file; the CSV
   run is reported separately.
Prints medians, rows/s, each process's own peak RSS and the ratios (goal ≤ 1.25, peak < 1 GiB). The
peak is the child's `VmHWM` (/proc/self/status: the high-water mark of its own address space, which
starts at exec), not `ru_maxrss`, which Linux carries over from the image a child was forked from.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Own peak resident memory of the measuring process, in MiB (see the module docstring).
PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

BARE = PEAK + """
import json, sys, time, duckdb
from methods import fragilite as m
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rows = con.execute(f'''SELECT code_insee, count(*), sum(reversion::INTEGER), sum(exo_csg::INTEGER),
    avg({m.score_sql("age", "reversion", "exo_csg")}) FROM read_parquet(?) GROUP BY code_insee''',
    [sys.argv[1]]).fetchall()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "groups": len(rows), "peak_mib": peak_mib()}))
"""

BARE_CELLS = PEAK + """
import json, sys, time, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rows = con.execute('''SELECT code_insee, least(greatest(age::INTEGER // 5, 11), 19), reversion, exo_csg,
    count(*) FROM read_parquet(?) GROUP BY ALL''', [sys.argv[1]]).fetchall()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "groups": len(rows), "peak_mib": peak_mib()}))
"""

OURS = PEAK + """
import json, sys, time, duckdb
from pathlib import Path
from etl import fragilite as f
from etl.communes_map import CommuneResolver
path, ref = Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("ATTACH ? AS ref (READ_ONLY)", [ref])
con.execute("CREATE TABLE communes AS SELECT * FROM ref.communes")
con.execute("CREATE TABLE communes_historique AS SELECT * FROM ref.communes_historique")
con.execute("CREATE TEMP TABLE _frag_pop60 AS SELECT * FROM ref.pop60")
con.execute("DETACH ref")
for ddl in f.DDL.values():
    con.execute(ddl)
resolver = CommuneResolver(con)
t0 = time.perf_counter()
view = f._open_extract(con, path)
cells, warnings = f.aggregate_extract(con, view, path.name, 2023, resolver, None)
t1 = time.perf_counter()
retirees = f._write_cells(con, cells, 2023, "bench")
rows = f._roll_ups(con, 2023)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "scan_seconds": t1 - t0, "retirees": int(retirees),
                  "communes": con.execute("SELECT count(*) FROM fragilite_communes").fetchone()[0],
                  "epci": con.execute("SELECT count(*) FROM fragilite_epci").fetchone()[0],
                  "peak_mib": peak_mib()}))
"""

GENERATE = """
import json, sys
from pathlib import Path
from bench.fragilite import generate, reference_file
folder = Path(sys.argv[1])
ref, communes = reference_file(folder)
files = generate(folder, communes, int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1")
print(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in files.items()}))
"""


def reference_file(folder: Path):
    """A small DuckDB file with the commune reference (codes, EPCI, history, population, 60+)."""
    import duckdb

    from etl import fragilite as f
    from etl import reference
    communes = f.national_communes()
    com = reference.read_raw()["communes"].drop(columns="geometry")
    parents = com[["id", "code"]].rename(columns={"id": "commune_parent_id", "code": "code_insee"})
    history = com[com["type"] != "COM"].merge(parents, on="commune_parent_id")[["code", "type", "nom", "code_insee"]]
    history = history.rename(columns={"code": "code_ancien"})
    params = f.simulation_parameters(communes)  # noqa: F841 (read by the SQL below)
    path = folder / "reference.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE communes AS SELECT * FROM communes")
    con.execute("CREATE TABLE communes_historique AS SELECT * FROM history")
    con.execute("CREATE TABLE pop60 AS SELECT code_insee, n_60_plus, 'simulé' AS source_60_plus FROM params")
    con.close()
    return path, communes


def generate(folder: Path, communes, rows: int, csv: bool, shuffle: bool) -> dict:
    import duckdb

    from etl import fragilite as f
    params = f.simulation_parameters(communes)  # noqa: F841 (read by the SQL below)
    scale = rows / params["n_retraites"].sum()
    params["n_retraites"] = (params["n_retraites"] * scale).round().astype("int64")
    con = duckdb.connect()
    f.register_simulation(con, params)
    parquet = folder / "fragilite_individus_2023.parquet"
    order = "ORDER BY hash(code_insee, age, reversion, exo_csg, random())" if shuffle else ""
    t0 = time.perf_counter()
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"COPY (SELECT code_insee, age, reversion, exo_csg, regime FROM _frag_simulated {order}) "
                f"TO '{parquet}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)")
    out = {"rows": con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0],
           "parquet": parquet, "parquet_mib": parquet.stat().st_size / 2**20,
           "generation_s": time.perf_counter() - t0}
    if csv:
        path = folder / "fragilite_individus_2023.csv"
        t0 = time.perf_counter()
        con.execute(f"COPY (SELECT code_insee, age, CASE WHEN reversion THEN 'oui' ELSE 'non' END AS reversion, "
                    f"CASE WHEN exo_csg THEN 'oui' ELSE 'non' END AS exo_csg, regime FROM read_parquet('{parquet}')) "
                    f"TO '{path}' (HEADER, DELIMITER ';')")
        out.update(csv=path, csv_mib=path.stat().st_size / 2**20, csv_generation_s=time.perf_counter() - t0)
    return out


def child(code: str, *args) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _line(label: str, runs: list[dict], rows: int, note: str) -> str:
    seconds = statistics.median(r["seconds"] for r in runs)
    return (f"{label:<35}median {seconds:6.2f} s  {rows / seconds / 1e6:6.1f} M rows/s  "
            f"own peak {max(r['peak_mib'] for r in runs):5.0f} MiB  ({note}; runs "
            f"{' '.join(format(r['seconds'], '.2f') for r in runs)} s)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench fragilite")
    parser.add_argument("--rows", type=int, default=17_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-csv", dest="csv", action="store_false", help="skip the CSV measurement")
    parser.add_argument("--sorted", dest="shuffle", action="store_false",
                        help="keep the extract sorted by commune (default: shuffled rows)")
    parser.add_argument("--keep", type=Path, default=None, help="folder where the files are kept")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: measure the files already there instead of generating them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ref = folder / "reference.duckdb"
        existing = folder / "fragilite_individus_2023.parquet"
        csv_path = folder / "fragilite_individus_2023.csv"
        if args.reuse and args.keep and existing.exists() and ref.exists():
            count = ("import duckdb, json, sys; print(json.dumps({'rows': duckdb.connect().execute("
                     "'SELECT count(*) FROM read_parquet(?)', [sys.argv[1]]).fetchone()[0]}))")
            files = {"parquet": str(existing), "parquet_mib": existing.stat().st_size / 2**20,
                     "generation_s": 0.0, "rows": child(count, existing)["rows"]}
            if args.csv and csv_path.exists():
                files.update(csv=str(csv_path), csv_mib=csv_path.stat().st_size / 2**20, csv_generation_s=0.0)
            args.csv = "csv" in files
        else:
            files = child(GENERATE, folder, args.rows, int(args.csv), int(args.shuffle))
        rows = files["rows"]
        print(f"extract: {rows:,} rows, {'shuffled' if args.shuffle else 'sorted by commune'}; Parquet "
              f"{files['parquet_mib']:.0f} MiB written in {files['generation_s']:.1f} s"
              + (f"; CSV {files['csv_mib']:.0f} MiB in {files['csv_generation_s']:.1f} s" if args.csv else ""))
        bare, bare_cells, ours = [], [], []
        for _ in range(args.repeat):
            bare.append(child(BARE, files["parquet"]))
            bare_cells.append(child(BARE_CELLS, files["parquet"]))
            ours.append(child(OURS, files["parquet"], ref))
        assert ours[0]["retirees"] == rows, "every row must be counted"
        b = statistics.median(r["seconds"] for r in bare)
        bc = statistics.median(r["seconds"] for r in bare_cells)
        o = statistics.median(r["seconds"] for r in ours)
        scan = statistics.median(r["scan_seconds"] for r in ours)
        print(_line("bare GROUP BY code_insee (Parquet)", bare, rows, f"{bare[0]['groups']:,} communes"))
        print(_line("bare GROUP BY to the same cells", bare_cells, rows, f"{bare_cells[0]['groups']:,} cells"))
        print(_line("fragilité aggregation (Parquet)", ours, rows,
                    f"scan with validation + remapping {scan:.2f} s; {ours[0]['communes']:,} communes, "
                    f"{ours[0]['epci']:,} EPCI"))
        print(f"ratio ours / bare GROUP BY         {o / b:6.2f}   (goal ≤ 1.25; own peak goal < 1024 MiB)")
        print(f"ratio ours / same-cells GROUP BY   {o / bc:6.2f}   (what validation, remapping and writing add)")
        print(f"parent process peak {child_free_peak():.0f} MiB (the children are started from it)")
        if args.csv:
            csv = child(OURS, files["csv"], ref)
            print(f"fragilité aggregation (CSV)        {csv['seconds']:6.2f} s  "
                  f"{rows / csv['seconds'] / 1e6:6.1f} M rows/s  own peak {csv['peak_mib']:5.0f} MiB  "
                  f"(CSV parsing included)")
    return 0


def child_free_peak() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
