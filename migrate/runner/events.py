"""`--log-json FILE`: a machine-readable stream of what happens, one JSON object per line.

An agency feeds its own dashboard from it. Events: `run_start` and `run_end` per client, and one
per item: `planned`, `intent`, `done`, `failed`, `skipped`, `conflict`, `stale`. Each line has
`ts` (UTC, ISO 8601), `client` (the plan's organisation), `plan`, `event`, and for items `step`,
`source_key`, `target_path`, `reason`.

What it never holds: a secret (every line passes the combined redactor of all clients), and a
suppressed address (a member who unsubscribed, bounced or was banned appears only as the
SHA-256 the journal keeps, `sha256:…`). The runner only appends to an in-memory buffer; the
buffer is written when the runner flushes its group commit to the journal, so the hot path pays
no extra system call per item.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from migrate.consent import address_hash
from migrate.member_meta import member_of
from migrate.model import Change, ItemKind

Redact = Callable[[str], str]


class EventLog:
    """The stream file shared by every client of one command. Thread-safe."""

    def __init__(self, path: Path, redact: Redact) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.redact = redact
        # Private from the start: it names every item, and people's addresses.
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # backslashreplace: text from outside (a name with a lone surrogate) never stops the log.
        self._file: TextIO = os.fdopen(descriptor, "a", encoding="utf-8",
                                       errors="backslashreplace")
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def for_client(self, client: str, plan: str) -> ClientEvents:
        return ClientEvents(self, client, plan)

    def add(self, events: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self._buffer.extend(events)

    def flush(self) -> None:
        """Write what is buffered (called with each journal group commit and at the end)."""
        with self._lock:
            events, self._buffer = self._buffer, []
            if not events:
                return
            lines = [json.dumps(event, ensure_ascii=False, default=str) for event in events]
            self._file.write(self.redact("\n".join(lines)) + "\n")
            self._file.flush()

    def close(self) -> None:
        self.flush()
        self._file.close()


class ClientEvents:
    """The stream as one client (plan) writes to it."""

    def __init__(self, log: EventLog, client: str, plan: str) -> None:
        self.log, self.client, self.plan = log, client, plan

    def run(self, event: str, **fields: Any) -> None:
        """`run_start` / `run_end` (with counts, outcome, duration…); written at once."""
        self.log.add([{"ts": _now(), "client": self.client, "plan": self.plan, "event": event,
                       **fields}])
        self.log.flush()

    def items(self, event: str, changes: Iterable[Change], reason: str | None = None) -> None:
        """One event per change; `reason` replaces the change's own (an error message)."""
        now = _now()
        self.log.add(self._item(event, change, reason, now) for change in changes)

    def failures(self, event: str, failures: Iterable[tuple[Change, str]]) -> None:
        now = _now()
        self.log.add(self._item(event, change, why, now) for change, why in failures)

    def flush(self) -> None:
        self.log.flush()

    def _item(self, event: str, change: Change, reason: str | None, now: str) -> dict[str, Any]:
        item = change.item
        key, target, why = item.key, change.target_name, change.reason if reason is None else reason
        if _is_suppressed_member(change):
            hidden = "sha256:" + address_hash(item.key)
            key, target = hidden, None
            why = why.replace(item.key, hidden).replace(item.path, hidden)
        return {"ts": now, "client": self.client, "plan": self.plan, "event": event,
                "step": change.step, "action": change.action.value, "source_key": key,
                "target_path": target, "reason": why}


def _is_suppressed_member(change: Change) -> bool:
    item = change.item
    return item.kind is ItemKind.MEMBER and member_of(item).is_suppressed()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
