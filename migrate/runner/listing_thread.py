"""A target's listing in a thread of its own, while the main thread lists the source (0486).

A target that declares `Capabilities.lists_beside_source` is listed from the moment its step
is listed: its answers arrive while the source is walked and the items are named, and the
main thread takes the entries when the diff needs them. What the caller sees is what the
sequential `retry.DEFAULT.call(lambda: list(target.list_entries()))` gives: the same entries,
the same exception object (retried whole by the same policy), raised in the main thread.

`stop()` is for the main thread's own failure (a source that cannot be listed, Ctrl-C): the
listing asks no more, the retry's wait ends at once, and the thread is joined before the
main thread's error goes up, so no listing is left running or half-read behind it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from migrate.retry import RetryPolicy

if TYPE_CHECKING:
    from migrate.connector import Target
    from migrate.model import TargetEntry


class _Stopped(Exception):
    """The main thread no longer wants the listing (never seen outside this module)."""


class ListingThread:
    def __init__(self, target: Target, policy: RetryPolicy) -> None:
        self._stop = threading.Event()
        self._entries: list[TargetEntry] = []
        self._error: BaseException | None = None
        # A daemon: should the main thread be stopped while joining it (a second Ctrl-C),
        # the process still ends; the listing's own walkers finish their request and stop.
        self._thread = threading.Thread(target=self._run, args=(target, policy),
                                        name="target-listing", daemon=True)
        self._thread.start()

    def _run(self, target: Target, policy: RetryPolicy) -> None:
        try:
            self._entries = policy.call(lambda: self._collect(target), sleep=self._stop.wait)
        except BaseException as error:  # handed to the main thread, which raises it
            self._error = error

    def _collect(self, target: Target) -> list[TargetEntry]:
        if self._stop.is_set():
            raise _Stopped
        listed = target.list_entries()
        entries: list[TargetEntry] = []
        try:
            for entry in listed:
                entries.append(entry)
                if self._stop.is_set():
                    raise _Stopped
        finally:
            # A generator stopped early is closed here, not whenever its frame is freed: its
            # walkers cancel the folders not asked yet and are joined (connectors/dav/listing.py).
            close = getattr(listed, "close", None)
            if close is not None:
                close()
        return entries

    def entries(self) -> list[TargetEntry]:
        """The target's entries once listed, or what its listing raised (same object)."""
        self._thread.join()  # a signal (Ctrl-C) interrupts it: the caller then calls stop()
        error, self._error = self._error, None
        if error is not None:
            raise error
        entries, self._entries = self._entries, []
        return entries

    def stop(self) -> None:
        """Stop the listing and wait for its thread; what it raised, if anything, is dropped:
        the main thread's own error is the one to say."""
        self._stop.set()
        self._thread.join()
        self._error, self._entries = None, []
