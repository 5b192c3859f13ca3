"""The fleet mode end to end: a real PostgreSQL, `migrate worker` processes, the real
`migrate apply|status|report --database` commands, the sandbox servers.

The per-host cap holds across workers (the Nextcloud sandbox counts the writes it serves at
once); a second apply of the same plans writes nothing; no secret reaches the database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbos import DBOSClient

from sandbox.nextcloud import NextcloudServer
from tests.fleet import Fleet, database_text
from tests.helpers import make_tree, migrate
from tests.test_many_clients import in_source, on_server, write_client


def _everything_dbos_holds(database: str) -> str:
    """Workflow inputs and outputs decoded (DBOS stores them serialized)."""
    client = DBOSClient(system_database_url=database)
    try:
        found = [repr((w.input, w.output, w.error)) for w in client.list_workflows()]
    finally:
        client.destroy()
    return "\n".join(found)


@pytest.mark.slow  # three worker processes on a real PostgreSQL: a trial, like the kills
def test_three_workers_share_one_hosts_cap_and_a_rerun_writes_nothing(
        tmp_path: Path, nextcloud_server: NextcloudServer, postgres_url: str) -> None:
    server = nextcloud_server
    alice, bob = server.app_passwords["alice"], server.app_passwords["bob"]
    plans = [write_client(tmp_path, "amis", server, "alice", "NC_AMIS", 90),
             write_client(tmp_path, "bocage", server, "bob", "NC_BOCAGE", 60)]
    env = {"NC_AMIS": alice, "NC_BOCAGE": bob}
    with Fleet(postgres_url, tmp_path / "logs", env) as fleet:
        fleet.start(3)
        # The submitting machine knows no secret: the workers resolve them.
        applied = migrate("apply", *plans, "--yes", "--database", postgres_url,
                          "--per-host", "2", "--json")
        status = migrate("status", plans[0], "--database", postgres_url, "--json")
        report = migrate("report", plans[1], "--database", postgres_url, "--format", "json")
        again = migrate("apply", *plans, "--yes", "--database", postgres_url, "--json")
        shown = migrate("apply", plans[0], "--yes", "--database", postgres_url)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    rows = {Path(r["plan"]).parent.name: r for r in json.loads(applied.stdout)["clients"]}
    assert rows["amis"]["counts"]["done"] == 90 and rows["bocage"]["counts"]["done"] == 60
    assert on_server(server, "alice", "amis") == in_source(plans[0])
    assert on_server(server, "bob", "bocage") == in_source(plans[1])
    # Two clients on one server, three workers of four threads each: never more than the cap.
    assert server.writes_at_once() == 2  # two batches at once, never three

    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["steps"] == {"files": {"done": 90}}
    assert report.returncode == 0, report.stderr
    assert '"done"' in report.stdout and "bocage" in report.stdout

    assert again.returncode == 0, again.stdout + again.stderr
    rows = {Path(r["plan"]).parent.name: r for r in json.loads(again.stdout)["clients"]}
    assert rows["amis"]["counts"]["done"] == 0 and rows["amis"]["counts"]["unchanged"] == 90

    # Said in `apply`'s own words.
    assert shown.returncode == 0, shown.stderr
    assert "Plan: 0 to create, 0 to update, 90 unchanged" in shown.stdout
    assert "Applied: 0 done, 0 failed" in shown.stdout

    stored = database_text(postgres_url) + _everything_dbos_holds(postgres_url)
    assert "amis" in stored  # the journal's rows are there…
    for secret in (alice, bob):  # …never a secret
        assert secret not in stored
        for result in (applied, status, report, again, shown):
            assert secret not in result.stdout + result.stderr


def test_without_database_nothing_changes(tmp_path: Path) -> None:
    """The README's path: no server, no DBOS, the SQLite journal beside the plan."""
    make_tree(tmp_path / "source", 5)
    from tests.helpers import write_plan

    plan = write_plan(tmp_path)
    applied = migrate("apply", plan, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert (tmp_path / ".migrate" / "plan.journal.sqlite").exists()


def test_apply_database_needs_yes_and_names_a_missing_fleet(tmp_path: Path,
                                                           postgres_url: str) -> None:
    make_tree(tmp_path / "source", 2)
    from tests.helpers import write_plan

    plan = write_plan(tmp_path)
    unasked = migrate("apply", plan, "--database", postgres_url)
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
    # No worker ever started on this database: said plainly, no traceback.
    nobody = migrate("apply", plan, "--yes", "--database", postgres_url)
    assert nobody.returncode == 1
    assert "migrate worker" in nobody.stderr and "Traceback" not in nobody.stderr


@pytest.mark.slow  # three worker processes on a real PostgreSQL: a trial, like the kills
def test_ctrl_c_stops_following_not_the_work_and_cancel_stops_it(
        tmp_path: Path, postgres_url: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import write_plan

    make_tree(tmp_path / "source", 5)
    plan = write_plan(tmp_path)
    with Fleet(postgres_url, tmp_path / "logs") as fleet:
        fleet.start(1)  # creates the fleet's tables, then goes away: nobody takes the work
    log = tmp_path / "follower.log"
    with log.open("w") as stderr:
        follower = subprocess.Popen(
            [sys.executable, "-m", "migrate", "apply", str(plan), "--yes", "--database",
             postgres_url], stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while "Submitted" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)  # submitted, now following (no worker: it waits)
        follower.send_signal(signal.SIGINT)
        follower.wait(60)
    err = log.read_text()
    assert follower.returncode == 130, err
    assert "the fleet goes on" in err and "Traceback" not in err

    # Following again finds the same submission rather than submitting twice.
    cancelled = migrate("apply", plan, "--database", postgres_url, "--cancel")
    assert cancelled.returncode == 0, cancelled.stderr
    assert "1 workflow cancelled" in cancelled.stdout
    assert "nothing running" in migrate("apply", plan, "--database", postgres_url,
                                        "--cancel").stdout
    with Fleet(postgres_url, tmp_path / "logs2") as fleet:
        fleet.start(1)
        time.sleep(3)  # a worker now: a cancelled plan is not taken up
    assert not (tmp_path / "target").exists()
