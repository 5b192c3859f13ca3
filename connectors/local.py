"""`local`: a folder on this computer, as a source and as a target. The reference connector.

Writes go to a temporary name beside the final one and are renamed into place atomically, with
the source's modification time already set, so a crash never leaves a half-written file under
its final name. The temporary name is derived from the idempotency key, so a retry or an
in-doubt verification finds and removes the leftovers of exactly that write.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from migrate import confine
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
from migrate.i18n import _
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
        return confine.inside(base, location)

    def open_source(self, location: str, step: StepContext) -> LocalSource:
        root = self.root(location)
        if not root.is_dir():
            raise FatalError(_("the folder {path} does not exist").format(path=root))
        return LocalSource(root)

    def open_target(self, location: str, step: StepContext) -> LocalTarget:
        return LocalTarget(self.root(location), fsync=bool(self.config.get("fsync")))


def _fingerprint(info: os.stat_result) -> Fingerprint:
    return Fingerprint(size=info.st_size, mtime=info.st_mtime_ns / 1e9)


@dataclass(frozen=True)
class _Found:
    """One thing under the root: a file, a folder, or something left out with its reason."""

    path: str
    kind: ItemKind
    info: os.stat_result | None = None
    is_empty: bool = False
    problem: str | None = None


def _kind_problem(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return _("a symbolic link: links are never followed")
    if stat.S_ISFIFO(mode):
        return _("a named pipe (FIFO), not a file: it has no content to copy")
    if stat.S_ISSOCK(mode):
        return _("a socket, not a file: it has no content to copy")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("a device, not a file: it has no content to copy")
    return _("not a regular file")


def _is_empty(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return not any(entries)
    except OSError:
        return False  # an unreadable folder is reported when the walk reaches it


def _walk(root: Path, leftovers: list[Path] | None = None) -> Iterator[_Found]:
    """Everything under root, sorted; what cannot be read or copied comes with its reason.

    One unreadable folder or over-long name never stops the walk: it is reported and the rest
    is listed. Links are never followed. Our own temporary files go to `leftovers`.
    """
    stack = [""]
    while stack:
        relative = stack.pop()
        folder = root / relative if relative else root
        try:
            with os.scandir(folder) as listed:
                entries = sorted(listed, key=lambda e: e.name)
        except OSError as error:
            if not relative:
                raise ConnectorError(_("cannot read the folder {path}: {reason}").format(
                    path=folder, reason=error.strerror)) from None
            yield _Found(relative, ItemKind.FOLDER, problem=_(
                "this folder cannot be read ({reason}); its content was left out").format(
                    reason=error.strerror or error))
            continue
        children: list[str] = []
        for entry in entries:
            path = f"{relative}/{entry.name}" if relative else entry.name
            if entry.name.startswith(TEMPORARY_PREFIX):
                if leftovers is not None and entry.name.endswith(TEMPORARY_SUFFIX):
                    leftovers.append(Path(entry.path))
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                yield _Found(path, ItemKind.FILE, problem=_("cannot be read ({reason})").format(
                    reason=error.strerror or error))
                continue
            if stat.S_ISDIR(info.st_mode):
                children.append(path)
                yield _Found(path, ItemKind.FOLDER, info, _is_empty(entry.path))
            elif stat.S_ISREG(info.st_mode):
                yield _Found(path, ItemKind.FILE, info)
            else:
                yield _Found(path, ItemKind.FILE, info, problem=_kind_problem(info.st_mode))
        stack.extend(reversed(children))


class LocalSource(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def list_items(self) -> Listing:
        items = []
        for found in _walk(self.root):
            path, kind, info = found.path, found.kind, found.info
            if found.problem is not None:
                key = path + "/" if kind is ItemKind.FOLDER else path
                items.append(SourceItem(key, path, kind, skip_reason=found.problem))
            elif kind is ItemKind.FILE and info is not None:
                # Exact nanoseconds ride along: a float of seconds cannot hold them all.
                items.append(SourceItem(path, path, kind, _fingerprint(info),
                                        {"mtime_ns": info.st_mtime_ns}))
            elif found.is_empty:
                # A folder with files is created with its first file; an empty one would be lost.
                items.append(SourceItem(path + "/", path, ItemKind.FOLDER))
        return Listing(items)

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        try:
            # O_NOFOLLOW: a file replaced by a link since the listing is not read through it.
            descriptor = os.open(self.root / item.path, os.O_RDONLY | os.O_NOFOLLOW)
            return os.fdopen(descriptor, "rb")
        except FileNotFoundError:
            raise SkipItem(_("{path} disappeared from the source since it was listed").format(
                path=item.path)) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise SkipItem(_("{path} became a symbolic link since it was listed; links are "
                                 "never followed").format(path=item.path)) from None
            raise ConnectorError(_("cannot read {path}: {reason}").format(
                path=item.path, reason=error.strerror)) from None


class LocalTarget(Target):
    """Writes under `root` without ever following a link found there.

    Every folder on the way is opened relative to its parent with O_NOFOLLOW, and the file is
    created, timed and renamed through that folder's descriptor: a link placed inside the target
    (`out -> /elsewhere`) can neither redirect a write nor be replaced by one.
    """

    capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=("sha256",),
                                default_jobs=4)

    def __init__(self, root: Path, fsync: bool = False) -> None:
        self.root, self.fsync = root, fsync
        # Folders known to exist: one mkdir per folder rather than one per file. A set's add and
        # membership test are atomic, and a duplicate mkdir by two threads is harmless.
        self._folders: set[tuple[str, ...]] = set()
        # Temporary files a crash or a full disk left behind, removed before the first write.
        self._leftovers: list[Path] = []
        self._cleaning = threading.Lock()
        self._cleaned = False

    def list_entries(self) -> Iterator[TargetEntry]:
        if not self.root.is_dir():
            return
        for found in _walk(self.root, self._leftovers):
            if found.problem is not None:
                continue  # a link or a special file is nothing we wrote; it is never touched
            fingerprint = (_fingerprint(found.info) if found.kind is ItemKind.FILE
                           and found.info is not None else Fingerprint())
            yield TargetEntry(found.path, found.kind, fingerprint)

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

    def _temporary_name(self, key: str) -> str:
        return f"{TEMPORARY_PREFIX}{key[:16]}{TEMPORARY_SUFFIX}"

    def _clean_leftovers(self) -> None:
        """Every write waits until the cleaning is over: a retried write reuses its old
        temporary name, which must not be removed under it."""
        with self._cleaning:
            while self._leftovers:
                with contextlib.suppress(OSError):
                    self._leftovers.pop().unlink()
            self._cleaned = True

    def _parts(self, name: str) -> list[str]:
        confine.inside(self.root, name)  # refuses '..'; the rest is opened without links
        return [part for part in name.split("/") if part]

    def _open_folder(self, parts: list[str], create: bool) -> int:
        """A descriptor of the folder root/parts…, made where missing; never through a link.

        Raises SkipItem when a link stands where a folder should be, NotADirectoryError when a
        file does, and FileNotFoundError when `create` is False and a folder is missing.
        """
        if create and not self._folders:
            self.root.mkdir(parents=True, exist_ok=True)  # the root is the user's own choice
        descriptor = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for depth, part in enumerate(parts):
                if create and tuple(parts[: depth + 1]) not in self._folders:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=descriptor)
                try:
                    inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                    dir_fd=descriptor)
                except OSError as error:
                    if error.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, descriptor):
                        raise _link_on_the_way(parts[: depth + 1]) from None  # never followed
                    raise  # a file where a folder should be: fails, as any disk refusal
                os.close(descriptor)
                descriptor = inner
                if create:
                    self._folders.add(tuple(parts[: depth + 1]))
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        destination = self.root / change.target_name
        parts = self._parts(change.target_name)
        if not self._cleaned:
            self._clean_leftovers()
        try:
            if change.item.kind is ItemKind.FOLDER:
                os.close(self._open_folder(parts, create=True))
                return TargetEntry(change.target_name, ItemKind.FOLDER)
            folder = self._open_folder(parts[:-1], create=True)
            try:
                return self._write_file(change, source, idempotency_key, folder, parts[-1])
            finally:
                os.close(folder)
        except OSError as error:
            raise _translate(error, destination) from None

    def _write_file(self, change: Change, source: Source, key: str, folder: int,
                    name: str) -> TargetEntry:
        temporary = self._temporary_name(key)
        try:
            existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISLNK(existing.st_mode):
            raise SkipItem(_("{path} is a symbolic link on the target; links are never "
                             "followed nor replaced").format(path=change.target_name))
        try:
            with source.open(change.item) as stream:
                checksum, size = self._copy(stream, temporary, folder)
        except BaseException:
            # A full disk must not stay full of our half-written copies.
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
        expected = change.item.fingerprint
        if expected.size is not None and size != expected.size:
            os.unlink(temporary, dir_fd=folder)
            raise TransientError(_("{path} changed at the source while it was being copied")
                                 .format(path=change.item.path))
        mtime_ns = change.item.meta.get("mtime_ns")
        if mtime_ns is None and expected.mtime is not None:
            mtime_ns = round(expected.mtime * 1e9)
        if mtime_ns is not None:
            os.utime(temporary, ns=(mtime_ns, mtime_ns), dir_fd=folder, follow_symlinks=False)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        return TargetEntry(change.target_name, ItemKind.FILE,
                           Fingerprint(info.st_size, info.st_mtime_ns / 1e9, f"sha256:{checksum}"),
                           {})

    def _copy(self, stream: BinaryIO, temporary: str, folder: int) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        with os.fdopen(os.open(temporary, flags, 0o666, dir_fd=folder), "wb") as out:
            for chunk in iter_chunks(stream, CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        return digest.hexdigest(), size

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        parts = self._parts(change.target_name)
        try:
            folder = self._open_folder(parts if change.item.kind is ItemKind.FOLDER
                                       else parts[:-1], create=False)
        except (FileNotFoundError, NotADirectoryError, SkipItem):
            return None
        try:
            if change.item.kind is ItemKind.FOLDER:
                return TargetEntry(change.target_name, ItemKind.FOLDER)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temporary_name(idempotency_key), dir_fd=folder)
            try:
                descriptor = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
            except OSError:
                return None  # missing, or a link: not what we wrote
            with os.fdopen(descriptor, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode):
                    return None
                actual = _hash_stream(stream)
        finally:
            os.close(folder)
        with source.open(change.item) as stream:
            expected = _hash_stream(stream)
        if actual != expected:
            return None
        return TargetEntry(change.target_name, ItemKind.FILE,
                           Fingerprint(info.st_size, info.st_mtime_ns / 1e9, f"sha256:{actual}"),
                           {})


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _link_on_the_way(parts: list[str]) -> SkipItem:
    return SkipItem(_("{path} on the target is a symbolic link, not a folder; links are never "
                      "followed, so nothing is written through it").format(path="/".join(parts)))


def _hash_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter_chunks(stream, CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _translate(error: OSError, path: Path) -> ConnectorError:
    reason: Any = error.strerror or error
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return FatalError(_("the disk holding {path} is full ({reason}); free some space and "
                            "run apply again").format(path=path.parent, reason=reason))
    if error.errno == errno.EROFS:
        return FatalError(_("{path} is on a read-only disk").format(path=path.parent))
    return ConnectorError(_("cannot write {path}: {reason}").format(path=path, reason=reason))
