"""Benchmark: `migrate plan` and `migrate apply`, local folder to local folder, against `cp -a`
and `rsync -a` of the same tree, side by side (A B A B …), at 10,000 and 100,000 small files.

    python tests/benchmarks/bench_local.py [--sizes 10000 100000] [--pairs 5] [--workdir DIR]

Prints the machine, versions, commands, medians, per-pair ratios (median, min, max), peak memory
(maximum resident set size from /usr/bin/time -v), the 100k/10k cost ratios (linear growth
means about 10), and checks that re-applying a finished plan writes nothing.
Not part of the test run: figures from a shared 2-core machine are only meaningful side by side.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers import make_tree, write_plan  # noqa: E402

MIGRATE = [sys.executable, "-m", "migrate"]


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a command, through /usr/bin/time -v."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True,
                            text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    return elapsed, peak


def clean(folder: Path, *names: str) -> None:
    for name in names:
        shutil.rmtree(folder / name, ignore_errors=True)


def tree_state(root: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime_ns) of every file: any write, even an identical one, changes it."""
    state = {}
    for path in root.rglob("*"):
        info = path.stat()
        state[str(path)] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return state


def describe(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}  (min {min(values):.2f}, max {max(values):.2f})"


def bench_size(files: int, pairs: int, workdir: Path, jobs: int) -> dict[str, float]:
    folder = workdir / f"tree-{files}"
    clean(workdir, f"tree-{files}")
    folder.mkdir(parents=True)
    contents = make_tree(folder / "source", files, seed=3, max_size=4096, depth=5)
    total = sum(len(v) for v in contents.values())
    plan = write_plan(folder)
    folders = len({Path(p).parent for p in contents})
    print(f"\n## {files:,} files, {total / 1e6:.1f} MB, {folders} folders")
    apply_command = [*MIGRATE, "apply", str(plan), "--yes", "--jobs", str(jobs)]
    baselines = {"cp -a": ["cp", "-a", "source", "copy"]}
    if shutil.which("rsync"):
        baselines["rsync -a"] = ["rsync", "-a", "source/", "copy/"]
    for name, command in baselines.items():
        print(f"baseline {name}: {' '.join(command)}")
    print(f"ours: {' '.join(apply_command)}")

    plan_times, plan_peaks = [], []
    for _ in range(pairs):
        clean(folder, ".migrate")
        seconds, peak = timed([*MIGRATE, "plan", str(plan), "--detailed-exitcode"], folder)
        plan_times.append(seconds)
        plan_peaks.append(peak)

    ours: list[float] = []
    peaks: list[int] = []
    theirs: dict[str, list[float]] = {name: [] for name in baselines}
    clean(folder, "target", ".migrate", "copy")
    timed(apply_command, folder)  # warm-up: caches, imports
    for _ in range(pairs):
        for name, command in baselines.items():
            clean(folder, "copy")
            theirs[name].append(timed(command, folder)[0])
        clean(folder, "target", ".migrate")
        seconds, peak = timed(apply_command, folder)
        ours.append(seconds)
        peaks.append(peak)

    before = tree_state(folder / "target")
    rerun_seconds, rerun_peak = timed(apply_command, folder)
    rerun = subprocess.run(apply_command, cwd=folder, capture_output=True, text=True)
    unchanged = tree_state(folder / "target") == before
    print(f"plan (dry run, fresh)     {describe(plan_times)} s; "
          f"peak {max(plan_peaks) / 1024:.0f} MiB")
    print(f"apply                     {describe(ours)} s; peak {max(peaks) / 1024:.0f} MiB")
    for name in baselines:
        ratios = [a / b for a, b in zip(ours, theirs[name], strict=True)]
        print(f"{name:<25} {describe(theirs[name])} s")
        print(f"  ratio apply / {name:<10} {describe(ratios)}")
    print(f"re-apply of finished plan {rerun_seconds:.2f} s, peak {rerun_peak / 1024:.0f} MiB; "
          f"wrote nothing: {unchanged}; said: {rerun.stdout.strip()!r}")
    if not unchanged:
        raise SystemExit("a re-run of a finished plan changed the target")
    clean(folder, "copy")
    return {"plan": statistics.median(plan_times), "apply": statistics.median(ours),
            "rerun": rerun_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/transhumance-bench-local"))
    args = parser.parse_args()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    versions = subprocess.run([*MIGRATE, "--version"], capture_output=True, text=True).stdout
    print(f"# Local copy benchmark\nmachine: {os.cpu_count()} cores, {cpu}; {platform.platform()}")
    cp_version = subprocess.run(["cp", "--version"], capture_output=True, text=True).stdout
    print(f"python {platform.python_version()}; {versions.strip()}; {cp_version.splitlines()[0]}")
    if shutil.which("rsync"):
        print(subprocess.run(["rsync", "--version"], capture_output=True, text=True)
              .stdout.splitlines()[0])
    print(f"pairs: {args.pairs} after one warm-up, alternating baseline and ours; "
          f"--jobs {args.jobs}; workdir {args.workdir}")
    results = {size: bench_size(size, args.pairs, args.workdir, args.jobs) for size in args.sizes}
    if len(args.sizes) >= 2:
        small, large = min(args.sizes), max(args.sizes)
        factor = large / small
        print(f"\n## Growth {large:,} / {small:,} files (linear = {factor:.0f})")
        for key in ("plan", "apply", "rerun"):
            print(f"{key:<6} {results[large][key] / results[small][key]:.1f}")


if __name__ == "__main__":
    main()
