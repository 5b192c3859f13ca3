"""Staging for member targets that write files (csv, vcard, mailpoet): crash-safe and idempotent.

Each write upserts one row in a small SQLite file in the state folder
(`<state dir>/<step>.<connector>-staging.sqlite`, private like the journal), keyed by the SHA-256
of the member's address. The output files are a rendering of those rows, rebuilt whole — every
file written to a temporary name, flushed and renamed into place — when the target publishes
(when the step closes, or before it reads its own files back). So a crash never leaves half a
file, and a re-run finds in the files exactly what the journal says was written; a write staged
but not yet published before a crash is simply missing from the files, and the next run writes
it again (same row, no duplicate). See docs/decisions/0520-member-file-targets.md.

A suppressed member keeps no address in the staging file unless the target needs it to block
the person (MailPoet's "unsubscribed" import file): only its hash.
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    hash TEXT PRIMARY KEY,   -- SHA-256 of the address key (migrate.consent.address_hash)
    state TEXT NOT NULL,     -- confirmed | unconfirmed | blocked
    fp TEXT,                 -- the source version written (fingerprint etag)
    write_key TEXT,          -- the idempotency key of the last write
    record TEXT              -- JSON of what the files show; NULL for a blocked member kept as
                             -- a hash only
)
"""


@dataclass(frozen=True)
class StagedMember:
    hash: str
    state: str
    fp: str | None
    write_key: str | None
    record: dict[str, Any] | None


class MemberStage:
    """The staging rows of one step's file target. Opened lazily: a plan never creates it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._db is None:
            if not create and not self.path.exists():
                return None
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # WAL + NORMAL: a commit survives the process being killed (what the runner's
            # in-doubt logic guards against); a power cut may lose the last rows, which the next
            # run finds missing in the files and writes again.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute(SCHEMA)
        return self._db

    def put(self, rows: Iterable[StagedMember]) -> None:
        """Upsert rows in one transaction."""
        with self._lock:
            db = self._open(create=True)
            assert db is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO members(hash, state, fp, write_key, record) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(hash) DO UPDATE SET state=excluded.state, fp=excluded.fp, "
                    "write_key=excluded.write_key, record=excluded.record",
                    [(r.hash, r.state, r.fp, r.write_key,
                      None if r.record is None else json.dumps(r.record, ensure_ascii=False))
                     for r in rows])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def get(self, digest: str) -> StagedMember | None:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return None
            row = db.execute("SELECT hash, state, fp, write_key, record FROM members "
                             "WHERE hash = ?", (digest,)).fetchone()
        return None if row is None else _staged(row)

    def all(self) -> list[StagedMember]:
        """Every row, in a stable order (by hash, so files do not reshuffle between runs)."""
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return []
            rows = db.execute("SELECT hash, state, fp, write_key, record FROM members "
                              "ORDER BY hash").fetchall()
        return [_staged(row) for row in rows]

    def fingerprints(self) -> dict[str, str | None]:
        """hash → the version written, for reading the files back."""
        return {row.hash: row.fp for row in self.all()}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _staged(row: tuple[Any, ...]) -> StagedMember:
    return StagedMember(row[0], row[1], row[2], row[3],
                        None if row[4] is None else json.loads(row[4]))


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
