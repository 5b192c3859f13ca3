"""The durable journal: one SQLite file per plan; exactly-once effects without transactions.

Before any external write the runner commits INTENT (with the idempotency key and the change);
after success it commits DONE (with what now stands on the target). On the next start every
INTENT without DONE is *in doubt*: the target's `verify` reads it back and the item becomes DONE
or is written again with the same key. INTENT rows are committed per batch and DONE rows in
groups, because an fsync per item would cost more than copying a small file; correctness holds
because anything not yet marked DONE is verified.

Only INTENT must survive a power cut, so only its commits wait for the disk (fsync). Every other
write (DONE, failed, skipped, notes) is committed without waiting: a process killed any way
still leaves it in the WAL, and if a power cut loses it, the item is INTENT again and verified
on the target, never written twice.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.diff import Baseline
from migrate.errors import JournalDamagedError
from migrate.i18n import _, stored
from migrate.journal.baselines import (
    _BASELINE_SELECT,
    IN_COLUMNS,
    StreamedBaselines,
    _baseline,
    target_json_back,
)
from migrate.journal.fpjson import fingerprint_json
from migrate.journal.intent_rows import IN_DOUBT_COLUMNS, change_json, change_of
from migrate.journal.reading import JournalReading
from migrate.journal.run_lock import LockHolder, RunLock
from migrate.journal.schema import (
    SCHEMA,
    _missing_report_columns,
    _refusal,
    damaged,
)
from migrate.model import Change, Fingerprint, TargetEntry
from migrate.printable import reversible
from migrate.private import private_folder


def journal_path(plan_path: Path, state_dir: Path | None) -> Path:
    """`.migrate/<plan name>.journal.sqlite` beside the plan, or in `--state-dir`."""
    folder = state_dir if state_dir is not None else plan_path.parent / ".migrate"
    return folder / f"{plan_path.stem}.journal.sqlite"


@dataclass(frozen=True)
class InDoubt:
    step: str
    change: Change
    idempotency_key: str


class Journal(JournalReading):
    """One plan's journal. Use from one thread; the lock heartbeat has its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_folder(path.parent)
        if path.is_dir() or (path.exists() and not path.is_file()):
            raise damaged(path, _("it is a folder or a special file, not a journal file"))
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        if not os.access(path, os.R_OK | os.W_OK):
            raise JournalDamagedError(_(
                "the journal {path} cannot be written (read-only: its permissions or its disk); "
                "make it writable and run the command again").format(path=path), path)
        try:
            self.db = self._connect()
            self._open()
        except sqlite3.DatabaseError as error:
            with contextlib.suppress(Exception):
                self.db.close()
            raise _refusal(path, error) from None
        self.lock = RunLock(self.db, self._connect, self.transaction)

    def _open(self) -> None:
        """The schema, and a quick check of every page: a truncated or overwritten journal is
        found here, in plain words, rather than halfway through a run."""
        (verdict,) = self.db.execute("PRAGMA quick_check(1)").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(verdict)
        with self.db:
            self.db.executescript(SCHEMA)
        if _missing_report_columns(self.db):
            with self.transaction() as db:  # checked again inside: another process may add them
                for name, sql_type in _missing_report_columns(db):
                    db.execute(f"ALTER TABLE items ADD COLUMN {name} {sql_type}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @contextmanager
    def transaction(self, db: sqlite3.Connection | None = None,
                    durable: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: read-then-write without another process slipping in between.

        `durable=False` commits without waiting for the disk (see the module's docstring)."""
        db = db or self.db
        if not durable:
            db.execute("PRAGMA synchronous=NORMAL")  # outside a transaction, as SQLite requires
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            # Ctrl-C can land between any two statements: never leave a transaction open,
            # or the journal's next write ("cannot start a transaction") fails too.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            if not durable and not db.in_transaction:
                db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        self.release_lock()
        self.db.close()

    # -- the run lock (migrate/journal/run_lock.py) -----------------------------------------------

    def acquire_lock(self, command: str) -> None:
        self.lock.acquire(command)

    def lock_holder(self) -> LockHolder | None:
        return self.lock.holder()

    def release_lock(self) -> None:
        self.lock.release()

    # -- identity -------------------------------------------------------------------------

    @property
    def plan_id(self) -> str:
        """A random id fixed when the journal is created: part of every idempotency key."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'plan_id'").fetchone()
            if row:
                return str(row[0])
            value = uuid.uuid4().hex
            db.execute("INSERT INTO meta VALUES ('plan_id', ?)", (value,))
            return value

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        cursor = self.db.execute("INSERT INTO runs (command, started) VALUES (?, ?)",
                                 (command, time.time()))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, Any]) -> None:
        self.db.execute("UPDATE runs SET finished = ?, outcome = ?, counts = ? WHERE id = ?",
                        (time.time(), outcome, json.dumps(counts), run_id))

    def last_run(self, command: str | None = None) -> dict[str, Any] | None:
        """The latest run, or the latest run of `command` (e.g. scheduled applies)."""
        if command is None:
            row = self.db.execute("SELECT id, command, started, finished, outcome, counts "
                                  "FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        else:
            row = self.db.execute("SELECT id, command, started, finished, outcome, counts "
                                  "FROM runs WHERE command = ? ORDER BY id DESC LIMIT 1",
                                  (command,)).fetchone()
        if row is None:
            return None
        keys = ("id", "command", "started", "finished", "outcome", "counts")
        run = dict(zip(keys, row, strict=True))
        run["counts"] = json.loads(run["counts"]) if run["counts"] else {}
        return run

    # -- items ----------------------------------------------------------------------------

    def baselines(self, step: str) -> dict[str, Baseline]:
        """Every baseline of a step, by item key (a re-run reads them through `baselines_for`,
        which holds only a chunk at a time)."""
        rows = self.db.execute(f"{_BASELINE_SELECT} FROM items "
                               "WHERE step = ? AND source_fp IS NOT NULL", (step,))
        return {row[0]: _baseline(row) for row in rows}

    def baselines_for(self, step: str, keys: Iterable[str]) -> StreamedBaselines:
        """The baselines of the items `keys`, read a chunk at a time in that order: a re-run of
        100,000 items never holds them all (0481: they were 85 MB of a 300 MB peak)."""
        return StreamedBaselines(self.db, step, keys)

    def record_seen(self, changes: Iterable[Change], run_id: int) -> None:
        """`apply --mark-seen`: remember items as known without writing them anywhere."""
        now = time.time()
        rows = [(c.step, c.item.key, c.action.value, c.source_path, c.target_name,
                 fingerprint_json(c.item.fingerprint), run_id, now, c.item.kind.value,
                 c.item.fingerprint.size) for c in changes]
        with self.transaction() as db:
            target_json_back(db, [(row[0], row[1]) for row in rows])
            db.executemany(
                "INSERT INTO items (step, key, state, action, source_path, target_name, reason, "
                "source_fp, run_id, updated, kind, size) "
                "VALUES (?,?,'seen',?,?,?,'marked as seen',?,?,?,?,?) "
                "ON CONFLICT (step, key) DO UPDATE SET state = 'seen', "
                "source_fp = excluded.source_fp, reason = excluded.reason, "
                "fp_columns = NULL, "  # the baseline is read from source_fp again
                "run_id = excluded.run_id, updated = excluded.updated", rows)

    def done_keys(self, step: str) -> dict[str, Fingerprint]:
        rows = self.db.execute("SELECT key, fp_columns, src_size, src_mtime, src_checksum, "
                               "src_etag, source_fp FROM items WHERE step = ? AND state = 'done'",
                               (step,))
        return {key: Fingerprint(*columns) if in_columns else Fingerprint(**json.loads(fp))
                for key, in_columns, *columns, fp in rows}

    def done_among(self, step: str, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are done, asked a chunk at a time (never every key of the step)."""
        return self._among(step, keys, " AND state = 'done'")

    def recorded_among(self, step: str, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a row, whatever its state (decision 0489)."""
        return self._among(step, keys, "")

    def _among(self, step: str, keys: Iterable[str], condition: str) -> set[str]:
        found: set[str] = set()
        keys = iter(keys)
        while chunk := list(itertools.islice(keys, StreamedBaselines.CHUNK)):
            marks = ",".join("?" * len(chunk))
            found.update(key for (key,) in self.db.execute(
                f"SELECT key FROM items WHERE step = ?{condition} AND key IN ({marks})",
                (step, *chunk)))
        return found

    def in_doubt(self, step: str) -> list[InDoubt]:
        rows = self.db.execute(f"SELECT {IN_DOUBT_COLUMNS} FROM items "
                               "WHERE step = ? AND state = 'intent'", (step,))
        return [InDoubt(step, change_of(step, row), row[1]) for row in rows]

    def record(self, changes: Iterable[Change], state: str, run_id: int) -> None:
        """Note outcomes that wrote nothing (skip, conflict, stale, adopted): kept for the report,
        without touching the baseline of the last real migration."""
        now = time.time()
        rows = [(c.step, c.item.key, state, c.action.value, c.source_path, c.target_name,
                 stored(c.reason), stored(c.rename_reason), _notes(c), run_id, now,
                 c.item.kind.value,
                 c.item.fingerprint.size) for c in changes]
        with self.transaction(durable=False) as db:
            db.executemany(
                "INSERT INTO items (step, key, state, action, source_path, target_name, reason, "
                "rename_reason, notes, run_id, updated, kind, size) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (step, key) DO UPDATE SET state = excluded.state, "
                "kind = excluded.kind, size = excluded.size, "
                "action = excluded.action, source_path = excluded.source_path, "
                "target_name = excluded.target_name, reason = excluded.reason, "
                "rename_reason = excluded.rename_reason, notes = excluded.notes, "
                "run_id = excluded.run_id, updated = excluded.updated", rows)

    def record_intents(self, intents: Iterable[tuple[Change, str]], run_id: int,
                       durable: bool = True) -> None:
        """INTENT for a batch, waiting for the disk unless `durable` is False: for writes that
        are themselves files on this computer, a power cut that loses the INTENT loses or keeps
        the copy alike, and the next run adopts a copy it finds (same size and time) or makes
        it again; an fsync here would only force every copied file out to the disk with it."""
        now = time.time()
        rows = [(c.step, c.item.key, c.action.value, c.source_path, c.target_name,
                 stored(c.reason), stored(c.rename_reason), _notes(c), key,
                 change_json(c),
                 run_id, now, c.item.kind.value, c.item.fingerprint.size) for c, key in intents]
        with self.transaction(durable=durable) as db:
            db.executemany(
                "INSERT INTO items (step, key, state, action, source_path, target_name, reason, "
                "rename_reason, notes, idempotency_key, change, attempts, run_id, updated, kind, "
                "size) VALUES (?,?,'intent',?,?,?,?,?,?,?,?,1,?,?,?,?) "
                "ON CONFLICT (step, key) DO UPDATE SET state = 'intent', action = excluded.action, "
                "kind = excluded.kind, size = excluded.size, error_kind = NULL, "
                "source_path = excluded.source_path, target_name = excluded.target_name, "
                "reason = excluded.reason, rename_reason = excluded.rename_reason, "
                "notes = excluded.notes, "
                "idempotency_key = excluded.idempotency_key, change = excluded.change, "
                "attempts = attempts + 1, run_id = excluded.run_id, updated = excluded.updated",
                rows)

    def record_done(self, results: Iterable[tuple[Change, TargetEntry]], run_id: int) -> None:
        now = time.time()
        # The versions are the columns (`fp_columns`); `source_fp` and `target_fp` say only that
        # there are two (decision 0497).
        rows = [("done", IN_COLUMNS, IN_COLUMNS,
                 json.dumps(entry.ref) if entry.ref else "{}", entry.name,
                 c.action.value, stored(c.reason), stored(c.rename_reason), _notes(c),
                 c.source_path, run_id, now,
                 c.item.kind.value, c.item.fingerprint.size, c.step, c.item.key,
                 *_columns(c.item.fingerprint), *_columns(entry.fingerprint))
                for c, entry in results]
        with self.transaction(durable=False) as db:
            db.executemany(
                "INSERT INTO items (state, source_fp, target_fp, target_ref, target_name, action, "
                "reason, rename_reason, notes, source_path, run_id, updated, kind, size, step, "
                "key, fp_columns, src_size, src_mtime, src_checksum, src_etag, tgt_size, "
                "tgt_mtime, tgt_checksum, tgt_etag) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (step, key) DO UPDATE "
                "SET state = excluded.state, source_fp = excluded.source_fp, "
                "fp_columns = 1, src_size = excluded.src_size, src_mtime = excluded.src_mtime, "
                "src_checksum = excluded.src_checksum, src_etag = excluded.src_etag, "
                "tgt_size = excluded.tgt_size, tgt_mtime = excluded.tgt_mtime, "
                "tgt_checksum = excluded.tgt_checksum, tgt_etag = excluded.tgt_etag, "
                "kind = excluded.kind, size = excluded.size, error_kind = NULL, "
                "target_fp = excluded.target_fp, target_ref = excluded.target_ref, "
                "target_name = excluded.target_name, action = excluded.action, "
                "reason = excluded.reason, rename_reason = excluded.rename_reason, "
                "notes = excluded.notes, "
                "source_path = excluded.source_path, last_error = NULL, change = NULL, "
                "run_id = excluded.run_id, updated = excluded.updated", rows)

    def record_failed(self, failures: Iterable[tuple[Change, str, str]], run_id: int,
                      error_kind: str | None = None) -> None:
        """`(change, state, message)` with state 'failed', 'skipped' or 'planned' (not started).
        `error_kind` (see `ERROR_KINDS`) lets the report say what to do next."""
        now = time.time()
        # A server's or a system's words may hold text SQLite cannot store (a lone surrogate).
        rows = [(state, _storable(message), error_kind, run_id, now, c.step, c.item.key)
                for c, state, message in failures]
        with self.transaction(durable=False) as db:
            db.executemany("UPDATE items SET state = ?, last_error = ?, error_kind = ?, "
                           "run_id = ?, updated = ? WHERE step = ? AND key = ?", rows)

    # -- cursors --------------------------------------------------------------------------

    def cursor(self, step: str) -> dict[str, Any]:
        row = self.db.execute("SELECT state FROM cursors WHERE step = ?", (step,)).fetchone()
        return json.loads(row[0]) if row else {}

    def set_cursor(self, step: str, state: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (step, json.dumps(state)))

    # -- consent --------------------------------------------------------------------------

    def suppressions(self) -> dict[str, str]:
        """hash -> why, for every address ever suppressed by any step of this plan."""
        return dict(self.db.execute("SELECT hash, reason FROM suppressions"))

    def add_suppressions(self, found: dict[str, tuple[str, str]]) -> None:
        """`{hash: (reason, step)}`; an address already known keeps its first reason."""
        now = time.time()
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, ?)",
                           [(h, reason, step, now) for h, (reason, step) in found.items()])

    def set_step_notes(self, step: str, notes: list[str]) -> None:
        """Replace what the target said about `step` (its last apply's `Target.notes`)."""
        self.db.execute("INSERT OR REPLACE INTO step_notes VALUES (?, ?)",
                        (step, json.dumps([stored(n) for n in notes], ensure_ascii=False)))

    def set_post_count(self, step: str, data: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO post_counts VALUES (?, ?)",
                        (step, json.dumps(data, ensure_ascii=False)))


#: What `record_failed` may say about an error, for the report's "what to do next":
def _storable(message: str | None) -> str | None:
    """A failure's message as the journal keeps it: a translatable message as its id and
    parameters (`stored`), and never a lone surrogate SQLite cannot store (`reversible`)."""
    text = stored(message)
    return None if text is None else reversible(text)


def _columns(fingerprint: Fingerprint) -> tuple[Any, Any, Any, Any]:
    return fingerprint.size, fingerprint.mtime, fingerprint.checksum, fingerprint.etag


def _notes(change: Change) -> str | None:
    return _as_json([stored(note) for note in change.notes]) if change.notes else None


#: One encoder for every row: `json.dumps(..., ensure_ascii=False)` builds a new one per call.
_as_json = json.JSONEncoder(ensure_ascii=False).encode
