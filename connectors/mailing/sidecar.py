"""What a list keeps of its members beyond what the service holds (Mailman keeps only a name).

Merge fields, tags, language and consent evidence of every member written are kept in the
plan's journal, as the step's own state (`StepContext.state_store`, decision 0838): one value per
member, named `member:<key>`, written *before* the service is called, so a member found on the
service always has its record. A suppressed member is never kept: its record is removed (and
overwritten on disk). In the journal the records move, are backed up and are shared by a fleet's
workers with everything else the journal holds.

Versions before 0838 kept them in a JSON Lines file in the state folder,
`<state dir>/<step>.<connector>-members.jsonl` (one line per write, the last line of a key wins,
`forget` lines voiding a suppressed address, a torn last line ignored). Such a file is read once
when the step opens for an apply, its records go into the journal, and it is deleted; a dry run
reads it without moving it, so the plan still matches the apply.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from migrate.consent import address_hash
from migrate.journal.step_state import StepState
from migrate.member_meta import member_of
from migrate.model import SourceItem

KEPT = ("email", "name", "status", "source_status", "fields", "tags", "consent", "language",
        "origin", "vip", "last_changed")
#: The prefix of the member records' names in the step's state.
PREFIX = "member:"


def old_sidecar_path(state_dir: Path | None, step: str, connector: str) -> Path | None:
    """Where versions before the journal kept a step's member records."""
    if state_dir is None:
        return None
    return state_dir / f"{step}.{connector}-members.jsonl"


class MemberSidecar:
    """Member attributes a target cannot keep, by member key, in the step's journal state.

    Without a store (a dry run before any journal exists) nothing is kept."""

    def __init__(self, store: StepState | None, old_file: Path | None = None) -> None:
        self.store = store
        #: An earlier version's file, read by a dry run (an apply moved it into the journal).
        self._unmoved: dict[str, dict[str, Any]] = {}
        if old_file is not None and old_file.exists():
            if store is not None and store.writable:
                _move_into(store, old_file)
            else:  # the apply will move it: the plan reads what the apply will find
                self._unmoved = read_old_file(old_file)

    def records(self) -> dict[str, dict[str, Any]]:
        """key → the member's record; forgotten members left out."""
        if self.store is None:
            return dict(self._unmoved)
        return {**self._unmoved, **self.store.entries(PREFIX)}

    def record(self, item: SourceItem, idempotency_key: str) -> None:
        """Keep what the target cannot: called before the member is written to the service
        (a durable commit, as the journal's INTENT: the service may act on the write)."""
        member = member_of(item)
        record = {"key": item.key, "fp": item.fingerprint.etag, "write": idempotency_key[:16],
                  **{name: getattr(member, name) for name in KEPT},
                  # Unknown at the source: null, as when members carried a `meta` dict.
                  "last_changed": member.last_changed or None}
        if self.store is not None:
            self.store.put_many({PREFIX + item.key: record})

    def forget(self, item: SourceItem) -> None:
        """A suppressed member: nothing of it is kept."""
        if self.store is not None:
            self.store.put_many({}, removed=[PREFIX + item.key])

    def close(self) -> None:
        """Nothing to flush: every record is committed when written."""


def _move_into(store: StepState, old_file: Path) -> None:
    """An earlier version's records into the journal (in one transaction), then the file
    removed. Records already in the journal are newer and stay."""
    found = read_old_file(old_file)
    present = store.entries(PREFIX)
    store.put_many({PREFIX + key: record for key, record in found.items()
                    if key not in present})
    for leftover in (old_file, old_file.with_name(old_file.name + ".tmp")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def read_old_file(path: Path) -> dict[str, dict[str, Any]]:
    """key → the member's last line of an earlier version's file; forgotten members left out."""
    found: dict[str, dict[str, Any]] = {}
    forgotten: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash: its write is verified and redone
            if not isinstance(record, dict):
                continue
            if "forget" in record:
                forgotten.add(str(record["forget"]))
                continue
            if isinstance(record.get("key"), str):
                found[record["key"]] = record
                forgotten.discard(address_hash(record["key"]))
    return {k: r for k, r in found.items() if address_hash(k) not in forgotten}
