"""`shelf`: files kept in one SQLite file — a tiny target written from docs/connector-guide.md
alone, to show the guide is enough (tests only; registered by tests/guide_connector/__init__.py;
its messages are not in the catalogue, which covers migrate/ and connectors/ only).

One transaction per write: the row appears whole or not at all, so nothing half-written is ever
visible, and writing twice replaces the row — one copy whatever the key.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.model import Change, Fingerprint, ItemKind, TargetEntry
from migrate.options import option

SCHEMA = ("CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, content BLOB NOT NULL, "
          "mtime REAL, sha256 TEXT NOT NULL)")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The shelf that receives the documents (one SQLite file).\n"
            "  # L'étagère qui reçoit les documents (un fichier SQLite).\n"
            f"  shelf: {{type: shelf, path: {quoted(answers['shelf_path'])}}}\n")


#: What `migrate init` offers: the shelf as a place for the documents.
INIT_OFFER = Offer(
    moves="documents", role="target", choice="shelf", phrase="a shelf (shelf)",
    connection=_init_connection, reference=lambda answers: quoted("shelf:/"),
    questions=(Question("shelf_path", "SQLite file of the shelf, relative to the client's "
                        "folder", "shelf.sqlite"),))
@dataclass(frozen=True, kw_only=True)
class ShelfOptions:
    path: str = option(required=True, help="The SQLite file, relative to the plan file.")


class ShelfConnector(Connector):
    name = "shelf"
    init_offers = (INIT_OFFER,)
    summary = "Files kept in one SQLite file (an example from the connector guide)."
    Options = ShelfOptions
    config: ShelfOptions
    target_actions = ("copy",)

    def open_target(self, location: str, step: StepContext) -> ShelfTarget:
        return ShelfTarget(self.base_dir / self.config.path)


class ShelfTarget(Target):
    capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=("sha256",),
                                default_jobs=1, max_jobs=1, local_files=True)

    def __init__(self, path: Path) -> None:
        try:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.execute(SCHEMA)
        except sqlite3.Error as error:
            raise _translate(error, path) from None
        self.path = path

    def list_entries(self) -> list[TargetEntry]:
        rows = self.db.execute("SELECT name, length(content), mtime, sha256 FROM files")
        return [_entry(*row) for row in rows]

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        with source.open(change.item) as stream:
            content = stream.read()
        digest = hashlib.sha256(content).hexdigest()
        mtime = change.item.fingerprint.mtime
        try:
            with self.db:  # one transaction: the row is there whole, or not at all
                self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                                (change.target_name, content, mtime, digest))
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        return _entry(change.target_name, len(content), mtime, digest)

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        row = self.db.execute("SELECT name, length(content), mtime, sha256 FROM files "
                              "WHERE name = ?", (change.target_name,)).fetchone()
        if row is None:
            return None  # a transaction that never committed leaves nothing behind
        with source.open(change.item) as stream:
            expected = hashlib.sha256(stream.read()).hexdigest()
        return _entry(*row) if row[3] == expected else None

    def close(self) -> None:
        self.db.close()


def _entry(name: str, size: int, mtime: float | None, digest: str) -> TargetEntry:
    return TargetEntry(name, ItemKind.FILE, Fingerprint(size, mtime, f"sha256:{digest}"))


def _translate(error: sqlite3.Error, path: Path) -> FatalError | SkipItem:
    """Every SQLite error, in one place: a full disk or an unreadable file stops the step."""
    if isinstance(error, sqlite3.DataError):
        return SkipItem(_("this file cannot be kept in {path}: {why}").format(path=path, why=error))
    return FatalError(_("the shelf {path} cannot be written: {why}").format(path=path,
                                                                         why=error))
