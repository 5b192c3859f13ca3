"""One batch of a step's writes on a fleet worker, and the step's results put together.

A batch writes through the journal's own `Runner` (INTENT, DONE, in doubt verified), one item
at a time; its result is plain JSON (DBOS keeps it). An ordered step's batches run one after
another, each handed the target's `run_state` of the one before (posts left for later by a
spent Mastodon bucket stay left, and the last batch's note counts them all, as one process's
does).
"""

from __future__ import annotations

from typing import Any

from migrate.fleet.store import PgJournal
from migrate.model import Change
from migrate.plan.references import Redactor
from migrate.runner import apply_steps
from migrate.runner.executor import RetryPolicy, Runner
from migrate.steps import OpenStep


def write(journal: PgJournal, run_id: int, step: OpenStep, changes: list[Change],
          redactor: Redactor, options: dict[str, Any],
          carry: dict[str, Any] | None) -> dict[str, Any]:
    keys = {c.item.key for c in changes}
    if carry:
        step.target.resume_run(carry)
    # In doubt: this batch's INTENT rows only (other batches of the step may be in flight).
    apply_steps.settle_in_doubt(OnlyKeys(journal, keys), step, run_id, redactor)
    baselines = journal.baselines_for(step.spec.id, [c.item.key for c in changes])
    already = [c for c in changes if is_done(baselines.get(c.item.key), c)]
    todo = [c for c in changes if not is_done(baselines.get(c.item.key), c)]
    retry = RetryPolicy(attempts=int(options.get("retry_attempts") or 5))
    runner = Runner(journal, run_id, journal.plan_id, 1, redactor, retry=retry)
    outcome = runner.run(step.spec.id, todo, step.source, step.target)
    return {"done": outcome.done + len(already), "failed": outcome.failed,
            "skipped": outcome.skipped, "not_started": outcome.not_started,
            "fatal": outcome.fatal,
            "failures": [[c.source_path, message] for c, message in outcome.failures],
            "notes": [redactor(note) for note in outcome.notes],
            "carry": step.target.run_state()}


def is_done(baseline: Any, change: Change) -> bool:
    """Written by an earlier run of this batch: done, and of this very version."""
    return bool(baseline is not None and baseline.done
                and baseline.source.same_version_as(change.item.fingerprint))


class OnlyKeys:
    """The journal as `_settle_in_doubt` sees it for one batch: only its items are in doubt."""

    def __init__(self, journal: PgJournal, keys: set[str]) -> None:
        self.journal, self.keys = journal, keys

    def in_doubt(self, step: str) -> list[Any]:
        return [d for d in self.journal.in_doubt(step) if d.change.item.key in self.keys]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.journal, name)


def merge(results: list[dict[str, Any]], ordered: bool = False) -> dict[str, Any]:
    """Batches' results as one. Notes: an ordered step's last batch says them for the whole
    run (it was handed the earlier ones' state); other steps' notes are gathered, once each."""
    merged: dict[str, Any] = {"done": 0, "failed": 0, "skipped": 0, "not_started": 0,
                              "fatal": None, "failures": [], "notes": []}
    for one in results:
        for key in ("done", "failed", "skipped", "not_started"):
            merged[key] += int(one.get(key) or 0)
        merged["fatal"] = merged["fatal"] or one.get("fatal")
        merged["failures"] += one.get("failures") or []
        notes = list(one.get("notes") or [])
        if ordered:
            merged["notes"] = notes or merged["notes"]
        else:
            merged["notes"] += [note for note in notes if note not in merged["notes"]]
    return merged
