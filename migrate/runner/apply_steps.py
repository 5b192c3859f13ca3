"""The parts of `migrate apply` done step by step: in-doubt items read back first, a saved
plan's preconditions, the runner for each step, and the outcomes that need no write (skips,
conflicts, items already identical) recorded for the report. `migrate/api.py` drives them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from migrate.consent import address_hash
from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.journal import Journal
from migrate.model import Action, Change, ChangeSet, SourceItem, TargetEntry
from migrate.plan import saved
from migrate.plan.references import Redactor
from migrate.runner.events import ClientEvents
from migrate.runner.hosts import host_of
from migrate.runner.outcome import StepOutcome
from migrate.steps import OpenStep

if TYPE_CHECKING:
    from migrate.api import ApplyResult, RunSettings


def run_step(journal: Journal, run_id: int, step: OpenStep, changes: list[Change],
              redactor: Redactor, settings: RunSettings,
              target_options: dict[str, Any] | None = None) -> StepOutcome:
    if not changes:  # what `Runner.run` answers then, without importing the runner at all
        return StepOutcome()
    capabilities = step.features.abilities
    wanted = settings.jobs or capabilities.default_jobs
    if capabilities.max_jobs:
        wanted = min(wanted, capabilities.max_jobs)
    gate = None
    host = host_of(capabilities.host, target_options or {}) if settings.hosts else None
    if settings.hosts and host:
        gate = settings.hosts.gate(host, capabilities.max_jobs or capabilities.default_jobs)
    from migrate.runner.executor import Runner  # only a step with writes: see outcome.py

    runner = Runner(journal, run_id, journal.plan_id, wanted, redactor, settings.progress,
                    settings.retry, settings.debug, gate, settings.events, settings.stop)
    label = _("Step '{id}'").format(id=step.spec.id)
    return runner.run(label, changes, step.source, step.target, step.features)


def item_events(events: ClientEvents, result: ApplyResult,
                 pending: dict[str, list[Change]]) -> None:
    """What this run is about to write, and what it will not (skips, conflicts, stale)."""
    for changes in pending.values():
        events.items("planned", changes)
    events.items("conflict", [c for c in result.changes.changes if c.action is Action.CONFLICT])
    events.items("skipped", [c for c in result.changes.changes if c.action is Action.SKIP])
    events.failures("stale", result.stale)
    events.flush()


def settle_in_doubt(journal: Journal, step: OpenStep, run_id: int, redactor: Redactor) -> None:
    """Items whose write began but was never recorded as finished: read them back."""
    done: list[tuple[Change, TargetEntry]] = []
    again: list[tuple[Change, str, str]] = []
    for doubt in journal.in_doubt(step.spec.id):
        try:
            entry = step.target.verify(doubt.change, step.source, doubt.idempotency_key)
        except MigrateError as error:
            again.append((doubt.change, "planned", redactor(str(error))))
            continue
        if entry is None:
            again.append((doubt.change, "planned", _("interrupted before it was finished; "
                                                     "it will be written again")))
        else:
            done.append((doubt.change, entry))
    journal.record_done(done, run_id)
    journal.record_failed(again, run_id)


def record_quiet_outcomes(journal: Journal, step: str, changes: ChangeSet, run_id: int) -> None:
    """Skips and conflicts go to the journal for the report; an item already identical on the
    target is adopted as done, so later runs compare against it."""
    mine = [c for c in changes.changes if c.step == step]
    journal.record([c for c in mine if c.action is Action.SKIP], "skipped", run_id)
    journal.record([c for c in mine if c.action is Action.CONFLICT], "conflict", run_id)
    candidates = [c for c in mine if c.action is Action.UNCHANGED
                  and c.expected_target is not None]
    done = journal.done_among(step, (c.item.key for c in candidates))
    adopted = [(c, TargetEntry(c.target_name, c.item.kind, c.expected_target))
               for c in candidates if c.item.key not in done]
    journal.record_done(adopted, run_id)


def check_preconditions(journal: Journal, changes: ChangeSet, items: list[Any],
                         entries: list[TargetEntry], result: ApplyResult,
                         run_id: int, name_for: Callable[[SourceItem], Any] | None = None
                         ) -> list[Change]:
    """A saved plan is applied only where the world still is as it was reviewed.

    A suppressed member is saved by its address's hash only: it is found again here by that
    hash, and written as it stands now."""
    current_items = {item.key: item for item in items}
    hidden = [change for change in changes.changes if saved.is_hidden(change.item.key)]
    if hidden and name_for is not None:
        by_hash = {saved.HIDDEN_PREFIX + address_hash(item.key): item for item in items}
        found = {id(change): by_hash.get(change.item.key) for change in hidden}
        changes = ChangeSet([
            replace(change, item=replace(now, fingerprint=change.item.fingerprint),
                    target_name=name_for(now).name)
            if (now := found.get(id(change))) is not None else change
            for change in changes.changes])
    current_entries = {entry.name: entry for entry in entries}
    done = journal.done_keys(changes.changes[0].step) if changes.changes else {}
    ready: list[Change] = []
    stale: list[tuple[Change, str]] = []
    for change in changes.pending():
        now = current_items.get(change.item.key)
        entry = current_entries.get(change.target_name)
        previous = done.get(change.item.key)
        if previous is not None and previous.same_version_as(change.item.fingerprint):
            result.already_done += 1
        elif now is None:
            stale.append((change, _("no longer at the source")))
        elif not now.fingerprint.same_version_as(change.item.fingerprint):
            stale.append((change, _("changed at the source since the plan was made")))
        elif (entry is None) != (change.expected_target is None) or (
                entry is not None and change.expected_target is not None
                and not entry.fingerprint.same_version_as(change.expected_target)):
            stale.append((change, _("changed on the target since the plan was made")))
        else:
            ready.append(change)
    journal.record([with_reason(c, why) for c, why in stale], "stale", run_id)
    result.stale.extend(stale)
    return ready


def with_reason(change: Change, reason: str) -> Change:
    return Change(change.step, change.action, change.item, change.target_name,
                  _("stale: {why}").format(why=reason), change.rename_reason,
                  change.expected_target, change.notes)
