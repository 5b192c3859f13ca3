"""A re-run of a finished plan holds little per item (issue 16, decision 0482): the journal's
baselines are read a chunk at a time in the source's order, unchanged items the journal has as
done are counted rather than kept, with the same answers, plan text and files as before; a
local file's exact nanoseconds are read from the file copied, not kept in a dict per item."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from migrate import api
from migrate.cli import render
from migrate.journal import Journal, StreamedBaselines
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem, TargetEntry
from migrate.plan.references import Redactor
from tests.helpers import make_tree, migrate, write_plan


def _change(key: str, fingerprint: Fingerprint) -> Change:
    item = SourceItem(key, f"d/{key}", fingerprint=fingerprint)
    return Change("files", Action.CREATE, item, f"d/{key}", "new")


def test_streamed_baselines_answer_as_the_whole_table_in_any_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("apply")
    keys = [f"k{n:04d}" for n in range(1300)]
    journal.record_done([(_change(k, Fingerprint(n, float(n))),
                          TargetEntry(f"d/{k}", fingerprint=Fingerprint(n, n + 0.5, "sha256:x")))
                         for n, k in enumerate(keys) if n % 3], run)
    journal.record_seen([_change("k0004", Fingerprint(1, 1.0))], run)
    whole = journal.baselines("files")
    asked = ["k0000", *keys[1:], "k0001", "k1299", "nowhere", "k0600", "k0002"]
    streamed = journal.baselines_for("files", asked)
    assert [streamed.get(k) for k in asked] == [whole.get(k) for k in asked]
    # Keys asked out of the order given, or never given, are answered too.
    other = journal.baselines_for("files", keys[:10])
    assert [other.get(k) for k in reversed(keys)] == [whole.get(k) for k in reversed(keys)]
    assert len(other) == len(whole) and set(other) == set(whole)
    assert whole["k0001"].done and not whole["k0004"].done and whole["k0004"].seen
    assert isinstance(streamed, StreamedBaselines) and len(streamed.chunk) <= 513
    journal.close()


def test_a_finished_plan_reapplied_keeps_no_change_per_unchanged_file(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 60)
    plan = write_plan(tmp_path)
    first = api.apply(plan, Redactor(), confirm=lambda result: True)
    assert first.exit_code == 0
    before = {p: p.stat().st_ino for p in (tmp_path / "target").rglob("*")}

    again = api.apply(plan, Redactor(), confirm=lambda result: True)
    assert again.changes.changes == [] and again.changes.counted == {"files": 60}
    assert again.changes.summary()["unchanged"] == 60 and again.counts()["unchanged"] == 60
    shown = render.plan_text(api.PlanResult(again.plan, again.changes, again.steps))
    assert "= 60 unchanged" in shown and "nothing in scope" not in shown
    assert {p: p.stat().st_ino for p in (tmp_path / "target").rglob("*")} == before
    # The dry run still lists every item (plan --all, --json).
    planned = api.plan(plan, Redactor())
    assert len(planned.changes.changes) == 60
    assert {c.action for c in planned.changes.changes} == {Action.UNCHANGED}


def test_an_unchanged_item_not_yet_done_is_still_adopted(tmp_path: Path) -> None:
    """An identical file already on the target is adopted as done on the first apply (so later
    runs compare against it): counting unchanged items must not lose that."""
    make_tree(tmp_path / "source", 12)
    shutil.copytree(tmp_path / "source", tmp_path / "target")  # with the same times
    plan = write_plan(tmp_path)
    result = api.apply(plan, Redactor(), confirm=lambda result: True)
    assert result.changes.summary()["unchanged"] == 12
    journal = Journal(tmp_path / ".migrate" / "plan.journal.sqlite")
    try:
        assert journal.counts()["files"] == {"done": 12}
    finally:
        journal.close()
    again = api.apply(plan, Redactor(), confirm=lambda result: True)
    assert again.changes.counted == {"files": 12}


def test_exact_nanoseconds_come_from_the_file_not_a_dict_per_item(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "whole.txt").write_bytes(b"a")
    (source / "fine.txt").write_bytes(b"b")
    os.utime(source / "whole.txt", ns=(1_700_000_000_000_000_000,) * 2)
    fine = 1_700_000_000_123_456_789
    os.utime(source / "fine.txt", ns=(fine, fine))
    plan = write_plan(tmp_path)
    items = {c.item.key: c.item for c in api.plan(plan, Redactor()).changes.changes}
    assert items["whole.txt"].meta == {} and items["fine.txt"].meta == {}
    assert items["whole.txt"].kind is ItemKind.FILE
    api.apply(plan, Redactor(), confirm=lambda result: True)
    for name in ("whole.txt", "fine.txt"):
        assert (os.stat(tmp_path / "target" / name).st_mtime_ns
                == os.stat(source / name).st_mtime_ns)


def test_a_rerun_that_writes_nothing_loads_neither_retries_nor_babel(tmp_path: Path) -> None:
    """A re-run of a finished plan pays only for what it does: the retry library (0.04 s) is
    loaded on the first retry and Babel's number data (0.15 s) never for a whole count."""
    make_tree(tmp_path / "source", 30)
    plan = write_plan(tmp_path)
    assert migrate("apply", plan, "--yes").returncode == 0
    probe = ("import sys, runpy; sys.argv = ['migrate', 'apply', sys.argv[1], '--yes']\n"
             "try:\n    runpy.run_module('migrate', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m in ('tenacity', 'babel.numbers')))")
    result = subprocess.run([sys.executable, "-c", probe, str(plan)], capture_output=True,
                            text=True, timeout=120)
    assert "Nothing to do: 30 unchanged" in result.stdout, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
