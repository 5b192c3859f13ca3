"""Pausing the cyclic garbage collector while a listing or a diff builds 100,000s of objects.

Those objects (items, entries, fingerprints) are long-lived and hold no cycles, yet each
allocation burst makes the collector scan them again: 15 % of the CPU of a 100k re-run. Only
code that does no network I/O pauses it (a local walk, the diff, importing the API and a
connector's modules: functions and classes, no garbage), so no library's cyclic
garbage piles up meanwhile; objects are still freed by reference counting. Nested and
threaded uses (several plans at once) re-enable it when the last one ends, and only if it
was enabled before.

When the collector comes back, what was made meanwhile goes straight to the oldest generation
(`_promote`): otherwise the first young collection after the pause walks every item of the
listing (all "young"), and the next middle one walks them again, some 0.2 CPU s of a re-run of
100,000 files (decision 0499). They stay collectable: a full collection still walks them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                _promote()
                gc.enable()


def _promote() -> None:
    """Every object the collector tracks moves to its oldest generation, unscanned.

    `gc.freeze()` moves them all to the permanent generation (and zeroes the young count),
    `gc.unfreeze()` moves that generation into the oldest one. Skipped when the program had
    frozen objects itself (a server that forks after loading): unfreezing them is its call."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
