"""What a new volunteer meets in the first minutes, in words that read right: plurals ("1 step",
"1 conflict"), "about 51 s left", `status` in the plan's order and the user's words, YAML values
in `connectors show`, a refused connection told apart from a lost one, and `schedule` warning
that a plan reading `${env:…}` would run without its secrets."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

from migrate.runner import progress
from tests.helpers import migrate, write_plan


def test_one_step_and_one_connection_are_singular(tmp_path: Path) -> None:
    (tmp_path / "source" / "a").mkdir(parents=True)
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Essais\nconnections:\n"
                    "  here: {type: local, path: source}\nsteps:\n  - id: files\n"
                    "    copy: {from: 'here:/a', to: 'here:/copie'}\n", encoding="utf-8")
    result = migrate("validate", plan)
    assert result.returncode == 0, result.stderr
    assert "is valid: 1 connection, 1 step." in result.stdout


def test_one_conflict_is_singular(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "target").mkdir()
    (tmp_path / "source" / "a.txt").write_text("source", encoding="utf-8")
    (tmp_path / "target" / "a.txt").write_text("target!", encoding="utf-8")
    result = migrate("plan", write_plan(tmp_path))
    assert "1 skipped" not in result.stdout
    assert result.stdout.rstrip().endswith("0 skipped, 1 conflict."), result.stdout


def test_less_than_a_minute_left_is_said_in_seconds() -> None:
    bar = progress.TextProgress(io.StringIO())
    bar.started = 100.0
    assert bar._eta(100.0 + 51, 0.5) == " about 51 s left"
    assert bar._eta(100.0 + 90, 0.5) == " about 1 min 30 s left"


def test_status_follows_the_plan_in_the_users_words(tmp_path: Path) -> None:
    (tmp_path / "source" / "b").mkdir(parents=True)
    (tmp_path / "source" / "b" / "x.txt").write_text("x", encoding="utf-8")
    (tmp_path / "source" / "y.txt").write_text("y", encoding="utf-8")
    plan = write_plan(tmp_path, extra="  - id: archives\n"
                                      "    copy: {from: \"here:/b\", to: \"there:/b-copy\"}\n")
    text = plan.read_text(encoding="utf-8").replace("id: files", "id: zz-first")
    plan.write_text(text, encoding="utf-8")
    assert migrate("apply", "--yes", plan).returncode == 0
    status = migrate("status", plan).stdout
    assert status.index("'zz-first'") < status.index("'archives'"), status
    assert "intent" not in status and "planned" not in status
    as_json = json.loads(migrate("status", plan, "--json").stdout)
    assert list(as_json["steps"]) == ["zz-first", "archives"]


def test_connectors_show_writes_defaults_as_yaml() -> None:
    shown = migrate("connectors", "show", "nextcloud").stdout
    assert "default: true" in shown and "default: True" not in shown
    assert "default: {}" in shown
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "${env:NEXTCLOUD_PASSWORD}" in shown and "${env:NEXTCLOUD_PASSWORD}" in readme


def test_a_refused_connection_is_not_called_lost(tmp_path: Path) -> None:
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    (tmp_path / "source").mkdir()
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Essais\nconnections:\n"
                    "  here: {type: local, path: source}\n"
                    f"  cloud: {{type: nextcloud, url: 'http://127.0.0.1:{port}', user: u,"
                    " password: mot-de-passe-essai}\nsteps:\n  - id: files\n"
                    "    copy: {from: here, to: cloud}\n",
                    encoding="utf-8")
    result = migrate("plan", plan)
    assert result.returncode == 1
    assert "could not connect to the server" in result.stderr, result.stderr
    assert "was lost" not in result.stderr and "Traceback" not in result.stderr


def test_schedule_warns_that_cron_has_no_secrets(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Essais\nconnections:\n"
                    "  here: {type: local, path: source}\n"
                    "  cloud: {type: nextcloud, url: 'https://cloud.example', user: u,"
                    " password: '${env:ESSAIS_NC_PASSWORD}'}\n"
                    "steps:\n  - id: files\n    copy: {from: here, to: cloud}\n",
                    encoding="utf-8")
    bare = migrate("schedule", plan)
    assert bare.returncode == 0, bare.stderr
    assert "ESSAIS_NC_PASSWORD" in bare.stderr and "--env-file" in bare.stderr
    assert "keyring" in bare.stderr
    secrets = tmp_path / "secrets.env"
    secrets.write_text("ESSAIS_NC_PASSWORD=s3cret\n", encoding="utf-8")
    covered = migrate("schedule", plan, "--env-file", secrets)
    assert covered.returncode == 0 and "warning" not in covered.stderr, covered.stderr
