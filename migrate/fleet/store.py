"""The PostgreSQL store of the journal: the same `Journal` class, another connection.

`migrate/journal/` holds the journal's logic once (INTENT before a write, DONE after, what is
in doubt, baselines, the run lock) and speaks SQLite's dialect to its store, a DB-API connection.
Here that dialect is spoken to PostgreSQL: `PgConnection` translates the few SQLite-only forms
(`?` parameters, `INSERT OR REPLACE`, `BEGIN IMMEDIATE`, `PRAGMA`, the schema's types) and
`PgJournal` opens one plan's journal in a schema of its own (`j_<hash of the plan's key>`), so
every table and query is the SQLite journal's, unchanged (decision 0901).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq

from migrate.journal import Journal
from migrate.journal.run_lock import RunLock
from migrate.journal.schema import _REPORT_COLUMNS, SCHEMA

_PARAM = re.compile(r"\?")
_OR_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO (\w+)\s+VALUES", re.IGNORECASE)
_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.IGNORECASE)
_RUNS_INSERT = re.compile(r"^\s*INSERT INTO runs\b", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT INTO (\w+)", re.IGNORECASE)
#: `attempts = attempts + 1` in an upsert: PostgreSQL wants the table named (ambiguous with
#: EXCLUDED otherwise).
_SELF_UPDATE = re.compile(r"\b(\w+) = \1 ([-+])")


def schema_name(journal_key: str) -> str:
    """The PostgreSQL schema holding one plan's journal."""
    return "j_" + hashlib.sha256(journal_key.encode("utf-8")).hexdigest()[:24]


def pg_schema_sql() -> list[str]:
    """The SQLite schema in PostgreSQL's types: REAL is 4 bytes there (timestamps need 8),
    INTEGER 4 (file sizes need 8), and the runs' id counts by itself."""
    text = SCHEMA.replace("WITHOUT ROWID", "")
    text = re.sub(r"\bid INTEGER PRIMARY KEY,", "id BIGSERIAL PRIMARY KEY,", text)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    text = re.sub(r"\bINTEGER\b", "BIGINT", text)
    statements = [s.strip() for s in text.split(";")]
    return [s for s in statements if s and not all(
        line.strip().startswith("--") or not line.strip() for line in s.splitlines())]


class _Result:
    """What `sqlite3.Cursor` offers the journal: fetchone/fetchall, iteration, description,
    lastrowid."""

    def __init__(self, rows: list[tuple[Any, ...]] | None, description: Any,
                 lastrowid: int | None = None) -> None:
        self._rows = rows or []
        self.description = description
        self.lastrowid = lastrowid
        self._position = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._position >= len(self._rows):
            return None
        self._position += 1
        return self._rows[self._position - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._position = self._rows[self._position:], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row


class PgConnection:
    """A psycopg connection answering the journal's SQLite-dialect statements."""

    def __init__(self, url: str, schema: str) -> None:
        self.schema = schema
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f'SET search_path TO "{schema}"')
        self._lock_key = int(hashlib.sha256(schema.encode()).hexdigest()[:15], 16)
        self._columns: dict[str, list[str]] = {}
        self._keys = {"lock": ["id"], "cursors": ["step"], "meta": ["key"],
                      "reconciliations": ["step"], "post_counts": ["step"],
                      "step_notes": ["step"], "suppressions": ["hash"],
                      "step_state": ["step", "name"]}
        self._guard = threading.RLock()

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != pq.TransactionStatus.IDLE

    def _translate(self, sql: str) -> tuple[str, bool]:
        """The statement in PostgreSQL's dialect, and whether it returns the new row's id."""
        returning = False
        match = _OR_REPLACE.match(sql)
        if match:
            table = match.group(1)
            keys, columns = self._keys[table], self._table_columns(table)
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES" + sql[match.end():]
                   + f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")
        elif _OR_IGNORE.match(sql):
            sql = _OR_IGNORE.sub("INSERT INTO", sql) + " ON CONFLICT DO NOTHING"
        elif _RUNS_INSERT.match(sql):
            sql, returning = sql + " RETURNING id", True
        insert = _INSERT_INTO.match(sql)
        if insert and "ON CONFLICT" in sql.upper():
            sql = _SELF_UPDATE.sub(rf"\1 = {insert.group(1)}.\1 \2", sql)
        return _PARAM.sub("%s", sql.replace("%", "%%")), returning

    def _table_columns(self, table: str) -> list[str]:
        if table not in self._columns:
            rows = self.conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position", (self.schema, table)).fetchall()
            self._columns[table] = [name for (name,) in rows]
        return self._columns[table]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Result:
        statement = sql.strip().upper()
        if statement.startswith("PRAGMA"):
            return _Result([], None)
        with self._guard:
            if statement.startswith("BEGIN"):
                # BEGIN IMMEDIATE's promise (no other writer between read and write) is a
                # per-plan lock held until COMMIT or ROLLBACK.
                self.conn.execute("BEGIN")
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                return _Result([], None)
            text, returning = self._translate(sql)
            cursor = self.conn.execute(text, tuple(params) if params else None)
            rows = cursor.fetchall() if cursor.description is not None else []
            lastrowid = int(rows[0][0]) if returning and rows else None
            return _Result(rows, cursor.description, lastrowid)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        text, _returning = self._translate(sql)
        with self._guard, self.conn.cursor() as cursor:
            cursor.executemany(text, [tuple(row) for row in rows])

    def close(self) -> None:
        self.conn.close()


class PgJournal(Journal):
    """One plan's journal in PostgreSQL; every method is `Journal`'s."""

    def __init__(self, url: str, journal_key: str, path: Path) -> None:
        #: Where connectors keep local state (as beside a SQLite journal); not the journal.
        self.path = path
        self.url, self.key = url, journal_key
        self.schema = schema_name(journal_key)
        if (url, self.schema) not in _READY:  # once per process: every batch opens it
            self.db = self._connect_bare()
            self._open()
            _READY.add((url, self.schema))
        self.db = self._connect()
        self.lock = RunLock(self.db, self._connect, self.transaction)  # type: ignore[arg-type]

    def _connect_bare(self) -> PgConnection:
        conn = psycopg.connect(self.url, autocommit=True)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ddl_lock(),))
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        finally:
            conn.close()
        return PgConnection(self.url, self.schema)

    def _open(self) -> None:  # type: ignore[override]
        conn = self.db.conn  # type: ignore[attr-defined]
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ddl_lock(),))
            for statement in pg_schema_sql():
                conn.execute(statement)
            for name, sql_type in _REPORT_COLUMNS:
                sql_type = {"REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}.get(sql_type,
                                                                                sql_type)
                conn.execute(f"ALTER TABLE items ADD COLUMN IF NOT EXISTS {name} {sql_type}")
            conn.execute("INSERT INTO meta VALUES ('journal_key', %s) ON CONFLICT DO NOTHING",
                         (self.key,))
        self.db.close()  # type: ignore[union-attr]

    def _connect(self) -> PgConnection:  # type: ignore[override]
        return PgConnection(self.url, self.schema)

    def exists(self) -> bool:
        return True


#: Journals whose schema this process already created or checked.
_READY: set[tuple[str, str]] = set()


def _ddl_lock() -> int:
    """One lock for every journal's schema changes: two workers opening the same new plan
    would otherwise race on CREATE TABLE IF NOT EXISTS (it is not atomic in PostgreSQL)."""
    return 0x7472616E73  # "trans"


def journal_exists(url: str, journal_key: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                           "AND table_name = 'items'", (schema_name(journal_key),)).fetchone()
    return row is not None
