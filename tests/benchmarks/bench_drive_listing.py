"""Drive API requests (and time) to list a whole Drive: ours vs a naive per-folder walk.

Ours: `google_drive`'s listing — one paged files.list over the corpus, tree rebuilt locally.
Baseline: what many tools do — one files.list (`'ID' in parents`, paged at 1,000) per folder,
recursively. Both speak to the Drive emulator over HTTP with google-api-python-client, signed in
with a service account; run alternately (A B A B …) after a warm-up, medians and per-pair ratios.

    python tests/benchmarks/bench_drive_listing.py [--pairs 5] [--large 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.google_drive import GoogleDriveConnector
from migrate.connector import StepContext
from sandbox.google_drive import GoogleDriveServer
from sandbox.google_drive.seed import seed_demo_drive, seed_large_drive
from tests.fixtures.google_drive import build_drive_service

FOLDER = "application/vnd.google-apps.folder"
FIELDS = "nextPageToken,files(id,name,mimeType,parents,size,md5Checksum,modifiedTime)"


def ours(server: GoogleDriveServer, key: dict, folder: Path) -> int:
    connector = GoogleDriveConnector({"credentials": json.dumps(key), "subject":
                                      server.drive.user.email,
                                      "api_endpoint": server.api_endpoint}, folder)
    source = connector.open_source("", StepContext("bench", "copy", {}, "bench", folder))
    return len(list(source.list_items().items))


def naive_walk(server: GoogleDriveServer, key: dict, folder: Path) -> int:
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(
        key, scopes=["https://www.googleapis.com/auth/drive.readonly"],
        subject=server.drive.user.email)
    service = build_drive_service(server, credentials)
    count, stack = 0, ["root"]
    while stack:
        parent, token = stack.pop(), None
        while True:
            page = service.files().list(q=f"'{parent}' in parents and trashed = false",
                                        pageSize=1000, pageToken=token, fields=FIELDS,
                                        supportsAllDrives=True).execute(num_retries=0)
            for entry in page.get("files", []):
                count += 1
                if entry["mimeType"] == FOLDER:
                    stack.append(entry["id"])
            token = page.get("nextPageToken")
            if not token:
                break
    return count


def measure(run, server: GoogleDriveServer, key: dict, folder: Path) -> tuple[float, int]:
    server.requests.reset()
    start = time.perf_counter()
    run(server, key, folder)
    elapsed = time.perf_counter() - start
    counts = server.requests.by_endpoint
    return elapsed, sum(counts.values()) - counts.get("token", 0)


def bench(label: str, seed, pairs: int, folder: Path) -> None:
    with GoogleDriveServer() as server:
        seeded = seed(server.drive)
        key = server.auth.create_service_account(server.token_uri)
        server.auth.required = True
        folders = sum(1 for f in server.drive.files.values() if f.mime_type == FOLDER)
        for run in (ours, naive_walk):  # warm-up
            measure(run, server, key, folder)
        rows: dict[str, list[tuple[float, int]]] = {"ours": [], "naive": []}
        for _ in range(pairs):
            rows["ours"].append(measure(ours, server, key, folder))
            rows["naive"].append(measure(naive_walk, server, key, folder))
        ratios = [n[0] / o[0] for o, n in zip(rows["ours"], rows["naive"], strict=True)]
        print(f"\n{label}: {seeded.item_count:,} items seeded, {folders} folders")
        for name, values in rows.items():
            median = statistics.median(v[0] for v in values)
            print(f"  {name:<6} requests {values[0][1]:>5}   median {median:.3f} s")
        print(f"  time ratio naive/ours per pair: median {statistics.median(ratios):.2f}, "
              f"min {min(ratios):.2f}, max {max(ratios):.2f}")
        print(f"  request ratio naive/ours: {rows['naive'][0][1] / rows['ours'][0][1]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--large", type=int, default=20_000)
    args = parser.parse_args()
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"],
                         capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
          f"google-api-python-client {version('google-api-python-client')}")
    print(f"command: python tests/benchmarks/bench_drive_listing.py --pairs {args.pairs} "
          f"--large {args.large}")
    print("requests counted at the emulator (token endpoint excluded); ours includes "
          "changes.getStartPageToken and files.get root")
    with tempfile.TemporaryDirectory() as folder:
        bench("demo drive", lambda d: seed_demo_drive(d, items=1000, rng_seed=7), args.pairs,
              Path(folder))
        bench("large drive", lambda d: seed_large_drive(d, items=args.large), args.pairs,
              Path(folder))


if __name__ == "__main__":
    main()
