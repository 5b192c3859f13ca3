"""The journal keeps each item's baseline (the source and target versions its last migration
left) as columns, read back without decoding JSON; rows written before the columns existed, and
rows marked seen, are still read from their JSON."""

from __future__ import annotations

import json
from pathlib import Path

from migrate.journal import Journal
from migrate.model import Action, Change, Fingerprint, SourceItem, TargetEntry


def _change(key: str, fingerprint: Fingerprint) -> Change:
    item = SourceItem(key, f"dossier/{key}.txt", fingerprint=fingerprint)
    return Change("files", Action.CREATE, item, f"dossier/{key}.txt", "new")


def test_baselines_come_back_exactly_from_columns_and_from_older_json_rows(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("apply")
    written = {
        "a": (Fingerprint(12, 1733400000.123456789, None, None),
              Fingerprint(12, 1733400000.5, "sha256:ab", '"etag-1"')),
        "b": (Fingerprint(None, None, "md5:cd", "v7"), Fingerprint()),
        "c": (Fingerprint(0, 0.0), Fingerprint(0, 0.0, "sha1:00", None)),
    }
    journal.record_done([(_change(k, source), TargetEntry(f"dossier/{k}.txt", fingerprint=t))
                         for k, (source, t) in written.items()], run)
    found = journal.baselines("files")
    assert {k: (b.source, b.target) for k, b in found.items()} == written
    assert found["a"].target_name == "dossier/a.txt" and not found["a"].seen

    # A journal written by an earlier version has the JSON only.
    for key, (source, target) in written.items():
        journal.db.execute("UPDATE items SET fp_columns = NULL, src_size = NULL, src_mtime = NULL, "
                           "tgt_size = NULL, tgt_checksum = NULL, source_fp = ?, target_fp = ? "
                           "WHERE key = ?", (json.dumps(source.to_json()),
                                             json.dumps(target.to_json()), key))
    assert {k: (b.source, b.target) for k, b in journal.baselines("files").items()} == written

    # `apply --mark-seen` changes the source baseline through the JSON: columns are not reused.
    journal.record_done([(_change("a", written["a"][0]),
                          TargetEntry("dossier/a.txt", fingerprint=written["a"][1]))], run)
    journal.record_seen([_change("a", Fingerprint(99, 5.0))], run)
    seen = journal.baselines("files")["a"]
    assert seen.seen and seen.source == Fingerprint(99, 5.0)
    assert seen.target == written["a"][1]  # what the last migration left stays known
    journal.close()


def test_done_rows_hold_their_versions_once_as_columns_and_older_rows_still_read(
        tmp_path: Path) -> None:
    """Decision 0497: a DONE row no longer repeats its two versions as JSON; every reader (the
    baselines, a saved plan's check of what is done) reads the columns, and rows an earlier
    version wrote with JSON only read as before."""
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("apply")
    source, target = Fingerprint(7, 1733400000.25), Fingerprint(7, 1733400001.0, None, "e-1")
    journal.record_done([(_change(k, source), TargetEntry(f"dossier/{k}.txt", fingerprint=target))
                         for k in ("new", "old")], run)
    assert journal.db.execute("SELECT DISTINCT source_fp, target_fp FROM items").fetchall() == [
        ("{}", "{}")]
    journal.db.execute("UPDATE items SET fp_columns = NULL, src_size = NULL, src_mtime = NULL, "
                       "tgt_size = NULL, tgt_mtime = NULL, tgt_etag = NULL, source_fp = ?, "
                       "target_fp = ? WHERE key = 'old'", (json.dumps(source.to_json()),
                                                           json.dumps(target.to_json())))
    assert journal.done_keys("files") == {"new": source, "old": source}
    found = journal.baselines_for("files", ["new", "old"])
    assert [(found[k].source, found[k].target) for k in ("new", "old")] == [(source, target)] * 2
    journal.close()


def test_a_baseline_named_as_its_key_and_its_state_come_back_the_same(tmp_path: Path) -> None:
    """The target name is left in SQLite when it is the key (most local and WebDAV items), and
    the state is read as a number: the baseline read is the one written, name and state alike."""
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("apply")
    same = Change("files", Action.CREATE, SourceItem("d/é.txt", "d/é.txt",
                                                     fingerprint=Fingerprint(3, 5.0)),
                  "d/é.txt", "new")
    other = Change("files", Action.CREATE, SourceItem("id-7", "d/x.txt",
                                                      fingerprint=Fingerprint(4, 6.0)),
                   "d/x (2).txt", "new")
    journal.record_done([(same, TargetEntry("d/é.txt", fingerprint=Fingerprint(3, 5.0))),
                         (other, TargetEntry("d/x (2).txt", fingerprint=Fingerprint(4, 6.0)))],
                        run)
    journal.record_seen([Change("files", Action.CREATE, SourceItem("id-8", "d/y.txt"),
                                "id-8", "new")], run)
    for found in (journal.baselines("files"),
                  journal.baselines_for("files", ["d/é.txt", "id-7", "id-8"])):
        assert found["d/é.txt"].target_name == "d/é.txt"
        assert found["id-7"].target_name == "d/x (2).txt"
        assert found["id-8"].target_name == "id-8"  # named as its key, and seen
        assert [(found[k].done, found[k].seen) for k in ("d/é.txt", "id-7", "id-8")] == [
            (True, False), (True, False), (False, True)]
    journal.close()
