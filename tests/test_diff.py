"""The diff's rules, on listings built by hand: a pure function, so no server is involved."""

from __future__ import annotations

import pytest

from migrate.diff import Baseline, diff
from migrate.model import Action, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName

OLD = Fingerprint(size=10, mtime=1000.0)
NEW = Fingerprint(size=12, mtime=2000.0)
EDITED = Fingerprint(size=11, mtime=3000.0)


def item(path: str, fingerprint: Fingerprint = OLD, **kwargs) -> SourceItem:
    return SourceItem(key=f"id-{path}", path=path, fingerprint=fingerprint, **kwargs)


def run(items, entries=(), baselines=None, **options):
    changes = diff("s", items, entries, lambda i: TargetName(i.path), baselines or {}, options)
    return [(c.action, c.reason) for c in changes.changes]


def test_new_item_is_created() -> None:
    assert run([item("a")]) == [(Action.CREATE, "new")]


def test_unchanged_since_last_migration() -> None:
    baseline = {"id-a": Baseline("a", OLD, OLD)}
    assert run([item("a")], [TargetEntry("a", fingerprint=OLD)], baseline)[0][0] is Action.UNCHANGED


def test_source_change_is_an_update() -> None:
    baseline = {"id-a": Baseline("a", OLD, OLD)}
    result = run([item("a", NEW)], [TargetEntry("a", fingerprint=OLD)], baseline)
    assert result == [(Action.UPDATE, "changed at the source since the last migration")]


def test_target_edited_after_migration_is_a_conflict_by_default() -> None:
    baseline = {"id-a": Baseline("a", OLD, OLD)}
    action, reason = run([item("a")], [TargetEntry("a", fingerprint=EDITED)], baseline)[0]
    assert action is Action.CONFLICT
    assert reason.startswith("changed on the target since the last migration")


@pytest.mark.parametrize(("policy", "source", "expected"), [
    ("never", NEW, Action.SKIP),
    ("always", OLD, Action.UPDATE),
    ("newer", Fingerprint(size=12, mtime=4000.0), Action.UPDATE),
    ("newer", NEW, Action.SKIP),
])
def test_overwrite_policies(policy: str, source: Fingerprint, expected: Action) -> None:
    baseline = {"id-a": Baseline("a", OLD, OLD)}
    result = run([item("a", source)], [TargetEntry("a", fingerprint=EDITED)], baseline,
                 overwrite=policy)
    assert result[0][0] is expected


def test_existing_identical_file_is_adopted_not_copied() -> None:
    assert run([item("a")], [TargetEntry("a", fingerprint=OLD)])[0] == (
        Action.UNCHANGED, "already on the target, identical")


def test_existing_different_file_without_history_is_a_conflict() -> None:
    assert run([item("a")], [TargetEntry("a", fingerprint=EDITED)])[0][0] is Action.CONFLICT


def test_checksums_decide_when_both_sides_have_one() -> None:
    same = Fingerprint(size=10, mtime=1.0, checksum="md5:ABC")
    other = Fingerprint(size=10, mtime=999.0, checksum="md5:abc")
    assert run([item("a", same)], [TargetEntry("a", fingerprint=other)])[0][0] is Action.UNCHANGED


def test_deleted_on_target_after_migration_is_copied_again_and_says_so() -> None:
    action, reason = run([item("a")], [], {"id-a": Baseline("a", OLD, OLD)})[0]
    assert action is Action.CREATE and "missing on the target" in reason


def test_two_items_with_one_target_name_collide() -> None:
    items = [SourceItem("1", "x"), SourceItem("2", "x")]
    result = run(items)
    assert result[0][0] is Action.CREATE
    assert result[1] == (Action.CONFLICT, "would take the same name on the target as 'x'")


def test_source_skip_reason_is_kept() -> None:
    result = run([item("form", skip_reason="Google Forms have no file equivalent")])
    assert result == [(Action.SKIP, "Google Forms have no file equivalent")]


def test_include_and_exclude_patterns() -> None:
    items = [item("Rapports/2024/a.pdf"), item("Rapports/b.tmp"), item("Photos/c.jpg")]
    result = run(items, include=["Rapports/**"], exclude=["**/*.tmp"])
    assert [a for a, _ in result] == [Action.CREATE, Action.SKIP, Action.SKIP]


def test_existing_folder_is_unchanged() -> None:
    folder = SourceItem("d/", "d", ItemKind.FOLDER)
    assert run([folder], [TargetEntry("d", ItemKind.FOLDER)])[0][0] is Action.UNCHANGED


def test_nothing_is_ever_deleted() -> None:
    # A file only on the target produces no change at all.
    assert run([], [TargetEntry("kept.txt", fingerprint=OLD)]) == []


def test_target_notes_travel_with_the_change() -> None:
    changes = diff("s", [item("a")], [], lambda i: TargetName(i.path, None, ("shared with alice",)),
                   {}, {})
    assert changes.changes[0].notes == ("shared with alice",)
