"""The CLI's contracts: JSON shapes, exit codes, reports, connector docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from migrate.cli import cli
from tests.helpers import make_tree, migrate, migrate_process, write_plan


def test_plan_json_shape(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 4)
    result = CliRunner().invoke(cli, ["plan", str(write_plan(tmp_path)), "--json"])
    data = json.loads(result.output)
    assert set(data["summary"]) == {"create", "update", "unchanged", "skip", "conflict"}
    assert {"step", "action", "source_key", "target_path", "reason"} <= set(data["changes"][0])


def test_conflict_makes_apply_exit_3_and_keeps_the_edit(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 6)
    plan = write_plan(tmp_path)
    assert migrate("apply", plan, "--yes").returncode == 0
    edited = sorted((tmp_path / "target").rglob("*.*"))[0]
    edited.write_bytes(b"edited by a volunteer after the migration")
    planned = migrate_process("plan", plan, "--detailed-exitcode")  # exit codes of a process
    assert planned.returncode == 0 and "1 in conflict:" in planned.stdout
    assert "! " in planned.stdout
    applied = migrate_process("apply", plan, "--yes")
    assert applied.returncode == 3
    assert edited.read_bytes() == b"edited by a volunteer after the migration"
    report = migrate("report", plan)
    assert "In conflict — not overwritten (1)" in report.stdout


def test_reports_in_three_formats(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 8)
    plan = write_plan(tmp_path)
    migrate("apply", plan, "--yes")
    data = json.loads(migrate("report", plan, "--format", "json").stdout)
    assert data["steps"] == {"files": {"done": 8}}
    assert len(data["items"]) == 8 and data["plan_sha256"]
    html = migrate("report", plan, "--format", "html").stdout
    assert html.startswith("<!doctype html>") and "Association des Essais" in html
    assert "<script" not in html and "http" not in html.replace("https://", "")
    assert "| files | done | 8 |" in migrate("report", plan).stdout


def test_report_before_any_apply_says_what_to_do(tmp_path: Path) -> None:
    result = migrate("report", write_plan(tmp_path))
    assert result.returncode == 1 and "run 'migrate apply' first" in result.stderr


def test_connectors_list_and_show() -> None:
    listed = CliRunner().invoke(cli, ["connectors", "--json"])
    assert any(row["type"] == "local" for row in json.loads(listed.output))
    shown = CliRunner().invoke(cli, ["connectors", "show", "local"])
    assert "path (text; required)" in shown.output
    assert "overwrite (conflict | never | newer | always; default: conflict)" in shown.output


def test_status_before_and_after(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 3)
    plan = write_plan(tmp_path)
    assert "Nothing has been applied yet." in migrate("status", plan).stdout
    migrate("apply", plan, "--yes")
    text = migrate("status", plan).stdout
    assert "step 'files': 3 done" in text and "Last run:" in text


def test_a_closed_pipe_ends_quietly() -> None:
    """`migrate connectors | head -1`: the reader left early; no 'Unexpected error'."""
    from tests.helpers import migrate_popen

    process = migrate_popen("connectors")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before it writes anything: its first write meets a closed pipe
    errors = process.stderr.read()
    assert process.wait(timeout=60) == 141, errors
    assert errors == ""


def test_the_command_line_knows_every_report_format_without_loading_the_reports() -> None:
    from migrate import cli, report

    assert set(cli.REPORT_FORMATS) == set(report.FORMATS)


def test_version_and_help_load_neither_plans_nor_connectors() -> None:
    """`migrate --version` answers fast: the plan reader, YAML, the runner and the registry
    (which reads every installed package's metadata) load only when a command needs them."""
    probe = ("import sys, runpy; sys.argv = ['migrate', '--version']\n"
             "try:\n    runpy.run_module('migrate', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m in ('yaml', 'tenacity', 'requests', "
             "'migrate.plan.plan_file', 'migrate.api', 'migrate.registry', "
             "'migrate.runner.executor')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
