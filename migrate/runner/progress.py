"""Progress for long work: a live bar on a terminal, plain lines otherwise (logs, cron)."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from migrate.i18n import _, number


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, items: int = 1) -> None: ...
    def finish(self) -> None: ...


class QuietProgress:
    """Shows nothing (for --json and library callers)."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, items: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class TextProgress:
    """A bar redrawn in place on a terminal; elsewhere (logs, cron) a line at the start, at most
    one every PLAIN_INTERVAL seconds while it runs, and one at the end."""

    PLAIN_INTERVAL = 5.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.label, self.total, self.done = "", 0, 0
        self.started = self.last_shown = 0.0
        self.last_decile = -1

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = self.last_shown = time.monotonic()
        self.last_decile = -1
        self._show(force=True)

    def advance(self, items: int = 1) -> None:
        self.done += items
        self._show()

    def finish(self) -> None:
        if self.live or self.last_decile < 10:
            self._show(force=True)
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        fraction = self.done / self.total if self.total else 1.0
        if self.live:
            if force or now - self.last_shown >= 0.1:
                width = 30
                bar = "#" * int(width * fraction) + "-" * (width - int(width * fraction))
                self.stream.write(f"\r{self.label} [{bar}] {number(self.done)}/{number(self.total)}"
                                  f"{self._eta(now, fraction)}  ")
                self.stream.flush()
                self.last_shown = now
            return
        decile = int(fraction * 10)
        if force or now - self.last_shown >= self.PLAIN_INTERVAL:
            self.stream.write(_("{label}: {done} of {total} done ({percent}%)").format(
                label=self.label, done=number(self.done), total=number(self.total),
                percent=int(fraction * 100))
                + "\n")
            self.stream.flush()
            self.last_decile, self.last_shown = decile, now

    def _eta(self, now: float, fraction: float) -> str:
        elapsed = now - self.started
        if fraction <= 0 or fraction >= 1 or elapsed < 2:
            return ""
        remaining = int(elapsed / fraction - elapsed)
        if remaining < 60:
            return " " + _("about {s} s left").format(s=remaining)
        return " " + _("about {m} min {s} s left").format(m=remaining // 60, s=remaining % 60)
