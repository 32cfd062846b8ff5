"""`python -m serving --workers N [--port 8501] [--address 0.0.0.0]`: N Streamlit workers behind Caddy.

Why Caddy rather than nginx (both are Debian bookworm packages: caddy 2.6.2, nginx 1.22.1):
- Session affinity must hold for clients that share an address. nginx OSS only offers `ip_hash` /
  `hash $remote_addr`: every user behind one NAT (a CFPPA meeting room on the same Wi-Fi, a
  département's network) — and every loopback client of our tests and benchmark — lands on ONE
  worker. Cookie stickiness (`sticky cookie`) is nginx Plus only. Caddy's `lb_policy cookie` pins
  each browser to its worker with a signed cookie, whatever its address.
- Active health checks (`health_uri`) are in Caddy; nginx OSS only has passive `max_fails`.
- Websockets are proxied by Caddy's `reverse_proxy` without extra headers (nginx needs the
  `Upgrade`/`Connection` map and a long `proxy_read_timeout`).
- Compression. Streamlit's own server sends its frontend uncompressed: about 9 MB of JavaScript on a
  first visit (the Plotly chunk alone is 4.7 MB), 3 MB gzipped — what 30 partners on one meeting-room
  Wi-Fi share. Caddy serves those hashed bundles itself from disk (`file_server { precompressed gzip }`,
  gzipped once when the cluster starts, `precompressed_static`), so compressing them costs no CPU per
  visit on the two cores the workers need; the rest goes through `encode zstd gzip`.

A Streamlit session lives in the memory of one worker: its websocket, its uploads
(`/_stcore/upload_file/<session>`) and the files it offers for download (`/media/…`) must reach the
same process, hence the cookie. The database is opened read-only by every worker; a rebuild or a
publication swaps the file atomically and each worker re-attaches it at its next query
(`query/db.py` compares the file's inode), so every worker sees it.

Workers listen on 127.0.0.1 only (ports `--worker-port`, +1, …); the proxy takes the app's public port,
so the URL users know (http://host:8501/) does not change. A worker that exits is restarted; while it
is down, the health checks send new sessions to the others (its own sessions reconnect elsewhere and
start afresh: session state is per worker).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
CADDY = "caddy"
COOKIE = "observatoire_worker"
#: Header naming the worker that answered (support: "which process am I on?"; tests).
WORKER_HEADER = "X-Observatoire-Worker"
HEALTH = "/_stcore/health"
HEALTH_INTERVAL = "2s"


class ServingError(RuntimeError):
    pass


def caddyfile(port: int, upstreams: list[str], address: str = "0.0.0.0", secret: str = "",
              cookie: str = COOKIE, access_log: bool = False, static: Path | None = None) -> str:
    """The proxy's configuration: one site on `address:port` balancing `upstreams` (host:port);
    with `static` (a `precompressed_static` folder), Streamlit's bundles served from it."""
    log = "\n\tlog {\n\t\toutput stderr\n\t}" if access_log else ""
    bundles = f"""
\t# Streamlit's frontend bundles (hashed names, never changed): from disk, gzipped once at start
\thandle /static/* {{
\t\troot * {static}
\t\theader Cache-Control "public, max-age=31536000, immutable"
\t\tfile_server {{
\t\t\tprecompressed gzip
\t\t}}
\t}}""" if static else ""
    return f"""{{
\tadmin off
\tauto_https off
}}

http://:{port} {{
\tbind {address}{bundles}
\thandle {{
\t\t# the page, its data, downloads (websocket frames pass through untouched: a 101 is not encoded)
\t\tencode zstd gzip
\t\treverse_proxy {' '.join(upstreams)} {{
\t\t\t# a browser stays on its worker (websocket, uploads, downloads live in that process)
\t\t\tlb_policy cookie {cookie} {secret}
\t\t\t# a worker restarting: retry another for a few seconds instead of failing the request
\t\t\tlb_try_duration 5s
\t\t\tlb_try_interval 250ms
\t\t\thealth_uri {HEALTH}
\t\t\thealth_interval {HEALTH_INTERVAL}
\t\t\thealth_timeout 2s
\t\t\thealth_status 200
\t\t\tfail_duration 10s
\t\t\tmax_fails 1
\t\t\tunhealthy_status 5xx
\t\t\tflush_interval -1
\t\t\theader_down {WORKER_HEADER} {{http.reverse_proxy.upstream.hostport}}
\t\t}}
\t}}{log}
}}
"""


#: Streamlit's built frontend: `index.html`, and the hashed bundles under `static/`.
STREAMLIT_FRONTEND = Path(importlib.util.find_spec("streamlit").origin).parent / "static"
COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".txt", ".map", ".ttf", ".otf", ".html"}


def precompressed_static(target: Path, frontend: Path = STREAMLIT_FRONTEND) -> Path:
    """`target`/static/…: every file of Streamlit's `static/` bundles as a symbolic link to the
    installed one, with a gzipped copy beside it (`name.gz`) for the text formats, for Caddy's
    `precompressed gzip`. About 1 s for Streamlit's 23 MB. Returns `target` (the site's root)."""
    for source in (frontend / "static").rglob("*"):
        if not source.is_file():
            continue
        link = target / "static" / source.relative_to(frontend / "static")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source)
        if source.suffix in COMPRESSIBLE:
            Path(f"{link}.gz").write_bytes(gzip.compress(source.read_bytes(), 9, mtime=0))
    return target


def wait_healthy(url: str, seconds: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise ServingError(f"{' '.join(map(str, process.args[:4]))}… exited ({process.returncode}) "
                               f"before {url} answered")
        if time.monotonic() > deadline:
            raise ServingError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.3)


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_ports(count: int, address: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free on loopback right now (tests, benchmark)."""
    sockets, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((address, 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


@dataclass
class Worker:
    index: int
    port: int
    process: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.upstream}"


@dataclass
class Cluster:
    """N workers and the proxy; use as a context manager (everything is stopped on exit)."""

    workers: int = 2
    port: int = 8501
    address: str = "0.0.0.0"
    worker_ports: list[int] | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: extra environment per worker index (e.g. one timings file each)
    worker_env: Callable[[int], dict[str, str]] | None = None
    app: Path = APP
    log_dir: Path | None = None
    access_log: bool = False
    pool: list[Worker] = field(default_factory=list)
    proxy: subprocess.Popen | None = None
    _run_dir: Path | None = None
    _frontend_dir: Path | None = None
    _logs: list = field(default_factory=list)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "::", "") else self.address
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Cluster:
        if shutil.which(CADDY) is None:
            raise ServingError("caddy absent : `make serve` l'installe (paquet Debian `caddy`)")
        if self.workers < 1:
            raise ServingError("au moins un worker")
        ports = self.worker_ports or [self.port + 100 + i for i in range(self.workers)]
        if len(ports) < self.workers:
            raise ServingError(f"{self.workers} workers mais {len(ports)} ports")
        busy = [p for p in [self.port, *ports[:self.workers]]
                if not _port_free(self.address if p == self.port else "127.0.0.1", p)]
        if busy:
            raise ServingError(f"port(s) déjà pris : {', '.join(map(str, busy))} (--port / --worker-port)")
        self._run_dir = Path(tempfile.mkdtemp(prefix="observatoire-serve-"))
        self.log_dir = self.log_dir or self._run_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # One cookie secret for all workers: cookies signed by one (st.login, XSRF) hold on the others.
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        self.pool = [Worker(i, p) for i, p in enumerate(ports[:self.workers])]
        try:
            for worker in self.pool:
                self._start_worker(worker)
            for worker in self.pool:
                wait_healthy(worker.url + HEALTH, 120, worker.process)
            self._start_proxy()
            wait_healthy(self.url + HEALTH, 30, self.proxy)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_worker(self, worker: Worker) -> None:
        env = {**os.environ, **self.env, **(self.worker_env(worker.index) if self.worker_env else {})}
        log = open(self.log_dir / f"worker-{worker.index}.log", "a")
        self._logs.append(log)
        worker.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.app), "--server.port", str(worker.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def _start_proxy(self) -> None:
        config = self._run_dir / "Caddyfile"
        # the gzipped bundles (7 MB) go with the cluster; the run directory may be kept for its logs
        self._frontend_dir = Path(tempfile.mkdtemp(prefix="observatoire-frontend-"))
        static = precompressed_static(self._frontend_dir)
        config.write_text(caddyfile(self.port, [w.upstream for w in self.pool], self.address,
                                    secrets.token_hex(16), access_log=self.access_log, static=static))
        log = open(self.log_dir / "caddy.log", "a")
        self._logs.append(log)
        # Caddy keeps its state (instance id, locks) under XDG dirs: the run directory, not $HOME.
        env = {**os.environ, "XDG_DATA_HOME": str(self._run_dir), "XDG_CONFIG_HOME": str(self._run_dir)}
        self.proxy = subprocess.Popen([CADDY, "run", "--adapter", "caddyfile", "--config", str(config)],
                                      env=env, stdout=log, stderr=subprocess.STDOUT)

    def restart_dead_workers(self) -> list[Worker]:
        """Starts again each worker that exited; the proxy's health checks take it back in."""
        restarted = []
        for worker in self.pool:
            if worker.process is not None and worker.process.poll() is not None:
                worker.restarts += 1
                self._start_worker(worker)
                restarted.append(worker)
        return restarted

    def pids(self) -> list[int]:
        return [w.process.pid for w in self.pool if w.process is not None]

    def stop(self) -> None:
        processes = [p for p in [self.proxy, *(w.process for w in self.pool)] if p is not None]
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._run_dir is not None and self.log_dir != self._run_dir:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        if self._frontend_dir is not None:
            shutil.rmtree(self._frontend_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving",
                                     description="N processus Streamlit derrière le proxy Caddy")
    parser.add_argument("--workers", type=int, default=2, help="processus Streamlit (≈ un par cœur)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8501)),
                        help="port public (celui de `make run`)")
    parser.add_argument("--address", default="0.0.0.0", help="adresse d'écoute du proxy")
    parser.add_argument("--worker-port", type=int, default=None,
                        help="premier port des workers, sur 127.0.0.1 (défaut : port public + 100)")
    parser.add_argument("--log-dir", type=Path, default=None, help="journaux des workers et du proxy")
    parser.add_argument("--access-log", action="store_true", help="journal des requêtes du proxy")
    args = parser.parse_args(argv)
    ports = None if args.worker_port is None else [args.worker_port + i for i in range(args.workers)]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        with Cluster(args.workers, args.port, args.address, ports, log_dir=args.log_dir,
                     access_log=args.access_log) as cluster:
            print(f"Observatoire : {cluster.url}/ — {args.workers} workers "
                  f"({', '.join(w.upstream for w in cluster.pool)}) derrière Caddy ; "
                  f"journaux : {cluster.log_dir}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while not stopping:
                    if cluster.proxy.poll() is not None:
                        raise ServingError(f"caddy s'est arrêté ({cluster.proxy.returncode}) : "
                                           f"voir {cluster.log_dir / 'caddy.log'}")
                    for worker in cluster.restart_dead_workers():
                        print(f"worker {worker.index} relancé ({worker.restarts}e fois)", flush=True)
                    time.sleep(1)
    except ServingError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    return 0
