"""`migrate schedule` covers every step and every client: one entry each, run as cron would."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.helpers import make_tree, migrate, snapshot, write_plan


def _client(root: Path, name: str) -> Path:
    folder = root / "clients" / name
    make_tree(folder / "source", 7, seed=len(name))
    return write_plan(folder)


def test_every_client_and_every_step_gets_its_scheduled_run(tmp_path: Path) -> None:
    plans = [_client(tmp_path, "centsept"), _client(tmp_path, "jardin")]
    crontab = tmp_path / "crontab"
    result = migrate("schedule", *plans, "--every", "15m", "--install", "--crontab-file", crontab)
    assert result.returncode == 0, result.stderr
    lines = crontab.read_text().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("*/15 * * * * ") and "--step" not in line for line in lines)
    assert migrate("schedule", *plans, "--install", "--crontab-file", crontab).returncode == 0
    assert len(crontab.read_text().splitlines()) == 2  # installing again replaces, not adds

    for line in lines:  # run each entry as cron does: /bin/sh with a bare environment
        command = re.sub(r"^(\S+\s+){5}", "", line).rsplit(" # ", 1)[0]
        done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    for plan in plans:
        assert snapshot(plan.parent / "target") == snapshot(plan.parent / "source")
        status = json.loads(migrate("status", plan, "--json").stdout)
        assert status["last_scheduled_run"]["outcome"] == "ok"
    log = (plans[0].parent / ".migrate" / "plan-all.log").read_text()
    assert "Applied: 7 done" in log
