"""The library entry points. The CLI is a thin layer over these; so are the tests.

    redactor = Redactor()
    result = api.plan("plans/asso.yaml", redactor=redactor)
    print(result.changes.summary())
    applied = api.apply("plans/asso.yaml", redactor=redactor, confirm=lambda result: True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.connector import Listing
from migrate.consent import Reconciliation
from migrate.errors import Interrupted, MigrateError
from migrate.features import unshared_note
from migrate.i18n import _
from migrate.journal import Journal, journal_path
from migrate.model import Change, ChangeSet, SourceItem, TargetEntry
from migrate.plan import parsecache, saved
from migrate.plan.offline import check_steps
from migrate.plan.plan_file import Location, Plan, literal_secrets, load_plan, resolve_connections
from migrate.plan.references import Redactor
from migrate.post_counts import PostCount, count_posts, post_count_lines
from migrate.retry import RetryPolicy
from migrate.runner import apply_steps
from migrate.runner.events import ClientEvents
from migrate.runner.hosts import HostLimits
from migrate.runner.outcome import StepOutcome
from migrate.runner.progress import Progress
from migrate.step_hooks import HookPass, run_hooks
from migrate.steps import OpenStep, open_step, select_steps


@dataclass
class Validation:
    plan: Plan
    warnings: list[str]


def validate(path: str | Path, redactor: Redactor) -> Validation:
    """Check the plan and resolve its references, without contacting any service."""
    plan = load_plan(path)
    check_steps(plan, resolve_connections(plan, redactor))
    warnings = [
        f"{where}: " + _("'{option}' is written in clear in the plan; prefer ${{env:…}} or "
                         "${{file:…}} so the plan can be shared safely").format(option=option)
        for where, option in literal_secrets(plan)
    ]
    return Validation(plan, warnings)


@dataclass
class PlanResult:
    plan: Plan
    changes: ChangeSet
    steps: list[str]
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)
    reconciliations: dict[str, Reconciliation] = field(default_factory=dict)
    #: step → its posts accounted for (migrate/post_counts.py)
    post_counts: dict[str, PostCount] = field(default_factory=dict)
    #: step → what its target says the changes will cause (Target.plan_notes)
    notes: dict[str, list[str]] = field(default_factory=dict)


def plan(path: str | Path, redactor: Redactor, step: str | None = None,
         state_dir: Path | None = None, output: Path | None = None) -> PlanResult:
    """The dry run: list both sides of every step and diff them. Writes nothing to any service
    and creates no state; with `output`, saves the change set for `apply`."""
    loaded = load_plan(path)
    config = resolve_connections(loaded, redactor, select_steps(loaded, step))
    check_steps(loaded, config, select_steps(loaded, step))
    location = journal_path(loaded.path, state_dir)
    journal = Journal(location) if location.exists() else None
    try:
        plan_id = journal.plan_id if journal else "dry-run"
        result = PlanResult(loaded, ChangeSet(), [])
        opened: list[OpenStep] = []
        try:
            for spec in select_steps(loaded, step):
                opened.append(open_step(loaded, spec, config, plan_id,
                                        journal.cursor(spec.id) if journal else {},
                                        location.parent, journal, writable=False))
            # Every source is listed before any diff: the steps' hooks see them all (one
            # source's unsubscribes protect the address in every step: migrate/consent/__init__.py).
            listed = {one.spec.id: one.list() for one in opened}
            hooked = step_hooks_over(opened, listed, journal)
            result.reconciliations = hooked.tables
            for one in opened:
                listed_items, listing, entries = listed[one.spec.id]
                items = hooked.items_of(one.spec.id, listed_items)
                baselines = (journal.baselines_for(one.spec.id, (i.key for i in items))
                             if journal else {})
                changes = one.diff(items, entries, baselines)
                result.changes.extend(changes)
                result.steps.append(one.spec.id)
                _add_plan_notes(result, one, changes.changes)
                count_step_posts(result.post_counts, one.spec.id, changes.changes, listing)
        finally:
            for one in opened:
                one.close()
    finally:
        if journal:
            journal.close()
    hooked.refuse()
    refuse_uncounted(result.post_counts)
    if output is not None:
        saved.write(output, loaded, result.changes, result.steps)
    return result


@dataclass
class ApplyResult:
    plan: Plan
    changes: ChangeSet
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    stale: list[tuple[Change, str]] = field(default_factory=list)
    already_done: int = 0
    marked_seen: int = 0
    confirmed: bool = True
    steps: list[str] = field(default_factory=list)
    reconciliations: dict[str, Reconciliation] = field(default_factory=dict)
    post_counts: dict[str, PostCount] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        summary = self.changes.summary()
        return {
            "done": sum(o.done for o in self.outcomes.values()) + self.already_done,
            "failed": sum(o.failed for o in self.outcomes.values()),
            "skipped": summary["skip"] + sum(o.skipped for o in self.outcomes.values()),
            "conflict": summary["conflict"],
            "stale": len(self.stale),
            "unchanged": summary["unchanged"],
            "not_started": sum(o.not_started for o in self.outcomes.values()),
            "marked_seen": self.marked_seen,
        }

    @property
    def exit_code(self) -> int:
        counts = self.counts()
        if counts["failed"] or counts["conflict"] or counts["stale"] or counts["not_started"]:
            return 3
        return 0


Confirm = Callable[[PlanResult], bool]


@dataclass(frozen=True)
class RunSettings:
    """How an apply runs, as opposed to what it does."""

    jobs: int | None = None
    progress: Progress | None = None
    retry: RetryPolicy | None = None
    debug: bool = False
    #: Record what would be written as seen, write nothing: switching cross-posting on for a
    #: feed must not flood the account with its old entries.
    mark_seen: bool = False
    #: Several plans in one process: write slots shared per host (see migrate/runner/hosts.py).
    hosts: HostLimits | None = None
    #: `--log-json`: item events for this plan's client.
    events: ClientEvents | None = None
    #: What the journal's runs table records: "apply", or SCHEDULED for `apply --scheduled`.
    command: str = "apply"
    #: Several plans at once: Ctrl-C reaches only the main thread, which sets this.
    stop: threading.Event | None = None


#: How `apply --scheduled` (cron, systemd timers) is recorded, so `status` can find it.
SCHEDULED = "apply --scheduled"


def apply(path: str | Path, redactor: Redactor, confirm: Confirm, step: str | None = None,
          state_dir: Path | None = None, jobs: int | None = None,
          progress: Progress | None = None, retry: RetryPolicy | None = None,
          debug: bool = False, mark_seen: bool = False, hosts: HostLimits | None = None,
          events: ClientEvents | None = None, scheduled: bool = False,
          stop: threading.Event | None = None) -> ApplyResult:
    """Apply a plan file (diffed now, shown through `confirm`) or a saved plan (as reviewed)."""
    settings = RunSettings(jobs, progress, retry, debug, mark_seen, hosts, events,
                           SCHEDULED if scheduled else "apply", stop)
    path = Path(path)
    saved_plan = saved.read(path) if saved.is_saved_plan(path) else None
    # Its parse is kept beside its journal, in the state folder `apply` makes.
    loaded = saved_plan.plan if saved_plan else load_plan(
        path, parsecache.cache_path(journal_path(path, state_dir)))
    chosen = ([loaded.step(s) for s in saved_plan.steps] if saved_plan
              else select_steps(loaded, step))
    config = resolve_connections(loaded, redactor, chosen)
    check_steps(loaded, config, chosen)
    with locked_journal(loaded, state_dir, "apply") as journal:
        plan_id = journal.plan_id
        step_ids = saved_plan.steps if saved_plan else [s.id for s in select_steps(loaded, step)]
        opened = [open_step(loaded, loaded.step(s), config, plan_id, journal.cursor(s),
                            journal.path.parent, journal) for s in step_ids]
        try:
            return _apply_opened(journal, loaded, opened, saved_plan, redactor, confirm,
                                 settings)
        finally:
            for one in opened:
                one.close()


Listed = tuple[list[SourceItem], Listing, list[TargetEntry]]


def _add_plan_notes(result: PlanResult, step: OpenStep, changes: list[Change]) -> None:
    plan_notes = step.features.plan_notes
    notes = unshared_note(step.features, changes)
    notes += plan_notes(changes) if plan_notes is not None else []
    if notes:
        result.notes[step.spec.id] = notes


def step_hooks_over(opened: list[OpenStep], listed: dict[str, Listed], journal: Journal | None
           ) -> HookPass:
    """The hooks the steps' sources declare, over every step's listing (migrate/step_hooks.py)."""
    return run_hooks([one.source for one in opened],
                     {step: (items, listing) for step, (items, listing, _e) in listed.items()},
                     journal)


def count_step_posts(counts: dict[str, PostCount], step: str, changes: list[Change],
                 listing: Listing) -> None:
    count = count_posts(step, changes, listing.posts)
    if count is not None:
        counts[step] = count


def refuse_uncounted(counts: dict[str, PostCount]) -> None:
    """A post count that does not add up means a post would vanish without a line."""
    problems = [f"{step}: {p}" for step, count in counts.items() for p in count.problems]
    if problems:
        lines = [line for count in counts.values() if count.problems
                 for line in post_count_lines(count)]
        raise MigrateError("\n".join([_("the post counts do not add up; nothing was "
                                        "written:"), *problems, *lines]))


@contextmanager
def locked_journal(plan: Plan, state_dir: Path | None, command: str) -> Iterator[Journal]:
    journal = Journal(journal_path(plan.path, state_dir))
    try:
        journal.acquire_lock(command)
        yield journal
    finally:
        journal.close()


def _apply_opened(journal: Journal, loaded: Plan, opened: list[OpenStep],
                  saved_plan: saved.SavedPlan | None, redactor: Redactor, confirm: Confirm,
                  settings: RunSettings) -> ApplyResult:
    run_id = journal.start_run(settings.command)
    try:
        return _run_opened(journal, run_id, loaded, opened, saved_plan, redactor, confirm,
                           settings)
    except Interrupted:
        raise  # recorded as interrupted where it was caught
    except Exception:
        # A source that cannot be listed, a target that refuses everything: the run ends
        # "failed" in the journal, never "running or stopped abruptly".
        journal.finish_run(run_id, "failed", {})
        raise


def _run_opened(journal: Journal, run_id: int, loaded: Plan, opened: list[OpenStep],
                saved_plan: saved.SavedPlan | None, redactor: Redactor, confirm: Confirm,
                settings: RunSettings) -> ApplyResult:
    result = ApplyResult(loaded, ChangeSet(), steps=[s.spec.id for s in opened])
    pending: dict[str, list[Change]] = {}
    cursors: dict[str, Any] = {}
    listed = {}
    for step in opened:
        apply_steps.settle_in_doubt(journal, step, run_id, redactor)
        # A saved plan is checked without `prepare_names`, as it always was: no early naming.
        listed[step.spec.id] = step.list(name=saved_plan is None)
    hooked = step_hooks_over(opened, listed, journal)
    hooked.record(journal)
    result.reconciliations = hooked.tables
    if hooked.problems:
        journal.finish_run(run_id, "failed", {})
    hooked.refuse()
    for step in opened:
        # One step at a time: its target listing is let go once diffed.
        listed_items, listing, entries = listed.pop(step.spec.id)
        items = hooked.items_of(step.spec.id, listed_items)
        if saved_plan is None:
            baselines = journal.baselines_for(step.spec.id, (item.key for item in items))
            changes = step.diff(items, entries, baselines, keep_unchanged=False)
            pending[step.spec.id] = changes.pending()
        else:
            changes = ChangeSet([c for c in saved_plan.changes.changes if c.step == step.spec.id])
            pending[step.spec.id] = apply_steps.check_preconditions(
                journal, changes, items, entries, result, run_id, step.target.name_for)
        del entries
        result.changes.extend(changes)
        cursors[step.spec.id] = listing.cursor
        # A saved plan is applied as reviewed: its changes no longer match the source's count
        # when the source changed since (those are stale), so it is shown without the check.
        count_step_posts(result.post_counts, step.spec.id, changes.changes,
                     listing if saved_plan is None else Listing([]))
    if any(count.problems for count in result.post_counts.values()):
        journal.finish_run(run_id, "failed", {})
    refuse_uncounted(result.post_counts)
    for step_id, count in result.post_counts.items():
        journal.set_post_count(step_id, count.to_json())
    shown = PlanResult(loaded, result.changes, [s.spec.id for s in opened],
                       reconciliations=result.reconciliations,
                       post_counts=result.post_counts)
    for step in opened:
        _add_plan_notes(shown, step, pending[step.spec.id])
    if saved_plan is None and result.changes.has_pending() and not confirm(shown):
        journal.finish_run(run_id, "cancelled", {})
        result.confirmed = False
        return result
    if settings.events:
        apply_steps.item_events(settings.events, result, pending)
    try:
        for step in opened:
            apply_steps.record_quiet_outcomes(journal, step.spec.id, result.changes, run_id)
            if settings.mark_seen:
                journal.record_seen(pending[step.spec.id], run_id)
                result.marked_seen += len(pending[step.spec.id])
                outcome = StepOutcome()
            else:
                outcome = apply_steps.run_step(
                    journal, run_id, step, pending[step.spec.id], redactor, settings,
                    loaded.connections[step.spec.target.connection].options)
            result.outcomes[step.spec.id] = outcome
            if cursors[step.spec.id] is not None and not outcome.failed:
                journal.set_cursor(step.spec.id, dict(cursors[step.spec.id]))
    except Interrupted:
        journal.finish_run(run_id, "interrupted", result.counts())
        raise
    journal.finish_run(run_id, "ok" if result.exit_code == 0 else "incomplete", result.counts())
    return result


def status(path: str | Path, state_dir: Path | None = None) -> dict[str, Any]:
    """Counts by state per step, the last run and the lock holder, read from the journal."""
    loaded = load_plan(path)
    location = journal_path(loaded.path, state_dir)
    answer: dict[str, Any] = {"plan": str(loaded.path), "organisation": loaded.organisation,
                              "journal": str(location), "steps": {}, "last_run": None,
                              "last_scheduled_run": None, "lock": None}
    if not location.exists():
        return answer
    return status_of(loaded, Journal(location), answer)


def status_of(loaded: Plan, journal: Journal, answer: dict[str, Any]) -> dict[str, Any]:
    """`status`'s answer from an open journal (closed here), SQLite's or a fleet's."""
    try:
        counts = journal.counts()
        # In the plan's order, as the user wrote them (steps since removed from it last).
        order = [spec.id for spec in loaded.steps if spec.id in counts]
        answer["steps"] = {step: counts[step] for step in
                           order + sorted(set(counts) - set(order))}
        answer["last_run"] = journal.last_run()
        answer["last_scheduled_run"] = journal.last_run(SCHEDULED)
        holder = journal.lock_holder()
        answer["lock"] = None if holder is None else {"pid": holder.pid, "host": holder.host,
                                                      "description": holder.describe()}
    finally:
        journal.close()
    return answer


def open_journal_for_report(path: str | Path, state_dir: Path | None) -> tuple[Plan, Journal]:
    loaded = load_plan(path)
    location = journal_path(loaded.path, state_dir)
    if not location.exists():
        raise MigrateError(_("nothing has been applied for this plan yet (no journal at "
                             "{path}); run 'migrate apply' first").format(path=location))
    return loaded, Journal(location)


__all__ = ["ApplyResult", "Location", "PlanResult", "Validation", "apply", "plan", "status",
           "validate"]
