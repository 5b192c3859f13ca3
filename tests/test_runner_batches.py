"""The runner with a target that writes in batches (`Capabilities.batch_size`): INTENT journaled
before each batch, DONE or failed per item after, per-item transient errors retried alone, a
batch that raises fails each of its items, verify stays per item.

As in tests/test_runner.py, the target is the real `local` target with a scripted batch layer in
front of it: the runner is under test, no service is imitated.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from connectors.local import LocalConnector
from migrate.connector import StepContext
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.journal import Journal
from migrate.model import Change, TargetEntry
from migrate.runner.executor import RetryPolicy, Runner
from tests.conformance.samples import MemorySource, change_for

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


class BatchingTarget:
    """Writes each batch item by item through a real local target; results scripted per item
    (returned) or per call (raised)."""

    def __init__(self, real, journal: Journal, size: int,
                 returned: dict[str, list[Exception]] | None = None,
                 raised: list[Exception] | None = None) -> None:
        self.real, self.journal = real, journal
        self.capabilities = dataclasses.replace(real.capabilities, batch_size=size)
        self.returned, self.raised = returned or {}, raised or []
        self.calls: list[list[str]] = []
        self.intent_before: list[bool] = []

    def write(self, change: Change, source, key: str) -> TargetEntry:
        raise AssertionError("a batching target is written in batches only")

    def write_batch(self, changes, source, keys) -> list[TargetEntry | Exception]:
        self.calls.append([c.item.path for c in changes])
        with sqlite3.connect(self.journal.path) as db:  # the journal's own file, read apart
            in_doubt = {key for (key,) in db.execute("SELECT key FROM items WHERE state = "
                                                     "'intent'")}
        self.intent_before.append(all(c.item.key in in_doubt for c in changes))
        if self.raised:
            raise self.raised.pop(0)
        results: list[TargetEntry | Exception] = []
        for change, key in zip(changes, keys, strict=True):
            scripted = self.returned.get(change.item.path, [])
            results.append(scripted.pop(0) if scripted else self.real.write(change, source, key))
        return results


def _setup(tmp_path: Path, count: int, size: int, **script):
    context = StepContext("files", "copy", {}, "plan", tmp_path)
    real = LocalConnector({"path": "out"}, tmp_path).open_target("", context)
    journal = Journal(tmp_path / "journal.sqlite")
    target = BatchingTarget(real, journal, size, **script)
    source = MemorySource()
    names = [f"f{n:02d}.txt" for n in range(count)]
    changes = [change_for(source.add(name, name.encode()), name) for name in names]
    runner = Runner(journal, journal.start_run("test"), "plan", 2, str, retry=FAST)
    return runner, target, source, changes, journal


def test_items_are_written_in_batches_with_intent_first(tmp_path: Path) -> None:
    runner, target, source, changes, journal = _setup(tmp_path, 7, 3)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 7 and outcome.failed == 0
    assert sorted(len(call) for call in target.calls) == [1, 3, 3]
    assert all(target.intent_before)  # journaled before the batch was sent
    assert journal.counts() == {"conformance": {"done": 7}}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [c.item.path for c in changes]


def test_results_per_item_transient_retried_alone_skip_recorded(tmp_path: Path) -> None:
    returned = {"f01.txt": [TransientError("busy", retry_after=0.01)],
                "f02.txt": [SkipItem("refused by the service")]}
    runner, target, source, changes, journal = _setup(tmp_path, 4, 4, returned=returned)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 3 and outcome.skipped == 1 and outcome.failed == 0
    assert target.calls == [["f00.txt", "f01.txt", "f02.txt", "f03.txt"], ["f01.txt"]]
    assert journal.counts() == {"conformance": {"done": 3, "skipped": 1}}


def test_a_batch_that_raises_fails_its_items_and_fatal_stops(tmp_path: Path) -> None:
    runner, target, source, changes, _journal = _setup(
        tmp_path, 3, 3, raised=[FatalError("the token was revoked")])
    outcome = runner.run("t", changes, source, target)
    assert outcome.failed == 3 and outcome.done == 0
    assert outcome.fatal == "the token was revoked"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_whole_batch_transient_error_is_retried(tmp_path: Path) -> None:
    runner, target, source, changes, journal = _setup(
        tmp_path, 2, 5, raised=[TransientError("429", retry_after=0.01)])
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 2 and len(target.calls) == 2
    assert journal.counts() == {"conformance": {"done": 2}}
