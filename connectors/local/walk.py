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
from migrate.model import Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName

TEMPORARY_PREFIX = ".~migrate-"
TEMPORARY_SUFFIX = ".part"


# A listing makes one of each per file: see migrate/journal/fastmake.py.
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
