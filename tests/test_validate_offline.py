"""`migrate validate` checks what can be known without contacting any service: a source folder
that does not exist, a web address without its https://, a target folder inside its source
folder (each run would copy the copies again: 100 files became 300 after two applies)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import migrate


def _plan(folder: Path, connections: str, step: str) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Essais\nconnections:\n" + connections
                    + "steps:\n  - id: docs\n    copy: " + step + "\n", encoding="utf-8")
    return plan


def test_a_source_folder_that_does_not_exist(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "  here: {type: local, path: nowhere}\n"
                           "  there: {type: local, path: copy}\n", "{from: here, to: there}")
    result = migrate("validate", plan)
    assert result.returncode == 1, result.stdout
    assert "plan.yaml:8:" in result.stderr and "nowhere does not exist" in result.stderr
    assert "step 'docs'" in result.stderr


def test_a_web_address_without_its_scheme(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    plan = _plan(tmp_path, "  here: {type: local, path: source}\n"
                           "  cloud: {type: nextcloud, url: cloud.example.org, user: u,"
                           " password: p}\n", "{from: here, to: cloud}")
    result = migrate("validate", plan)
    assert result.returncode == 1, result.stdout
    assert "plan.yaml:5:" in result.stderr and "https://cloud.example.org" in result.stderr


def test_a_target_inside_its_source_is_refused_before_anything_is_copied(tmp_path: Path) -> None:
    (tmp_path / "source" / "copy").mkdir(parents=True)
    (tmp_path / "source" / "a.txt").write_text("a", encoding="utf-8")
    plan = _plan(tmp_path, "  here: {type: local, path: source}\n"
                           "  there: {type: local, path: source/copy}\n",
                 "{from: here, to: there}")
    for command in (["validate"], ["plan"], ["apply", "--yes"]):
        result = migrate(*command, plan)
        assert result.returncode == 1, (command, result.stdout)
        assert "is inside the source folder" in result.stderr, command
    assert list((tmp_path / "source" / "copy").iterdir()) == []  # nothing was copied
