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

#: `migrate` as a user runs it: pip's console script beside the interpreter (`-m` would import
#: `runpy` too, about 3 ms a user never pays), or `python -m migrate` where there is none.
_SCRIPT = Path(sys.executable).parent / "migrate"
MIGRATE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "migrate"]
#: The environment of every timed command, without PYTHONDONTWRITEBYTECODE: an installed
#: `migrate` has its compiled modules (pip writes them), while a fresh checkout run with it
#: (a `git archive` of the base, a new worktree) compiles every module from source at every
#: start, about 0.1 s more CPU per run (decision 0493), which no user pays.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of a command."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True,
                            text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)",
                                           result.stderr))
    return elapsed, peak, cpu


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


def bench_size(files: int, pairs: int, workdir: Path, jobs: int | None) -> dict[str, float]:
    """Every timed run writes into a folder of its own (`target-N`, `copy-N`); they are all
    deleted after the series: deleting a big tree right before a timed run slows the next
    copies of every tool on this machine's ext4 and hides our own overhead."""
    folder = workdir / f"tree-{files}"
    clean(workdir, f"tree-{files}")
    folder.mkdir(parents=True)
    contents = make_tree(folder / "source", files, seed=3, max_size=4096, depth=5)
    total = sum(len(v) for v in contents.values())
    folders = len({Path(p).parent for p in contents})
    print(f"\n## {files:,} files, {total / 1e6:.1f} MB, {folders} folders")
    counter = iter(range(10**6))

    def ours() -> list[str]:
        run = next(counter)
        plan = write_plan(folder, target=f"target-{run}")
        renamed = plan.rename(folder / f"plan-{run}.yaml")
        return [*MIGRATE, "apply", str(renamed), "--yes", *(["--jobs", str(jobs)] if jobs else [])]

    baselines = {"cp -a": lambda n: ["cp", "-a", "source", f"cp-{n}"]}
    if shutil.which("rsync"):
        baselines["rsync -a"] = lambda n: ["rsync", "-a", "source/", f"rsync-{n}/"]
    print(f"baselines: cp -a source cp-N; rsync -a source/ rsync-N/; ours: migrate apply "
          f"plan.yaml --yes{f' --jobs {jobs}' if jobs else ''} (local -> local"
          f"{'' if jobs else ', defaults'})")

    plan_times, plan_peaks = [], []
    for index in range(pairs):
        plan = write_plan(folder, target=f"plan-target-{index}")
        seconds, peak, _cpu = timed([*MIGRATE, "plan", str(plan), "--detailed-exitcode"], folder)
        plan_times.append(seconds)
        plan_peaks.append(peak)

    times: dict[str, list[float]] = {"ours": [], **{name: [] for name in baselines}}
    cpus: dict[str, list[float]] = {name: [] for name in times}
    peaks: list[int] = []
    last = []
    for round_ in range(pairs + 1):  # round 0 warms caches and imports up
        for name, make in baselines.items():
            seconds, _peak, cpu = timed(make(round_), folder)
            if round_:
                times[name].append(seconds)
                cpus[name].append(cpu)
        command = ours()
        seconds, peak, cpu = timed(command, folder)
        last = command
        if round_:
            times["ours"].append(seconds)
            cpus["ours"].append(cpu)
            peaks.append(peak)

    # Re-apply of the last finished plan against an rsync no-op of the same tree, in pairs.
    target = folder / f"target-{pairs}"
    before = tree_state(target)
    rerun: dict[str, list[float]] = {"ours": [], "rsync no-op": []}
    rerun_peaks, rerun_cpu, noop_cpu = [], [], []
    for round_ in range(pairs + 1):
        seconds, peak, cpu = timed(last, folder)
        noop = timed(["rsync", "-a", "source/", f"rsync-{pairs}/"], folder) if \
            "rsync -a" in baselines else (0.0, 0, 0.0)
        if round_:
            rerun["ours"].append(seconds)
            rerun["rsync no-op"].append(noop[0])
            rerun_peaks.append(peak)
            rerun_cpu.append(cpu)
            noop_cpu.append(noop[2])
    unchanged = tree_state(target) == before
    print(f"plan (dry run, fresh)     {describe(plan_times)} s; "
          f"peak {max(plan_peaks) / 1024:.0f} MiB")
    print(f"apply                     {describe(times['ours'])} s; CPU "
          f"{statistics.median(cpus['ours']):.2f} s; peak {max(peaks) / 1024:.0f} MiB")
    for name in baselines:
        ratios = [a / b for a, b in zip(times["ours"], times[name], strict=True)]
        print(f"{name:<25} {describe(times[name])} s; CPU {statistics.median(cpus[name]):.2f} s")
        print(f"  ratio apply / {name:<10} {describe(ratios)}")
        cpu_ratios = [a / b for a, b in zip(cpus["ours"], cpus[name], strict=True) if b]
        if cpu_ratios:
            print(f"  CPU ratio apply / {name:<6} {describe(cpu_ratios)}")
    print(f"re-apply of finished plan {describe(rerun['ours'])} s; CPU "
          f"{statistics.median(rerun_cpu):.2f} s; peak {max(rerun_peaks) / 1024:.0f} MiB; "
          f"wrote nothing: {unchanged}")
    if rerun["rsync no-op"][0]:
        ratios = [a / b for a, b in zip(rerun["ours"], rerun["rsync no-op"], strict=True)]
        print(f"rsync no-op               {describe(rerun['rsync no-op'])} s; CPU "
              f"{statistics.median(noop_cpu):.2f} s")
        print(f"  ratio re-apply / rsync no-op {describe(ratios)}")
        # On a loaded machine wall time follows the scheduler: CPU seconds compare the work.
        cpu_ratios = [a / b for a, b in zip(rerun_cpu, noop_cpu, strict=True) if b]
        if cpu_ratios:
            print(f"  CPU ratio re-apply / rsync no-op {describe(cpu_ratios)}")
    if not unchanged:
        raise SystemExit("a re-run of a finished plan changed the target")
    print(f"load average: {os.getloadavg()}")
    for path in folder.iterdir():  # after the series, never before a timed run
        if path.name != "source":
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
    return {"plan": statistics.median(plan_times), "apply": statistics.median(times["ours"]),
            "rerun": statistics.median(rerun["ours"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pairs", type=int, default=5)
    # None: no --jobs, what a user gets (the target's default: two writer processes for a
    # local folder, decision 0496); a number measures that setting instead.
    parser.add_argument("--jobs", type=int, default=None)
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
          f"--jobs {args.jobs or 'default'}; workdir {args.workdir}")
    results = {size: bench_size(size, args.pairs, args.workdir, args.jobs) for size in args.sizes}
    if len(args.sizes) >= 2:
        small, large = min(args.sizes), max(args.sizes)
        factor = large / small
        print(f"\n## Growth {large:,} / {small:,} files (linear = {factor:.0f})")
        for key in ("plan", "apply", "rerun"):
            print(f"{key:<6} {results[large][key] / results[small][key]:.1f}")


if __name__ == "__main__":
    main()
