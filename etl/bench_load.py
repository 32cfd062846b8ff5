"""`python -m etl bench load [--sessions 30] [--seconds 120] [--db PATH]`: concurrent browser sessions.

Starts the dashboard on 127.0.0.1 (loopback only) and drives N headless Chromium sessions that
change the territory filters for a bounded time. Prints sessions, interactions, errors, the
p50/p95 server time per script run (measured inside the app, $OBSERVATOIRE_TIMINGS) and the
client-side latency, and the server's memory before and after (bounded: caches are shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from etl.build import default_db_path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MAX_SESSIONS, MAX_SECONDS = 60, 600


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 else values[0]


async def _session(browser, url: str, deadline: float, seed: int, stats: dict) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda exc: stats["errors"].append(f"pageerror: {exc}"))
    ready = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
             " && document.querySelector('[data-testid=\"stMainBlockContainer\"]')")
    try:
        await page.goto(f"{url}/?dep={rng.choice(['35', '61'])}", timeout=60_000)
        await page.wait_for_function(ready, timeout=60_000)
        while time.monotonic() < deadline:
            label = rng.choice(["Département", "EPCI", "EPCI"])
            t0 = time.perf_counter()
            await page.get_by_test_id("stSidebarUserContent").get_by_role("combobox", name=label).click()
            options = page.get_by_role("option")
            count = await options.count()
            await options.nth(rng.randrange(max(count, 1))).click()
            await page.wait_for_timeout(200)
            await page.wait_for_function(ready, timeout=60_000)
            stats["latency"].append(time.perf_counter() - t0)
            if await page.locator("[data-testid='stException']").count():
                stats["errors"].append("exception shown on page")
            stats["interactions"] += 1
            await page.wait_for_timeout(rng.randint(300, 1500))
    except PlaywrightTimeout as exc:
        # The browsers share the machine with the server: a session that times out is counted
        # apart from application errors (exceptions shown, page errors).
        stats["timeouts"].append(str(exc).splitlines()[0][:100])
    finally:
        await context.close()


async def _drive(url: str, sessions: int, seconds: float, stats: dict) -> None:
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_session(browser, url, deadline, i, stats) for i in range(sessions)))
        await browser.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl bench load")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--db", default=str(default_db_path()))
    args = parser.parse_args(argv)
    sessions, seconds = min(args.sessions, MAX_SESSIONS), min(args.seconds, MAX_SECONDS)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    timings = Path(tempfile.mkstemp(suffix=".tsv")[1])
    env = {**os.environ, "OBSERVATOIRE_DB": args.db, "OBSERVATOIRE_TIMINGS": str(timings)}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                               "--server.port", str(port), "--server.address", "127.0.0.1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        rss_start = _rss_mib(server.pid)
        stats = {"interactions": 0, "errors": [], "timeouts": [], "latency": []}
        asyncio.run(_drive(url, sessions, seconds, stats))
        rss_end = _rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    runs = [float(line.split("\t")[1]) for line in timings.read_text().splitlines() if "\t" in line]
    timings.unlink(missing_ok=True)
    print(f"load: {sessions} sessions × {seconds:.0f} s on {url} (loopback), database {args.db}")
    print(f"  interactions {stats['interactions']}, application errors {len(stats['errors'])}, "
          f"client sessions stopped by a 60 s timeout {len(stats['timeouts'])}")
    for error in stats["errors"][:5]:
        print(f"    {error}")
    print(f"  server time per script run ({len(runs)} runs): p50 {_quantile(runs, .5):.3f} s, "
          f"p95 {_quantile(runs, .95):.3f} s")
    print(f"  client latency per interaction: p50 {_quantile(stats['latency'], .5):.2f} s, "
          f"p95 {_quantile(stats['latency'], .95):.2f} s (includes browser rendering on the same 2 cores)")
    print(f"  server RSS: {rss_start:.0f} MiB at start → {rss_end:.0f} MiB at end")
    return 1 if stats["errors"] else 0
