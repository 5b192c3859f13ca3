"""The `local` target: writes under a folder on this computer, never through a link.

Writes go to a temporary name beside the final one and are renamed into place atomically (see
`connectors/local/__init__.py`); the disk helpers are in `connectors/local/files.py`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from connectors.dav.collisions import (
    CollisionResolver,
    NameFolding,
    levels_of,
    twin_reason,
)
from connectors.local.files import (
    CHUNK,
    _exact_mtime,
    _hash_stream,
    _is_link,
    _link_on_the_way,
    _safe,
    _stat_of,
    _translate,
    probe_folding,
)
from connectors.local.source import LocalSource
from connectors.local.walk import (
    _NO_FINGERPRINT,
    _NO_REF,
    TEMPORARY_PREFIX,
    TEMPORARY_SUFFIX,
    _folders,
    _make_entry,
    _make_fingerprint,
    _make_name,
)
from migrate.connector import Capabilities, Source, Target
from migrate.errors import SkipItem, TransientError
from migrate.i18n import _
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.plan import confine
from migrate.runner import gcpause

#: Folder descriptors each writer thread keeps open between writes: a thread takes 16 files
#: of the source's order at a time, a folder or two (64 threads, the most `--jobs` allows,
#: keep 512 open: below the usual limit of 1,024 open files).
OPEN_FOLDERS = 8
#: Writers of a target without `fsync`: its writes land in the kernel's page cache, so a write
#: is CPU work (Python's and the file system's). They are processes forked by the runner
#: (`write_processes`, decision 0496), each on a core of its own, beside the one keeping the
#: journal; where forking is not possible, threads, where more than two only hand the
#: interpreter's lock back and forth (decision 0487).
WRITERS = 2
#: A temporary file is made new, never through a link.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW


class LocalTarget(Target):
    """Writes under `root` without ever following a link found there.

    Every folder on the way is opened relative to its parent with O_NOFOLLOW, and the file is
    created, timed and renamed through that folder's descriptor: a link placed inside the target
    (`out -> /elsewhere`) can neither redirect a write nor be replaced by one.
    """

    capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=("sha256",),
                                local_files=True, default_jobs=WRITERS, max_jobs=WRITERS,
                                write_processes=True)

    def __init__(self, root: Path, fsync: bool = False,
                 folding: NameFolding | None = None) -> None:
        self.root, self.fsync = root, fsync
        if fsync:  # each write then waits for the disk: more of them at once hide that wait
            self.capabilities = Capabilities(preserves_mtime=True,
                                             checksum_algorithms=("sha256",), local_files=True)
        #: Names the file system sees as one (case, Unicode form) are numbered apart.
        self.collisions = CollisionResolver(folding or probe_folding(root))
        if not (self.collisions.folding.unicode or self.collisions.folding.case):
            # Exact names (Linux): each name is its own key, 200,000 asked per re-run.
            self.name_key = str  # type: ignore[method-assign]
        # Folders known to exist: one mkdir per folder rather than one per file. A set's add and
        # membership test are atomic, and a duplicate mkdir by two threads is harmless.
        self._folders: set[tuple[str, ...]] = set()
        # Temporary files a crash or a full disk left behind, removed before the first write.
        self._leftovers: list[Path] = []
        self._cleaning = threading.Lock()  # also guards `_caches`
        #: Each writer thread's folders written to lately, open (see `_folder`), oldest first.
        self._thread = threading.local()
        self._caches: list[OrderedDict[tuple[str, ...], int]] = []
        self._cleaned = False

    def list_entries(self) -> Iterator[TargetEntry]:
        if not self.root.is_dir():
            return iter(())
        entries: list[TargetEntry] = []
        append, file, folder = entries.append, ItemKind.FILE, ItemKind.FOLDER
        is_reg, is_dir, stat_result = stat.S_ISREG, stat.S_ISDIR, os.stat_result
        with gcpause.paused():  # walked whole here, without network: see migrate/runner/gcpause.py
            for _relative, paths, infos, _problem in _folders(self.root, self._leftovers,
                                                               empty_folders=False):
                for path, info in zip(paths or (), infos, strict=True):
                    # A link, a special file or what cannot be read is nothing we wrote; it is
                    # never touched. An unreadable folder: its content is not listed.
                    if type(info) is not stat_result:
                        continue
                    if is_reg(info.st_mode):
                        append(_make_entry(path, file, _make_fingerprint(
                            info.st_size, info.st_mtime_ns / 1e9, None, None), _NO_REF))
                    elif is_dir(info.st_mode):
                        append(_make_entry(path, folder, _NO_FINGERPRINT, _NO_REF))
        return iter(entries)

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
            # No empty, "." or ".." level: searched in one string rather than split into a list
            # of levels (an empty level shows as "//", a first or last "/" too).
            bounded = f"/{item.path}/"
            if "//" not in bounded and "/./" not in bounded and "/../" not in bounded:
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
        if ".." in name and confine.escaping_segment(name) is not None:
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
            try:
                return self._write_file(change, source, idempotency_key,
                                        self._folder(parts[:-1]), parts[-1])
            except FileNotFoundError:  # the folder was removed since it was opened: made again
                self._forget_folder(parts[:-1])
            folder = self._open_folder(parts[:-1], create=True)
            try:
                return self._write_file(change, source, idempotency_key, folder, parts[-1])
            finally:
                os.close(folder)
        except OSError as error:
            raise _translate(error, self.root / change.target_name) from None

    def _cache(self) -> OrderedDict[tuple[str, ...], int]:
        """This thread's open folders: no lock and no `dup` per file, and no other thread
        closes one while it is written through (decision 0489)."""
        cache = getattr(self._thread, "folders", None)
        if cache is None:
            cache = self._thread.folders = OrderedDict()
            with self._cleaning:
                self._caches.append(cache)
        return cache

    def _folder(self, parts: list[str]) -> int:
        """A descriptor of root/parts… (not to close: it stays in this thread's cache), from
        the folders opened recently: the files of a folder come together, and opening each
        level of the path again for every file cost more system calls than the copy itself.
        The cached descriptor was opened level by level without following links, as
        `_open_folder` does."""
        cache, key = self._cache(), tuple(parts)
        descriptor = cache.get(key)
        if descriptor is not None:
            cache.move_to_end(key)
            return descriptor
        descriptor = cache[key] = self._open_folder(parts, create=True)
        if len(cache) > OPEN_FOLDERS:
            os.close(cache.popitem(last=False)[1])
        return descriptor

    def _forget_folder(self, parts: list[str]) -> None:
        cached = self._cache().pop(tuple(parts), None)
        if cached is not None:
            os.close(cached)
        # That folder and the ones above it are made again if missing (mkdir is harmless where
        # they still exist), those below it when next written to. Another thread's cached
        # descriptor of it fails there the same way, and is forgotten by that thread.
        path = tuple(parts)
        for known in list(self._folders):  # list(): other writers may add meanwhile
            if known[: len(path)] == path or path[: len(known)] == known:
                self._folders.discard(known)

    def close(self) -> None:
        with self._cleaning:  # once the writes are over: every thread's cache
            for cache in self._caches:
                while cache:
                    os.close(cache.popitem()[1])

    def _write_file(self, change: Change, source: Source, key: str, folder: int,
                    name: str) -> TargetEntry:
        temporary = f"{TEMPORARY_PREFIX}{key[:16]}{TEMPORARY_SUFFIX}"  # `_temporary_name`
        try:
            existing = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
        except FileNotFoundError:
            existing = 0
        if stat.S_ISLNK(existing):
            raise SkipItem(_("{path} is a symbolic link on the target; links are never "
                             "followed nor replaced").format(path=change.target_name))
        item = change.item
        try:
            if isinstance(source, LocalSource):
                # Read through its descriptor, without a file object around it (0489).
                descriptor = source.descriptor(item)
                try:
                    made = self._fill(temporary, folder, item, partial(os.read, descriptor),
                                      partial(os.fstat, descriptor), regular=True)
                finally:
                    os.close(descriptor)
            else:
                with source.open(item) as stream:
                    made = self._fill(temporary, folder, item, stream.read,
                                      partial(_stat_of, stream), regular=False)
        except BaseException:
            # A full disk must not stay full of our half-written copies.
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
        if made is None:
            os.unlink(temporary, dir_fd=folder)
            raise TransientError(_("{path} changed at the source while it was being copied")
                                 .format(path=item.path))
        info, checksum = made
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        return _make_entry(change.target_name, ItemKind.FILE, _make_fingerprint(
            info.st_size, info.st_mtime_ns / 1e9, f"sha256:{checksum}", None), _NO_REF)

    def _fill(self, temporary: str, folder: int, item: SourceItem, read: Callable[[int], bytes],
              source_stat: Callable[[], os.stat_result | None],
              regular: bool) -> tuple[os.stat_result, str] | None:
        """The temporary file made, filled and given the source's time: its own `stat` and
        checksum, or None when the source did not hold what was listed (it changed)."""
        expected = item.fingerprint
        out = os.open(temporary, _NEW_FILE, 0o666, dir_fd=folder)
        try:
            checksum, size = self._copy(read, out, expected.size, regular)
            if expected.size is not None and size != expected.size:
                return None
            found = source_stat()
            if regular and found is not None and found.st_size != size:
                return None  # grew while it was read (a short read is taken for its end)
            mtime_ns = _exact_mtime(found, expected.mtime)
            if mtime_ns is None and item.meta:  # saved by an earlier version
                mtime_ns = item.meta.get("mtime_ns")
            if mtime_ns is None and expected.mtime is not None:
                mtime_ns = round(expected.mtime * 1e9)
            if mtime_ns is not None:
                os.utime(out, ns=(mtime_ns, mtime_ns))
            return os.fstat(out), checksum  # of the file renamed into place
        finally:
            os.close(out)

    def _copy(self, read: Callable[[int], bytes], out: int, expected: int | None,
              regular: bool) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        # A small file is read in one call of its own size (+1, to notice it grew), not into
        # a 1 MiB buffer: most files of a folder copy are a few KB.
        want = CHUNK if expected is None else min(CHUNK, expected + 1)
        while chunk := read(want):
            digest.update(chunk)
            written = os.write(out, chunk)
            while written < len(chunk):
                written += os.write(out, memoryview(chunk)[written:])
            size += len(chunk)
            if regular and len(chunk) < want:
                # A regular file read short is at its end: no read more to hear it (its size
                # is compared with what was read afterwards, in `_fill`).
                break
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
