"""Reading back, in bulk and off the runner's main thread, what a target's writes did not report.

Some targets learn the version they wrote only by listing it afterwards (a WebDAV server whose
PUT answer has no ETag). `Target.settle` (found once as `Features.settle`) does that for a
group of finished writes; this class runs it on one background thread so the runner keeps
dispatching and collecting meanwhile, and hands the settled entries back to be journaled as
DONE. Until then those items stay INTENT: a crash in between leaves them in doubt, to be
verified on the next start, never wrongly done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from migrate.model import Change, TargetEntry

Done = list[tuple[Change, TargetEntry]]


class Settler:
    """Feeds groups of finished writes to `settle` one group at a time, in the background."""

    def __init__(self, settle: Callable[[Sequence[TargetEntry]], list[TargetEntry]],
                 failed: Callable[[Done, Exception], None]) -> None:
        self.settle, self.failed = settle, failed
        self.waiting: Done = []
        self.running: tuple[Done, Future[list[TargetEntry]]] | None = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="settle")

    def take(self, done: Done, final: bool = False) -> None:
        """Swap `done` (just finished) for what is settled and may be journaled now.

        `final` waits for everything, for the end of a step or a stop."""
        self.waiting += done
        done.clear()
        if self.running is not None and (final or self.running[1].done()):
            done += self._collect()
        if self.running is None and self.waiting:
            group, self.waiting = self.waiting, []
            future = self.pool.submit(self.settle, [entry for _change, entry in group])
            self.running = (group, future)
            if final:
                done += self._collect()

    def _collect(self) -> Done:
        assert self.running is not None
        group, future = self.running
        self.running = None
        try:
            entries = future.result()
        except Exception as error:  # the items stay INTENT: verified on the next start
            self.failed(group, error)
            return []
        return [(change, entry) for (change, _old), entry in zip(group, entries, strict=True)]

    def close(self) -> None:
        self.pool.shutdown(wait=True)
