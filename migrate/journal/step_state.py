"""A connector's own state for one step, kept in the plan's journal (the cursor rule,
/work/shared/DESIGN.md): no state file of its own, so it moves, is repaired and is shared by a
fleet's workers with the journal itself.

`StepState` is what the core hands a connector as `StepContext.state_store`: named JSON values
under the step. `update` reads, changes and writes one value inside one journal transaction
(SQLite's BEGIN IMMEDIATE, PostgreSQL's per-plan lock): two workers or two processes spending
the same account's limits never lose each other's counts.

A connector that keeps one value per item (a list's member attributes, a file target's staged
rows) keeps each under its own name with a common prefix: `entries(prefix)` reads them all,
`put_many` writes and removes many in one transaction. Removed values are overwritten on disk
(SQLite's `secure_delete`): a suppressed member's data does not linger in free pages.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrate.journal import Journal

_SELECT = "SELECT value FROM step_state WHERE step = ? AND name = ?"
_UPSERT = "INSERT OR REPLACE INTO step_state VALUES (?, ?, ?)"
_DELETE = "DELETE FROM step_state WHERE step = ? AND name = ?"
# `substr`, not LIKE: a prefix may hold `%` or `_`, and both stores know substr(text, 1, n).
_PREFIXED = "SELECT name, value FROM step_state WHERE step = ? AND substr(name, 1, ?) = ?"


class StepState:
    """Named JSON values of one step. `writable=False` (the dry run) reads and never writes."""

    def __init__(self, journal: Journal | None, step: str, writable: bool = True) -> None:
        self.journal, self.step, self.writable = journal, step, writable

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        # A connection of its own: a target may run on a worker thread, and the journal's
        # main connection belongs to the runner's thread.
        assert self.journal is not None
        db = self.journal._connect()
        db.execute("PRAGMA secure_delete=ON")  # PostgreSQL's store ignores PRAGMAs
        try:
            yield db
        finally:
            db.close()

    def get(self, name: str, default: Any = None) -> Any:
        if self.journal is None:
            return default
        with self._connection() as db:
            row = db.execute(_SELECT, (self.step, name)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, name: str, value: Any) -> None:
        if self.journal is None or not self.writable:
            return
        with self._connection() as db, self.journal.transaction(db):
            db.execute(_UPSERT, (self.step, name, json.dumps(value)))

    def update(self, name: str, change: Callable[[Any], Any], default: Any = None) -> Any:
        """`change(stored)` written back in place of the stored value, with no other writer in
        between; returns the new value (only computed, not written, when read-only)."""
        if self.journal is None or not self.writable:
            return change(self.get(name, default))
        with self._connection() as db, self.journal.transaction(db):
            row = db.execute(_SELECT, (self.step, name)).fetchone()
            value = change(json.loads(row[0]) if row else default)
            db.execute(_UPSERT, (self.step, name, json.dumps(value)))
        return value

    def entries(self, prefix: str) -> dict[str, Any]:
        """Every value whose name starts with `prefix`, by the rest of its name."""
        if self.journal is None:
            return {}
        with self._connection() as db:
            rows = db.execute(_PREFIXED, (self.step, len(prefix), prefix)).fetchall()
        return {name[len(prefix):]: json.loads(value) for name, value in rows}

    def put_many(self, values: Mapping[str, Any], removed: Iterable[str] = (),
                 durable: bool = True) -> None:
        """Write `values` and remove the names in `removed`, in one transaction.

        `durable=False` commits without waiting for the disk, as the journal's DONE rows: a
        killed process keeps it; a power cut may lose it, with the DONE rows written after it
        (one write-ahead log keeps the order), so those items are verified and written again."""
        if self.journal is None or not self.writable:
            return
        with self._connection() as db, self.journal.transaction(db, durable=durable):
            db.executemany(_UPSERT, [(self.step, name, json.dumps(value, ensure_ascii=False))
                                     for name, value in values.items()])
            db.executemany(_DELETE, [(self.step, name) for name in removed])
