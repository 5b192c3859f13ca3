"""A sidecar file for targets that keep less than a member carries (Mailman keeps only a name).

Merge fields, tags, language and consent evidence of every member written go to a JSON Lines
file in the state folder (beside the journal and reports, `.migrate/` unless `--state-dir`):

    .migrate/<step>.<connector>-members.jsonl

One line per write, appended (under a lock, flushed) *before* the service is called, so a member
found on the service always has its line. The last line of a key wins; a torn last line left by
a crash is ignored. A suppressed member is never kept: a `forget` line (the SHA-256 of the
address only) removes it, and `close()` rewrites the file without it (temporary file + rename,
so a crash never leaves half a file). The file holds personal data: created readable by the
owner only, like the journal.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import IO, Any

from migrate.consent import address_hash
from migrate.member_meta import member_of
from migrate.model import SourceItem

KEPT = ("email", "name", "status", "source_status", "fields", "tags", "consent", "language",
        "origin", "vip", "last_changed")


def sidecar_path(state_dir: Path | None, step: str, connector: str) -> Path | None:
    """Where a step's sidecar lives; None when there is no state folder (a dry run)."""
    if state_dir is None:
        return None
    return state_dir / f"{step}.{connector}-members.jsonl"


class MemberSidecar:
    """Member attributes a target cannot keep, by member key."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None
        self._changed = False

    def records(self) -> dict[str, dict[str, Any]]:
        """key → the member's last line; forgotten members left out."""
        if self.path is None or not self.path.exists():
            return {}
        found: dict[str, dict[str, Any]] = {}
        forgotten: set[str] = set()
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line torn by a crash: its write is verified and redone
                if "forget" in record:
                    forgotten.add(record["forget"])
                    continue
                found[record["key"]] = record
                forgotten.discard(address_hash(record["key"]))
        return {k: r for k, r in found.items() if address_hash(k) not in forgotten}

    def record(self, item: SourceItem, idempotency_key: str) -> None:
        """Keep what the target cannot: called before the member is written to the service."""
        member = member_of(item)
        record = {"key": item.key, "fp": item.fingerprint.etag, "write": idempotency_key[:16],
                  **{name: getattr(member, name) for name in KEPT},
                  # Unknown at the source: null, as when members carried a `meta` dict.
                  "last_changed": member.last_changed or None}
        self._append(record)

    def forget(self, item: SourceItem) -> None:
        """A suppressed member: nothing of it is kept (its hash marks older lines as void)."""
        self._append({"forget": address_hash(item.key)})

    def _append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._handle = os.fdopen(descriptor, "a", encoding="utf-8")
                self._repair_torn_end()
            self._handle.write(line)
            self._handle.flush()
            self._changed = True

    def _repair_torn_end(self) -> None:
        """A crash may have cut the last line: start ours on a fresh line."""
        assert self.path is not None and self._handle is not None
        with open(self.path, "rb") as existing:
            existing.seek(0, os.SEEK_END)
            if existing.tell() == 0:
                return
            existing.seek(-1, os.SEEK_END)
            if existing.read(1) != b"\n":
                self._handle.write("\n")

    def close(self) -> None:
        """Rewrite the file with one line per kept member (temporary file, then rename)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if not self._changed or self.path is None:
                return
            kept = self.records()
            temporary = self.path.with_name(self.path.name + ".tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                for record in kept.values():
                    out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
            with contextlib.suppress(OSError):
                directory = os.open(self.path.parent, os.O_RDONLY)
                os.fsync(directory)
                os.close(directory)
            self._changed = False
