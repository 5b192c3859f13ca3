"""Executes the writes of a step: bounded concurrency, journaled, retried, stoppable.

The runner is the only code that writes to a service. It journals INTENT for a batch of items in
one transaction before dispatching them (new local files need none: runner/intents.py), gathers
DONE rows and commits them in groups, retries only `TransientError` (honouring Retry-After),
lets one failed item never stop the others, and stops the whole step on `FatalError`. Ctrl-C
stops dispatching, lets items in flight finish, commits what is done and leaves the rest for a
later `apply`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from migrate.connector import Source, Target
from migrate.errors import FatalError, Interrupted, MigrateError, SkipItem, TransientError
from migrate.features import Features
from migrate.i18n import _, message_of
from migrate.journal import Journal
from migrate.model import Change, TargetEntry
from migrate.retry import RetryPolicy
from migrate.runner import forked
from migrate.runner.batching import results_of, retry_items, submit_in_batches
from migrate.runner.events import ClientEvents
from migrate.runner.finished import _Finished
from migrate.runner.intents import Intents
from migrate.runner.outcome import StepOutcome
from migrate.runner.progress import Progress, QuietProgress
from migrate.runner.settling import Settler

FLUSH_EVERY_ITEMS = 256
FLUSH_EVERY_SECONDS = 0.1


def idempotency_key(plan_id: str, change: Change) -> str:
    """Derived from the plan, step, item and its version: the same write always gets the same key,
    an update of a changed item a new one."""
    fingerprint = change.item.fingerprint
    material = "\0".join([plan_id, change.step, change.item.key, str(fingerprint.size),
                          str(fingerprint.mtime), str(fingerprint.checksum),
                          str(fingerprint.etag)])
    # surrogatepass: a key is always encodable here, even one from a hand-edited saved plan.
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Runner:
    def __init__(self, journal: Journal, run_id: int, plan_id: str, jobs: int,
                 redact: Callable[[str], str], progress: Progress | None = None,
                 retry: RetryPolicy | None = None, debug: bool = False,
                 gate: threading.BoundedSemaphore | None = None,
                 events: ClientEvents | None = None,
                 stop: threading.Event | None = None) -> None:
        self.journal, self.run_id, self.plan_id = journal, run_id, plan_id
        self.jobs = max(1, jobs)
        self.redact = redact
        self.progress = progress or QuietProgress()
        self.retry = retry or RetryPolicy()
        self.debug = debug
        #: Shared with every plan writing to the same host (see migrate/runner/hosts.py).
        self.gate = gate
        self.events = events
        #: Set when Ctrl-C reaches another thread (several plans at once): stop as on Ctrl-C.
        self.stop = stop
        self._features: Features | None = None
        self._outcome: StepOutcome | None = None
        self._settler: Settler | None = None

    def run(self, label: str, changes: list[Change], source: Source, target: Target,
            features: Features | None = None) -> StepOutcome:
        """Write `changes` to `target`; `features` are the target's, as found when it was
        opened (found here if not given)."""
        outcome = StepOutcome()
        if not changes:
            return outcome
        features = features or Features.fill(target)
        if features.write_order is not None:
            changes = sorted(changes, key=features.write_order)  # stable: source order else
        self.progress.start(label, len(changes))
        self._features, self._outcome = features, outcome
        self._intents = Intents(self.journal, self.run_id, features,
                                partial(idempotency_key, self.plan_id))
        self._finished = _Finished()
        self._dispatching: list[tuple[Change, str]] = []
        self._settler = (Settler(self._settle_with_retries, self._settle_failed)
                         if features.settle is not None else None)
        group = _group_size(features)  # items per hand-off to a writer thread
        smallest = max(64, 8 * self.jobs, group)
        batches = _batches(changes, smallest)
        started, collected = time.monotonic(), 0
        done_buffer: list[tuple[Change, TargetEntry]] = []
        last_flush = time.monotonic()
        # What each future writes: a group of local files (one future for all of them, decision
        # 0489), else one item.
        in_flight: dict[Future[Any], list[Change]] = {}
        each = LOCAL_GROUP if _grouped(features) else 1  # items per future
        pool: Executor
        ahead = 4 * self.jobs * group  # items in flight before the next batch is dispatched
        if _grouped(features) and features.abilities.write_processes and self.gate is None \
                and forked.usable():
            pool = forked.ForkedWriters(self.jobs, changes,
                                        partial(self._write_each, source=source, target=target))
            ahead *= forked.DEEPER
        else:
            pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="write")
        stopping = False
        try:
            while True:
                if not stopping and len(in_flight) * each < ahead:
                    batches.size = _batch_size(smallest, collected, time.monotonic() - started)
                    batch = next(batches, None)
                    if batch is not None:
                        self._dispatch(batch, pool, in_flight, source, target)
                if not in_flight:
                    break
                # Woken once `jobs` writes are done rather than at each: every wake-up takes
                # the interpreter's lock from a writer thread.
                finished = self._finished.wait(FLUSH_EVERY_SECONDS,
                                               min(self.jobs, len(in_flight)))
                if self.stop is not None and self.stop.is_set():
                    raise KeyboardInterrupt  # the same clean stop as Ctrl-C in this thread
                for future in finished:
                    for change, result in results_of(future, in_flight.pop(future)):
                        collected += 1
                        stopping |= self._collect(result, change, done_buffer, outcome)
                now = time.monotonic()
                if len(done_buffer) >= FLUSH_EVERY_ITEMS or now - last_flush >= FLUSH_EVERY_SECONDS:
                    self._flush(done_buffer)
                    last_flush = now
        except KeyboardInterrupt:
            outcome.interrupted = True
            self._stop(in_flight, done_buffer, outcome)
            raise Interrupted(_("Stopped. What was finished is saved; run 'migrate apply' "
                                "again to continue.")) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._flush(done_buffer, final=True)
            if self._settler is not None:
                self._settler.close()
            self.progress.finish()
        outcome.not_started = batches.remaining()
        outcome.notes = list(features.notes()) if features.notes is not None else []
        if outcome.notes or outcome.done:
            # Journaled, so the report can say them: what this apply's writes caused (people
            # e-mailed, posts left for later), replacing what an earlier apply said.
            self.journal.set_step_notes(changes[0].step,
                                        [self.redact(note) for note in outcome.notes])
        return outcome

    def _dispatch(self, batch: list[Change], pool: Executor,
                  in_flight: dict[Future[Any], list[Change]], source: Source,
                  target: Target) -> None:
        assert self._features is not None
        keyed = [(change, idempotency_key(self.plan_id, change)) for change in batch]
        # Until each is submitted, Ctrl-C must find them to put them back to planned.
        self._dispatching = keyed
        self._intents.record(keyed)
        if self.events:
            self.events.items("intent", batch)
        for future, changes in self._submit(pool, keyed, source, target):
            future.add_done_callback(self._finished.put)
            in_flight[future] = changes
        self._dispatching = []

    def _write(self, change: Change, key: str, source: Source, target: Target) -> TargetEntry:
        call = target.write if self.gate is None else partial(self._gated_write, target)
        try:
            # Most writes succeed at once: they pay for no retry machinery.
            return call(change, source, key)
        except TransientError as error:
            if self.retry.attempts <= 1:
                raise
            time.sleep(self.retry.delay(error, 1))
        return self.retry.retrying(attempts_made=1)(call, change, source, key)

    def _submit(self, pool: Executor, keyed: list[tuple[Change, str]], source: Source,
                target: Target) -> Iterator[tuple[Future[Any], list[Change]]]:
        """Futures and what each writes: a write each, a share of a `write_batch` call each,
        or one for a group of local files."""
        assert self._features is not None
        size = self._features.batch_size
        if _grouped(self._features):
            # A file written on this computer takes about 0.1 ms: handing each to a thread
            # cost about as much, so a thread takes a few in a row, under one future (Ctrl-C
            # still stops between groups; each item keeps its own result, retries and journal
            # rows).
            for start in range(0, len(keyed), LOCAL_GROUP):
                group = keyed[start:start + LOCAL_GROUP]
                changes = [change for change, _key in group]
                if isinstance(pool, forked.ForkedWriters):  # in other processes (0496)
                    yield pool.submit_group(changes, [key for _change, key in group]), changes
                    continue
                yield pool.submit(self._write_each, changes, [key for _change, key in group],
                                  source, target), changes
            return
        if not size:
            for change, key in keyed:
                yield pool.submit(self._write, change, key, source, target), [change]
            return

        def write_batch(changes: list[Change], keys: list[str]) -> list[TargetEntry | Exception]:
            return retry_items(lambda c, k: self.retry.retrying()(self._gated_batch, c, source, k),
                               changes, keys, self.retry.attempts, self.retry.delay)
        item_future = submit_in_batches(pool, keyed, size, write_batch)
        for change, key in keyed:
            yield item_future(change, key), [change]

    def _write_each(self, changes: list[Change], keys: list[str], source: Source,
                    target: Target) -> list[TargetEntry | Exception]:
        results: list[TargetEntry | Exception] = []
        for change, key in zip(changes, keys, strict=True):
            try:
                results.append(self._write(change, key, source, target))
            except Exception as error:  # this item's own failure, as from a single write
                results.append(error)
        return results

    def _gated_batch(self, changes: list[Change], source: Source,
                     keys: list[str]) -> list[TargetEntry | Exception]:
        assert self._features is not None and self._features.write_batch is not None
        if self.gate is None:
            return self._features.write_batch(changes, source, keys)
        with self.gate:
            return self._features.write_batch(changes, source, keys)

    def _gated_write(self, target: Target, change: Change, source: Source,
                     key: str) -> TargetEntry:
        # Held per attempt, never while waiting to retry: a throttled client frees its slot.
        assert self.gate is not None
        with self.gate:
            return target.write(change, source, key)

    def _collect(self, result: TargetEntry | Exception, change: Change,
                 done_buffer: list[tuple[Change, TargetEntry]], outcome: StepOutcome) -> bool:
        """Record one finished write; True when the step must stop."""
        self.progress.advance()
        if not isinstance(result, Exception):
            done_buffer.append((change, result))
            outcome.done += 1
            return False
        try:
            raise result
        except SkipItem as error:
            self._intents.failed([(change, "skipped", self.redact(message_of(error)))])
            self._event("skipped", change, str(error))
            outcome.skipped += 1
            return False
        except FatalError as error:
            message = self.redact(message_of(error))
            self._intents.failed([(change, "failed", message)], "fatal")
            self._event("failed", change, message)
            outcome.failed += 1
            outcome.failures.append((change, message))
            outcome.fatal = message
            return True
        except Exception as error:  # one item's failure never stops the others
            message = self.redact(self._describe(error))
            self._intents.failed([(change, "failed", message)], _error_kind(error))
            self._event("failed", change, message)
            outcome.failed += 1
            outcome.failures.append((change, message))
            return False

    def _describe(self, error: Exception) -> str:
        if isinstance(error, TransientError):
            return _("{error} (gave up after {n} attempts; a later run will try again)").format(
                error=message_of(error), n=self.retry.attempts)
        if self.debug:
            return "".join(traceback.format_exception(error)).strip()
        return message_of(error) or type(error).__name__

    def _event(self, event: str, change: Change, reason: str) -> None:
        if self.events:
            self.events.items(event, [change], reason)

    def _settle_with_retries(self, entries: Sequence[TargetEntry]) -> list[TargetEntry]:
        assert self._features is not None and self._features.settle is not None
        settle = self._features.settle
        return self.retry.call(lambda: settle(entries))  # tenacity only on a first failure

    def _settle_failed(self, group: list[tuple[Change, TargetEntry]], error: Exception) -> None:
        """Written but not read back: reported as failed, left INTENT (in doubt) in the journal,
        so the next start verifies each one, as after a crash."""
        message = self.redact(self._describe(error))
        if self._outcome is not None:
            self._outcome.done -= len(group)
            self._outcome.failed += len(group)
            self._outcome.failures.extend((change, message) for change, _entry in group)

    def _flush(self, done_buffer: list[tuple[Change, TargetEntry]], final: bool = False) -> None:
        if self._settler is not None:  # DONE only once the target has read the versions back
            self._settler.take(done_buffer, final)
        if done_buffer:
            self.journal.record_done(done_buffer, self.run_id)
            if self.events:
                self.events.items("done", [change for change, _entry in done_buffer])
            done_buffer.clear()
        if self.events:
            self.events.flush()  # with the journal's group commit, never per item

    def _stop(self, in_flight: dict[Future[Any], list[Change]],
              done_buffer: list[tuple[Change, TargetEntry]], outcome: StepOutcome) -> None:
        """After Ctrl-C: unstarted writes go back to planned; writes under way may finish."""
        submitted = {id(change) for changes in in_flight.values() for change in changes}
        not_started = [(c, "planned", _("not started: the run was stopped"))
                       for f, changes in in_flight.items() if f.cancel() for c in changes]
        not_started += [(c, "planned", _("not started: the run was stopped"))
                        for c, _key in self._dispatching if id(c) not in submitted]
        self._dispatching = []
        self._intents.failed(not_started)
        outcome.not_started += len(not_started)
        for future, changes in list(in_flight.items()):
            if not future.cancelled():
                # A write that failed stays INTENT: it is verified on the next start.
                done_buffer.extend((change, result) for change, result in results_of(
                    future, changes) if not isinstance(result, Exception))
        self._flush(done_buffer, final=True)


def _error_kind(error: Exception) -> str:
    """For the report's advice (see `journal.ERROR_KINDS`): retry later, fix this item, or a bug."""
    if isinstance(error, TransientError):
        return "transient"
    return "item" if isinstance(error, MigrateError) else "unexpected"


#: Items a writer thread takes at once from a target whose writes are local files.
LOCAL_GROUP = 16


def _grouped(features: Features) -> bool:
    """Local files, written a group at a time by one thread (`LOCAL_GROUP`)."""
    return not features.batch_size and features.abilities.local_files


def _group_size(features: Features) -> int:
    if features.batch_size:
        return features.batch_size  # items per write (migrate/runner/batching.py)
    return LOCAL_GROUP if features.abilities.local_files else 1


#: How much work one INTENT commit may cover, in seconds of the step's observed pace.
BATCH_SECONDS = 0.25
LARGEST_BATCH = 2048


def _batch_size(smallest: int, collected: int, elapsed: float) -> int:
    """Items per INTENT commit: `smallest` at first and for slow targets; for fast ones (a
    local disk: thousands of files a second) as many as finish in `BATCH_SECONDS`, so the
    journal's fsyncs stay a few per second instead of one per 64 files, and a crash leaves at
    most that much work in doubt to verify."""
    if collected < smallest or elapsed <= 0:
        return smallest
    return max(smallest, min(LARGEST_BATCH, int(collected / elapsed * BATCH_SECONDS)))


def _batches(changes: list[Change], size: int) -> _CountingBatches:
    return _CountingBatches(changes, size)


class _CountingBatches(Iterator[list[Change]]):
    """Batches of changes; `len()` of what is left tells how many were never dispatched."""

    def __init__(self, changes: list[Change], size: int) -> None:
        self.changes, self.size, self.position = changes, size, 0

    def __next__(self) -> list[Change]:
        if self.position >= len(self.changes):
            raise StopIteration
        batch = self.changes[self.position : self.position + self.size]
        self.position += len(batch)
        return batch

    def __iter__(self) -> _CountingBatches:
        return self

    def remaining(self) -> int:
        return len(self.changes) - self.position

