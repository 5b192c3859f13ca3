"""The sidecar file cache: stable file ids, stored checksums and etag versions, persisted.

Nextcloud keeps this in `oc_filecache`; the sandbox keeps it in SQLite under
`DATA/appdata_sandbox/`, outside every user's tree, so ids survive restarts and renames.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import NamedTuple

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    fileid INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    path TEXT NOT NULL,
    checksum TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user, path)
);
CREATE TABLE IF NOT EXISTS uploads (
    user TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    PRIMARY KEY (user, upload_id)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class FileRecord(NamedTuple):
    """What the cache knows about one path: its id, stored checksum and write counter."""

    fileid: int
    checksum: str | None
    version: int


def ancestors(path: str) -> list[str]:
    """`/a/b/c` -> [`/a/b`, `/a`, `/`]: the folders whose etag a change under them alters."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(len(parts) - 1, -1, -1)]


class FileIndex:
    """Thread-safe access to the sidecar database. Paths are user-relative, `/` for the root."""

    def __init__(self, database: Path) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: cheroot serves from many threads, SQLite writes
        # are serialised anyway, and autocommit keeps each statement durable on its own.
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.instance_id = self._setting("instanceid", "oc" + secrets.token_hex(5))

    def _setting(self, key: str, default: str) -> str:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO settings VALUES (?, ?)", (key, default))
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, user: str, path: str) -> FileRecord:
        """Return the record for `path`, allocating a file id the first time it is seen."""
        with self._lock:
            row = self._select(user, path)
            if row is None:
                self._db.execute("INSERT INTO files (user, path) VALUES (?, ?)", (user, path))
                row = self._select(user, path)
        assert row is not None
        return FileRecord(*row)

    def _select(self, user: str, path: str) -> tuple[int, str | None, int] | None:
        return self._db.execute(
            "SELECT fileid, checksum, version FROM files WHERE user = ? AND path = ?",
            (user, path),
        ).fetchone()

    def etag(self, user: str, path: str, size: int, mtime_ns: int) -> str:
        """An etag that changes on every write through the server and on any size/mtime change."""
        record = self.record(user, path)
        seed = f"{record.fileid}:{record.version}:{size}:{mtime_ns}"
        return hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()[:13]

    def record_write(self, user: str, path: str, checksum: str | None) -> FileRecord:
        """Note new content at `path` (stores its checksum) and propagate to parent etags."""
        self.record(user, path)
        with self._lock:
            self._db.execute(
                "UPDATE files SET checksum = ?, version = version + 1 WHERE user = ? AND path = ?",
                (checksum, user, path),
            )
            self._bump(user, ancestors(path))
        return self.record(user, path)

    def touch(self, user: str, path: str) -> None:
        """Change the etag of `path` and of every folder above it (Nextcloud propagates)."""
        self.record(user, path)
        with self._lock:
            self._bump(user, [path, *ancestors(path)])

    def _bump(self, user: str, paths: list[str]) -> None:
        self._db.executemany(
            "UPDATE files SET version = version + 1 WHERE user = ? AND path = ?",
            [(user, p) for p in paths],
        )

    def forget(self, user: str, path: str) -> None:
        """Drop `path` and everything under it (after a delete)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM files WHERE user = ? AND (path = ? OR substr(path, 1, ?) = ?)",
                (user, path, len(path) + 1, path.rstrip("/") + "/"),
            )
            self._bump(user, ancestors(path))

    def move(self, user: str, source: str, destination: str) -> None:
        """Carry ids and checksums from `source` (and its subtree) to `destination`."""
        self.forget(user, destination)
        prefix = source.rstrip("/") + "/"
        with self._lock:
            self._db.execute(
                "UPDATE files SET path = ? || substr(path, ?) "
                "WHERE user = ? AND (path = ? OR substr(path, 1, ?) = ?)",
                (destination, len(source) + 1, user, source, len(prefix), prefix),
            )
            self._bump(user, [*ancestors(source), *ancestors(destination)])

    def copy_checksums(self, user: str, source: str, destination: str) -> None:
        """Give the copies under `destination` the checksums stored for `source` (new ids)."""
        self.forget(user, destination)
        prefix = source.rstrip("/") + "/"
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files (user, path, checksum) "
                "SELECT user, ? || substr(path, ?), checksum FROM files "
                "WHERE user = ? AND (path = ? OR substr(path, 1, ?) = ?)",
                (destination, len(source) + 1, user, source, len(prefix), prefix),
            )
            self._bump(user, ancestors(destination))

    def save_upload(self, user: str, upload_id: str, destination: str) -> None:
        """Remember the `Destination` given when a chunked upload folder was created."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?)", (user, upload_id, destination)
            )

    def upload_destination(self, user: str, upload_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT destination FROM uploads WHERE user = ? AND upload_id = ?",
                (user, upload_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def forget_upload(self, user: str, upload_id: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM uploads WHERE user = ? AND upload_id = ?", (user, upload_id)
            )
