"""`python -m bench load [--sessions 30] [--browsers 3] [--seconds 120] [--workers N] [--db PATH]`.

Concurrent users. Starts the dashboard on 127.0.0.1 (loopback only) — one Streamlit process as
`make run` does, or with `--workers N` (or `--proxy`) N processes behind Caddy as `make serve` does
(serving/cluster.py), the users then going through the proxy — and drives `--sessions` users for a
bounded time, once per load profile (`--profiles`, both by default): *meeting* (think time 5–20 s
between actions, people in a room) and *stress* (0.3–1.5 s):
`--browsers` of them are real headless Chromium tabs (the real client, rendering included), the rest
speak Streamlit's own websocket protocol (`bench/load_ws.py`: the same `BackMsg`s a tab sends,
without the rendering, so thirty users do not need thirty browsers on a 2-core machine). Every user
opens a page on a département, then changes the territory, the page filters and the page, with the
profile's think time before every action, the first included (`--think MIN MAX`: one custom
profile instead).

Prints, per kind of client: sessions, interactions, errors (exceptions shown, page not found, closed
connections), client timeouts, client latency p50/p95/max, overall and per page; the server time per
script run p50/p95 (measured inside the app through $OBSERVATOIRE_TIMINGS, one file per worker,
overall and per page) and its CPU; the number of workers; the servers' memory (summed) at
idle, at its peak, at the end of the load and once the sessions are closed (bounded: caches are
shared, not per session). Exit code 1 on any error or timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.load_ws import KindStats, ProtocolSession, protocol_user, require_loopback
from common.config import default_db_path
from serving.cluster import Cluster, free_ports

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MAX_SESSIONS, MAX_SECONDS = 60, 600
THINK_SECONDS = (0.3, 1.5)
#: Load profiles: seconds a user thinks between two actions (uniform).
PROFILES = {"meeting": (5.0, 20.0), "stress": THINK_SECONDS}
CLIENT_TIMEOUT = 60.0
#: What a person sees as « the page is there », once the run the action asked for has ended (its
#: `script_finished` came over the tab's websocket, `ScriptEnds`): the script is not running, no element
#: is still a loading skeleton (Streamlit fetches a component's JavaScript the first time one is shown:
#: the Plotly chunk is 4.7 MB) and every chart is drawn. The script's end alone comes 0.5 to 2 s before
#: the maps show on a first visit.
DRAWN = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.querySelector('.main-svg')); }"""
#: The parts of DRAWN, reported with a timeout.
PAGE_STATE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return JSON.stringify({state: app && app.getAttribute('data-test-script-state'),
    skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
    charts: [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
      .map(e => !!e.querySelector('.main-svg'))}); }"""


def _rss_mib(pid: int | list[int]) -> float:
    if isinstance(pid, list):
        return sum(_rss_mib(p) for p in pid)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_seconds(pid: int | list[int]) -> float:
    """User + system CPU time of a process (or the sum over processes) so far (/proc/PID/stat)."""
    if isinstance(pid, list):
        return sum(_cpu_seconds(p) for p in pid)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def quantile(values: list[float], q: float) -> float:
    """Inclusive percentile (q in 0..1) of `values`; NaN for none."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(app: Path, env: dict[str, str], log: Path | None = None):
    """`streamlit run app` on a free loopback port; yields (url, process); stopped on exit."""
    port = _free_port()
    out = open(log, "w") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start ({app})") from None
                time.sleep(0.3)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if log:
            out.close()


class MemorySampler(threading.Thread):
    """Samples a process's resident memory every `period` seconds."""

    def __init__(self, pid: int | list[int], period: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.period, self.samples = pid, period, []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(_rss_mib(self.pid))
            self._stop_event.wait(self.period)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return max(self.samples, default=float("nan"))


@dataclass
class LoadReport:
    url: str
    db: str
    seconds: float
    kinds: list[KindStats]
    server_runs: list[tuple[str, float, float]]  # (page, wall s, CPU s of the script thread)
    rss_idle: float
    rss_peak: float
    rss_end: float
    rss_closed: float
    server_cpu: float = float("nan")  # CPU seconds the server used during the load
    rss_timeline: list[float] = field(default_factory=list)  # at each quarter of the load
    think: tuple[float, float] = THINK_SECONDS
    pages: list[str] = field(default_factory=list)
    departements: int = 0
    workers: int = 1
    proxy: bool = False
    profile: str = ""

    @property
    def errors(self) -> int:
        return sum(len(k.errors) for k in self.kinds)

    @property
    def timeouts(self) -> int:
        return sum(len(k.timeouts) for k in self.kinds)

    @property
    def interactions(self) -> int:
        return sum(k.interactions for k in self.kinds)


class ScriptEnds:
    """Counts the script runs a tab has seen end: the `script_finished` messages on its websocket.
    (The page's own script-state attribute can miss a fast run: React may render its start and its
    end in one update.)"""

    def __init__(self, page):
        self.count = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = ForwardMsg()
            msg.ParseFromString(bytes(payload))
            if msg.WhichOneof("type") == "script_finished":
                self.count += 1

    async def wait(self, seen: int, timeout: float = CLIENT_TIMEOUT) -> None:
        """Until more than `seen` runs have ended."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout
        deadline = time.monotonic() + timeout
        while self.count <= seen:
            if time.monotonic() > deadline:
                raise PlaywrightTimeout(f"no run ended within {timeout:.0f} s")
            await asyncio.sleep(0.02)


async def browser_user(browser, url: str, deadline: float, seed: int, stats: KindStats,
                       departements: list[str], think: tuple[float, float] = THINK_SECONDS) -> None:
    """A real Chromium tab: opens the home page on a département and changes the sidebar filters."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    rng = random.Random(seed)
    stats.sessions += 1
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    page = await context.new_page()
    page.set_default_timeout(CLIENT_TIMEOUT * 1000)
    page.on("pageerror", lambda exc: stats.errors.append(f"pageerror: {exc}"))
    ends = ScriptEnds(page)
    doing = "ouverture"
    try:
        await asyncio.sleep(min(rng.uniform(*think), max(0.0, deadline - time.monotonic())))
        t0 = time.perf_counter()
        await page.goto(f"{url}/?dep={rng.choice(departements)}")
        await ends.wait(0)
        await page.wait_for_function(DRAWN)
        stats.latency.append(time.perf_counter() - t0)
        stats.by_page.setdefault("accueil", []).append(stats.latency[-1])
        stats.interactions += 1
        stats.actions["open"] += 1
        while time.monotonic() < deadline:
            if await page.get_by_role("listbox").count():
                # a list left open (a click that scrolled a long, virtualised list instead of choosing)
                # hides the selector below it: a person closes it first
                await page.keyboard.press("Escape")
                stats.actions["liste restée ouverte"] += 1
            label = rng.choice(["Département", "EPCI", "EPCI"])
            runs = ends.count
            t0 = time.perf_counter()
            await page.get_by_test_id("stSidebarUserContent").get_by_role("combobox", name=label).click()
            # another territory than the one shown (choosing the same one runs nothing)
            options = page.locator("[role='option']:not([aria-selected='true'])")
            try:
                await options.first.wait_for(timeout=15_000)
            except PlaywrightTimeout:
                # the list closed before it showed (a rerun redrew the sidebar): a person clicks again
                await page.keyboard.press("Escape")
                stats.actions["liste refermée"] += 1
                continue
            count = await options.count()
            try:
                option = options.nth(rng.randrange(max(count, 1)))
                doing = f"{label} → {(await option.inner_text(timeout=15_000))[:40]}"
                await option.click(timeout=15_000)
            except PlaywrightTimeout:
                # the list closed under the pointer (a rerun redrew the sidebar): a person opens it again
                await page.keyboard.press("Escape")
                stats.actions["liste refermée"] += 1
                continue
            try:
                await page.get_by_role("listbox").wait_for(state="hidden", timeout=2_000)
            except PlaywrightTimeout:
                # the click scrolled a long, virtualised list instead of choosing: nothing was asked of
                # the app, so nothing is timed; a person closes the list and tries again
                await page.keyboard.press("Escape")
                stats.actions["liste restée ouverte"] += 1
                continue
            await ends.wait(runs)
            await page.wait_for_function(DRAWN)
            stats.latency.append(time.perf_counter() - t0)
            stats.by_page.setdefault("accueil", []).append(stats.latency[-1])
            stats.interactions += 1
            stats.actions["territoire"] += 1
            shown = page.locator("[data-testid='stException']")
            for i in range(await shown.count()):
                stats.errors.append(f"exception shown: {(await shown.nth(i).inner_text())[:200]}")
            await page.wait_for_timeout(rng.uniform(*think) * 1000)
    except PlaywrightTimeout as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        # the first line says what timed out, the last of Playwright's call log says why
        seen = ""
        with contextlib.suppress(Exception):
            seen = f" ({doing} ; runs ended {ends.count} ; page : {await page.evaluate(PAGE_STATE)})"
        stats.timeouts.append(" … ".join(dict.fromkeys([lines[0][:100], lines[-1][:160]])) + seen)
        # and what the page showed then (an exception stops the script before the sidebar's end)
        with contextlib.suppress(Exception):
            shown = page.locator("[data-testid='stException']")
            for i in range(await shown.count()):
                stats.errors.append(f"exception shown: {(await shown.nth(i).inner_text())[:300]}")
            await page.screenshot(path=str(Path(tempfile.gettempdir()) / f"bench-load-timeout-{seed}.png"),
                                  full_page=True)
    finally:
        await context.close()


async def _drive(url: str, protocol_sessions: int, browsers: int, seconds: float, pages: list[str],
                 departements: list[str], protocol: KindStats, chromium: KindStats, seed: int,
                 think: tuple[float, float]) -> None:
    deadline = time.monotonic() + seconds
    users = [protocol_user(url, deadline, seed + i, protocol, pages, departements, think,
                           timeout=CLIENT_TIMEOUT) for i in range(protocol_sessions)]
    if not browsers:
        await asyncio.gather(*users)
        return
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tabs = [browser_user(browser, url, deadline, seed + 1000 + i, chromium, departements, think)
                for i in range(browsers)]
        await asyncio.gather(*users, *tabs)
        await browser.close()


async def _discover(url: str) -> tuple[list[str], list[str], int]:
    """Opens the home page once (warms the server): the app's pages and départements."""
    async with ProtocolSession(url, timeout=120) as session:
        result = await session.open("")  # the default page (a fresh server may not know "accueil" yet)
        if result.exceptions:
            raise RuntimeError(f"the home page fails before any load: {result.exceptions[0]}")
        deps = next((list(w.proto.options) for w in session.widgets.values() if w.key == "dep"), [])
        codes = [o.split(" ")[0] for o in deps]
        return list(session.pages) or [""], codes, len(codes)


def read_timings(path: Path) -> list[tuple[str, float, float]]:
    """(page, wall seconds, CPU seconds) per script run, from the $OBSERVATOIRE_TIMINGS file
    (ui/bootstrap.timed_run); CPU is NaN in files written before it was recorded."""
    runs = []
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            runs.append((fields[0], float(fields[1]), float(fields[2]) if len(fields) > 2 else float("nan")))
    return runs


@contextlib.contextmanager
def _servers(app: Path, env: dict[str, str], timings: Path, workers: int, proxy: bool, log: Path | None):
    """Yields (url, server pids, timings files, each worker's own url): one process served directly,
    or N behind Caddy."""
    if workers <= 1 and not proxy:
        env = {**env, "OBSERVATOIRE_TIMINGS": str(timings)}
        with serve(app, env, log) as (url, server):
            yield url, [server.pid], [timings], [url]
        return
    files = [timings.with_suffix(f".{i}.tsv") for i in range(workers)]
    port, *ports = free_ports(workers + 1)
    with Cluster(workers=workers, port=port, address="127.0.0.1", worker_ports=ports, env=dict(env),
                 worker_env=lambda i: {"OBSERVATOIRE_TIMINGS": str(files[i])}, app=app,
                 log_dir=log.parent / f"{log.stem}-serving" if log else None) as cluster:
        try:
            yield cluster.url, cluster.pids(), files, [w.url for w in cluster.pool]
        finally:
            for f in files:
                f.unlink(missing_ok=True)


def run_load(db: Path, sessions: int, browsers: int, seconds: float, app: Path = APP, seed: int = 0,
             think: tuple[float, float] = THINK_SECONDS, log: Path | None = None, workers: int = 1,
             proxy: bool = False, profile: str = "") -> LoadReport:
    """Serves `app` on `db` (`workers` processes, behind the proxy if more than one or `proxy`) and
    drives `sessions` users (of which `browsers` Chromium tabs) with `think` seconds between actions."""
    sessions, seconds = min(sessions, MAX_SESSIONS), min(seconds, MAX_SECONDS)
    browsers = max(0, min(browsers, sessions))
    workers = max(1, workers)
    fd, name = tempfile.mkstemp(prefix="observatoire-timings-", suffix=".tsv")
    os.close(fd)
    timings = Path(name)
    env = {"OBSERVATOIRE_DB": str(db)}
    protocol = KindStats("websocket protocol", users=sessions - browsers)
    chromium = KindStats("Chromium", users=browsers)
    try:
        with _servers(app, env, timings, workers, proxy, log) as (url, pids, files, own_urls):
            require_loopback(url)
            discovered = [asyncio.run(_discover(u)) for u in own_urls]  # warms each worker
            pages, departements, n_deps = discovered[0]
            for f in files:
                f.write_text("")  # the warm-up runs are not part of the measure
            rss_idle = _rss_mib(pids)
            sampler = MemorySampler(pids)
            cpu_start = _cpu_seconds(pids)
            sampler.start()
            asyncio.run(_drive(url, sessions - browsers, browsers, seconds, pages, departements,
                               protocol, chromium, seed, think))
            rss_end = _rss_mib(pids)
            server_cpu = _cpu_seconds(pids) - cpu_start
            rss_peak = sampler.stop()
            samples = sampler.samples
            timeline = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3)] + [rss_end]
            time.sleep(3)  # sessions closed: what stays is shared (caches), not per session
            rss_closed = _rss_mib(pids)
            runs = [run for f in files for run in read_timings(f)]
    finally:
        timings.unlink(missing_ok=True)
    kinds = [k for k in (protocol, chromium) if k.users]
    return LoadReport(url, str(db), seconds, kinds, runs, rss_idle, max(rss_peak, rss_end), rss_end,
                      rss_closed, server_cpu, timeline, think, pages, n_deps, workers,
                      proxy or workers > 1, profile)


def format_report(report: LoadReport) -> str:
    users = sum(k.users for k in report.kinds)
    served = (f"{report.workers} Streamlit worker{'s' if report.workers > 1 else ''} behind Caddy"
              if report.proxy else "1 Streamlit process, no proxy")
    lines = [f"load{f' [{report.profile}]' if report.profile else ''}: {users} concurrent users × "
             f"{report.seconds:.0f} s on {report.url} (loopback, {served}), database {report.db}",
             f"  {len(report.pages)} pages, {report.departements} départements; think time "
             f"{report.think[0]:g}–{report.think[1]:g} s before every action, the first included"]
    for k in report.kinds:
        actions = ", ".join(f"{a} {n}" for a, n in sorted(k.actions.items()))
        lines.append(f"  {k.kind}: {k.users} users, {k.sessions} sessions, {k.interactions} interactions "
                     f"({actions}), errors {len(k.errors)}, client timeouts {len(k.timeouts)}")
        lines.append(f"    client latency per interaction: p50 {quantile(k.latency, .5):.2f} s, "
                     f"p95 {quantile(k.latency, .95):.2f} s, max {max(k.latency, default=float('nan')):.2f} s")
        for label, values in sorted(k.by_page.items()):
            lines.append(f"      {label:<14} {len(values):5d}  client p50 {quantile(values, .5):6.2f} s  "
                         f"p95 {quantile(values, .95):6.2f} s  max {max(values):6.2f} s")
        problems = list(dict.fromkeys(k.errors + k.timeouts))
        lines.extend(f"    ! {problem}" for problem in problems[:10])
        if len(problems) > 10:
            lines.append(f"    ! … {len(problems) - 10} other distinct problems")
    runs = [wall for _, wall, _ in report.server_runs]
    cpu = [c for _, _, c in report.server_runs if c == c]
    lines.append(f"  server time per script run ({len(runs)} runs, {len(runs) / report.seconds:.1f}/s): "
                 f"p50 {quantile(runs, .5):.3f} s, p95 {quantile(runs, .95):.3f} s, "
                 f"max {max(runs, default=float('nan')):.3f} s")
    if runs:
        lines.append(f"    of which CPU of the run itself: p50 {quantile(cpu, .5):.3f} s, "
                     f"p95 {quantile(cpu, .95):.3f} s (the rest is waiting for the interpreter/cores)")
        lines.append(f"  server CPU ({report.workers} process{'es' if report.workers > 1 else ''}): "
                     f"{report.server_cpu:.0f} s over {report.seconds:.0f} s "
                     f"({report.server_cpu / report.seconds:.2f} cores busy), "
                     f"{report.server_cpu / len(runs):.3f} CPU s per run")
    by_page: dict[str, list[tuple[float, float]]] = {}
    for label, wall, c in report.server_runs:
        by_page.setdefault(label, []).append((wall, c))
    for label, values in sorted(by_page.items(), key=lambda kv: -quantile([w for w, _ in kv[1]], .95)):
        walls, cpus = [w for w, _ in values], [c for _, c in values if c == c]
        lines.append(f"    {label:<14} {len(values):5d} runs  wall p50 {quantile(walls, .5):6.3f} s "
                     f"p95 {quantile(walls, .95):6.3f} s   CPU p50 {quantile(cpus, .5):.3f} s "
                     f"p95 {quantile(cpus, .95):.3f} s")
    lines.append(
        f"  server RSS{' (sum of the workers)' if report.workers > 1 else ''}: {report.rss_idle:.0f} MiB idle "
        f"→ peak {report.rss_peak:.0f} MiB, "
        f"{report.rss_end:.0f} MiB at the end of the load, {report.rss_closed:.0f} MiB "
        f"3 s after the sessions closed; at each quarter of the load: "
        f"{' → '.join(f'{v:.0f}' for v in report.rss_timeline)} MiB"
    )
    verdict = "OK" if not report.errors and not report.timeouts else "FAILED"
    lines.append(f"  {verdict}: {report.interactions} interactions, {report.errors} errors, "
                 f"{report.timeouts} timeouts")
    return "\n".join(lines)


def summary(reports: list[LoadReport]) -> str:
    """One line per profile: what the goals table of the issue asks."""
    lines = ["summary: profile, think time, workers, client p50 / p95 / max (all clients), timeouts, errors, "
             "run CPU p50 per page"]
    for r in reports:
        latency = [x for k in r.kinds for x in k.latency]
        pages: dict[str, list[float]] = {}
        for label, _, cpu in r.server_runs:
            if cpu == cpu:
                pages.setdefault(label, []).append(cpu)
        cpu = ", ".join(f"{label} {quantile(v, .5):.3f}" for label, v in sorted(pages.items()))
        lines.append(f"  {r.profile or 'custom':<8} {r.think[0]:g}–{r.think[1]:g} s  {r.workers} worker(s)  "
                     f"client {quantile(latency, .5):.2f} / {quantile(latency, .95):.2f} / "
                     f"{max(latency, default=float('nan')):.2f} s  timeouts {r.timeouts}  errors {r.errors}  "
                     f"CPU s: {cpu}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--sessions", type=int, default=30, help=f"concurrent users (≤ {MAX_SESSIONS})")
    parser.add_argument("--browsers", type=int, default=3,
                        help="of which real headless Chromium tabs (the rest speak the websocket protocol)")
    parser.add_argument("--seconds", type=float, default=120, help=f"duration of each profile (≤ {MAX_SECONDS})")
    parser.add_argument("--db", type=Path, default=default_db_path())
    parser.add_argument(
        "--profiles",
        default=",".join(PROFILES),
        help="load profiles run one after the other ("
        + ", ".join(f"{k} {v[0]:g}–{v[1]:g} s" for k, v in PROFILES.items()) + ")",
    )
    parser.add_argument("--think", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                        help="one custom profile instead: seconds a user waits between two actions (uniform)")
    parser.add_argument("--workers", type=int, default=1,
                        help="Streamlit processes; more than one are served behind Caddy (`make serve`)")
    parser.add_argument("--proxy", action="store_true", help="go through Caddy even with one worker")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"base absente, construction : {args.db}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "etl", "build", "--db", str(args.db)], cwd=ROOT, check=True)
    if args.think:
        profiles = {"custom": (max(0.0, min(args.think)), max(args.think))}
    else:
        names = [n.strip() for n in args.profiles.split(",") if n.strip()]
        unknown = [n for n in names if n not in PROFILES]
        if unknown:
            parser.error(f"unknown profile(s) {', '.join(unknown)}: {', '.join(PROFILES)}")
        profiles = {n: PROFILES[n] for n in names}
    reports = []
    for name, think in profiles.items():
        report = run_load(args.db, args.sessions, args.browsers, args.seconds, seed=args.seed, think=think,
                          workers=args.workers, proxy=args.proxy, profile=name)
        print(format_report(report), flush=True)
        reports.append(report)
    print(summary(reports))
    return 1 if any(r.errors or r.timeouts for r in reports) else 0
