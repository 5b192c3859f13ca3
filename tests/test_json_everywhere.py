"""`--json` on every command (stdout is one JSON document), and `migrate status` showing the
last scheduled run — what `migrate schedule` installs runs `apply --scheduled`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from migrate.cli import cli
from tests.helpers import make_tree, migrate, write_plan


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found.update(_commands(command, prefix + name + " "))
    return found


def test_every_command_accepts_json() -> None:
    commands = _commands(cli)
    missing = [name for name, command in commands.items()
               if not any("--json" in param.opts for param in command.params)]
    assert not missing, missing


def _json(*args: object, code: int = 0, cwd: Path | None = None) -> object:
    result = migrate(*args, "--json", cwd=cwd)
    assert result.returncode == code, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_json_output_of_each_command_and_the_last_scheduled_run(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 8)
    plan = write_plan(tmp_path)
    assert _json("validate", plan)["valid"] is True
    assert _json("plan", plan)["summary"]["create"] == 8
    assert _json("status", plan)["last_scheduled_run"] is None
    assert _json("apply", plan, "--yes", "--scheduled")["counts"]["done"] == 8
    make_tree(tmp_path / "source", 10, seed=3)
    assert _json("apply", plan, "--yes")["exit_code"] == 0  # a later run, not scheduled
    status = _json("status", plan)
    assert status["last_scheduled_run"]["outcome"] == "ok"
    assert status["last_scheduled_run"]["command"] == "apply --scheduled"
    assert status["last_run"]["command"] == "apply"
    text = migrate("status", plan)
    assert "Last scheduled run:" in text.stdout and ", ok" in text.stdout
    assert _json("report", plan)["organisation"] == "Association des Essais"
    assert any(row["type"] == "local" for row in _json("connectors"))
    assert _json("connectors", "show", "local")["type"] == "local"
    assert _json("schema")["type"] == "object"
    scheduled = _json("schedule", plan, "--step", "files", "--every", "1h")
    assert scheduled["every_minutes"] == 60 and "--scheduled" in scheduled["command"]
    assert "--scheduled" in scheduled["cron_line"]
    answers = tmp_path / "answers.yaml"
    answers.write_text("organisation: Les Essais\nposts: feed\nfeed_url: https://x.example/f\n",
                       encoding="utf-8")
    made = _json("init", "--answers", answers, "--clients-dir", tmp_path / "clients")
    assert Path(made["plan"]).is_file() and list(made["variables"]) == ["LES_ESSAIS_MASTODON_TOKEN"]
    many = _json("plan", plan, made["plan"], code=1)  # the second lacks its token: an error
    assert [c["status"] for c in many["clients"]] == ["ok", "error"]
    assert "LES_ESSAIS_MASTODON_TOKEN" in many["clients"][1]["reason"]
