"""Ctrl-C stops cleanly: items in flight finish, the rest waits, and a later apply resumes."""

from __future__ import annotations

import json
import signal
import stat
import time
from pathlib import Path

from migrate.journal import journal_path
from tests.helpers import copied_some, make_tree, migrate, migrate_popen, snapshot, write_plan


def test_ctrl_c_stops_cleanly_and_apply_resumes(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 2500, max_size=40_000)
    plan = write_plan(tmp_path)
    process = migrate_popen("apply", plan, "--yes", "--jobs", "1")
    deadline = time.monotonic() + 60
    while not copied_some(tmp_path / "target") and time.monotonic() < deadline:
        time.sleep(0.01)  # copying has begun; a fixed delay lost the race to a fast copy
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Stopped" in err and "Traceback" not in err
    status = json.loads(migrate("status", plan, "--json").stdout)
    assert status["lock"] is None  # released on the way out
    assert "intent" not in status["steps"]["files"]  # nothing left in doubt
    partial = len(snapshot(tmp_path / "target"))
    assert 0 < partial < 2500

    resumed = migrate("apply", plan, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")


def test_journal_is_private_to_its_owner(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 3)
    plan = write_plan(tmp_path)
    migrate("apply", plan, "--yes")
    journal = journal_path(plan, None)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700
