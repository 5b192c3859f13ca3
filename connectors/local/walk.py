"""The walk of a `local` folder, shared by its source and its target: everything under a root,
sorted, with the reason for what cannot be read or copied, and our own temporary files apart.
"""

from __future__ import annotations

import operator
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from sys import intern
from typing import Any

from migrate.errors import ConnectorError
from migrate.i18n import _, os_reason
from migrate.journal.fastmake import maker
from migrate.model import Fingerprint, SourceItem, TargetEntry, TargetName

TEMPORARY_PREFIX = ".~migrate-"
TEMPORARY_SUFFIX = ".part"


# A listing makes one of each per file: see migrate/journal/fastmake.py.
_make_fingerprint = maker(Fingerprint, ("size", "mtime", "checksum", "etag"))
_make_item = maker(SourceItem, ("key", "path", "kind", "fingerprint", "meta", "skip_reason",
                                "data"))
_make_entry = maker(TargetEntry, ("name", "kind", "fingerprint", "ref"))
_make_name = maker(TargetName, ("name", "rename_reason", "notes", "refusal", "original"))


#: One folder under the root, as `_folders` yields it: (path, paths, infos, problem): the paths
#: of what it holds, sorted, each with its `lstat` (`_FOLDER` for a folder, or the OSError that
#: refused it). Made per folder, not per thing in it: a re-run of 100,000 files walks 200,000
#: of them, and a tuple and a generator step each cost a tenth of the walk (decision 0489).
#: `paths` is None for a folder that cannot be read (with its `problem`), and empty for a folder
#: found empty when its turn came.
_Folder = tuple[str, "list[str] | None", "list[os.stat_result | OSError]", "str | None"]


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
#: A name of ours, found in a folder's names joined by "/" (which no name holds).
_MARK = "/" + TEMPORARY_PREFIX


def _folders(root: Path, leftovers: list[Path] | None = None,
             empty_folders: bool = True) -> Iterator[_Folder]:
    """Every folder under root (the root first, as ""), parents before children, with what it
    holds sorted by name: each thing comes when its parent is listed.

    With `empty_folders`, a folder found empty when its own turn comes is said (with no
    paths): telling it from its parent's listing cost one more directory read per folder.

    One unreadable folder or over-long name never stops the walk: it is reported and the rest
    is listed. Links are never followed: a folder below the root is opened with O_NOFOLLOW and
    read through its descriptor, so each `stat` is relative to it (`fstatat`) rather than a
    walk of the whole path again. Our own temporary files go to `leftovers`, never listed.
    """
    stack = [""]
    top = str(root)
    while stack:
        relative = stack.pop()
        folder = os.path.join(top, relative) if relative else top
        try:
            descriptor = os.open(folder, _FOLDER_FLAGS | (os.O_NOFOLLOW if relative else 0))
            try:
                with os.scandir(descriptor) as listed:
                    entries = sorted(listed, key=_by_name)
                    # stat while the descriptor is open: DirEntry.stat uses it (fstatat).
                    # A folder needs none: the listing's own type says so (d_type; where the
                    # file system gives none, `is_dir` asks `lstat` itself), one call less
                    # per folder on both sides of a re-run (decision 0499).
                    try:
                        infos: list[os.stat_result | OSError] = [
                            _FOLDER if entry.is_dir(follow_symlinks=False)
                            else entry.stat(follow_symlinks=False) for entry in entries]
                    except OSError:  # one of them cannot be read: said for that one only
                        infos = [_lstat(entry) for entry in entries]
            finally:
                os.close(descriptor)
        except OSError as error:
            if not relative:
                raise ConnectorError(_("cannot read the folder {path}: {reason}").format(
                    path=folder, reason=os_reason(error))) from None
            yield (relative, None, [], _(
                "this folder cannot be read ({reason}); its content was left out").format(
                    reason=os_reason(error)))
            continue
        if not entries:
            if relative and empty_folders:
                yield (relative, [], [], None)
            continue
        # Interned: the target's listing of a finished copy names the same 100,000s of paths
        # as the source's, and holds one string for both.
        names = [entry.name for entry in entries]
        prefix = relative + "/" if relative else ""
        paths = [intern(prefix + name) for name in names]
        if _MARK in "/" + "/".join(names):  # one search per folder, not one per name
            kept = [i for i, name in enumerate(names) if not name.startswith(TEMPORARY_PREFIX)]
            if leftovers is not None:
                leftovers.extend(Path(folder, name) for name in names
                                 if name.startswith(TEMPORARY_PREFIX)
                                 and name.endswith(TEMPORARY_SUFFIX))
            paths, infos = [paths[i] for i in kept], [infos[i] for i in kept]
        yield (relative, paths, infos, None)
        stack.extend(reversed([path for path, info in zip(paths, infos, strict=True)
                               if info is _FOLDER]))


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)


#: What `_folders` gives for a folder instead of its `lstat`: only its type is ever read.
_FOLDER = os.stat_result((stat.S_IFDIR | 0o755, 0, 0, 0, 0, 0, 0, 0, 0, 0))


def _lstat(entry: os.DirEntry[str]) -> os.stat_result | OSError:
    """What `_folders` says of a thing it cannot `stat` (an over-long name, a permission)."""
    try:
        return _FOLDER if entry.is_dir(follow_symlinks=False) else entry.stat(
            follow_symlinks=False)
    except OSError as error:
        return error
