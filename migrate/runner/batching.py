"""Writes in batches for targets that can (`Capabilities.batch_size`, `Target.write_batch`).

The runner journals INTENT for every item before dispatching, as for single writes; this module
turns one `write_batch` call per group into one future per item, so the runner collects,
journals DONE or failed, and reports each item exactly as it does for single writes. Verifying an
item in doubt after a crash stays per item (`Target.verify`): crash safety does not depend on
batches. A whole batch that raises fails each of its items with that error; items a batch
answers with a `TransientError` are written again, alone among their batch, a few times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any

from migrate.errors import TransientError
from migrate.model import Change, TargetEntry

Result = TargetEntry | Exception
WriteBatch = Callable[[list[Change], list[str]], list[Result]]


def submit_in_batches(pool: Executor, keyed: Sequence[tuple[Change, str]], size: int,
                      write_batch: WriteBatch) -> Callable[[Change, str], Future[TargetEntry]]:
    """Submit `keyed` to `pool` in groups of `size`; returns how to find each item's future."""
    futures: dict[tuple[str, str], Future[TargetEntry]] = {}
    for start in range(0, len(keyed), max(1, size)):
        group = [(change, key, Future[TargetEntry]()) for change, key in
                 keyed[start:start + size]]
        for change, key, future in group:
            futures[(change.item.key, key)] = future
        pool.submit(_run_group, group, write_batch)
    return lambda change, key: futures[(change.item.key, key)]


def _run_group(group: list[tuple[Change, str, Future[TargetEntry]]],
               write_batch: WriteBatch) -> None:
    # An item cancelled before its batch started (Ctrl-C) is left out; once running, an item's
    # future can no longer be cancelled, so the runner waits for it.
    live = [(c, k, f) for c, k, f in group if f.set_running_or_notify_cancel()]
    if not live:
        return
    try:
        results = write_batch([c for c, _k, _f in live], [k for _c, k, _f in live])
        if len(results) != len(live):
            raise RuntimeError(f"write_batch answered {len(results)} results for "
                               f"{len(live)} items")
    except BaseException as error:  # every item of the batch fails with the batch's error
        for _change, _key, future in live:
            future.set_exception(error)
        return
    for (_change, _key, future), result in zip(live, results, strict=True):
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


def results_of(future: Future[Any], changes: list[Change]
               ) -> list[tuple[Change, TargetEntry | Exception]]:
    """What a finished future wrote, item by item: a group's list of results, or one result;
    an error of the whole call is each of its items' error."""
    try:
        found = future.result()
    except Exception as error:
        return [(change, error) for change in changes]
    if isinstance(found, list):
        return list(zip(changes, found, strict=True))
    return [(changes[0], found)]


def retry_items(call: WriteBatch, changes: list[Change], keys: list[str], attempts: int,
                delay: Callable[[BaseException, int], float]) -> list[Result]:
    """`call` once for all, then again for the items it answered with a TransientError (up to
    `attempts` in all), after `delay(error, attempt)` (the runner's rule: Retry-After, else
    backoff) for the first of them."""
    results = call(changes, keys)
    for attempt in range(1, attempts):
        again = [i for i, result in enumerate(results) if isinstance(result, TransientError)]
        if not again:
            break
        time.sleep(delay(results[again[0]], attempt))  # type: ignore[arg-type]
        redone = call([changes[i] for i in again], [keys[i] for i in again])
        for index, result in zip(again, redone, strict=True):
            results[index] = result
    return results
