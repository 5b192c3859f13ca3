"""`plan -o`, then `apply SAVED.json`: what was reviewed, exactly; stale items reported."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import make_tree, migrate, snapshot, write_plan


def test_saved_plan_applies_exactly_what_was_reviewed(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 30)
    plan = write_plan(tmp_path)
    assert migrate("plan", plan, "-o", tmp_path / "saved.json").returncode == 0
    changed = sorted((tmp_path / "source").rglob("*.csv"))[0]
    changed.write_bytes(b"changed after review")
    (tmp_path / "source" / "added after review.txt").write_text("new")

    result = migrate("apply", tmp_path / "saved.json", "--json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["done"] == 29 and report["counts"]["stale"] == 1
    assert report["stale"][0]["reason"] == "changed at the source since the plan was made"
    copied = snapshot(tmp_path / "target")
    assert "added after review.txt" not in copied  # not in the reviewed plan: not improvised
    assert changed.relative_to(tmp_path / "source").as_posix() not in copied


def test_saved_plan_refuses_a_changed_plan_file(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 3)
    plan = write_plan(tmp_path)
    assert migrate("plan", plan, "-o", tmp_path / "saved.json").returncode == 0
    plan.write_text(plan.read_text().replace("Essais", "Tests"))
    result = migrate("apply", tmp_path / "saved.json")
    assert result.returncode == 1
    assert "changed after" in result.stderr and "migrate plan -o" in result.stderr
    assert not (tmp_path / "target").exists()


def test_saved_plan_applied_twice_does_nothing_more(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 12)
    plan = write_plan(tmp_path)
    migrate("plan", plan, "-o", tmp_path / "saved.json")
    assert migrate("apply", tmp_path / "saved.json").returncode == 0
    again = json.loads(migrate("apply", tmp_path / "saved.json", "--json").stdout)
    assert again["counts"]["done"] == 12 and again["counts"]["stale"] == 0
    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")
