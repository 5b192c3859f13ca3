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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from migrate.diff import Baseline
from migrate.errors import JournalDamagedError, MigrateError
from migrate.fastmake import maker
from migrate.i18n import _, count_of, is_to_do, shown, stored
from migrate.model import Change, Fingerprint, TargetEntry
from migrate.printable import reversible
from migrate.private import private_folder
from migrate.run_lock import LockHolder, RunLock

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    step TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,            -- intent | done | failed | skipped | conflict | stale | planned
    action TEXT,
    source_path TEXT,
    target_name TEXT,
    reason TEXT,
    rename_reason TEXT,
    notes TEXT,                     -- JSON list: what else the user should know (shares, …)
    idempotency_key TEXT,
    change TEXT,                    -- the change being written, to verify it if in doubt
    source_fp TEXT,                 -- baseline: the source version last migrated
    target_fp TEXT,                 -- baseline: the target version that migration left
    target_ref TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    run_id INTEGER,
    updated REAL,
    PRIMARY KEY (step, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_state ON items (state);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, command TEXT, started REAL, finished REAL, outcome TEXT, counts TEXT
);
CREATE TABLE IF NOT EXISTS lock (
    id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT, pid INTEGER, host TEXT,
    command TEXT, started REAL, heartbeat REAL
);
CREATE TABLE IF NOT EXISTS cursors (step TEXT PRIMARY KEY, state TEXT NOT NULL);
-- SHA-256 of suppressed addresses (never the address): no target may subscribe them again.
CREATE TABLE IF NOT EXISTS suppressions (
    hash TEXT PRIMARY KEY, reason TEXT NOT NULL, step TEXT NOT NULL, first_seen REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reconciliations (step TEXT PRIMARY KEY, data TEXT NOT NULL);
-- Post steps: the source's entries against what the last apply planned (migrate/post_counts.py).
CREATE TABLE IF NOT EXISTS post_counts (step TEXT PRIMARY KEY, data TEXT NOT NULL);
-- What a target said about a step as a whole at its last apply (`Target.notes`), for the report.
CREATE TABLE IF NOT EXISTS step_notes (step TEXT PRIMARY KEY, notes TEXT NOT NULL);
"""

def damaged(path: Path, reason: str) -> JournalDamagedError:
    return JournalDamagedError(_(
        "the journal {path} is damaged ({reason}). Run 'migrate repair' with this plan file: "
        "it keeps the damaged file aside and rebuilds the journal from what the targets already "
        "hold, sending nothing again").format(path=path, reason=reason), path)


#: SQLite's primary result codes that say "not now", "not allowed" or "no room", rather than
#: "damaged".
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL = 5, 6, 8, 10, 13


def _refusal(path: Path, error: sqlite3.DatabaseError) -> MigrateError:
    code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return MigrateError(_("the journal {path} is busy: another migrate command is using it; "
                              "try again when it has finished").format(path=path))
    if code == SQLITE_READONLY:
        return JournalDamagedError(_(
            "the journal {path} cannot be written (read-only: its permissions or its disk); "
            "make it writable and run the command again").format(path=path), path)
    if code in (SQLITE_IOERR, SQLITE_FULL):
        return MigrateError(_("the journal {path} cannot be written: the disk is full or failing "
                              "({reason}); free some space and run the command again").format(
            path=path, reason=error))
    return damaged(path, str(error))


def journal_path(plan_path: Path, state_dir: Path | None) -> Path:
    """`.migrate/<plan name>.journal.sqlite` beside the plan, or in `--state-dir`."""
    folder = state_dir if state_dir is not None else plan_path.parent / ".migrate"
    return folder / f"{plan_path.stem}.journal.sqlite"


@dataclass(frozen=True)
class InDoubt:
    step: str
    change: Change
    idempotency_key: str


class JournalStore(Protocol):
    """What the journal asks of its store: a DB-API connection speaking SQLite's dialect.

    `sqlite3.Connection` is the store of one machine; `migrate.fleet.store.PgConnection`
    speaks the same statements to PostgreSQL for a fleet (decision 0901). The journal's logic
    (INTENT, DONE, in doubt, baselines, the run lock) exists once, here."""

    in_transaction: bool

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def close(self) -> None: ...


class Journal:
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

    # -- the run lock (migrate/run_lock.py) -----------------------------------------------

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
                 json.dumps(c.item.fingerprint.to_json()), run_id, now, c.item.kind.value,
                 c.item.fingerprint.size) for c in changes]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO items (step, key, state, action, source_path, target_name, reason, "
                "source_fp, run_id, updated, kind, size) "
                "VALUES (?,?,'seen',?,?,?,'marked as seen',?,?,?,?,?) "
                "ON CONFLICT (step, key) DO UPDATE SET state = 'seen', "
                "source_fp = excluded.source_fp, reason = excluded.reason, "
                "fp_columns = NULL, "  # the baseline is read from source_fp again
                "run_id = excluded.run_id, updated = excluded.updated", rows)

    def done_keys(self, step: str) -> dict[str, Fingerprint]:
        rows = self.db.execute("SELECT key, source_fp FROM items WHERE step = ? AND state = 'done'",
                               (step,))
        return {key: Fingerprint(**json.loads(fp)) for key, fp in rows}

    def done_among(self, step: str, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are done, asked a chunk at a time (never every key of the step)."""
        found: set[str] = set()
        keys = iter(keys)
        while chunk := list(itertools.islice(keys, StreamedBaselines.CHUNK)):
            marks = ",".join("?" * len(chunk))
            found.update(key for (key,) in self.db.execute(
                f"SELECT key FROM items WHERE step = ? AND state = 'done' AND key IN ({marks})",
                (step, *chunk)))
        return found

    def in_doubt(self, step: str) -> list[InDoubt]:
        rows = self.db.execute("SELECT change, idempotency_key FROM items "
                               "WHERE step = ? AND state = 'intent'", (step,))
        return [InDoubt(step, Change.from_json(json.loads(c)), k) for c, k in rows]

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
                 _as_json(c.to_json()),
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
        rows = [("done", json.dumps(c.item.fingerprint.to_json()),
                 json.dumps(entry.fingerprint.to_json()),
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

    def set_reconciliation(self, step: str, data: dict[str, Any]) -> None:
        # Its notes and problems as messages, shown in the language of whoever reads them.
        data = {**data, **{key: [stored(text) for text in data.get(key) or ()]
                           for key in ("notes", "problems")}}
        self.db.execute("INSERT OR REPLACE INTO reconciliations VALUES (?, ?)",
                        (step, json.dumps(data, ensure_ascii=False)))

    def set_step_notes(self, step: str, notes: list[str]) -> None:
        """Replace what the target said about `step` (its last apply's `Target.notes`)."""
        self.db.execute("INSERT OR REPLACE INTO step_notes VALUES (?, ?)",
                        (step, json.dumps([stored(n) for n in notes], ensure_ascii=False)))

    def step_notes(self) -> dict[str, list[tuple[str, int]]]:
        """step → the notes its target gave at the last apply, in the reader's language, each
        with how many people or items it is about (1 unless the message says a count)."""
        return {step: [(shown(n) or "", count_of(n) or 1) for n in json.loads(notes)]
                for step, notes in
                self.db.execute("SELECT step, notes FROM step_notes ORDER BY step")}

    def reconciliations(self) -> dict[str, dict[str, Any]]:
        found = {step: json.loads(data) for step, data in
                 self.db.execute("SELECT step, data FROM reconciliations ORDER BY step")}
        for data in found.values():
            for key in ("notes", "problems"):
                data[key] = [shown(text) or "" for text in data.get(key) or ()]
        return found

    def set_post_count(self, step: str, data: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO post_counts VALUES (?, ?)",
                        (step, json.dumps(data, ensure_ascii=False)))

    def post_counts(self) -> dict[str, dict[str, Any]]:
        return {step: json.loads(data) for step, data in
                self.db.execute("SELECT step, data FROM post_counts ORDER BY step")}

    # -- reading back ---------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for step, state, n in self.db.execute(
                "SELECT step, state, COUNT(*) FROM items GROUP BY step, state ORDER BY step"):
            counts.setdefault(step, {})[state] = n
        return counts

    def rows(self) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(
            "SELECT step, key, state, action, source_path, target_name, reason, rename_reason, "
            "notes, attempts, last_error, target_ref, updated, kind, size, source_fp, error_kind "
            "FROM items "
            "ORDER BY step, source_path")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            found = dict(zip(names, row, strict=True))
            found["notes"] = json.loads(found["notes"]) if found["notes"] else []
            # Reasons and notes in the reader's language, whatever the writer's; which notes
            # a person must act on is kept beside them.
            found["notes_to_do"] = [is_to_do(note) for note in found["notes"]]
            found["reason_to_do"] = is_to_do(found["reason"])
            found["notes"] = [shown(note) for note in found["notes"]]
            for column in ("reason", "rename_reason", "last_error"):
                found[column] = shown(found[column])
            yield found


#: What `record_failed` may say about an error, for the report's "what to do next":
#: `transient` (busy or unreachable, gave up for now), `fatal` (stopped the step: credentials,
#: quota), `item` (this item only), `unexpected` (a bug).
ERROR_KINDS = ("transient", "fatal", "item", "unexpected")
#: Columns added after the first release; older journals get them on open.
_REPORT_COLUMNS = (("kind", "TEXT"), ("size", "INTEGER"), ("error_kind", "TEXT"),
                   # The baselines as columns (issue 16): a re-run of 100,000 items reads them
                   # without decoding 200,000 JSON texts. `fp_columns` = 1 marks rows that
                   # have them; older rows are read from `source_fp`/`target_fp`.
                   ("fp_columns", "INTEGER"), ("src_size", "INTEGER"), ("src_mtime", "REAL"),
                   ("src_checksum", "TEXT"), ("src_etag", "TEXT"), ("tgt_size", "INTEGER"),
                   ("tgt_mtime", "REAL"), ("tgt_checksum", "TEXT"), ("tgt_etag", "TEXT"))


def _missing_report_columns(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """What the report needs beyond the first schema (item kind, source size, error kind)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    return [(name, sql_type) for name, sql_type in _REPORT_COLUMNS if name not in have]


def _storable(message: str | None) -> str | None:
    """A failure's message as the journal keeps it: a translatable message as its id and
    parameters (`stored`), and never a lone surrogate SQLite cannot store (`reversible`)."""
    text = stored(message)
    return None if text is None else reversible(text)


#: A baseline's columns, decoded by `_baseline`; the JSON only for rows written before 0481.
#: What a re-run need not decode is left in SQLite: the target name when it is the key (most
#: items: one string less per row) and the state as a number.
_BASELINE_SELECT = (
    "SELECT key, target_name = key, CASE WHEN target_name = key THEN NULL ELSE target_name "
    "END, CASE state WHEN 'done' THEN 2 WHEN 'seen' THEN 1 ELSE 0 END, fp_columns, "
    "src_size, src_mtime, src_checksum, src_etag, "
    "tgt_size, tgt_mtime, tgt_checksum, tgt_etag, target_fp IS NOT NULL, "
    "CASE WHEN fp_columns IS NULL THEN source_fp END, "
    "CASE WHEN fp_columns IS NULL THEN target_fp END")
# `=`, not SQLite's `IS`: PostgreSQL (the fleet's store) has no `IS` between two values, and a
# NULL target name (never the key) reads NULL either way.
_DONE, _SEEN = 2, 1
# One of each per item of a re-run: see migrate/fastmake.py.
_make_fingerprint = maker(Fingerprint, ("size", "mtime", "checksum", "etag"))
_make_baseline = maker(Baseline, ("target_name", "source", "target", "seen", "done"))


def _baseline(row: tuple[Any, ...]) -> Baseline:
    (key, name_is_key, name, state, columns, size, mtime, checksum, etag, t_size, t_mtime,
     t_checksum, t_etag, has_target, source, target) = row
    if name_is_key:
        name = key
    if columns:
        return _make_baseline(name, _make_fingerprint(size, mtime, checksum, etag),
                              _make_fingerprint(t_size, t_mtime, t_checksum, t_etag)
                              if has_target else None, state == _SEEN, state == _DONE)
    # written before the columns existed
    return Baseline(name, Fingerprint(**json.loads(source)),
                    Fingerprint.from_json(json.loads(target)) if target else None,
                    state == _SEEN, state == _DONE)


class StreamedBaselines(Mapping[str, Baseline]):
    """A step's baselines, looked up in the order the diff asks for them.

    `keys` is that order (the source's items): a miss reads the key asked with the next `CHUNK`
    keys in one query, and only that chunk is kept. A key asked out of order is read with the
    next chunk, so the answers are those of `Journal.baselines` whatever the order."""

    CHUNK = 512

    def __init__(self, db: sqlite3.Connection, step: str, keys: Iterable[str]) -> None:
        self.db, self.step = db, step
        self.keys = iter(keys)
        self.chunk: dict[str, Baseline | None] = {}

    def get(self, key: str, default: Any = None) -> Any:
        chunk = self.chunk
        if key not in chunk:
            chunk = self._next_chunk(key)
        found = chunk[key]
        return default if found is None else found

    def _next_chunk(self, key: str) -> dict[str, Baseline | None]:
        wanted = [key, *itertools.islice(self.keys, self.CHUNK)]
        chunk: dict[str, Baseline | None] = dict.fromkeys(wanted)
        marks = ",".join("?" * len(chunk))
        rows = self.db.execute(f"{_BASELINE_SELECT} FROM items WHERE step = ? AND key IN "
                               f"({marks}) AND source_fp IS NOT NULL", (self.step, *chunk))
        for row in rows:
            chunk[row[0]] = _baseline(row)
        self.chunk = chunk
        return chunk

    def __getitem__(self, key: str) -> Baseline:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        rows = self.db.execute("SELECT key FROM items WHERE step = ? AND source_fp IS NOT NULL",
                               (self.step,))
        return (key for (key,) in rows.fetchall())

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM items WHERE step = ? AND source_fp IS "
                                   "NOT NULL", (self.step,)).fetchone()[0])


def _columns(fingerprint: Fingerprint) -> tuple[Any, Any, Any, Any]:
    return fingerprint.size, fingerprint.mtime, fingerprint.checksum, fingerprint.etag


def _notes(change: Change) -> str | None:
    return _as_json([stored(note) for note in change.notes]) if change.notes else None


#: One encoder for every row: `json.dumps(..., ensure_ascii=False)` builds a new one per call.
_as_json = json.JSONEncoder(ensure_ascii=False).encode
