"""The journal's PostgreSQL store: the same `Journal` logic as with SQLite, against a real
PostgreSQL (tests/fixtures/postgres.py)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from migrate.errors import LockedError
from migrate.fleet.store import PgJournal
from migrate.journal import Journal
from migrate.model import Action, Change, Fingerprint, SourceItem, TargetEntry
from migrate.runner.executor import idempotency_key
from tests.conformance.samples import MemorySource, change_for


def _journals(tmp_path: Path, url: str) -> list[Journal]:
    return [Journal(tmp_path / "plan.journal.sqlite"),
            PgJournal(url, "plan-key", tmp_path / ".migrate")]


def _exercise(journal: Journal) -> dict[str, object]:
    """Everything an apply asks of a journal, in order; the answers must be the same."""
    source = MemorySource()
    changes = [change_for(source.add(f"f{i}.txt", b"x" * (i + 1)), f"f{i}.txt")
               for i in range(5)]
    plan_id = journal.plan_id
    assert journal.plan_id == plan_id  # fixed once made
    run = journal.start_run("apply")
    keyed = [(c, idempotency_key(plan_id, c)) for c in changes]
    journal.record_intents(keyed, run)
    journal.record_done([(c, TargetEntry(c.target_name, c.item.kind, c.item.fingerprint))
                         for c in changes[:3]], run)
    journal.record_failed([(changes[3], "failed", "refused (test)")], run, "item")
    doubt = journal.in_doubt("conformance")
    journal.set_cursor("conformance", {"token": "abc"})
    journal.set_cursor("conformance", {"token": "def"})
    journal.add_suppressions({"h1": ("unsubscribed", "conformance")})
    journal.add_suppressions({"h1": ("cleaned", "conformance")})
    journal.finish_run(run, "ok", {"done": 3})
    done = journal.done_keys("conformance")
    journal.record_seen([changes[2]], run)  # a done row read from its JSON from now on
    baselines = journal.baselines("conformance")
    streamed = journal.baselines_for("conformance", [c.item.key for c in changes])
    return {
        "in_doubt": [(d.change.item.key, d.idempotency_key) for d in doubt],
        "in_doubt_changes": [d.change.to_json() for d in doubt],
        "intent_keys": sorted(k for _c, k in keyed),
        "done": sorted(done.items()),
        "done_among": sorted(journal.done_among("conformance", ["f0.txt", "f4.txt"])),
        "counts": journal.counts(),
        "cursor": journal.cursor("conformance"),
        "suppressions": journal.suppressions(),
        "last_run": {k: v for k, v in (journal.last_run() or {}).items()
                     if k in ("id", "command", "outcome", "counts")},
        "baselines": sorted((k, b.source, b.target, b.seen) for k, b in baselines.items()),
        "streamed": sorted((k, streamed[k].source.size) for k in streamed),
        "rows": [(r["key"], r["state"], r["last_error"]) for r in journal.rows()],
    }


def test_postgresql_store_answers_as_sqlite_does(tmp_path: Path, postgres_url: str) -> None:
    sqlite, pg = _journals(tmp_path, postgres_url)
    try:
        by_sqlite, by_pg = _exercise(sqlite), _exercise(pg)
    finally:
        sqlite.close()
        pg.close()
    # The idempotency keys hold the plan's random id: same shape, same logic, other values.
    assert len(by_pg.pop("intent_keys")) == len(by_sqlite.pop("intent_keys")) == 5
    assert [k for k, _ in by_pg.pop("in_doubt")] == [k for k, _ in by_sqlite.pop("in_doubt")]
    assert by_pg == by_sqlite
    assert by_pg["counts"] == {"conformance": {"done": 2, "failed": 1, "intent": 1, "seen": 1}}
    assert by_pg["cursor"] == {"token": "def"}
    assert by_pg["suppressions"] == {"h1": "unsubscribed"}  # the first reason stays


def test_both_stores_give_a_rerun_the_same_plain_numbers(tmp_path: Path,
                                                         postgres_url: str) -> None:
    """The light query a re-run's diff reads first (decisions 0499, 0488), ETag included."""
    answers = []
    for journal in _journals(tmp_path, postgres_url):
        try:
            changes = [Change("files", Action.CREATE, SourceItem(
                name, name, fingerprint=Fingerprint(3, 1_700_000_000.5)), name, "new")
                for name in ("plain", "tagged", "checksummed")]
            targets = [Fingerprint(3, 1_700_000_001.0), Fingerprint(3, 1_700_000_001.0, None,
                                                                    "7d0-5f1e"),
                       Fingerprint(3, 1_700_000_001.0, "md5:ab", "7d1")]
            journal.record_done([(c, TargetEntry(c.target_name, fingerprint=t))
                                 for c, t in zip(changes, targets, strict=True)],
                                journal.start_run("apply"))
            light = journal.baselines_for("files", ["plain", "tagged", "checksummed", "new"])
            answers.append([light.plain(key) for key in ("plain", "tagged", "checksummed",
                                                         "new")])
        finally:
            journal.close()
    assert answers[0] == answers[1] == [(3, 1_700_000_000.5, 3, 1_700_000_001.0, None),
                                        (3, 1_700_000_000.5, 3, 1_700_000_001.0, "7d0-5f1e"),
                                        (3, 1_700_000_000.5, 3, 1_700_000_001.0, "7d1"), None]


def test_in_doubt_survives_a_new_connection(tmp_path: Path, postgres_url: str) -> None:
    first = PgJournal(postgres_url, "k", tmp_path)
    source = MemorySource()
    change = change_for(source.add("a.txt", b"abc"), "a.txt")
    first.record_intents([(change, "key-1")], first.start_run("apply"))
    first.db.close()  # as a killed worker: no goodbye
    second = PgJournal(postgres_url, "k", tmp_path)
    try:
        [doubt] = second.in_doubt("conformance")
        assert (doubt.change.item.key, doubt.idempotency_key) == (change.item.key, "key-1")
        assert doubt.change.item.fingerprint == change.item.fingerprint
    finally:
        second.close()


def test_two_plans_never_share_rows(tmp_path: Path, postgres_url: str) -> None:
    one, two = PgJournal(postgres_url, "one", tmp_path), PgJournal(postgres_url, "two", tmp_path)
    try:
        source = MemorySource()
        one.record_intents([(change_for(source.add("a", b"a"), "a"), "k")], one.start_run("x"))
        assert two.in_doubt("conformance") == []
        assert one.plan_id != two.plan_id
    finally:
        one.close()
        two.close()


def test_run_lock_in_the_database(tmp_path: Path, postgres_url: str) -> None:
    holder = PgJournal(postgres_url, "locked", tmp_path)
    other = PgJournal(postgres_url, "locked", tmp_path)
    try:
        holder.acquire_lock("apply")
        with pytest.raises(LockedError, match="already running"):
            other.acquire_lock("apply")
        described = other.lock_holder()
        assert described is not None and described.pid == os.getpid()
        holder.release_lock()
        other.acquire_lock("apply")  # released: taken
        other.release_lock()
        # A holder whose heartbeat stopped (another machine, silent for too long) is replaced.
        stale = time.time() - 3600
        other.db.execute("INSERT OR REPLACE INTO lock VALUES (1, 'x', 1, 'elsewhere', 'apply', "
                         "?, ?)", (stale, stale))
        other.acquire_lock("apply")
        assert (other.lock_holder() or described).host == socket.gethostname()
    finally:
        holder.close()
        other.close()


def test_pioneers_open_each_new_folder_once_level_by_level() -> None:
    """Two workers must never create one folder at once (mod_dav answered 403 to one): each
    new folder is opened by one pioneer; a level's pioneers lie in disjoint subtrees."""
    from migrate.fleet.pioneers import pioneers as _pioneers

    source = MemorySource()
    names = ["a/x", "a/y", "a/b/z", "a/b/w", "c/d/e/f", "c/d/g", "top", "k/l/m"]
    changes = [change_for(source.add(name, b"1"), name) for name in names]
    levels, rest = _pioneers(changes, set())
    assert [[c.target_name for c in level] for level in levels] == [
        ["a/x"], ["c/d/e/f", "k/l/m"], ["a/b/z"]]
    assert [c.target_name for c in rest] == ["a/y", "a/b/w", "c/d/g", "top"]
    # Folders the target already has need no pioneer.
    levels, rest = _pioneers(changes, {"", "a", "a/b", "c", "c/d", "c/d/e", "k", "k/l"})
    assert levels == [] and len(rest) == len(changes)


def test_pioneer_phases_open_no_folder_in_two_batches_at_once() -> None:
    """Pioneers run in fewer phases than levels, and within a phase no two batches open one
    folder, nor a folder below one the other opens: no MKCOL race between workers."""
    from migrate.fleet.pioneers import levels_of, phases

    source = MemorySource()
    names = [f"{top}/{mid}/{low}/f{n}.txt" for top in "abcdef" for mid in "gh" for low in "ij"
             for n in range(3)] + ["a/g/k/deep/x.txt", "z.txt"]
    changes = [change_for(source.add(name, b"1"), name) for name in names]
    levels, rest = levels_of(changes, {""})
    opens: dict[str, set[str]] = {}  # target name -> the folders its write creates
    known: set[str] = {""}
    for change in changes:
        parts = change.target_name.split("/")[:-1]
        new = {"/".join(parts[:d]) for d in range(1, len(parts) + 1)} - known
        known |= new
        opens[change.target_name] = new
    found = phases(levels, 4, 50)
    assert len(found) < len(levels)
    written = [c.target_name for phase in found for batch in phase for c in batch]
    assert sorted(written) == sorted(c.target_name for _d, level in levels for c in level)
    assert {c.target_name for c in rest}.isdisjoint(written)
    for phase in found:
        trees = [{f for c in batch for f in opens[c.target_name]} for batch in phase]
        for i, mine in enumerate(trees):
            for theirs in trees[i + 1:]:
                assert not any(m == t or m.startswith(t + "/") or t.startswith(m + "/")
                               for m in mine for t in theirs)
