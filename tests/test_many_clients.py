"""Three clients migrated side by side by the real `migrate` command, two on one Nextcloud:
one client's broken credential never stops the others; the table, the JSON and the exit code
say which failed and why; once fixed, a re-run finishes it and the others have nothing to do.
No client's secret ever appears in any output, journal or event log."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.nextcloud import NextcloudServer
from tests.helpers import make_tree, migrate

WRONG = "wrong-app-password-C9"


def write_client(root: Path, name: str, server: NextcloudServer, user: str, variable: str,
                 files: int) -> Path:
    folder = root / "clients" / name
    make_tree(folder / "source", files, seed=len(name) + files)
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        f"organisation: Association {name.capitalize()}\n"
        "connections:\n"
        "  here: {type: local, path: source}\n"
        f"  cloud: {{type: nextcloud, url: '{server.url}', user: {user}, "
        f"password: '${{env:{variable}}}'}}\n"
        "steps:\n"
        "  - id: files\n"
        f"    copy: {{from: here, to: 'cloud:/{name}'}}\n", encoding="utf-8")
    return plan


def on_server(server: NextcloudServer, user: str, folder: str) -> dict[str, bytes]:
    root = server.state.files_root(user) / folder
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def in_source(plan: Path) -> dict[str, bytes]:
    root = plan.parent / "source"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_three_clients_in_parallel_one_broken_then_fixed(tmp_path: Path,
                                                          nextcloud_server: NextcloudServer
                                                          ) -> None:
    server = nextcloud_server
    alice, bob = server.app_passwords["alice"], server.app_passwords["bob"]
    plans = [write_client(tmp_path, "amis", server, "alice", "NC_AMIS", 30),
             write_client(tmp_path, "bocage", server, "bob", "NC_BOCAGE", 20),
             write_client(tmp_path, "cerises", server, "alice", "NC_CERISES", 12)]
    env = {"NC_AMIS": alice, "NC_BOCAGE": bob, "NC_CERISES": WRONG}
    log = tmp_path / "events.jsonl"

    planned = migrate("plan", *plans, "--json", "--detailed-exitcode", env=env)
    applied = migrate("apply", *plans, "--yes", "--parallel", "3", "--per-host", "3",
                      "--log-json", log, "--json", env=env)
    shown = migrate("apply", *plans, "--yes", "--parallel", "3", env=env)  # the table

    # Planning: the broken client is an error, the others have changes pending; worst is 1.
    assert planned.returncode == 1, planned.stderr
    rows = {row["client"]: row for row in json.loads(planned.stdout)["clients"]}
    assert rows["amis"]["counts"]["create"] == 30 and rows["bocage"]["status"] == "pending"
    assert rows["cerises"]["status"] == "error"

    # Applying: two finish, the third failed with a plain reason; the exit code is 1.
    assert applied.returncode == 1, applied.stderr
    rows = {row["client"]: row for row in json.loads(applied.stdout)["clients"]}
    assert rows["amis"]["status"] == "ok" and rows["amis"]["counts"]["done"] == 30
    assert rows["bocage"]["status"] == "ok" and rows["bocage"]["counts"]["done"] == 20
    assert rows["cerises"]["status"] == "error" and rows["cerises"]["exit_code"] == 1
    assert "app password" in rows["cerises"]["reason"]
    assert on_server(server, "alice", "amis") == in_source(plans[0])
    assert on_server(server, "bob", "bocage") == in_source(plans[1])
    assert not (server.state.files_root("alice") / "cerises").exists()

    # The human table names the failed client and why; the others had nothing left to do.
    assert shown.returncode == 1
    table = shown.stdout
    assert "Association Cerises" in table and "error" in table and "app password" in table
    assert next(line.split()[2] for line in table.splitlines() if "Amis" in line) == "0"

    # The event stream: a start and an end per client, one `done` per file written.
    events = [json.loads(line) for line in log.read_text().splitlines()]
    ends = {e["client"]: e for e in events if e["event"] == "run_end"}
    assert {e["client"] for e in events if e["event"] == "run_start"} == set(ends)
    assert ends["cerises"]["status"] == "error" and "app password" in ends["cerises"]["reason"]
    done = [e for e in events if e["event"] == "done"]
    assert len([e for e in done if e["client"] == "amis"]) == 30
    assert len([e for e in done if e["client"] == "bocage"]) == 20
    assert all(e["step"] == "files" and e["target_path"] and e["ts"] for e in done)

    # Fixed: the third finishes, the other two have nothing to do.
    fixed = migrate("apply", *plans, "--yes", "--json", env={**env, "NC_CERISES": alice})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    rows = {row["client"]: row for row in json.loads(fixed.stdout)["clients"]}
    assert rows["cerises"]["counts"]["done"] == 12
    assert rows["amis"]["counts"]["done"] == 0 and rows["amis"]["counts"]["unchanged"] == 30
    assert rows["bocage"]["counts"]["done"] == 0
    assert on_server(server, "alice", "cerises") == in_source(plans[2])
    again = migrate("plan", *plans, "--detailed-exitcode", env={**env, "NC_CERISES": alice})
    assert again.returncode == 0, again.stdout

    # No secret of any client, anywhere: outputs, the event log, journals.
    outputs = [planned, applied, shown, fixed, again]
    stored = [log, *(tmp_path / "clients").glob("*/.migrate/*")]
    for secret in (alice, bob, WRONG):
        for result in outputs:
            assert secret not in result.stdout + result.stderr, result.args
        for path in stored:
            assert secret.encode() not in path.read_bytes(), path
