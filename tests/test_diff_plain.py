"""A re-run tells an unchanged file from its baseline's plain numbers (decision 0499) and decides
exactly as the full rules do: the same changes, reasons and counts as with every baseline made
whole, for a plan and an apply, whatever changed on either side."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from migrate.diff import diff
from migrate.journal import Journal
from migrate.model import (
    Action,
    Change,
    ChangeSet,
    Fingerprint,
    ItemKind,
    SourceItem,
    TargetEntry,
    TargetName,
)

BASE = Fingerprint(2_000, 1_700_000_000.25)
WRITTEN = Fingerprint(2_000, 1_700_000_000.25, "sha256:" + "ab" * 32)
#: What a WebDAV server (Apache) left: an ETag, no checksum (decision 0488).
TAGGED = Fingerprint(2_000, 1_700_000_000.0, None, "7d0-5f1e")


def _name(item: SourceItem) -> TargetName:
    return TargetName(item.path)


def _outcome(changes: ChangeSet) -> tuple[list[tuple[str, Action, str, str]], dict[str, int]]:
    return ([(c.item.key, c.action, c.reason, c.target_name) for c in changes.changes],
            changes.counted)


def _both(journal: Journal, items: list[SourceItem], entries: list[TargetEntry],
          **options: object) -> None:
    """Every baseline made whole (a dict: no shortcut) against the journal's stream."""
    for keep in (True, False):
        whole = diff("files", items, entries, _name, journal.baselines("files"), options,
                     keep_unchanged=keep)
        streamed = diff("files", items, entries, _name,
                        journal.baselines_for("files", (i.key for i in items)), options,
                        keep_unchanged=keep)
        assert _outcome(streamed) == _outcome(whole)


def _record(journal: Journal, done: list[tuple[str, str, Fingerprint, Fingerprint]]) -> None:
    run = journal.start_run("apply")
    journal.record_done([(Change("files", Action.CREATE,
                                 SourceItem(key, path, fingerprint=source), path, "new"),
                          TargetEntry(path, fingerprint=target))
                         for key, path, source, target in done], run)


def test_each_way_a_file_can_differ_is_decided_as_the_full_rules_decide(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    cases: dict[str, tuple[Fingerprint | None, Fingerprint | None]] = {
        # key: (the source's version now, the target's version now); None: missing there
        "same": (BASE, BASE),
        "source-within-a-second": (Fingerprint(2_000, BASE.mtime + 0.9), BASE),  # type: ignore
        "source-grown": (Fingerprint(2_001, BASE.mtime), BASE),
        "source-touched": (Fingerprint(2_000, BASE.mtime + 5), BASE),  # type: ignore[operator]
        "source-no-time": (Fingerprint(2_000, None), BASE),
        "target-grown": (BASE, Fingerprint(1, BASE.mtime)),
        "target-touched": (BASE, Fingerprint(2_000, BASE.mtime - 3)),  # type: ignore[operator]
        "target-no-time": (BASE, Fingerprint(2_000, None)),
        "target-gone": (BASE, None),
        "target-with-same-checksum": (BASE, WRITTEN),
        "target-with-other-checksum": (BASE, Fingerprint(2_000, BASE.mtime, "sha256:00")),
        "target-with-etag": (BASE, Fingerprint(2_000, BASE.mtime, None, '"e1"')),
        "source-with-checksum": (Fingerprint(2_000, BASE.mtime, "md5:11"), BASE),
    }
    done = [(key, key, BASE, WRITTEN) for key in cases]  # named as its key: plain
    done += [("renamed", "d/other name.txt", BASE, WRITTEN),  # a name that is not its key
             ("checksummed", "checksummed", Fingerprint(2_000, BASE.mtime, "md5:11"),
              WRITTEN),  # a source that gives checksums: never plain
             ("seen", "seen", BASE, WRITTEN), ("twice", "twice", BASE, WRITTEN),
             ("claimed", "claimed", BASE, WRITTEN)]
    _record(journal, done)
    journal.record_seen([Change("files", Action.CREATE, SourceItem("seen", "seen",
                                                                   fingerprint=BASE),
                                "seen", "new")], journal.start_run("apply"))
    items, entries = [], []
    for key, (source, target) in cases.items():
        items.append(SourceItem(key, key, fingerprint=source or BASE))
        if target is not None:
            entries.append(TargetEntry(key, fingerprint=target))
    items += [SourceItem("renamed", "d/other name.txt", fingerprint=BASE),
              SourceItem("checksummed", "checksummed",
                         fingerprint=Fingerprint(2_000, BASE.mtime, "md5:11")),
              SourceItem("seen", "seen", fingerprint=BASE),
              SourceItem("twice", "twice", fingerprint=BASE),
              SourceItem("twice", "twice", fingerprint=BASE),
              SourceItem("first", "claimed", fingerprint=BASE),  # takes the name first
              SourceItem("claimed", "claimed", fingerprint=BASE),
              SourceItem("skipped", "skipped", fingerprint=BASE, skip_reason="unreadable"),
              SourceItem("folder", "folder", ItemKind.FOLDER)]
    entries += [TargetEntry(n, fingerprint=BASE) for n in ("d/other name.txt", "checksummed",
                                                           "seen", "twice", "claimed",
                                                           "skipped")]
    entries.append(TargetEntry("folder", ItemKind.FOLDER))
    streamed = journal.baselines_for("files", [i.key for i in items])
    assert streamed.plain("same") == (BASE.size, BASE.mtime, WRITTEN.size, WRITTEN.mtime, None)
    assert streamed.plain("checksummed") is None and streamed.plain("seen") is None
    _both(journal, items, entries)
    _both(journal, items, entries, overwrite="always")
    _both(journal, items, entries, include=("s*",))
    # and the outcome itself, with the shortcut taken
    changes = diff("files", items, entries, _name, journal.baselines_for(
        "files", (i.key for i in items)), {}, keep_unchanged=False)
    actions = {c.item.key: c.action for c in changes.changes}
    # same, within a second, same checksum, ETag only on the target, checksum only at the
    # source, renamed, checksummed, the first of the twice listed
    assert changes.counted == {"files": 8}
    assert [c.action for c in changes.changes if c.item.key == "twice"] == [Action.CONFLICT]
    assert actions["claimed"] is Action.CONFLICT and actions["seen"] is Action.UNCHANGED
    assert actions["source-grown"] is Action.UPDATE
    assert actions["target-touched"] is Action.CONFLICT
    assert actions["target-gone"] is Action.CREATE
    journal.close()


@pytest.mark.parametrize("seed", range(3))
def test_random_versions_on_both_sides_decide_alike(tmp_path: Path, seed: int) -> None:
    chance = random.Random(seed)
    journal = Journal(tmp_path / "journal.sqlite")

    def version() -> Fingerprint:
        return Fingerprint(chance.choice([0, 7, 2_000, None]),
                           chance.choice([0.0, 5.5, 6.0, 7.4, None]),
                           chance.choice([None, None, "sha256:aa", "md5:bb"]),
                           chance.choice([None, None, None, '"v1"', "v2", ""]))

    keys = [f"k{n}" for n in range(300)]
    _record(journal, [(k, chance.choice([k, k, f"x/{k}"]), version(), version())
                      for k in keys[:250]])
    items = [SourceItem(k, k, fingerprint=version()) for k in keys]
    entries = [TargetEntry(k, fingerprint=version()) for k in keys if chance.random() < 0.9]
    _both(journal, items, entries)
    _both(journal, items, entries, overwrite="newer")
    journal.close()


def test_a_target_that_keeps_etags_is_decided_as_the_full_rules_decide(tmp_path: Path) -> None:
    """A WebDAV server's baselines hold an ETag at the target (decision 0488): the same ETag
    is the same version whatever its size and time say, another one is a change, and an
    entry or a baseline without one is compared by size and time, as `same_version_as`
    does."""
    journal = Journal(tmp_path / "journal.sqlite")
    later = TAGGED.mtime + 0.6  # type: ignore[operator]
    cases: dict[str, tuple[Fingerprint, Fingerprint | None, Fingerprint]] = {
        # key: (the source now, the target now or None, the target at the last migration)
        "same": (BASE, TAGGED, TAGGED),
        "same-etag-other-size-and-time": (BASE, Fingerprint(9, 5.0, None, TAGGED.etag), TAGGED),
        "other-etag": (BASE, Fingerprint(2_000, TAGGED.mtime, None, "7d0-600a"), TAGGED),
        "other-etag-source-grown": (Fingerprint(3, BASE.mtime),
                                    Fingerprint(2_000, TAGGED.mtime, None, "x"), TAGGED),
        "etag-gone-same-size-and-time": (BASE, Fingerprint(2_000, later), TAGGED),
        "etag-gone-touched": (BASE, Fingerprint(2_000, TAGGED.mtime + 2), TAGGED),  # type: ignore
        "etag-empty": (BASE, Fingerprint(2_000, later, None, ""), TAGGED),
        "etag-new-on-target": (BASE, TAGGED, Fingerprint(2_000, TAGGED.mtime)),
        "etag-and-checksum": (BASE, Fingerprint(2_000, TAGGED.mtime, WRITTEN.checksum, "y"),
                              Fingerprint(2_000, TAGGED.mtime, WRITTEN.checksum, "z")),
        "entry-checksum-same-etag": (BASE, Fingerprint(1, 1.0, "md5:00", TAGGED.etag), TAGGED),
        "source-grown": (Fingerprint(2_001, BASE.mtime), TAGGED, TAGGED),
        "source-within-a-second": (Fingerprint(2_000, BASE.mtime + 0.9), TAGGED,  # type: ignore
                                   TAGGED),
        "source-touched": (Fingerprint(2_000, BASE.mtime - 1), TAGGED, TAGGED),  # type: ignore
        "source-no-size": (Fingerprint(None, BASE.mtime), TAGGED, TAGGED),
        "target-gone": (BASE, None, TAGGED),
    }
    _record(journal, [(key, key, BASE, then) for key, (_s, _t, then) in cases.items()])
    items = [SourceItem(key, key, fingerprint=source) for key, (source, _t, _b) in cases.items()]
    entries = [TargetEntry(key, fingerprint=now) for key, (_s, now, _b) in cases.items()
               if now is not None]
    items += [SourceItem("new", "new", fingerprint=BASE),
              SourceItem("skipped", "skipped", skip_reason="a named pipe"),
              SourceItem("same", "same", fingerprint=BASE)]  # listed twice
    streamed = journal.baselines_for("files", [i.key for i in items])
    assert streamed.plain("same") == (BASE.size, BASE.mtime, TAGGED.size, TAGGED.mtime,
                                      TAGGED.etag)
    _both(journal, items, entries)
    _both(journal, items, entries, overwrite="newer")
    changes = diff("files", items, entries, _name, journal.baselines_for(
        "files", (i.key for i in items)), {}, keep_unchanged=False)
    actions = {c.item.key: c.action for c in changes.changes}
    # same (ETag, or size and time), an ETag now or then only, one checksum for two ETags,
    # the source within a second
    assert changes.counted == {"files": 8}
    assert actions["other-etag"] is Action.CONFLICT
    assert actions["other-etag-source-grown"] is Action.CONFLICT
    assert actions["etag-gone-touched"] is Action.CONFLICT
    assert actions["source-grown"] is Action.UPDATE
    assert actions["source-touched"] is Action.UPDATE
    assert actions["target-gone"] is Action.CREATE
    journal.close()
