"""A multi-GB Takeout `.tgz` part, listed and read by `google_takeout`: one pass, not one per file.

Builds `takeout-…-001.tgz` (random bytes, incompressible like the photos and videos that fill
real parts; files in several folders, in an order that is not the path order), then runs
alternately (A B A B … after a warm-up):

- A, ours: the source's listing (one streaming pass: headers, a CRC-32 of each file) then every
  file read, by 4 threads as `migrate apply` does with 4 jobs, in the order the plan lists them.
- B, the physical limit: `tar -xzOf PART > /dev/null`, GNU tar inflating the whole part once
  (what a skilled user runs to unpack it; it lists nothing and copies nothing).

It prints the median times, the per-pair ratio, client CPU seconds, and the bytes the source
inflated against the part's uncompressed size (2.0 = the listing pass plus the reading pass).
The old per-file re-scan (kept below for comparison, `--old-files`) is quadratic: it is run once,
on a small part only. Then one real `migrate apply` into a local folder, for peak memory.

    python tests/benchmarks/bench_takeout_tgz.py [--gigabytes 1] [--pairs 5] [--old-files 200]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.google_takeout import GoogleTakeoutConnector
from migrate.connector import StepContext
from migrate.model import ItemKind

NAME = "takeout-20240101T000000Z-001.tgz"


def build(folder: Path, total: int, seed: int = 11,
          small: bool = False) -> tuple[Path, int, int]:
    """A tgz of about `total` bytes: (path, files, uncompressed bytes); `small`: 50-150 KB
    files only (documents), the case the old per-file re-scan is worst at."""
    rng = random.Random(seed)
    path, written, count = folder / NAME, 0, 0
    with tarfile.open(path, "w:gz", compresslevel=1) as out:
        while written < total:
            # Mostly photos (1-8 MB), some documents (10-200 KB), a few videos (50-200 MB).
            roll = rng.random()
            size = (rng.randint(50, 200) << 20 if roll < 0.01 else
                    rng.randint(10_000, 200_000) if roll < 0.5 else rng.randint(1 << 20, 8 << 20))
            size = rng.randint(50_000, 150_000) if small else size
            size = min(size, total - written) or 1
            name = f"Takeout/Drive/Dossier {rng.randint(0, 40)}/fichier {count:05d}.bin"
            info = tarfile.TarInfo(name)
            info.size, info.mtime = size, 1_704_067_200
            out.addfile(info, io.BytesIO(rng.randbytes(size)))
            written, count = written + size, count + 1
    return path, count, written


def ours(folder: Path, jobs: int = 4) -> tuple[int, int]:
    """List and read every file; (files, bytes inflated)."""
    connector = GoogleTakeoutConnector({"path": NAME}, folder)
    source = connector.open_source("", StepContext("bench", "copy", {}, "bench", folder))
    items = [i for i in source.list_items().items if i.kind is ItemKind.FILE]

    def read(item) -> int:
        total = 0
        with source.open(item) as stream:
            while block := stream.read(1 << 20):
                total += len(block)
        return total

    with ThreadPoolExecutor(jobs) as pool:
        assert sum(pool.map(read, items)) == sum(i.fingerprint.size for i in items)
    inflated = sum(g.counters.inflated for g in source._gzips.values())
    source.close()
    return len(items), inflated


def gnu_tar(folder: Path) -> None:
    with open(os.devnull, "wb") as sink:
        subprocess.run(["tar", "-xzOf", str(folder / NAME)], stdout=sink, check=True)


def old_rescan(folder: Path) -> int:
    """The code before this change: tarfile.open(part) and a scan for each file read."""
    with tarfile.open(folder / NAME, "r:*") as opened:
        names = [m.name for m in opened if m.isfile()]
    for name in names:
        with tarfile.open(folder / NAME, "r:*") as opened:
            stream = opened.extractfile(name)
            assert stream is not None
            while stream.read(1 << 20):
                pass
    return len(names)


def timed(call, *args) -> tuple[float, float, object]:
    """(wall seconds, client CPU seconds including children, result)."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = call(*args)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
              for a, b in zip(after, before, strict=True))
    return wall, cpu, result


def apply_to_local(folder: Path) -> str:
    (folder / "plan.yaml").write_text(
        "version: 1\norganisation: Banc d'essai\nconnections:\n"
        f"  takeout: {{type: google_takeout, path: {NAME}}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: drive\n    copy: {from: takeout, to: here}\n", encoding="utf-8")
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "migrate", "apply",
                          "plan.yaml", "--yes"], cwd=folder, capture_output=True, text=True)
    peak = next((line.split(":")[1].strip() for line in run.stderr.splitlines()
                 if "Maximum resident" in line), "?")
    wall = next((line.split("):")[1].strip() for line in run.stderr.splitlines()
                 if "Elapsed (wall" in line), "?")
    shutil.rmtree(folder / "copie", ignore_errors=True)
    shutil.rmtree(folder / ".migrate", ignore_errors=True)
    return f"exit {run.returncode}, wall {wall}, peak RSS {peak} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--old-files", type=int, default=200,
                        help="files in the small part the old per-file re-scan is timed on")
    args = parser.parse_args()
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info
                    if line.startswith("model name")), platform.processor())
    tar_version = subprocess.run(["tar", "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]
    print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
          f"{tar_version}")
    with tempfile.TemporaryDirectory(prefix="bench-takeout-") as temporary:
        folder = Path(temporary)
        start = time.perf_counter()
        part, files, size = build(folder, int(args.gigabytes * (1 << 30)))
        print(f"part: {files} files, {size / (1 << 30):.2f} GiB uncompressed, "
              f"{part.stat().st_size / (1 << 30):.2f} GiB on disk "
              f"(built in {time.perf_counter() - start:.0f} s)")
        timed(ours, folder), timed(gnu_tar, folder)  # warm-up: page cache, imports
        rows = []
        for _pair in range(args.pairs):
            a_wall, a_cpu, (_files, inflated) = timed(ours, folder)
            b_wall, b_cpu, _ = timed(gnu_tar, folder)
            rows.append((a_wall, a_cpu, b_wall, b_cpu, inflated))
        ratios = [a / b for a, _ac, b, _bc, _i in rows]
        median = [statistics.median(r[column] for r in rows) for column in range(4)]
        print(f"A ours (list + read all, 4 threads): median {median[0]:.2f} s wall, "
              f"{median[1]:.2f} s CPU; inflated {rows[-1][4] / size:.2f}x the uncompressed size")
        print(f"B tar -xzOf > /dev/null:             median {median[2]:.2f} s wall, "
              f"{median[3]:.2f} s CPU")
        print(f"A/B per pair: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}, "
              f"max {max(ratios):.2f} ({args.pairs} pairs)")
        print("migrate apply into a local folder (defaults, 4 jobs): " + apply_to_local(folder))
        part.unlink()
        _small, small_files, small_size = build(folder, args.old_files * 100_000, seed=5,
                                                small=True)
        new_wall, _c, _r = timed(ours, folder)
        old_wall, _c, _r = timed(old_rescan, folder)
        print(f"small part ({small_files} files, {small_size / 1e6:.0f} MB): ours {new_wall:.2f} s,"
              f" the old per-file re-scan {old_wall:.2f} s (run once: it grows with files x size)")


if __name__ == "__main__":
    main()
