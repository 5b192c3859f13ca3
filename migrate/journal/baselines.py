"""A re-run's baselines, read from the journal's columns a chunk at a time (decisions 0481, 0483):
what the last migration left of each item, for the diff."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from migrate.diff import Baseline
from migrate.journal.fastmake import maker
from migrate.journal.fpjson import fingerprint_json
from migrate.model import Fingerprint

#: What a DONE row holds in `source_fp` and `target_fp` since decision 0497: its versions are
#: columns (`fp_columns` = 1); the texts only say that it has both (`IS NOT NULL`), so every
#: query keeps asking the same, and a reader that decodes them finds JSON.
IN_COLUMNS = "{}"
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
# One of each per item of a re-run: see migrate/journal/fastmake.py.
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


def target_json_back(db: sqlite3.Connection, step_keys: Iterable[tuple[str, str]]) -> None:
    """Give the rows of `(step, key)` whose versions are columns their target's version as
    JSON again (`target_fp`), for `record_seen`: a row marked seen is read from its JSON, and a
    DONE row's JSON says nothing since decision 0497."""
    by_step: dict[str, list[str]] = {}
    for step, key in step_keys:
        by_step.setdefault(step, []).append(key)
    for step, keys in by_step.items():
        for start in range(0, len(keys), StreamedBaselines.CHUNK):
            chunk = keys[start:start + StreamedBaselines.CHUNK]
            marks = ",".join("?" * len(chunk))
            found = db.execute("SELECT key, tgt_size, tgt_mtime, tgt_checksum, tgt_etag FROM "
                               f"items WHERE step = ? AND fp_columns IS NOT NULL AND key IN "
                               f"({marks})", (step, *chunk)).fetchall()
            db.executemany("UPDATE items SET target_fp = ? WHERE step = ? AND key = ?",
                           [(fingerprint_json(Fingerprint(*version)), step, key)
                            for key, *version in found])
