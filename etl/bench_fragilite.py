"""`python -m etl bench fragilite --rows 17000000`: aggregation of a national individual extract.

1. Generates a synthetic extract of about `--rows` retirees for all of France with the simulated
   extract of `etl.fragilite` (retirees scaled to the requested total), rows shuffled (a real
   extract is not sorted by commune), written as Parquet (and CSV unless `--no-csv`).
2. Each measurement runs in a fresh subprocess (its peak RSS is its own), alternately, `--repeat`
   times: the bare DuckDB `GROUP BY code_insee` computing count, markers and mean score over the
   Parquet file, then our full aggregation step (validation, commune remapping, cells, commune,
   EPCI and département tables) over the same file; the CSV run is reported separately.
Prints rows/s, wall time, peak RSS and the ratio ours / bare (goal ≤ 1.5, peak < 1 GiB).
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

BARE = """
import json, resource, sys, time, duckdb
from methods import fragilite as m
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rows = con.execute(f'''SELECT code_insee, count(*), sum(reversion::INTEGER), sum(exo_csg::INTEGER),
    avg({m.score_sql("age", "reversion", "exo_csg")}) FROM read_parquet(?) GROUP BY code_insee''',
    [sys.argv[1]]).fetchall()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "groups": len(rows),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OURS = """
import json, resource, sys, time, duckdb
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
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl bench fragilite")
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
        existing = folder / "fragilite_individus_2023.parquet"
        if args.reuse and args.keep and existing.exists():
            import duckdb
            ref = folder / "reference.duckdb"
            csv_path = folder / "fragilite_individus_2023.csv"
            files = {"parquet": existing, "parquet_mib": existing.stat().st_size / 2**20, "generation_s": 0.0,
                     "rows": duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)",
                                                      [str(existing)]).fetchone()[0]}
            if args.csv and csv_path.exists():
                files.update(csv=csv_path, csv_mib=csv_path.stat().st_size / 2**20, csv_generation_s=0.0)
            args.csv = "csv" in files
        else:
            ref, communes = reference_file(folder)
            files = generate(folder, communes, args.rows, args.csv, args.shuffle)
        rows = files["rows"]
        print(f"extract: {rows:,} rows, {'shuffled' if args.shuffle else 'sorted by commune'}; Parquet "
              f"{files['parquet_mib']:.0f} MiB written in {files['generation_s']:.1f} s"
              + (f"; CSV {files['csv_mib']:.0f} MiB in {files['csv_generation_s']:.1f} s" if args.csv else ""))
        bare, ours = [], []
        for _ in range(args.repeat):
            bare.append(child(BARE, files["parquet"]))
            ours.append(child(OURS, files["parquet"], ref))
        b = statistics.median(r["seconds"] for r in bare)
        o = statistics.median(r["seconds"] for r in ours)
        scan = statistics.median(r["scan_seconds"] for r in ours)
        print(f"bare DuckDB GROUP BY (Parquet)    median {b:6.2f} s  {rows / b / 1e6:6.1f} M rows/s  "
              f"peak {max(r['peak_mib'] for r in bare):6.0f} MiB  ({bare[0]['groups']:,} communes)")
        print(f"fragilité aggregation (Parquet)   median {o:6.2f} s  {rows / o / 1e6:6.1f} M rows/s  "
              f"peak {max(r['peak_mib'] for r in ours):6.0f} MiB  (scan + validation {scan:.2f} s; "
              f"{ours[0]['communes']:,} communes, {ours[0]['epci']:,} EPCI)")
        print(f"ratio ours / bare                 {o / b:6.2f}   (goal ≤ 1.5; peak goal < 1024 MiB)")
        assert ours[0]["retirees"] == rows, "every row must be counted"
        if args.csv:
            csv = child(OURS, files["csv"], ref)
            print(f"fragilité aggregation (CSV)       {csv['seconds']:6.2f} s  {rows / csv['seconds'] / 1e6:6.1f} "
                  f"M rows/s  peak {csv['peak_mib']:6.0f} MiB  (CSV parsing included)")
    return 0
