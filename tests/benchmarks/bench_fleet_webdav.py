"""Fleet benchmark: small files to a WebDAV server 20 ms away, 1, 2 and 4 workers against the
same plan applied on one machine without `--database`.

Apache httpd with mod_dav (/work/shared/tools/apache_dav.sh) behind a loopback proxy that holds
every request 20 ms before passing it on (a server across a city). PostgreSQL is Debian's, in a
temporary folder (migrate/fleet/postgres_local.py). Each timed run copies to a fresh folder;
workers are started before the clock and stopped after it. Rounds alternate the variants.

    .venv/bin/python tests/benchmarks/bench_fleet_webdav.py --files 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import contextlib

from migrate.fleet.postgres_local import LocalPostgres
from tests.fleet import Fleet
from tests.helpers import make_tree

APACHE = "/work/shared/tools/apache_dav.sh"
USER, PASSWORD = "bench", "bench-password-18"
DELAY = 0.020


class LatencyProxy:
    """TCP proxy: each request waits DELAY before it is passed on (one wait per request:
    the first bytes from the client after the server has spoken)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _address = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = {"answered": True}
            threading.Thread(target=self._pump, args=(client, server, state, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, state, False),
                             daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, state: dict[str, bool],
              request: bool) -> None:
        try:
            while data := source.recv(65536):
                if request and state["answered"]:
                    time.sleep(DELAY)
                    state["answered"] = False
                elif not request:
                    state["answered"] = True
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_plan(work: Path, source: Path, port: int, target: str) -> Path:
    plan = work / target / "plan.yaml"
    plan.parent.mkdir(parents=True)
    plan.write_text(
        "version: 1\norganisation: Banc d'essai\nconnections:\n"
        f"  here: {{type: local, path: '{source}'}}\n"
        f"  dav: {{type: webdav, url: 'http://127.0.0.1:{port}/dav/', user: {USER}, "
        "password: '${env:DAV_PASSWORD}'}\n"
        f"steps:\n  - id: copy\n    copy: {{from: here, to: 'dav:/{target}'}}\n",
        encoding="utf-8")
    return plan


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and the command's own CPU seconds (user + system)."""
    started = time.perf_counter()
    before = os.times()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    after = os.times()
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                           - before.children_system)
    return time.perf_counter() - started, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4, help="batches at once per worker")
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-fleet"))
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    work = args.work
    subprocess.run(["rm", "-rf", str(work)], check=True)
    source = work / "source"
    make_tree(source, args.files, max_size=4096)
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    apache_port = free_port()
    subprocess.run(["bash", APACHE, str(work / "apache"), str(apache_port), USER, PASSWORD],
                   check=True)
    proxy = LatencyProxy(apache_port)
    env = {**os.environ, "DAV_PASSWORD": PASSWORD}
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}; python {platform.python_version()}")
    print(f"{args.files} files, {size / 1e6:.1f} MB; WebDAV: Apache mod_dav behind a proxy "
          f"adding {DELAY * 1000:.0f} ms per request; fleet: --per-host {args.per_host}, "
          f"--threads {args.threads} per worker")
    results: dict[str, list[tuple[float, float]]] = {}
    try:
        with LocalPostgres() as pg:
            for round_number in range(args.rounds):
                variants = ["single", *(f"fleet-{n}" for n in counts)]
                for variant in variants:
                    target = f"r{round_number}-{variant}"
                    plan = write_plan(work, source, proxy.port, target)
                    if variant == "single":
                        took = timed([sys.executable, "-m", "migrate", "apply", str(plan),
                                      "--yes"], env)
                    else:
                        workers = int(variant.split("-")[1])
                        with Fleet(pg.url, work / "logs" / target, env,
                                   threads=args.threads) as fleet:
                            fleet.start(workers)
                            took = timed([sys.executable, "-m", "migrate", "apply", str(plan),
                                          "--yes", "--database", pg.url, "--per-host",
                                          str(args.per_host)], env)
                    results.setdefault(variant, []).append(took)
                    # The load average after the run: other users of the machine show in it.
                    print(f"round {round_number} {variant:8} {took[0]:7.1f} s "
                          f"({args.files / took[0]:6.0f} files/s), submitter CPU "
                          f"{took[1]:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        subprocess.run(["apache2", "-f", str(work / "apache" / "httpd.conf"), "-k", "stop"],
                       check=False)
    print("\nvariant   median s  files/s  ratio to fleet-1 (median of per-round ratios, "
          "min-max)")
    base = results.get(f"fleet-{counts[0]}")
    for variant, runs in results.items():
        walls = [wall for wall, _cpu in runs]
        ratios = [b[0] / wall for b, wall in zip(base or runs, walls, strict=False)]
        print(f"{variant:8} {statistics.median(walls):9.1f} "
              f"{args.files / statistics.median(walls):8.0f}  "
              f"x{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
