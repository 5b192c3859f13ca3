"""The runner's rules: retry only transient errors (honouring Retry-After), one failure never
stops the others, a fatal error stops the step, a skip is recorded with its reason.

The target is the registered `dummy` connector (connectors/dummy.py): a real local folder whose
writes fail as scripted or drawn from a seed — the runner is what is under test, as with dlt's
`dummy` destination; no service is being imitated.
"""

from __future__ import annotations

from pathlib import Path

from migrate import registry
from migrate.connector import StepContext
from migrate.journal import Journal
from migrate.runner.executor import RetryPolicy, Runner
from tests.conformance.samples import MemorySource, change_for

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


def _setup(tmp_path: Path, names: list[str], script: dict[str, list[str]], jobs: int = 2,
           **options: object):
    context = StepContext("files", "copy", {}, "plan", tmp_path)
    config = {"path": "out", "script": script, **options}
    target = registry.get("dummy")(config, tmp_path).open_target("", context)
    source = MemorySource()
    changes = [change_for(source.add(name, name.encode()), name) for name in names]
    journal = Journal(tmp_path / "journal.sqlite")
    runner = Runner(journal, journal.start_run("test"), "plan", jobs, str, retry=FAST)
    return runner, target, source, changes, journal


def test_transient_errors_are_retried_and_retry_after_is_honoured(tmp_path: Path) -> None:
    script = {"a.txt": ["transient", "transient"]}
    runner, target, source, changes, journal = _setup(tmp_path, ["a.txt", "b.txt"], script,
                                                      retry_after=0.3)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 2 and outcome.failed == 0
    first, second, _third = target.attempts["a.txt"]
    assert second - first >= 0.3  # waited as long as the server asked
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"a.txt"
    assert journal.counts() == {"conformance": {"done": 2}}


def test_giving_up_on_one_item_does_not_stop_the_others(tmp_path: Path) -> None:
    script = {"bad.txt": ["transient"] * 5}
    runner, target, source, changes, journal = _setup(tmp_path, ["bad.txt", "x.txt", "y.txt"],
                                                      script)
    outcome = runner.run("t", changes, source, target)
    assert outcome.done == 2 and outcome.failed == 1
    assert len(target.attempts["bad.txt"]) == 3  # the policy's attempts, no more
    assert "gave up after 3 attempts" in outcome.failures[0][1]
    assert journal.counts() == {"conformance": {"done": 2, "failed": 1}}


def test_errors_that_are_not_transient_are_not_retried(tmp_path: Path) -> None:
    runner, target, source, changes, journal = _setup(
        tmp_path, ["skip.txt", "ok.txt"], {"skip.txt": ["skip"]})
    outcome = runner.run("t", changes, source, target)
    assert outcome.skipped == 1 and len(target.attempts["skip.txt"]) == 1
    assert journal.counts() == {"conformance": {"done": 1, "skipped": 1}}


def test_a_fatal_error_stops_the_step(tmp_path: Path) -> None:
    names = [f"f{i:03}.txt" for i in range(300)]
    runner, target, source, changes, _journal = _setup(
        tmp_path, names, {"f000.txt": ["fatal"]}, jobs=1)
    outcome = runner.run("t", changes, source, target)
    assert outcome.fatal == "the dummy target refuses everything on purpose"
    assert outcome.not_started > 0  # later batches were never dispatched
    assert outcome.done + outcome.failed + outcome.not_started <= 300
    assert len(list((tmp_path / "out").iterdir())) == outcome.done


def test_random_failures_by_seed_are_all_accounted_for_and_repeatable(tmp_path: Path) -> None:
    names = [f"n{i:02}.txt" for i in range(40)]
    results = []
    for run in ("one", "two"):
        folder = tmp_path / run
        folder.mkdir()
        runner, target, source, changes, _journal = _setup(
            folder, names, {}, retry_probability=0.4, fail_probability=0.1, seed=17)
        outcome = runner.run("t", changes, source, target)
        assert outcome.done + outcome.failed + outcome.skipped == 40
        assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(
            name for name in names if (folder / "out" / name).exists())
        assert len(list((folder / "out").iterdir())) == outcome.done
        assert any(len(moments) > 1 for moments in target.attempts.values())  # retried
        results.append((outcome.done, outcome.failed, outcome.skipped,
                        {path: len(moments) for path, moments in target.attempts.items()}))
    assert results[0] == results[1]  # one seed, the same failures
