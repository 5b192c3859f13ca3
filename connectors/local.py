"""`local`: a folder on this computer, as a source and as a target. The reference connector.

Writes go to a temporary name beside the final one and are renamed into place atomically, with
the source's modification time already set, so a crash never leaves a half-written file under
its final name. The temporary name is derived from the idempotency key, so a retry or an
in-doubt verification finds and removes the leftovers of exactly that write.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO

from migrate.connector import (
    Capabilities,
    Connector,
    Listing,
    Source,
    StepContext,
    Target,
    iter_chunks,
)
from migrate.errors import ConnectorError, FatalError, SkipItem, TransientError
from migrate.i18n import _, os_reason
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import Option, OptionSet

TEMPORARY_PREFIX = ".~migrate-"
TEMPORARY_SUFFIX = ".part"
CHUNK = 1 << 20


class LocalConnector(Connector):
    name = "local"
    summary = "A folder on this computer (or a mounted drive)."
    options = OptionSet((
        Option("path", required=True, help="The folder, absolute or relative to the plan file."),
        Option("fsync", "boolean", default=False,
               help="Flush every file to disk before recording it as done: survives a power cut "
                    "as well as a crash, at some cost in speed."),
    ))
    source_actions = ("copy",)
    target_actions = ("copy",)

    def root(self, location: str) -> Path:
        base = (self.base_dir / str(self.config["path"])).expanduser()
        return base / location.strip("/") if location.strip("/") else base

    def local_folder(self, location: str) -> Path:
        return self.root(location)

    def open_source(self, location: str, step: StepContext) -> LocalSource:
        root = self.root(location)
        if not root.is_dir():
            raise FatalError(_("the folder {path} does not exist").format(path=root))
        return LocalSource(root)

    def open_target(self, location: str, step: StepContext) -> LocalTarget:
        return LocalTarget(self.root(location), fsync=bool(self.config.get("fsync")))


def _fingerprint(info: os.stat_result) -> Fingerprint:
    return Fingerprint(size=info.st_size, mtime=info.st_mtime_ns / 1e9)


def _walk(root: Path) -> Iterator[tuple[str, ItemKind, os.stat_result, bool]]:
    """(relative path, kind, stat, is_empty_folder) for everything under root, sorted."""
    stack = [""]
    while stack:
        relative = stack.pop()
        folder = root / relative if relative else root
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            raise ConnectorError(_("cannot read the folder {path}: {reason}").format(
                path=folder, reason=os_reason(error))) from None
        children: list[str] = []
        for entry in entries:
            if entry.name.startswith(TEMPORARY_PREFIX):
                continue
            path = f"{relative}/{entry.name}" if relative else entry.name
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                children.append(path)
                yield path, ItemKind.FOLDER, info, not any(os.scandir(entry.path))
            elif stat.S_ISREG(info.st_mode):
                yield path, ItemKind.FILE, info, False
        stack.extend(reversed(children))


class LocalSource(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def list_items(self) -> Listing:
        items = []
        for path, kind, info, empty in _walk(self.root):
            if kind is ItemKind.FILE:
                # Exact nanoseconds ride along: a float of seconds cannot hold them all.
                items.append(SourceItem(path, path, kind, _fingerprint(info),
                                        {"mtime_ns": info.st_mtime_ns}))
            elif empty:
                # A folder with files is created with its first file; an empty one would be lost.
                items.append(SourceItem(path + "/", path, ItemKind.FOLDER))
        return Listing(items)

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        try:
            return open(self.root / item.path, "rb")
        except FileNotFoundError:
            raise SkipItem(_("{path} disappeared from the source since it was listed").format(
                path=item.path)) from None
        except OSError as error:
            raise ConnectorError(_("cannot read {path}: {reason}").format(
                path=item.path, reason=os_reason(error))) from None


class LocalTarget(Target):
    capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=("sha256",),
                                default_jobs=4)

    def __init__(self, root: Path, fsync: bool = False) -> None:
        self.root, self.fsync = root, fsync
        # Folders known to exist: one mkdir per folder rather than one per file. A set's add and
        # membership test are atomic, and a duplicate mkdir by two threads is harmless.
        self._folders: set[Path] = set()

    def _ensure_folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def list_entries(self) -> Iterator[TargetEntry]:
        if not self.root.is_dir():
            return
        for path, kind, info, _empty in _walk(self.root):
            fingerprint = _fingerprint(info) if kind is ItemKind.FILE else Fingerprint()
            yield TargetEntry(path, kind, fingerprint)

    def name_for(self, item: SourceItem) -> TargetName:
        # A source whose names may hold "/" (Drive) gives each level's raw name in
        # meta["segments"]; "/" becomes "∕" (U+2215) here, and the plan says so.
        parts = list(item.meta.get("segments") or [p for p in item.path.split("/") if p])
        reasons = []
        if any("/" in p for p in parts):
            parts = [p.replace("/", "\u2215") for p in parts]
            reasons.append(_("'/' cannot be used in a name; it became '\u2215'"))
        safe = ["_" if p in (".", "..") else p.replace("\0", "_") for p in parts]
        if safe != parts:
            reasons.append(_("'.', '..' and NUL cannot be used in file names"))
        return TargetName("/".join(safe), "; ".join(reasons) or None)

    def _temporary(self, destination: Path, key: str) -> Path:
        return destination.parent / f"{TEMPORARY_PREFIX}{key[:16]}{TEMPORARY_SUFFIX}"

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        destination = self.root / change.target_name
        try:
            if change.item.kind is ItemKind.FOLDER:
                destination.mkdir(parents=True, exist_ok=True)
                return TargetEntry(change.target_name, ItemKind.FOLDER)
            self._ensure_folder(destination.parent)
            temporary = self._temporary(destination, idempotency_key)
            with source.open(change.item) as stream:
                checksum, size = self._copy(stream, temporary)
            expected = change.item.fingerprint
            if expected.size is not None and size != expected.size:
                temporary.unlink(missing_ok=True)
                raise TransientError(_("{path} changed at the source while it was being copied")
                                     .format(path=change.item.path))
            mtime_ns = change.item.meta.get("mtime_ns")
            if mtime_ns is None and expected.mtime is not None:
                mtime_ns = round(expected.mtime * 1e9)
            if mtime_ns is not None:
                os.utime(temporary, ns=(mtime_ns, mtime_ns))
            os.replace(temporary, destination)
            info = destination.stat()
        except OSError as error:
            raise _translate(error, destination) from None
        return TargetEntry(change.target_name, ItemKind.FILE,
                           Fingerprint(info.st_size, info.st_mtime_ns / 1e9, f"sha256:{checksum}"),
                           {})

    def _copy(self, stream: BinaryIO, temporary: Path) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with open(temporary, "wb") as out:
            for chunk in iter_chunks(stream, CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        return digest.hexdigest(), size

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        destination = self.root / change.target_name
        self._temporary(destination, idempotency_key).unlink(missing_ok=True)
        if change.item.kind is ItemKind.FOLDER:
            found = destination.is_dir()
            return TargetEntry(change.target_name, ItemKind.FOLDER) if found else None
        if not destination.is_file():
            return None
        with source.open(change.item) as stream:
            expected = _hash_stream(stream)
        with open(destination, "rb") as stream:
            actual = _hash_stream(stream)
        if actual != expected:
            return None
        info = destination.stat()
        return TargetEntry(change.target_name, ItemKind.FILE,
                           Fingerprint(info.st_size, info.st_mtime_ns / 1e9, f"sha256:{actual}"),
                           {})


def _hash_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter_chunks(stream, CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _translate(error: OSError, path: Path) -> ConnectorError:
    reason: Any = os_reason(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return FatalError(_("the disk holding {path} is full ({reason}); free some space and "
                            "run apply again").format(path=path.parent, reason=reason))
    if error.errno == errno.EROFS:
        return FatalError(_("{path} is on a read-only disk").format(path=path.parent))
    return ConnectorError(_("cannot write {path}: {reason}").format(path=path, reason=reason))
