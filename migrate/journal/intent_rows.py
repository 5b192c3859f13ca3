"""An INTENT row's `change`: only what the row's own columns do not already say (decision 0497).

The next start reads an INTENT row left without DONE to verify that write (`Journal.in_doubt`),
so the row must give back the whole `Change`. Its step, key, action, kind, path, target name,
reason, rename reason and notes are columns of the row already: the `change` text holds the
rest (the source's fingerprint, and the expected target, `meta`, typed data, skip reason and
original path when an item has them). Writing `Change.to_json()` whole cost about half of an
INTENT row (the encoding, and SQLite storing a row twice as long).

Rows written before keep the whole change (it has a "step"): read as they were.
"""

from __future__ import annotations

import json
from typing import Any

from migrate.journal.fpjson import fingerprint_json
from migrate.model import Change

#: What `in_doubt` reads of a row, in the order `change_of` takes it.
IN_DOUBT_COLUMNS = ("change, idempotency_key, key, action, source_path, target_name, reason, "
                    "rename_reason, notes, kind")
#: `Change.to_json()`'s keys that are the row's columns.
_IN_COLUMNS = ("step", "action", "source_key", "kind", "target_path", "reason", "rename", "notes")
_encode = json.JSONEncoder(ensure_ascii=False).encode


def change_json(change: Change) -> str:
    """The `change` of an INTENT row of `change`."""
    item = change.item
    if (change.expected_target is None and not item.meta and item.data is None
            and item.skip_reason is None and change.original_path is None):
        # Most items (every file of a folder): only the source's version to add.
        return '{"source_fingerprint": ' + fingerprint_json(item.fingerprint) + "}"
    data = change.to_json()
    for name in _IN_COLUMNS:
        del data[name]
    if change.original_path is None:
        del data["source_path"]  # the row's `source_path` column says it
    return _encode(data)


def change_of(step: str, row: tuple[Any, ...]) -> Change:
    """The `Change` of an INTENT row read with `IN_DOUBT_COLUMNS`."""
    text, _key, key, action, source_path, target_name, reason, rename, notes, kind = row
    data = json.loads(text)
    if "step" not in data:  # written by this version: the columns say the rest
        # `source_path` holds the original path when the item has one (`Change.source_path`):
        # then the item's own path is in the text.
        data.setdefault("source_path", source_path)
        data.update(step=step, action=action, source_key=key, kind=kind, target_path=target_name,
                    reason=reason or "", rename=rename,
                    notes=json.loads(notes) if notes else [])
    return Change.from_json(data)
