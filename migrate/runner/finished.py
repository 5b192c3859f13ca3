"""The runner's futures as they finish (the loop that takes them is in executor.py)."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any


class _Finished:
    """Writes as they finish, gathered by a done-callback: the main loop takes all that finished
    in one wake-up, at a constant cost per item (`concurrent.futures.wait` re-registers a waiter
    on every future in flight at each call)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        self.ready = threading.Event()
        #: How many finished writes wake the main loop before its timeout.
        self.enough = 1

    def put(self, future: Future[Any]) -> None:
        self.queue.put(future)
        if self.queue.qsize() >= self.enough:
            self.ready.set()

    def wait(self, timeout: float, enough: int = 1) -> list[Future[Any]]:
        """What finished, waiting up to `timeout` for `enough` of them (at least one)."""
        self.enough = max(1, enough)
        if self.queue.qsize() < self.enough:
            self.ready.wait(timeout)
        # Cleared before taking: a write finishing from here on sets it again for next time.
        self.ready.clear()
        found = []
        while True:
            try:
                found.append(self.queue.get_nowait())
            except queue.Empty:
                return found
