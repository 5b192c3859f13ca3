"""The journal's storage: its SQLite schema, the columns later versions added, what a store must
answer (`JournalStore`), and SQLite's refusals as plain messages (`migrate/journal/` holds the
logic that uses them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from migrate.errors import JournalDamagedError, MigrateError
from migrate.i18n import _

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
-- Written before decision 0838 (now each step's state holds it): read for older journals.
CREATE TABLE IF NOT EXISTS reconciliations (step TEXT PRIMARY KEY, data TEXT NOT NULL);
-- Post steps: the source's entries against what the last apply planned (migrate/post_counts.py).
CREATE TABLE IF NOT EXISTS post_counts (step TEXT PRIMARY KEY, data TEXT NOT NULL);
-- What a target said about a step as a whole at its last apply (`Target.notes`), for the report.
CREATE TABLE IF NOT EXISTS step_notes (step TEXT PRIMARY KEY, notes TEXT NOT NULL);
-- A connector's own state per step (rate-limit buckets…): migrate/journal/step_state.py.
CREATE TABLE IF NOT EXISTS step_state (
    step TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (step, name)
) WITHOUT ROWID;
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


class JournalStore(Protocol):
    """What the journal asks of its store: a DB-API connection speaking SQLite's dialect.

    `sqlite3.Connection` is the store of one machine; `migrate.fleet.store.PgConnection`
    speaks the same statements to PostgreSQL for a fleet (decision 0901). The journal's logic
    (INTENT, DONE, in doubt, baselines, the run lock) exists once, here."""

    in_transaction: bool

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def close(self) -> None: ...


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
