"""Ctrl-C with several plans: every client stops cleanly (Ctrl-C reaches only the main thread)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.helpers import copied_some, make_tree, migrate, migrate_popen, snapshot, write_plan


def test_ctrl_c_stops_every_client_cleanly_and_apply_resumes(tmp_path: Path) -> None:
    plans = []
    for name in ("centsept", "jardin"):
        folder = tmp_path / "clients" / name
        make_tree(folder / "source", 2000, seed=len(name), max_size=40_000)
        plans.append(write_plan(folder))
    process = migrate_popen("apply", *plans, "--parallel", "2", "--jobs", "1", "--yes")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
            copied_some(plan.parent / "target") for plan in plans):
        time.sleep(0.01)  # both clients are copying; a fixed delay can lose to a fast copy
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    for plan in plans:
        status = json.loads(migrate("status", plan, "--json").stdout)
        assert status["lock"] is None
        assert "intent" not in status["steps"].get("files", {})
        assert len(snapshot(plan.parent / "target")) < 2000  # it really stopped

    resumed = migrate("apply", *plans, "--parallel", "2", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for plan in plans:
        assert snapshot(plan.parent / "target") == snapshot(plan.parent / "source")
