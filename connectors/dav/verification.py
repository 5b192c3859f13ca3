"""What is checked after an upload, and the optional read-back of content (`read_back`).

A write is always checked by its size (the bytes sent are counted against the source's size,
and a plain PUT's Content-Length makes the server refuse a short body). Nextcloud stores the
`OC-Checksum` it is sent without comparing it with the bytes (apps/dav File::put, NC 20–34;
docs/decisions/0441), so the checksum the listing returns proves nothing about what arrived.
With `read_back: all` every file written is downloaded again and its SHA-256 compared with the
source's; `read_back: N` does so for N files of the run chosen at random. A difference makes
the write fail as transient, so it is sent again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from migrate.errors import PlanError, TransientError
from migrate.i18n import _, ngettext
from migrate.model import Change, ItemKind

BLOCK = 1 << 20


def parse_read_back(value: object) -> int | None:
    """`none` → 0, `all` → None (every file), a whole number N → N (a random sample)."""
    text = str(value if value is not None else "none").strip().lower()
    if text in ("none", "0", ""):
        return 0
    if text == "all":
        return None
    if text.isdigit():
        return int(text)
    raise PlanError(_("'read_back' is 'all', 'none' or a number of files to check at random, "
                      "not '{value}'").format(value=value))


class ReadBack:
    """Which files of the run are read back, and what was found."""

    def __init__(self, wanted: int | None) -> None:
        self.wanted = wanted
        self.keys: set[str] = set()
        self.checked = 0
        self._lock = threading.Lock()

    def choose(self, changes: Sequence[Change], unchecked: str) -> list[str]:
        """Pick the files to read back among the step's writes; the plan's sentence on what
        will be verified (`unchecked`, the server's own, when nothing is read back)."""
        files = [c.item.key for c in changes
                 if c.action.writes and c.item.kind is ItemKind.FILE]
        if not files:
            return []
        if self.wanted is None:
            self.keys = set(files)
        else:
            import random  # only a sample needs it; a start does not

            self.keys = set(random.sample(files, min(self.wanted, len(files))))
        if not self.keys:
            return [unchecked]
        return [ngettext("{n} of {total} files will be downloaded again after upload and "
                         "compared with the source byte for byte (read_back).",
                         "{n} of {total} files will be downloaded again after upload and "
                         "compared with the source byte for byte (read_back).",
                         len(self.keys)).format(n=len(self.keys), total=len(files))]

    def wants(self, change: Change) -> bool:
        return change.item.kind is ItemKind.FILE and change.item.key in self.keys

    def compare(self, expected_sha256: str, actual_sha256: str, what: str) -> None:
        if expected_sha256 != actual_sha256:
            raise TransientError(_("{path} read back from the server differs from the source "
                                   "(SHA-256 {theirs} instead of {ours}); it will be sent "
                                   "again").format(path=what, theirs=actual_sha256[:12],
                                                   ours=expected_sha256[:12]))
        with self._lock:
            self.checked += 1

    def notes(self) -> list[str]:
        if not self.checked:
            return []
        return [ngettext("{n} file was downloaded again after upload: identical to the source.",
                         "{n} files were downloaded again after upload: identical to the "
                         "source.", self.checked).format(n=self.checked)]


def sha256_of(blocks: object) -> str:
    digest = hashlib.sha256()
    for block in blocks:  # type: ignore[attr-defined]
        digest.update(block)
    return digest.hexdigest()
