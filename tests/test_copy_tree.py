"""A whole tree copied by the real command: dry run, apply, identical result, nothing left to do."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import make_tree, migrate, snapshot, write_plan


def test_three_thousand_files_copied_identically(tmp_path: Path) -> None:
    contents = make_tree(tmp_path / "source", 3000)
    plan = write_plan(tmp_path)

    dry = migrate("plan", plan, "--detailed-exitcode", "--json")
    assert dry.returncode == 2, dry.stderr
    assert json.loads(dry.stdout)["summary"] == {
        "create": 3000, "update": 0, "unchanged": 0, "skip": 0, "conflict": 0}
    assert not (tmp_path / "target").exists()  # a dry run writes nothing

    applied = migrate("apply", plan, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Applied: 3,000 done, 0 failed" in applied.stdout

    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")
    assert len(contents) == 3000 and any(len(v) == 0 for v in contents.values())

    again = migrate("plan", plan, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    summary = "Plan: 0 to create, 0 to update, 3,000 unchanged, 0 skipped, 0 conflicts."
    assert summary in again.stdout


def test_human_plan_is_summarised_per_step(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 60)
    result = migrate("plan", write_plan(tmp_path))
    assert result.returncode == 0
    assert "Step 'files': copy here → there" in result.stdout
    assert "… and 35 more" in result.stdout
    assert result.stdout.rstrip().endswith(
        "Plan: 60 to create, 0 to update, 0 unchanged, 0 skipped, 0 conflicts.")


def test_a_changed_source_file_is_updated_and_nothing_else(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 40)
    plan = write_plan(tmp_path)
    assert migrate("apply", plan, "--yes").returncode == 0
    changed = sorted((tmp_path / "source").rglob("*.txt"))[0]
    changed.write_bytes(b"nouvelle version")
    dry = json.loads(migrate("plan", plan, "--json").stdout)
    assert dry["summary"]["update"] == 1 and dry["summary"]["unchanged"] == 39
    assert migrate("apply", plan, "--yes").returncode == 0
    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")


def test_apply_without_yes_and_without_a_terminal_does_nothing(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 5)
    result = migrate("apply", write_plan(tmp_path))
    assert result.returncode == 2
    assert "add --yes" in result.stderr
    assert not (tmp_path / "target").exists()


def test_apply_with_nothing_new_prints_one_line(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 5)
    plan = write_plan(tmp_path)
    migrate("apply", plan, "--yes")
    quiet = migrate("apply", plan, "--yes")
    assert quiet.returncode == 0
    assert quiet.stdout == "Nothing to do: 5 unchanged, 0 skipped.\n"


def test_max_per_run_spreads_writes_over_runs(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 10)
    plan = write_plan(tmp_path, extra="    with: {max_per_run: 4}\n")
    first = json.loads(migrate("apply", plan, "--yes", "--json").stdout)
    assert first["counts"]["done"] == 4 and first["counts"]["skipped"] == 6
    assert len(snapshot(tmp_path / "target")) == 4
    migrate("apply", plan, "--yes")
    migrate("apply", plan, "--yes")
    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")


def test_mark_seen_records_without_writing_and_later_runs_skip_those(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 6)
    plan = write_plan(tmp_path)
    seen = migrate("apply", plan, "--yes", "--mark-seen")
    assert seen.returncode == 0 and "6 items marked as seen" in seen.stdout
    assert not (tmp_path / "target").exists()
    (tmp_path / "source" / "nouveau.txt").write_text("only this one is new")
    result = json.loads(migrate("apply", plan, "--yes", "--json").stdout)
    assert result["counts"]["done"] == 1
    assert list(snapshot(tmp_path / "target")) == ["nouveau.txt"]
