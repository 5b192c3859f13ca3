"""The runner's rules: retry only transient errors (honouring Retry-After), one failure never
stops the others, a fatal error stops the step, a skip is recorded with its reason.

The target here is the real `local` target with failures scripted in front of it — the runner is
what is under test, as with dlt's `dummy` destination; no service is being imitated.
"""

from __future__ import annotations

import time
from pathlib import Path

from connectors.local import LocalConnector
from migrate.connector import StepContext
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.journal import Journal
from migrate.model import Change, TargetEntry
from migrate.runner import RetryPolicy, Runner
from tests.conformance.samples import MemorySource, change_for

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


class ScriptedTarget:
    """Delegates to a real local target after raising the scripted errors for an item."""

    def __init__(self, real, script: dict[str, list[Exception]]) -> None:
        self.real, self.script = real, script
        self.capabilities = real.capabilities
        self.attempts: dict[str, list[float]] = {}

    def write(self, change: Change, source, key: str) -> TargetEntry:
        self.attempts.setdefault(change.item.path, []).append(time.monotonic())
        errors = self.script.get(change.item.path, [])
        if errors:
            raise errors.pop(0)
        return self.real.write(change, source, key)


def _setup(tmp_path: Path, names: list[str], script: dict[str, list[Exception]], jobs: int = 2):
    context = StepContext("files", "copy", {}, "plan", tmp_path)
    real = LocalConnector({"path": "out"}, tmp_path).open_target("", context)
    target = ScriptedTarget(real, script)
    source = MemorySource()
    changes = [change_for(source.add(name, name.encode()), name) for name in names]
    journal = Journal(tmp_path / "journal.sqlite")
    runner = Runner(journal, journal.start_run("test"), "plan", jobs, str, retry=FAST)
    return runner, target, source, changes, journal


def test_transient_errors_are_retried_and_retry_after_is_honoured(tmp_path: Path) -> None:
    script = {"a.txt": [TransientError("busy", retry_after=0.3), TransientError("busy")]}
    runner, target, source, changes, journal = _setup(tmp_path, ["a.txt", "b.txt"], script)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 2 and outcome.failed == 0
    first, second, _third = target.attempts["a.txt"]
    assert second - first >= 0.3  # waited as long as the server asked
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"a.txt"
    assert journal.counts() == {"conformance": {"done": 2}}


def test_giving_up_on_one_item_does_not_stop_the_others(tmp_path: Path) -> None:
    script = {"bad.txt": [TransientError("down")] * 5}
    runner, target, source, changes, journal = _setup(tmp_path, ["bad.txt", "x.txt", "y.txt"],
                                                      script)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 2 and outcome.failed == 1
    assert len(target.attempts["bad.txt"]) == 3  # the policy's attempts, no more
    assert "gave up after 3 attempts" in outcome.failures[0][1]
    assert journal.counts() == {"conformance": {"done": 2, "failed": 1}}


def test_errors_that_are_not_transient_are_not_retried(tmp_path: Path) -> None:
    runner, target, source, changes, journal = _setup(
        tmp_path, ["skip.txt", "ok.txt"], {"skip.txt": [SkipItem("too large for the target")]})
    outcome = runner.run("t", changes, source, target)
    assert outcome.skipped == 1 and len(target.attempts["skip.txt"]) == 1
    assert journal.counts() == {"conformance": {"done": 1, "skipped": 1}}


def test_a_fatal_error_stops_the_step(tmp_path: Path) -> None:
    names = [f"f{i:03}.txt" for i in range(300)]
    runner, target, source, changes, _journal = _setup(
        tmp_path, names, {"f000.txt": [FatalError("the password was refused")]}, jobs=1)
    outcome = runner.run("t", changes, source, target)
    assert outcome.fatal == "the password was refused"
    assert outcome.not_started > 0  # later batches were never dispatched
    assert outcome.done + outcome.failed + outcome.not_started <= 300
    assert len(list((tmp_path / "out").iterdir())) == outcome.done
