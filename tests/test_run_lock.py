"""Two applies on one plan: the second refuses and names the holder."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from migrate.journal import Journal, journal_path, run_lock
from tests.helpers import make_tree, migrate, migrate_popen, migrate_process, write_plan


def test_second_apply_refuses_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 20)
    plan = write_plan(tmp_path)
    holder = Journal(journal_path(plan, None))
    holder.acquire_lock("apply")
    try:
        refused = migrate_process("apply", plan, "--yes")  # another process meets the lock
    finally:
        holder.close()
    assert refused.returncode == 1
    assert "already running on this plan" in refused.stderr
    assert f"process {os.getpid()} on {socket.gethostname()}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "target").exists()
    assert migrate("apply", plan, "--yes").returncode == 0  # released: now it runs


def test_two_real_applies_at_once(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 3000, max_size=60_000)
    plan = write_plan(tmp_path)
    first = migrate_popen("apply", plan, "--yes", "--jobs", "1")
    journal = journal_path(plan, None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the first really holds the lock
        if journal.exists():
            probe = Journal(journal)
            held = probe.lock_holder() is not None
            probe.db.close()
            if held:
                break
        time.sleep(0.02)
    second = migrate_process("apply", plan, "--yes")
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 1, second.stdout
    assert "already running on this plan" in second.stderr
    assert f"process {first.pid}" in second.stderr


def test_a_dead_holders_lock_is_taken_over(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 5)
    plan = write_plan(tmp_path)
    journal = Journal(journal_path(plan, None))
    journal.db.execute("INSERT INTO lock VALUES (1, 'x', 999999999, ?, 'apply', ?, ?)",
                       (socket.gethostname(), time.time(), time.time()))
    journal.db.close()
    assert migrate("apply", plan, "--yes").returncode == 0


def test_the_holder_beats_while_it_runs_and_its_lock_goes_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The heartbeat opens its own connection only at its first beat (a short run never pays
    for it), and beats from then on: another process sees the holder alive."""
    monkeypatch.setattr(run_lock, "HEARTBEAT_SECONDS", 0.05)
    plan = write_plan(tmp_path)
    holder = Journal(journal_path(plan, None))
    holder.acquire_lock("apply")
    try:
        first = holder.lock_holder()
        assert first is not None
        seen = Journal(journal_path(plan, None))
        try:
            deadline = time.monotonic() + 10
            while (now := seen.lock_holder()) is not None and now.heartbeat == first.heartbeat:
                assert time.monotonic() < deadline, "no heartbeat in 10 s"
                time.sleep(0.02)
            assert now is not None and now.heartbeat > first.heartbeat
            assert now.pid == os.getpid()
        finally:
            seen.db.close()
    finally:
        holder.close()
    after = Journal(journal_path(plan, None))
    try:
        assert after.lock_holder() is None
    finally:
        after.db.close()
