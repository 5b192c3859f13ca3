"""Helpers for tests that run the real `migrate` command on real folders."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import traceback
from dataclasses import dataclass
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


def copied_some(target: Path, at_least: int = 10) -> bool:
    """`at_least` files are in the target: a copy is under way, far from its end. Tests that
    interrupt a copy wait for this rather than a fixed delay, which a fast copy can outrun."""
    found = 0
    for _folder, _subfolders, files in os.walk(target):
        found += len(files)
        if found >= at_least:
            return True
    return False


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


@dataclass
class Ran:
    """What a run of the command gave: the fields of `subprocess.CompletedProcess` tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def migrate(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300, input: str | None = None) -> Ran:
    """Run the real command in this process through click's CliRunner: the same entry point,
    parsing, error boundary and exit codes as `migrate` in a terminal, without paying an
    interpreter start and the imports each time (about a second a call on two cores).

    `input` is what is typed on its standard input (not a terminal, as with a pipe); `env` is
    added to the environment and `cwd` entered for the run only, then put back; the
    command itself must leave no state behind (tests/test_cli_in_process.py checks it).
    What only a separate process can show (signals, Ctrl-C, the run lock between two
    processes, an installed package, a terminal) uses `migrate_process`. `timeout` is
    accepted for the same calls and not enforced in-process.
    """
    from click.testing import CliRunner

    from migrate.cli import cli

    arguments = [str(arg) for arg in args]
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, arguments, input=input, prog_name="migrate", env=env)
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What would have been a traceback in a terminal: a true bug, shown as such.
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Ran(arguments, result.exit_code, result.stdout, stderr)


def migrate_process(*args: str | Path, cwd: Path | None = None,
                    env: dict[str, str] | None = None,
                    timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "migrate", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def migrate_popen(*args: str | Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "migrate", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
