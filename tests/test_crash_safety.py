"""Kill `migrate apply` with SIGKILL at random moments, run it again: nothing lost, nothing twice.

Each trial is a real subprocess killed without warning (no cleanup code runs), then the same
command is re-run until it finishes. The target must then equal the source byte for byte, hold no
temporary file, and the journal must say every item is done. A file found under its final name
after a kill is never written again (same inode at the end): new local files are journaled DONE
only, without INTENT (decision 0489), so it is the next run's diff that adopts them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from connectors.local import TEMPORARY_PREFIX
from tests.helpers import make_tree, migrate, migrate_popen, snapshot, write_plan

TRIALS = 24
FILES = 800


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "source"
    make_tree(root, FILES, seed=11, max_size=120_000)
    return root


def _files_in(folder: Path) -> int:
    return sum(len(files) for _root, _dirs, files in os.walk(folder))


def _inodes(folder: Path) -> dict[str, int]:
    """Each file under its final name (temporary ones apart) and its inode."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(TEMPORARY_PREFIX)}


def _kill_at_random(plan: Path, rng: random.Random) -> bool:
    """Start apply and SIGKILL it at a random moment; True if it was killed mid-run.

    The moment is drawn as a number of files arrived (plus a little jitter), not as seconds, so
    kills land in the middle of copying however fast or loaded the machine is; a few land
    before the first file, during planning or start-up.
    """
    target = plan.parent / "target"
    already = _files_in(target) if target.exists() else 0
    threshold = already + rng.randint(0, max(1, (FILES - already) // 2))
    process = migrate_popen("apply", plan, "--yes", "--jobs", str(rng.choice([1, 2, 4, 8])))
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if (target.exists() and _files_in(target) >= threshold) or threshold == already:
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.02))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    return process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_random_kills_lose_nothing_and_duplicate_nothing(tmp_path: Path,
                                                         source_tree: Path) -> None:
    rng = random.Random(2026)
    expected = snapshot(source_tree)
    interrupted_mid_copy = 0
    for trial in range(TRIALS):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        plan = write_plan(folder, source=str(source_tree))
        kills = rng.choice([1, 1, 2, 3])
        found_after_kills: dict[str, int] = {}
        for _ in range(kills):
            if _kill_at_random(plan, rng):
                copied = len(snapshot(folder / "target")) if (folder / "target").exists() else 0
                interrupted_mid_copy += 0 < copied < FILES
            for path, inode in _inodes(folder / "target").items():
                found_after_kills.setdefault(path, inode)
        finished = migrate("apply", plan, "--yes")
        assert finished.returncode == 0, f"trial {trial}: {finished.stdout}{finished.stderr}"

        assert snapshot(folder / "target") == expected, f"trial {trial}"
        now = _inodes(folder / "target")
        written_twice = [p for p, inode in found_after_kills.items() if now[p] != inode]
        assert written_twice == [], f"trial {trial}: copied again: {written_twice[:3]}"
        leftovers = [p for p in (folder / "target").rglob("*")
                     if p.name.startswith(TEMPORARY_PREFIX)]
        assert leftovers == [], f"trial {trial}: temporary files left: {leftovers[:3]}"
        status = json.loads(migrate("status", plan, "--json").stdout)
        assert status["steps"] == {"files": {"done": FILES}}, f"trial {trial}: {status['steps']}"
        assert status["lock"] is None
        assert migrate("plan", plan, "--detailed-exitcode").returncode == 0
    # The test only means something if kills really landed in the middle of copies.
    assert interrupted_mid_copy >= TRIALS // 3, interrupted_mid_copy
