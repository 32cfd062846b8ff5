"""`python -m bench publication [--base FRANCE.duckdb] [--runs 3] [--keep 5]`

Publishes a CTG registry for the Gironde on an all-France database, `--runs` times (each run
replaces the registry with a variant, so each one changes the base), with the command a data
manager would type (`python -m etl publish FILE`, a fresh process each time, interpreter start
included), then fills `--keep` kept versions and measures their disk use. Prints medians.
Without `--base`, builds all of France first (about 45 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "tests" / "fixtures" / "publication" / "ctg_registre_gironde_essai.csv"


def _size(path: Path) -> int:
    """Bytes on disk, each inode counted once (hard links of the adopted base are not doubled)."""
    seen, total = set(), 0
    for p in path.rglob("*"):
        st = p.lstat()
        if p.is_file() and not p.is_symlink() and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench publication")
    p.add_argument("--base", type=Path, default=None, help="base toute France déjà construite (copiée)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--keep", type=int, default=5)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-publication-") as tmp:
        tmp = Path(tmp)
        served = tmp / "observatoire.duckdb"
        env = {**os.environ, "OBSERVATOIRE_HOME": str(tmp / "espace"), "OBSERVATOIRE_KEEP_VERSIONS": str(args.keep),
               "PYTHONPATH": str(ROOT)}
        if args.base:
            shutil.copyfile(args.base, served)
        else:
            subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(served)], cwd=ROOT, env=env,
                           check=True, capture_output=True)
        print(f"base toute France : {served.stat().st_size / 1e6:.0f} Mo")
        from common.store import Store
        store = Store(tmp / "espace")
        text = REGISTRY.read_text(encoding="utf-8")
        walls, servers = [], []
        print(f"charge de la machine (1 min) au départ : {os.getloadavg()[0]:.1f}")
        for i in range(max(args.runs + 1, args.keep)):
            variant = tmp / "envoi" / REGISTRY.name
            variant.parent.mkdir(exist_ok=True)
            variant.write_text(text.replace("2020-06", f"2020-06-{i + 10:02d}"), encoding="utf-8")
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "etl", "publish", "--db", str(served), "--who", "bench",
                            str(variant)], cwd=ROOT, env=env, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            row = store.rows()[-1]
            if i == 0:
                print("(la première publication adopte la base existante comme version « base » : empreintes de "
                      "toutes ses tables ; hors médiane)")
            elif i <= args.runs:
                walls.append(wall)
                servers.append(row["duration_s"])
            print(f"publication {row['id']} ({row['mode']}) : {wall:.2f} s commande, {row['duration_s']:.2f} s "
                  f"journalisées ; {'; '.join(f['texte'] for f in row['key_figures'] or [])}")
        print(f"médiane sur {args.runs} publications d'un registre CTG (33) sur la base toute France : "
              f"{statistics.median(walls):.2f} s par commande (démarrage de l'interpréteur compris), "
              f"{statistics.median(servers):.2f} s dans la publication ; objectif < 15 s : "
              f"{'atteint' if statistics.median(walls) < 15 else 'MANQUÉ'}")
        versions = store.kept_versions()
        size = _size(store.versions)
        print(f"{len(versions)} versions conservées (dont la base adoptée si encore gardée) : {size / 1e6:.0f} Mo "
              f"sur disque ; magasin d'entrées : {_size(store.blobs) / 1e3:.0f} ko")
    return 0
