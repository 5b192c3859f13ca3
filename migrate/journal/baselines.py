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
#: What a stream reads of every row first: its key, whether it is plain (done, named as its
#: key, both versions in columns with a size and a time, no checksum or ETag at the source) and
#: what a plain one is compared by: four numbers and the target's ETag, if any (a WebDAV
#: server's; decision 0488) (`StreamedBaselines`).
_LIGHT_SELECT = (
    "SELECT key, fp_columns = 1 AND state = 'done' AND target_name = key AND "
    "src_size IS NOT NULL AND src_mtime IS NOT NULL AND src_checksum IS NULL AND "
    "src_etag IS NULL AND target_fp IS NOT NULL AND tgt_size IS NOT NULL AND "
    "tgt_mtime IS NOT NULL, src_size, src_mtime, tgt_size, tgt_mtime, tgt_etag")
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
    next chunk, so the answers are those of `Journal.baselines` whatever the order.

    A chunk is read light first (`_LIGHT_SELECT`): the diff asks `plain`, and an unchanged
    file of a re-run is told from four numbers, without the three objects of its baseline nor
    its target checksum's text (decision 0499). The chunk's whole rows are read, in one more
    query, at the first `get` of a key that has one."""

    CHUNK = 512

    def __init__(self, db: sqlite3.Connection, step: str, keys: Iterable[str]) -> None:
        self.db, self.step = db, step
        self.keys = iter(keys)
        self.chunk: dict[str, tuple[Any, ...] | None] = {}
        self.whole: dict[str, tuple[Any, ...] | None] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        chunk = self.chunk
        if key not in chunk:
            chunk = self._next_chunk(key, light=False)
        if chunk[key] is None:
            return default
        whole = self.whole
        if whole is None:
            whole = self.whole = self._rows(_BASELINE_SELECT,
                                            [k for k, found in chunk.items() if found])
        row = whole.get(key)
        return default if row is None else _baseline(row)

    def plain(self, key: str) -> tuple[int, float, int, float, str | None] | None:
        """(source size, source time, target size, target time, target ETag or None) of a
        plain baseline (see `_LIGHT_SELECT`); None when the key has none or another kind (ask
        `get`)."""
        chunk = self.chunk
        if key not in chunk:
            chunk = self._next_chunk(key, light=True)
        light = chunk[key]
        if light is None or chunk is self.whole:  # read whole: `get` answers
            return None
        return light[2:] if light[1] else None

    def _next_chunk(self, key: str, light: bool) -> dict[str, tuple[Any, ...] | None]:
        """The chunk of `key`: light when `plain` asks (the diff), whole when `get` does (a
        caller that makes every baseline reads each row once)."""
        wanted = [key, *itertools.islice(self.keys, self.CHUNK)]
        chunk: dict[str, tuple[Any, ...] | None] = dict.fromkeys(wanted)
        chunk.update(self._rows(_LIGHT_SELECT if light else _BASELINE_SELECT, wanted))
        self.chunk, self.whole = chunk, None if light else chunk
        return chunk

    def _rows(self, select: str, keys: list[str]) -> dict[str, tuple[Any, ...] | None]:
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(f"{select} FROM items WHERE step = ? AND key IN ({marks}) AND "
                               "source_fp IS NOT NULL", (self.step, *keys))
        return {row[0]: row for row in rows}

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
