"""Renames and target notes reach the plan output, the journal and the report."""

from __future__ import annotations

from pathlib import Path

from migrate.journal import Journal
from migrate.model import Action, ItemKind, SourceItem, TargetEntry
from migrate.report import as_html, as_markdown, collect
from tests.helpers import write_plan


def test_notes_and_renames_are_kept_for_the_report(tmp_path: Path) -> None:
    from migrate.model import Change, Fingerprint
    from migrate.plan.plan_file import load_plan

    (tmp_path / "source").mkdir()
    plan = load_plan(write_plan(tmp_path))
    journal = Journal(tmp_path / "j.sqlite")
    item = SourceItem("id1", "a/b.txt", ItemKind.FILE, Fingerprint(1, 1.0))
    change = Change("files", Action.CREATE, item, "a∕b.txt", "new", "'/' is not allowed",
                    None, ("shared read-only with alice",))
    journal.record_intents([(change, "k")], 1)
    journal.record_done([(change, TargetEntry("a∕b.txt", fingerprint=Fingerprint(1, 1.0)))], 1)
    data = collect(plan, journal, lambda text: text)
    markdown = as_markdown(data)
    assert "`a/b.txt` → `a∕b.txt`: '/' is not allowed" in markdown
    assert "`a∕b.txt`: shared read-only with alice" in markdown
    assert "shared read-only with alice" in as_html(data)
    journal.close()
