"""A Mailchimp audience (emulator) to listmonk (emulator) and to Mailman 3 (real core): ours vs a
naive one-request-per-member client, side by side, alternating (A B A B …) after a warm-up.

Ours: `migrate apply plan.yaml --yes` (mailchimp → listmonk through the CSV import in batches
of 1,000; → mailman3 one subscription per member, two at a time, bans first and the
subscriptions Mailman must ask to confirm last). Baselines, the same bulk read from Mailchimp
then one request per member (tests/benchmarks/naive_mailing_client.py) — what a skilled user
writes by hand:
- `naive`: no consent bookkeeping at all; every Mailchimp "subscribed" member is pre-confirmed;
- `naive-consent` (Mailman): the same consent decisions as ours (quiet subscription only with a
  documented opt-in), in source order, without our bookkeeping.
All run as subprocesses under `/usr/bin/time -v` (peak RSS of the whole process). Requests are
counted by the emulators' control planes (Mailchimp, listmonk); Mailman has none, so its
requests are counted — and timed, per kind — by a counting loopback proxy in front of it.

Mailman reads every subscription awaiting confirmation on the list at each new subscription
(decision 0510), so its cost grows with the square of the members it must ask to confirm:
`--documented` sets the share of members whose opt-in is documented (0.6 by default) and
`--pending drop` leaves Mailchimp's pending members out, to measure client overhead at scale.

    python tests/benchmarks/bench_mailing.py --target listmonk --members 50000 --pairs 3
    python tests/benchmarks/bench_mailing.py --target mailman3 --members 2000 --pairs 1 \
        --baselines naive naive-consent
    python tests/benchmarks/bench_mailing.py --target mailman3 --members 50000 --pairs 1 \
        --documented 1 --pending drop --warmup 0
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.listmonk import ListmonkServer
from sandbox.mailchimp import MailchimpServer, seed_audience
from tests.benchmarks.counting_proxy import CountingProxy

HERE = Path(__file__).resolve().parent
AUDIENCE = "Les Amis du Centsept"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one run of `command` under /usr/bin/time -v."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return seconds, peak


def ours(work: Path, mc: MailchimpServer, target: str, conn: str,
         pending: str = "unconfirmed") -> tuple[list[str], dict]:
    plan = work / f"plan-{uuid.uuid4().hex[:6]}.yaml"
    plan.write_text(
        "version: 1\nconnections:\n"
        f"  mc: {{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{mc.url}'}}\n"
        f"  out: {conn}\nsteps:\n"
        f"  - id: lettre\n    export: {{from: 'mc:{AUDIENCE}', to: 'out:{target}'}}\n"
        f"    with: {{pending: {pending}}}\n",
        encoding="utf-8")
    return [sys.executable, "-m", "migrate", "apply", str(plan), "--yes"], {}


@contextmanager
def fresh_mailman() -> Iterator[tuple[dict, CountingProxy]]:
    """A Mailman of its own for one run (a second run on the same Mailman would find every
    address and user already made by the first), behind a counting proxy."""
    from sandbox.mailman import MailmanServer

    with MailmanServer() as mailman:
        mailman.create_domain("example.org")
        info = mailman.describe()
        proxy = CountingProxy(info["url"].rsplit("/3.1", 1)[0]).start()
        try:
            yield info, proxy
        finally:
            proxy.stop()


def run_pair(args: argparse.Namespace, work: Path, mc: MailchimpServer,
             list_id: str) -> list[dict]:
    results = []
    for who in ("ours", *args.baselines):
        with ExitStack() as servers:
            results.append(run_one(args, who, work, mc, list_id, servers))
    return results


def run_one(args: argparse.Namespace, who: str, work: Path, mc: MailchimpServer, list_id: str,
            servers: ExitStack) -> dict:
    env = dict(os.environ, MC_KEY=mc.api_key)
    if args.target == "listmonk":
        server = servers.enter_context(ListmonkServer())
        name = "Bench"
        conn = (f"{{type: listmonk, url: '{server.url}', user: {server.api_user}, "
                "token: '${env:TARGET_SECRET}'}")
        env["TARGET_SECRET"] = server.token
        target_args = ["listmonk", server.url, server.api_user, server.token, name]
        counter = server.control
    else:
        info, proxy = servers.enter_context(fresh_mailman())
        name = f"bench-{uuid.uuid4().hex[:8]}@example.org"
        conn = (f"{{type: mailman3, url: '{proxy.url}/3.1', user: {info['user']}, "
                "password: '${env:TARGET_SECRET}'}")
        env["TARGET_SECRET"] = info["password"]
        target_args = ["mailman3", f"{proxy.url}/3.1", info["user"], info["password"], name]
        counter = proxy
    if who == "ours":
        command, _extra = ours(work, mc, name, conn, args.pending)
    else:
        command = [sys.executable, str(HERE / "naive_mailing_client.py"), mc.url,
                   mc.api_key, list_id, *target_args]
        command += ["--consent"] if who == "naive-consent" else []
        command += ["--drop-pending"] if args.pending == "drop" else []
    mc.control.reset_counts()
    counter.reset_counts()
    seconds, peak = timed(command, env)
    result = {"who": who, "seconds": seconds, "peak_mib": peak / 1024,
              "mailchimp_requests": mc.control.total_requests,
              "target_requests": counter.total_requests, "command": command}
    if args.target == "mailman3" and args.timings:
        print(f"  {who}: Mailman's time per kind of request", flush=True)
        for line in counter.timing_lines():
            print("    " + line, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=("listmonk", "mailman3"), default="listmonk")
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="warm-up pairs (not counted)")
    parser.add_argument("--baselines", nargs="+", default=["naive"],
                        choices=("naive", "naive-consent"))
    parser.add_argument("--documented", type=float, default=0.6,
                        help="share of members whose opt-in is documented (time and IP)")
    parser.add_argument("--pending", choices=("unconfirmed", "drop"), default="unconfirmed")
    parser.add_argument("--timings", action="store_true",
                        help="Mailman: print its time per kind of request after each run")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulators' access logs
    print(f"machine: {platform.node()} {platform.machine()}, nproc {os.cpu_count()}, "
          f"{_cpu()}; Python {platform.python_version()}; requests {version('requests')}, "
          f"mailmanclient {version('mailmanclient')}; load {os.getloadavg()[0]:.2f}")
    mc = MailchimpServer()
    seeded = seed_audience(mc, members=args.members, rng_seed=3, name=AUDIENCE,
                           second_audience=False, documented=args.documented)
    print(f"audience: {args.members:,} members {seeded.status_counts}; opt-in documented for "
          f"{args.documented:.0%}; pending: {args.pending}")
    with mc, tempfile.TemporaryDirectory() as folder:
        rows = []
        for pair in range(args.warmup + args.pairs):
            results = run_pair(args, Path(folder), mc, seeded.list_id)
            counted = pair >= args.warmup
            label = f"pair {pair - args.warmup + 1}" if counted else "warm-up"
            for r in results:
                print(f"{label:8} {r['who']:13} {r['seconds']:8.2f} s  peak "
                      f"{r['peak_mib']:6.1f} MiB  target req/member "
                      f"{r['target_requests'] / args.members:.4f}"
                      f"  mailchimp req {r['mailchimp_requests']}", flush=True)
            if counted:
                rows.append(results)
    _summary(rows, args.members)


def _summary(rows: list[list[dict]], members: int) -> None:
    ours_s = [pair[0]["seconds"] for pair in rows]
    print(f"median seconds: ours {statistics.median(ours_s):.2f}")
    for index in range(1, len(rows[0])):
        who = rows[0][index]["who"]
        other = [pair[index]["seconds"] for pair in rows]
        ratios = [n / o for o, n in zip(ours_s, other, strict=True)]
        print(f"{who}: median {statistics.median(other):.2f} s; {who}/ours per pair: median "
              f"{statistics.median(ratios):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}")
    for index in range(len(rows[0])):
        who = rows[0][index]["who"]
        peak = statistics.median(pair[index]["peak_mib"] for pair in rows)
        per = statistics.median(pair[index]["target_requests"] for pair in rows) / members
        print(f"{who}: peak RSS median {peak:.1f} MiB, target requests per member {per:.4f}, "
              f"command: {' '.join(rows[0][index]['command'])}")


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return re.search(r"model name\s*:\s*(.+)", text).group(1)
    except (OSError, AttributeError):
        return platform.processor()


if __name__ == "__main__":
    main()
