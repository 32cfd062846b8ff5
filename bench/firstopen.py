"""`python -m bench firstopen [--db PATH] [--runs 3] [--down-mbps 10] [--up-mbps 5] [--rtt-ms 40]
[--page accueil] [--dep 35]`: what a partner's first visit costs over a real network, straight from a
Streamlit worker and through the proxy.

Starts one worker behind Caddy as `make serve` does (serving/cluster.py, loopback only), warms the
server's caches with one visit, then makes `--runs` first visits per route, alternately: a fresh
Chromium profile each time (nothing cached, as for a partner opening the link in the meeting), with
Chromium's network emulation (DevTools `Network.emulateNetworkConditions`: throughput each way and
round-trip latency; by default 10 Mbit/s down, 5 up, 40 ms — one partner's share of a busy
meeting-room Wi-Fi). Prints per route the median time until the page is drawn (the run ended, no
loading skeleton, every chart drawn: `bench.load.DRAWN`), with when the page had loaded and when its
first run ended, the slowest visit, and the bytes received as they went over the wire (HTTP as
encoded; websocket frames as sent — Streamlit does not compress them). `--log-dir` keeps Caddy's
access log and the worker's log.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from bench.load import CHROMIUM, CHROMIUM_ARGS, DRAWN, ScriptEnds
from common.config import default_db_path
from serving.cluster import Cluster, free_ports


async def visit(browser, url: str, down_mbps: float, up_mbps: float, rtt_ms: float) -> dict:
    """One first visit in a fresh browser profile: seconds until drawn, bytes by kind."""
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    if down_mbps > 0:
        await cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": rtt_ms, "downloadThroughput": down_mbps * 1e6 / 8,
            "uploadThroughput": up_mbps * 1e6 / 8})
    kinds, sizes, ws = {}, {}, [0]
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    ends = ScriptEnds(page)
    page.on("websocket", lambda s: s.on("framereceived", lambda p: ws.__setitem__(0, ws[0] + len(p))))
    try:
        t0 = time.perf_counter()
        await page.goto(url, timeout=180_000)
        loaded = time.perf_counter() - t0
        await ends.wait(0, timeout=180)
        ran = time.perf_counter() - t0
        await page.wait_for_function(DRAWN, timeout=180_000)
        seconds = time.perf_counter() - t0
    finally:
        await context.close()
    static = sum(n for r, n in sizes.items() if kinds.get(r) in ("Script", "Stylesheet", "Font"))
    return {"seconds": seconds, "loaded": loaded, "ran": ran, "http": sum(sizes.values()), "static": static,
            "ws": ws[0]}


async def measure(cluster: Cluster, path: str, runs: int, net: tuple[float, float, float]) -> dict:
    from playwright.async_api import async_playwright
    routes = {"worker": cluster.pool[0].url, "proxy": cluster.url}
    out = {name: [] for name in routes}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await visit(browser, routes["proxy"] + path, 0, 0, 0)  # the server's caches, not timed
            for _ in range(runs):
                for name, base in routes.items():
                    out[name].append(await visit(browser, base + path, *net))
        finally:
            await browser.close()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench firstopen")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--down-mbps", type=float, default=10.0, help="0: no network emulation")
    parser.add_argument("--up-mbps", type=float, default=5.0)
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--page", default="", help="url path of the page (default: the home page)")
    parser.add_argument("--dep", default="35")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep the workers' and Caddy's logs there")
    args = parser.parse_args(argv)
    db = (args.db or default_db_path()).resolve()
    path = f"/{args.page}?dep={args.dep}"
    port, worker = free_ports(2)
    with Cluster(workers=1, port=port, address="127.0.0.1", worker_ports=[worker],
                 env={"OBSERVATOIRE_DB": str(db)}, log_dir=args.log_dir,
                 access_log=args.log_dir is not None) as cluster:
        results = asyncio.run(measure(cluster, path, args.runs, (args.down_mbps, args.up_mbps, args.rtt_ms)))
    net = (f"{args.down_mbps:g} Mbit/s down, {args.up_mbps:g} up, {args.rtt_ms:g} ms round trip"
           if args.down_mbps > 0 else "no network emulation (loopback)")
    print(f"first visit of {path} ({db.name}), fresh browser profile each time, {net}; "
          f"medians of {args.runs}")
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        label = "straight to the worker" if name == "worker" else "through the proxy (make serve)"
        print(f"  {label:<32} drawn in {med['seconds']:5.2f} s (runs "
              f"{' '.join(format(r['seconds'], '.2f') for r in runs)})  HTTP {med['http'] / 1e6:5.2f} MB "
              f"of which JS/CSS/fonts {med['static'] / 1e6:5.2f} MB; websocket {med['ws'] / 1e6:4.2f} MB")
        print(f"  {'':<32} page loaded {med['loaded']:5.2f} s, first run ended {med['ran']:5.2f} s (slowest visit: "
              f"{max(r['loaded'] for r in runs):.2f} / {max(r['ran'] for r in runs):.2f} / "
              f"{max(r['seconds'] for r in runs):.2f} s)")
    w, p = (statistics.median(r["seconds"] for r in results[k]) for k in ("worker", "proxy"))
    print(f"  ratio proxy / worker: {p / w:.2f}")
    return 0
