"""A connector's own state in the journal (`StepContext.state_store`), in both stores: SQLite
beside the plan and a real PostgreSQL (tests/fixtures/postgres.py), where every worker of a
fleet reads and writes the same rows.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from connectors.mastodon.pacing import STATUSES, Bucket, Buckets, merged
from migrate.fleet.store import PgJournal
from migrate.journal import Journal
from migrate.journal.step_state import StepState


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Journal:
    if request.param == "sqlite":
        return Journal(tmp_path / "plan.journal.sqlite")
    url = request.getfixturevalue("postgres_url")
    return PgJournal(url, f"step-state-{tmp_path.name}", tmp_path / ".migrate")


def test_values_are_kept_per_step_and_the_dry_run_writes_none(journal: Journal) -> None:
    posts, other = StepState(journal, "posts"), StepState(journal, "other")
    assert posts.get("rate-limits", {}) == {}
    posts.put("rate-limits", {"a": 1})
    assert posts.get("rate-limits") == {"a": 1} and other.get("rate-limits") is None
    dry = StepState(journal, "posts", writable=False)
    assert dry.update("rate-limits", lambda v: {**v, "b": 2}) == {"a": 1, "b": 2}
    dry.put("rate-limits", {})
    assert posts.get("rate-limits") == {"a": 1}


def test_workers_updating_at_once_lose_none_of_each_others_changes(journal: Journal) -> None:
    """Four workers, each with its own connection (as a fleet's processes), each adding one
    at a time; the pause between read and write lets any unguarded writer slip in."""

    def add_one(value: int) -> int:
        time.sleep(0.002)
        return value + 1

    def worker() -> None:
        store = StepState(journal, "posts")
        for _ in range(15):
            store.update("spent", add_one, 0)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StepState(journal, "posts").get("spent") == 60


def test_two_workers_buckets_merge_to_the_most_spent(journal: Journal) -> None:
    store, reset, account = StepState(journal, "posts"), time.time() + 600, "https://m 1"
    first, second = Buckets(), Buckets()
    first.state[STATUSES] = Bucket(300, 290, reset)   # this worker saw 290 left
    second.state[STATUSES] = Bucket(300, 295, reset)  # another, earlier, 295
    store.update("rate-limits", lambda old: merged(old, account, first), {})
    shared = store.update("rate-limits", lambda old: merged(old, account, second), {})
    assert shared[account][STATUSES]["remaining"] == 290
    second.restore(shared[account])
    assert second.state[STATUSES].remaining == 290  # the other worker now knows it too
    later = Buckets()
    later.state[STATUSES] = Bucket(300, 299, reset + 10800)  # a new window: it wins
    shared = store.update("rate-limits", lambda old: merged(old, account, later), {})
    assert shared[account][STATUSES]["remaining"] == 299


def test_many_values_under_one_prefix_are_read_written_and_removed_together(
        journal: Journal) -> None:
    """What a connector keeping one value per item uses (a list's member records): a prefix
    holding LIKE's wildcards matches only itself; removals leave the other steps alone."""
    store, other = StepState(journal, "lettre"), StepState(journal, "autre")
    store.put_many({"member:a@x.fr": {"fp": "1"}, "member:b@x.fr": {"fp": "2"},
                    "m%mber:c@x.fr": {"fp": "3"}, "rate-limits": {}}, durable=False)
    other.put_many({"member:a@x.fr": {"fp": "9"}})
    assert store.entries("member:") == {"a@x.fr": {"fp": "1"}, "b@x.fr": {"fp": "2"}}
    assert store.entries("m%") == {"mber:c@x.fr": {"fp": "3"}}
    StepState(journal, "lettre", writable=False).put_many({}, removed=["member:a@x.fr"])
    store.put_many({"member:é@x.fr": {"tags": ["Bénévoles"]}}, removed=["member:a@x.fr"])
    assert store.entries("member:") == {"b@x.fr": {"fp": "2"}, "é@x.fr": {"tags": ["Bénévoles"]}}
    assert other.entries("member:") == {"a@x.fr": {"fp": "9"}}
