"""Helpers for tests that run the real `migrate` command on real folders."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

NAMES = ["rapport", "réunion", "Été 2024", "bénévoles", "статья", "会議", "ملف", "ñandú", "ça"]


def make_tree(root: Path, files: int, seed: int = 7, max_size: int = 2048,
              depth: int = 4) -> dict[str, bytes]:
    """A deterministic tree: nested folders, accented and non-Latin names, empty files."""
    rng = random.Random(seed)
    folders = [""]
    for index in range(max(1, files // 12)):
        parent = rng.choice([f for f in folders if f.count("/") < depth])
        name = f"{rng.choice(NAMES)} {index}"
        folders.append(f"{parent}/{name}" if parent else name)
    contents: dict[str, bytes] = {}
    for index in range(files):
        folder = rng.choice(folders)
        name = f"{rng.choice(NAMES)}-{index}.{rng.choice(['txt', 'odt', 'pdf', 'csv'])}"
        path = f"{folder}/{name}" if folder else name
        size = 0 if index % 25 == 0 else rng.randint(1, max_size)
        contents[path] = rng.randbytes(size)
    for index, (path, data) in enumerate(sorted(contents.items())):
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(data)
        moment = 1_500_000_000 + index * 3607
        os.utime(full, (moment, moment))
    return contents


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root: its bytes and its modification time in nanoseconds."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            found[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def write_plan(folder: Path, source: str = "source", target: str = "target",
               extra: str = "") -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        f"  here: {{type: local, path: {source}}}\n"
        f"  there: {{type: local, path: {target}}}\n"
        "steps:\n"
        "  - id: files\n"
        "    copy: {from: here, to: there}\n" + extra,
        encoding="utf-8",
    )
    return plan


def migrate(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "migrate", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def migrate_popen(*args: str | Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "migrate", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
