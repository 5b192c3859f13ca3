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
import io
import operator
import os
import stat
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from sys import intern
from typing import Any, BinaryIO

from connectors.dav.collisions import (
    CollisionResolver,
    NameFolding,
    levels_of,
    twin_reason,
)
from migrate import confine, gcpause
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
from migrate.fastmake import maker
from migrate.i18n import _, os_reason
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import option

TEMPORARY_PREFIX = ".~migrate-"
TEMPORARY_SUFFIX = ".part"
CHUNK = 1 << 20
#: Folder descriptors a target keeps open between writes (far below any limit on open files).
OPEN_FOLDERS = 32
#: Writer threads of a target without `fsync`: its writes land in the kernel's page cache, so
#: a write is CPU work (Python's, under its one lock, and the file system's); two overlap one's
#: system calls with the other's Python, and more only hand the interpreter's lock back and
#: forth (4 threads measured twice the system time of 2 on 10,000 files; decision 0487).
WRITERS = 2


@dataclass(frozen=True, kw_only=True)
class LocalOptions:
    path: str = option(required=True,
                       help="The folder, absolute or relative to the plan file.")
    fsync: bool = option("boolean", default=False,
                         help="Flush every file to disk before recording it as done: survives a "
                              "power cut as well as a crash, at some cost in speed.")


class LocalConnector(Connector):
    name = "local"
    summary = "A folder on this computer (or a mounted drive)."
    Options = LocalOptions
    config: LocalOptions
    source_actions = ("copy",)
    target_actions = ("copy",)

    def root(self, location: str) -> Path:
        base = (self.base_dir / self.config.path).expanduser()
        return confine.inside(base, location)

    def local_folder(self, location: str) -> Path:
        return self.root(location)

    def open_source(self, location: str, step: StepContext) -> LocalSource:
        root = self.root(location)
        if not root.is_dir():
            raise FatalError(_("the folder {path} does not exist").format(path=root))
        return LocalSource(root)

    def open_target(self, location: str, step: StepContext) -> LocalTarget:
        return LocalTarget(self.root(location), fsync=self.config.fsync)


# A listing makes one of each per file: see migrate/fastmake.py.
_make_fingerprint = maker(Fingerprint, ("size", "mtime", "checksum", "etag"))
_make_item = maker(SourceItem, ("key", "path", "kind", "fingerprint", "meta", "skip_reason"))
_make_entry = maker(TargetEntry, ("name", "kind", "fingerprint", "ref"))
_make_name = maker(TargetName, ("name", "rename_reason", "notes", "refusal", "original"))


#: One thing under the root, as `_walk` yields it: (path, kind, info, problem). A plain tuple,
#: 200,000 of them per re-run of 100,000 files (a dataclass cost 0.7 µs each to make).
#: `info` is None for a folder found empty when its turn came (and its `problem` None too) or
#: for something that cannot be read (with its `problem`).
_Found = tuple[str, ItemKind, "os.stat_result | None", "str | None"]


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


#: Shared by the items and entries of a listing (100,000s of them): never changed by anyone.
_NO_REF: dict[str, Any] = {}
_NO_META: dict[str, Any] = {}
_NO_FINGERPRINT = Fingerprint()


_by_name = operator.attrgetter("name")


def _walk(root: Path, leftovers: list[Path] | None = None,
          empty_folders: bool = True) -> Iterator[_Found]:
    """Everything under root, sorted; what cannot be read or copied comes with its reason.

    A folder comes when its parent is listed; with `empty_folders`, a folder found empty when
    its own turn comes is said once more then (with no `info`): telling it from its parent's
    listing cost one more directory read per folder.

    One unreadable folder or over-long name never stops the walk: it is reported and the rest
    is listed. Links are never followed: a folder below the root is opened with O_NOFOLLOW and
    read through its descriptor, so each `stat` is relative to it (`fstatat`) rather than a
    walk of the whole path again. Our own temporary files go to `leftovers`.
    """
    stack = [""]
    top = str(root)
    file, folder_kind = ItemKind.FILE, ItemKind.FOLDER
    is_dir, is_reg = stat.S_ISDIR, stat.S_ISREG
    while stack:
        relative = stack.pop()
        folder = os.path.join(top, relative) if relative else top
        try:
            descriptor = os.open(folder, _FOLDER_FLAGS | (os.O_NOFOLLOW if relative else 0))
            try:
                with os.scandir(descriptor) as listed:
                    entries = sorted(listed, key=_by_name)
                    # stat while the descriptor is open: DirEntry.stat uses it (fstatat)
                    infos = [_lstat(entry) for entry in entries]
            finally:
                os.close(descriptor)
        except OSError as error:
            if not relative:
                raise ConnectorError(_("cannot read the folder {path}: {reason}").format(
                    path=folder, reason=os_reason(error))) from None
            yield (relative, folder_kind, None, _(
                "this folder cannot be read ({reason}); its content was left out").format(
                    reason=os_reason(error)))
            continue
        if not entries and relative and empty_folders:
            yield (relative, folder_kind, None, None)
            continue
        children: list[str] = []
        for entry, info in zip(entries, infos, strict=True):
            name = entry.name
            # Interned: the target's listing of a finished copy names the same 100,000s of
            # paths as the source's, and holds one string for both.
            path = intern(f"{relative}/{name}") if relative else intern(name)
            if name.startswith(TEMPORARY_PREFIX):
                if leftovers is not None and name.endswith(TEMPORARY_SUFFIX):
                    leftovers.append(Path(folder, name))
                continue
            if type(info) is not os.stat_result:
                yield (path, file, None, _("cannot be read ({reason})").format(
                    reason=os_reason(info)))
                continue
            mode = info.st_mode
            if is_dir(mode):
                children.append(path)
                yield (path, folder_kind, info, None)
            elif is_reg(mode):
                yield (path, file, info, None)
            else:
                yield (path, file, info, _kind_problem(mode))
        stack.extend(reversed(children))


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)


def _lstat(entry: os.DirEntry[str]) -> os.stat_result | OSError:
    try:
        return entry.stat(follow_symlinks=False)
    except OSError as error:
        return error


class LocalSource(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def list_items(self) -> Listing:
        with gcpause.paused():  # no network here: see migrate/gcpause.py
            return self._list_items()

    def _list_items(self) -> Listing:
        items: list[SourceItem | None] = []
        folders: dict[str, int] = {}  # folder → its place in the order, should it be empty
        for path, kind, info, problem in _walk(self.root):
            if problem is not None:
                key = path + "/" if kind is ItemKind.FOLDER else path
                items.append(SourceItem(key, path, kind, skip_reason=problem))
            elif kind is ItemKind.FILE and info is not None:
                # No per-item meta: a local target reads the exact nanoseconds from the file
                # it copies (`_exact_mtime`); a dict per file was 22 MB per 100,000 files.
                items.append(_make_item(path, path, kind, _make_fingerprint(
                    info.st_size, info.st_mtime_ns / 1e9, None, None), _NO_META, None))
            elif info is None:  # a folder found empty when its turn came
                # A folder with files is created with its first file; an empty one would be
                # lost. It keeps the place its parent's listing gave it.
                items[folders.pop(path)] = SourceItem(path + "/", path, ItemKind.FOLDER)
            elif kind is ItemKind.FOLDER:
                folders[path] = len(items)
                items.append(None)
        return Listing([item for item in items if item is not None])

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        try:
            # O_NOFOLLOW: a file replaced by a link since the listing is not read through it.
            descriptor = os.open(os.path.join(self.root, item.path), os.O_RDONLY | os.O_NOFOLLOW)
            # Unbuffered: every reader asks for whole blocks or the whole file, and a buffered
            # reader asked the kernel two more questions per file (is it a terminal? where is
            # its offset?), each a hand-off of the interpreter's lock to another writer thread.
            return os.fdopen(descriptor, "rb", buffering=0)
        except FileNotFoundError:
            raise SkipItem(_("{path} disappeared from the source since it was listed").format(
                path=item.path)) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise SkipItem(_("{path} became a symbolic link since it was listed; links are "
                                 "never followed").format(path=item.path)) from None
            raise ConnectorError(_("cannot read {path}: {reason}").format(
                path=item.path, reason=os_reason(error))) from None


def probe_folding(root: Path) -> NameFolding:
    """How the file system holding `root` compares names, found by creating one empty
    temporary file and looking it up in another case and Unicode form: macOS and Windows
    disks ignore case, macOS ignores the Unicode form (NFC/NFD). Assumes exact names when
    nothing can be written there."""
    folder = root
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        handle, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX + "probe-\u00e9", dir=folder)
    except OSError:
        return NameFolding(unicode=False, case=False)
    os.close(handle)
    probe = Path(name)
    try:
        case = (probe.parent / probe.name.swapcase()).exists()
        unicode = (probe.parent / unicodedata.normalize("NFD", probe.name)).exists()
    finally:
        probe.unlink(missing_ok=True)
    return NameFolding(unicode=unicode, case=case)


class LocalTarget(Target):
    """Writes under `root` without ever following a link found there.

    Every folder on the way is opened relative to its parent with O_NOFOLLOW, and the file is
    created, timed and renamed through that folder's descriptor: a link placed inside the target
    (`out -> /elsewhere`) can neither redirect a write nor be replaced by one.
    """

    capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=("sha256",),
                                local_files=True, default_jobs=WRITERS, max_jobs=WRITERS)

    def __init__(self, root: Path, fsync: bool = False,
                 folding: NameFolding | None = None) -> None:
        self.root, self.fsync = root, fsync
        if fsync:  # each write then waits for the disk: more of them at once hide that wait
            self.capabilities = Capabilities(preserves_mtime=True,
                                             checksum_algorithms=("sha256",), local_files=True)
        #: Names the file system sees as one (case, Unicode form) are numbered apart.
        self.collisions = CollisionResolver(folding or probe_folding(root))
        # Folders known to exist: one mkdir per folder rather than one per file. A set's add and
        # membership test are atomic, and a duplicate mkdir by two threads is harmless.
        self._folders: set[tuple[str, ...]] = set()
        # Temporary files a crash or a full disk left behind, removed before the first write.
        self._leftovers: list[Path] = []
        self._cleaning = threading.Lock()  # also guards `_descriptors`
        #: Folders written to lately, open (see `_folder`), oldest first.
        self._descriptors: OrderedDict[tuple[str, ...], int] = OrderedDict()
        self._cleaned = False

    def list_entries(self) -> Iterator[TargetEntry]:
        if not self.root.is_dir():
            return iter(())
        with gcpause.paused():  # walked whole here, without network: see migrate/gcpause.py
            return iter([
                _make_entry(path, kind, _make_fingerprint(info.st_size, info.st_mtime_ns / 1e9,
                                                          None, None)
                            if kind is ItemKind.FILE and info is not None else _NO_FINGERPRINT,
                            _NO_REF)
                for path, kind, info, problem in _walk(self.root, self._leftovers,
                                                       empty_folders=False)
                # a link or a special file is nothing we wrote; it is never touched
                if problem is None])

    def name_key(self, name: str) -> str:
        return self.collisions.folding.key(name)

    def prepare_names(self, items: Sequence[SourceItem]) -> None:
        folding = self.collisions.folding
        if folding.unicode or folding.case:  # else every distinct name is a distinct file
            self.collisions.resolve(levels_of(item, lambda s: (_safe(s), [])) for item in items)

    def name_for(self, item: SourceItem) -> TargetName:
        # A source whose names may hold "/" (Drive) gives each level's raw name in
        # FileMeta.segments; "/" becomes "∕" (U+2215) here, and the plan says so.
        segments = item.data.segments if item.data else None
        if not segments and not self.collisions.renamed and "\0" not in item.path:
            parts = item.path.split("/")
            if "" not in parts and "." not in parts and ".." not in parts:
                # The common case, once per item of every run: the name is the path itself
                # (the same string, not a copy of it).
                return _make_name(item.path, None, (), None, None)
        parts = list(segments or [p for p in item.path.split("/") if p])
        reasons = []
        if any("/" in p for p in parts):
            reasons.append(_("'/' cannot be used in a name; it became '\u2215'"))
        if any(p in (".", "..") or "\0" in p for p in parts):
            reasons.append(_("'.', '..' and NUL cannot be used in file names"))
        safe = [_safe(p) for p in parts]
        if self.collisions.renamed:
            levels = levels_of(item, lambda s: (_safe(s), []))
            for depth, level in enumerate(levels):
                if level.key in self.collisions.renamed:
                    safe[depth] = self.collisions.renamed[level.key]
                    twin = self.collisions.twins.get(level.key)
                    reasons.append(twin_reason(twin, level.raw) if twin else
                                   _("another item in the folder has the same name"))
        return TargetName("/".join(safe), "; ".join(dict.fromkeys(reasons)) or None)

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
        if confine.escaping_segment(name) is not None:
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
        parts = self._parts(change.target_name)
        if not self._cleaned:
            self._clean_leftovers()
        try:
            if change.item.kind is ItemKind.FOLDER:
                os.close(self._open_folder(parts, create=True))
                return TargetEntry(change.target_name, ItemKind.FOLDER)
            for cached in (True, False):
                folder = self._folder(parts[:-1]) if cached else self._open_folder(
                    parts[:-1], create=True)
                try:
                    return self._write_file(change, source, idempotency_key, folder, parts[-1])
                except FileNotFoundError:
                    if not cached:
                        raise
                    # The folder was removed since it was opened: made again.
                    self._forget_folder(parts[:-1])
                finally:
                    os.close(folder)
            raise AssertionError("unreachable")
        except OSError as error:
            raise _translate(error, self.root / change.target_name) from None

    def _folder(self, parts: list[str]) -> int:
        """A descriptor of root/parts… of the caller's own (to close), from the folders opened
        recently: the files of a folder come together, and opening each level of the path
        again for every file cost more system calls than the copy itself. The cached
        descriptor was opened level by level without following links, as `_open_folder` does."""
        key = tuple(parts)
        with self._cleaning:
            cached = self._descriptors.get(key)
            if cached is not None:
                self._descriptors.move_to_end(key)
                return os.dup(cached)
        descriptor = self._open_folder(parts, create=True)
        with self._cleaning:
            if key not in self._descriptors:
                self._descriptors[key] = os.dup(descriptor)
                if len(self._descriptors) > OPEN_FOLDERS:
                    os.close(self._descriptors.popitem(last=False)[1])
        return descriptor

    def _forget_folder(self, parts: list[str]) -> None:
        with self._cleaning:
            cached = self._descriptors.pop(tuple(parts), None)
            if cached is not None:
                os.close(cached)
            # That folder and the ones above it are made again if missing (mkdir is harmless
            # where they still exist), those below it when next written to.
            path = tuple(parts)
            for known in list(self._folders):  # list(): other writers may add meanwhile
                if known[: len(path)] == path or path[: len(known)] == known:
                    self._folders.discard(known)

    def close(self) -> None:
        with self._cleaning:
            while self._descriptors:
                os.close(self._descriptors.popitem()[1])

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
        expected = change.item.fingerprint
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        try:
            with source.open(change.item) as stream:
                out = os.open(temporary, flags, 0o666, dir_fd=folder)
                try:
                    checksum, size = self._copy(stream, out, expected.size)
                    whole = expected.size is None or size == expected.size
                    if whole:
                        mtime_ns = _exact_mtime(stream, expected.mtime)
                        if mtime_ns is None and change.item.meta:  # saved by an earlier version
                            mtime_ns = change.item.meta.get("mtime_ns")
                        if mtime_ns is None and expected.mtime is not None:
                            mtime_ns = round(expected.mtime * 1e9)
                        if mtime_ns is not None:
                            os.utime(out, ns=(mtime_ns, mtime_ns))
                        info = os.fstat(out)  # of the file renamed into place below
                finally:
                    os.close(out)
        except BaseException:
            # A full disk must not stay full of our half-written copies.
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
        if not whole:
            os.unlink(temporary, dir_fd=folder)
            raise TransientError(_("{path} changed at the source while it was being copied")
                                 .format(path=change.item.path))
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        return TargetEntry(change.target_name, ItemKind.FILE,
                           Fingerprint(info.st_size, info.st_mtime_ns / 1e9, f"sha256:{checksum}"),
                           {})

    def _copy(self, stream: BinaryIO, out: int, expected: int | None) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        # A small file is read in one call of its own size (+1, to notice it grew), not into
        # a 1 MiB buffer: most files of a folder copy are a few KB.
        want = CHUNK if expected is None else min(CHUNK, expected + 1)
        while chunk := stream.read(want):
            digest.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view):]
            size += len(chunk)
            want = CHUNK
        if self.fsync:
            os.fsync(out)
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


def _exact_mtime(stream: BinaryIO, listed: float | None) -> int | None:
    """The modification time in nanoseconds of a source that is a file on this computer, when
    it is still the time the listing saw (a float of seconds cannot hold every nanosecond; the
    file itself can): what rsync -a copies. None for other streams or a time that moved."""
    if listed is None:
        return None
    try:
        found = os.fstat(stream.fileno()).st_mtime_ns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return found if abs(found - listed * 1e9) < 1000 else None


def _link_on_the_way(parts: list[str]) -> SkipItem:
    return SkipItem(_("{path} on the target is a symbolic link, not a folder; links are never "
                      "followed, so nothing is written through it").format(path="/".join(parts)))


def _safe(part: str) -> str:
    return "_" if part in (".", "..") else part.replace("/", "\u2215").replace("\0", "_")


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
