"""Staging for member targets that write files (csv, vcard, mailpoet): crash-safe and idempotent.

Each write stages one row in the plan's journal, as the step's own state
(`StepContext.state_store`, decision 0838), named `staged:<SHA-256 of the member's address>`.
The output files are a rendering of those rows, rebuilt whole — every file written to a
temporary name, flushed and renamed into place — when the target publishes (when the step
closes, or before it reads its own files back). So a crash never leaves half a file, and a
re-run finds in the files exactly what the journal says was written; a write staged but not yet
published before a crash is simply missing from the files, and the next run's `verify` finds
the row and publishes it (same row, no duplicate). See docs/decisions/0520-member-file-targets.md.

The rows are not scratch: every publish renders all of them, the members of earlier runs too,
so they must last as long as the files they make. In the journal they move with it and are
shared by a fleet's workers. Versions before 0838 kept them in a SQLite file of their own,
`<state dir>/<step>.<connector>-<list>-staging.sqlite`: moved into the journal, then deleted,
when the step opens for an apply (a dry run reads it in place).

A suppressed member keeps no address in the rows unless the target needs it to block the person
(MailPoet's "unsubscribed" import file): only its hash.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.journal.step_state import StepState

#: The prefix of the staged rows' names in the step's state.
PREFIX = "staged:"


@dataclass(frozen=True)
class StagedMember:
    hash: str                      # SHA-256 of the address key (migrate.consent.address_hash)
    state: str                     # confirmed | unconfirmed | blocked
    fp: str | None                 # the source version written (fingerprint etag)
    write_key: str | None          # the idempotency key of the last write
    record: dict[str, Any] | None  # what the files show; None: a blocked member, hash only


class MemberStage:
    """The staged rows of one step's file target, in the journal.

    Without a store (a dry run before any journal exists, or a target opened by hand) the rows
    live in memory while the target is open: nothing is kept, nothing is created."""

    def __init__(self, store: StepState | None, old_file: Path | None = None) -> None:
        self.store = store
        self._lock = threading.Lock()
        #: Rows of an earlier version's file a dry run reads in place, or rows without a store.
        self._here: dict[str, StagedMember] = {}
        if old_file is not None and old_file.exists():
            found = read_old_file(old_file)
            if store is not None and store.writable:
                present = store.entries(PREFIX)
                store.put_many({PREFIX + digest: _value(row) for digest, row in found.items()
                                if digest not in present})
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        old_file.with_name(old_file.name + suffix).unlink()
            else:  # the apply will move it: the plan reads what the apply will find
                self._here = found

    def put(self, rows: Iterable[StagedMember]) -> None:
        """Upsert rows in one transaction. It does not wait for the disk (as the staging file
        did not): a power cut may lose the last rows, and the journal's DONE rows written
        after them with them, so those members are verified and staged again."""
        rows = list(rows)
        with self._lock:
            if self.store is None:
                self._here.update((row.hash, row) for row in rows)
                return
            self.store.put_many({PREFIX + row.hash: _value(row) for row in rows},
                                durable=False)

    def get(self, digest: str) -> StagedMember | None:
        if self.store is not None:
            value = self.store.get(PREFIX + digest)
            if value is not None:
                return _staged(digest, value)
        return self._here.get(digest)

    def all(self) -> list[StagedMember]:
        """Every row, in a stable order (by hash, so files do not reshuffle between runs)."""
        rows = dict(self._here)
        if self.store is not None:
            rows.update((digest, _staged(digest, value))
                        for digest, value in self.store.entries(PREFIX).items())
        return [rows[digest] for digest in sorted(rows)]

    def fingerprints(self) -> dict[str, str | None]:
        """hash → the version written, for reading the files back."""
        return {row.hash: row.fp for row in self.all()}

    def close(self) -> None:
        """Nothing to flush: every row is committed when staged."""


def _value(row: StagedMember) -> list[Any]:
    return [row.state, row.fp, row.write_key, row.record]


def _staged(digest: str, value: list[Any]) -> StagedMember:
    state, fp, write_key, record = value
    return StagedMember(digest, state, fp, write_key, record)


def read_old_file(path: Path) -> dict[str, StagedMember]:
    """hash → row of an earlier version's staging file. Opened as it was written (WAL): a
    read-only opening fails when a killed process left its log without the shared memory."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        rows = db.execute("SELECT hash, state, fp, write_key, record FROM members").fetchall()
    return {row[0]: StagedMember(row[0], row[1], row[2], row[3],
                                 None if row[4] is None else json.loads(row[4]))
            for row in rows}


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` under `path` atomically: a temporary file beside it, flushed, renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def sync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
