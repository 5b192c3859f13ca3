"""The fleet's durable workflows (DBOS Transact): a plan, its steps, batches of their items.

    plan workflow (queue `transhumance_plans`)          holds the plan's run lock
      prepare (a DBOS step): in doubt verified, both sides listed, diffed, quiet outcomes
      step workflow per step (child)
        batch workflow per batch of items on `transhumance_writes_<cap>`, partitioned by host
          write_batch (a DBOS step): the journal's own runner, one write at a time
      finish (a DBOS step): cursors, the run's outcome

A per-host cap is the write queue's `partition_concurrency`: every worker dequeues through the
same database, so no more than `cap` batches (hence writes) run against one host at once,
whichever workers run them (decision 0902). A batch killed mid-way is recovered by DBOS on
another worker and runs again from its start; the journal makes that exact: its done items are
left, its INTENT items are verified on the target before anything is written again.

Nothing secret enters DBOS's tables: workflows get the plan's path and options; each worker
resolves `${env:}`, `${file:}`, `${keyring:}` itself, and the database URL (which may hold a
password) stays in the worker's memory.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

from dbos import DBOS, SetEnqueueOptions

from migrate import __version__, api
from migrate.connector import Listing
from migrate.errors import LockedError, MigrateError
from migrate.i18n import message_of
from migrate.model import Change, ChangeSet, ItemKind
from migrate.plan.offline import check_steps
from migrate.plan.plan_file import Plan, load_plan, resolve_connections
from migrate.plan.references import Redactor
from migrate.runner import apply_steps
from migrate.runner.hosts import host_of
from migrate.steps import OpenStep, open_step

from .batches import merge
from .batches import write as write_changes
from .pioneers import levels_of, phases
from .store import PgJournal

APP_NAME = "transhumance"
#: Every worker of one release shares this: DBOS recovers a dead worker's workflows only on
#: workers of the same application version.
APP_VERSION = f"transhumance-{__version__}"
PLANS_QUEUE = "transhumance_plans"
#: Write queues by cap: a host's cap is rounded down to one of these (never above the cap).
CAPS = (1, 2, 4, 8, 16, 32)
#: Items per batch workflow: small enough that a killed worker loses little, large enough
#: that DBOS's bookkeeping (a few rows per batch) stays small beside the writes.
BATCH_ITEMS = 50
#: A large step's batches grow up to this, so that it still makes at least `cap × 8` of them
#: (every worker busy until the end): each batch costs a few DBOS rows and a queue poll
#: (~0.2 s) before it starts, which 50 items of 30 ms hardly cover (bench_fleet_webdav).
MAX_BATCH_ITEMS = 200
#: How often a workflow asks whether the batches it waits for are done (DBOS's default, 1 s,
#: left every pioneer level and every ordered batch waiting ~0.6 s for nothing).
RESULT_POLL_SECONDS = 0.1
MAX_RECOVERY = 1000
PLAN_WORKFLOW, STEP_WORKFLOW, BATCH_WORKFLOW = ("transhumance.plan", "transhumance.step",
                                                "transhumance.batch")


def writes_queue(cap: int) -> str:
    return f"transhumance_writes_{cap}"


def queue_cap(wanted: int) -> int:
    return max(c for c in CAPS if c <= max(1, wanted))


def journal_key(plan_path: Path) -> str:
    """A plan's journal in the database: its file's absolute path (every worker sees the plan
    at the same path, as it sees its `${file:}` secrets and exports)."""
    return str(plan_path.resolve())


def open_journal(database: str, plan_path: Path) -> PgJournal:
    return PgJournal(database, journal_key(plan_path), plan_path.resolve().parent / ".migrate")


class _Worker:
    """What this worker process knows and never stores: the database URL; the run locks its
    plan workflows hold."""

    database: str = ""
    locks: dict[str, PgJournal] = {}  # noqa: RUF012  # one process-wide registry
    guard = threading.Lock()


WORKER = _Worker()


# -- the run lock, held by the plan workflow -----------------------------------------------

def hold_lock(plan_path: str, workflow_id: str) -> None:
    """Take the plan's run lock for this workflow. The same workflow recovered on another
    worker takes its own lock over at once; anyone else waits for the holder's heartbeat to
    stop (or its process to be gone, on the same machine), as on one machine."""
    journal = open_journal(WORKER.database, Path(plan_path))
    try:
        journal.lock.acquire("apply --database", token=workflow_id)
    except BaseException:
        journal.db.close()
        raise
    with WORKER.guard:
        WORKER.locks[workflow_id] = journal


def release_lock(workflow_id: str) -> None:
    with WORKER.guard:
        journal = WORKER.locks.pop(workflow_id, None)
    if journal is not None:
        journal.close()


# -- workflows ------------------------------------------------------------------------------

@DBOS.workflow(name=PLAN_WORKFLOW, max_recovery_attempts=MAX_RECOVERY)
def plan_workflow(plan_path: str, options: dict[str, Any]) -> dict[str, Any]:
    workflow_id = DBOS.workflow_id or ""
    try:
        hold_lock(plan_path, workflow_id)
    except LockedError as error:
        return {"outcome": "error", "message": str(error), "exit_code": 1}
    try:
        prepared = prepare(plan_path, options)
        if "message" in prepared:
            return prepared
        handles = [(step, DBOS.start_workflow(step_workflow, plan_path, prepared["run_id"],
                                              step, options))
                   for step in prepared["steps"]]
        outcomes = {step["id"]: handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS)
                    for step, handle in handles}
        return finish(plan_path, prepared, outcomes)
    finally:
        release_lock(workflow_id)


@DBOS.workflow(name=STEP_WORKFLOW, max_recovery_attempts=MAX_RECOVERY)
def step_workflow(plan_path: str, run_id: int, step: dict[str, Any],
                  options: dict[str, Any]) -> dict[str, Any]:
    """The step's batches on its host's write queue; one after another where the target
    needs its order (a reply after its post: Mastodon's max_jobs is 1), and the pioneers (one
    item per new folder) before the others."""
    queue = DBOS.retrieve_queue(writes_queue(step["cap"]))
    results: list[dict[str, Any]] = []

    def enqueue(batch: list[dict[str, Any]], carry: dict[str, Any] | None = None) -> Any:
        with SetEnqueueOptions(queue_partition_key=step["partition"]):
            return queue.enqueue(batch_workflow, plan_path, run_id, step["id"], batch, options,
                                 carry)

    # Each phase of pioneers side by side, the phases one after another, then the rest.
    def wait(handle: Any) -> dict[str, Any]:
        result: dict[str, Any] = handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS)
        return result

    for level in step.get("pioneers") or []:
        results += [wait(handle) for handle in [enqueue(b) for b in level]]
        if any(result.get("fatal") for result in results):
            return merge(results)  # as on one machine, a fatal error stops the step
    if step["ordered"]:
        carry: dict[str, Any] = {}  # what the target learnt in the batch before
        for batch in step["batches"]:
            results.append(wait(enqueue(batch, carry)))
            carry = results[-1].get("carry") or carry
            if results[-1].get("fatal"):
                break
    else:
        results += [wait(handle) for handle in [enqueue(b) for b in step["batches"]]]
    return merge(results, ordered=step["ordered"])


@DBOS.workflow(name=BATCH_WORKFLOW, max_recovery_attempts=MAX_RECOVERY)
def batch_workflow(plan_path: str, run_id: int, step_id: str, batch: list[dict[str, Any]],
                   options: dict[str, Any], carry: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    return write_batch(plan_path, run_id, step_id, batch, options, carry)


# -- steps ----------------------------------------------------------------------------------

@DBOS.step(name="transhumance.prepare")
def prepare(plan_path: str, options: dict[str, Any]) -> dict[str, Any]:
    """`apply`'s first half, as on one machine: in doubt verified, lists, consent, diff."""
    redactor = Redactor()
    try:
        return _prepare(Path(plan_path), options, redactor)
    except MigrateError as error:
        return {"outcome": "error", "message": redactor(str(error)), "exit_code": 1}


def _prepare(path: Path, options: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    loaded = load_plan(path)
    chosen = [loaded.step(options["step"])] if options.get("step") else list(loaded.steps)
    config = resolve_connections(loaded, redactor, chosen)
    check_steps(loaded, config, chosen)
    journal = open_journal(WORKER.database, path)
    try:
        run_id = journal.start_run("apply --database")
        opened = [open_step(loaded, spec, config, journal.plan_id, journal.cursor(spec.id),
                            journal.path.parent, journal) for spec in chosen]
        try:
            return _diff_all(journal, run_id, loaded, opened, redactor, options)
        except MigrateError:
            journal.finish_run(run_id, "failed", {})
            raise
        finally:
            for one in opened:
                one.close()
    finally:
        journal.db.close()


def _diff_all(journal: PgJournal, run_id: int, loaded: Plan, opened: list[OpenStep],
              redactor: Redactor, options: dict[str, Any]) -> dict[str, Any]:
    listed = {}
    for step in opened:
        apply_steps.settle_in_doubt(journal, step, run_id, redactor)
        listed[step.spec.id] = step.list()
    # The hooks the steps' sources declare (the members' consent rules), as `apply` runs them.
    hooked = api.step_hooks_over(opened, listed, journal)
    hooked.record(journal)
    hooked.refuse()
    everything, steps, cursors, counts = ChangeSet(), [], {}, {}
    for step in opened:
        listed_items, listing, entries = listed.pop(step.spec.id)
        items = hooked.items_of(step.spec.id, listed_items)
        baselines = journal.baselines_for(step.spec.id, (item.key for item in items))
        changes = step.diff(items, entries, baselines, keep_unchanged=False)
        everything.extend(changes)
        api.count_step_posts(counts, step.spec.id, changes.changes, listing or Listing([]))
        apply_steps.record_quiet_outcomes(journal, step.spec.id, changes, run_id)
        pending = sorted(changes.pending(), key=step.target.write_order)
        cursors[step.spec.id] = dict(listing.cursor) if listing.cursor is not None else None
        if pending:
            folders = {entry.name for entry in entries if entry.kind is ItemKind.FOLDER}
            steps.append(_step_plan(loaded, step, pending, folders, options))
    api.refuse_uncounted(counts)
    for step_id, count in counts.items():
        journal.set_post_count(step_id, count.to_json())
    return {"run_id": run_id, "steps": steps, "cursors": cursors,
            "summary": everything.summary()}


def _step_plan(loaded: Plan, step: OpenStep, pending: list[Change], folders: set[str],
               options: dict[str, Any]) -> dict[str, Any]:
    capabilities = step.target.capabilities
    target_options = loaded.connections[step.spec.target.connection].options
    host = host_of(capabilities.host, target_options)
    wanted = options.get("per_host") or capabilities.max_jobs or capabilities.default_jobs
    if capabilities.max_jobs:
        wanted = min(wanted, capabilities.max_jobs)
    if capabilities.batch_size:
        # A bulk write is a server-wide session (listmonk has one import slot: a second
        # import, or the first's DELETE, breaks the other). One process serialises its own
        # (the connector's lock); a fleet must have one at a time per host (decision 0902).
        wanted = 1
    cap = queue_cap(wanted)
    ordered = capabilities.max_jobs == 1
    levels, rest = ([], pending) if ordered else levels_of(pending, folders)
    size = max(1, int(options.get("batch_items") or min(
        MAX_BATCH_ITEMS, max(BATCH_ITEMS, -(-len(rest) // (cap * 8))))))
    return {"id": step.spec.id, "cap": cap,
            # Without a host (a local folder), the plan's own step is the partition.
            "partition": host or f"{journal_key(loaded.path)}#{step.spec.id}",
            "ordered": ordered,
            "pioneers": [[[c.to_json() for c in batch] for batch in phase]
                         for phase in phases(levels, cap, size)],
            "batches": _batches(rest, size)}


def _batches(changes: list[Change], size: int) -> list[list[dict[str, Any]]]:
    return [[c.to_json() for c in changes[i:i + size]] for i in range(0, len(changes), size)]


@DBOS.step(name="transhumance.write_batch")
def write_batch(plan_path: str, run_id: int, step_id: str, batch: list[dict[str, Any]],
                options: dict[str, Any], carry: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """One batch, on whichever worker dequeued it; again from its start after a crash."""
    redactor = Redactor()
    changes = [Change.from_json(data) for data in batch]
    path = Path(plan_path)
    try:
        loaded = load_plan(path)
        spec = loaded.step(step_id)
        config = resolve_connections(loaded, redactor, [spec])
        journal = open_journal(WORKER.database, path)
    except MigrateError as error:
        message = redactor(str(error))
        return {"failed": len(changes), "fatal": message,
                "failures": [[c.source_path, message] for c in changes]}
    try:
        step = open_step(loaded, spec, config, journal.plan_id, journal.cursor(step_id),
                         journal.path.parent, journal)
        try:
            return write_changes(journal, run_id, step, changes, redactor, options, carry)
        finally:
            step.close()
    except MigrateError as error:  # the target refused to open (credentials, quota)
        message = redactor(message_of(error))
        journal.record_failed([(c, "failed", message) for c in changes], run_id, "fatal")
        return {"failed": len(changes), "fatal": message,
                "failures": [[c.source_path, message] for c in changes]}
    finally:
        journal.db.close()


@DBOS.step(name="transhumance.finish")
def finish(plan_path: str, prepared: dict[str, Any],
           outcomes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Cursors of steps that failed nothing, and the run's outcome, as `apply` records them."""
    journal = open_journal(WORKER.database, Path(plan_path))
    try:
        summary = prepared["summary"]
        merged = merge(list(outcomes.values()))
        counts = {"done": merged["done"], "failed": merged["failed"],
                  "skipped": summary["skip"] + merged["skipped"],
                  "conflict": summary["conflict"], "stale": 0,
                  "unchanged": summary["unchanged"], "not_started": merged["not_started"],
                  "marked_seen": 0}
        for step_id, cursor in prepared["cursors"].items():
            if cursor is not None and not outcomes.get(step_id, {}).get("failed"):
                journal.set_cursor(step_id, cursor)
        notes = {step_id: outcome.get("notes") or [] for step_id, outcome in outcomes.items()}
        for step_id, said in notes.items():
            if said:  # the whole step's, where batches each journaled their own
                journal.set_step_notes(step_id, said)
        bad = counts["failed"] or counts["conflict"] or counts["not_started"]
        journal.finish_run(prepared["run_id"], "incomplete" if bad else "ok", counts)
        return {"outcome": "incomplete" if bad else "ok", "counts": counts,
                "summary": summary, "failures": merged["failures"],
                "notes": [{"step": step_id, "note": note} for step_id, said in notes.items()
                          for note in said],
                "exit_code": 3 if bad else 0}
    finally:
        journal.db.close()


def worker_identity() -> str:
    """This worker's DBOS executor id: unique, and saying where it runs."""
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
