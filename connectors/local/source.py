"""The `local` source: the files and folders under a folder on this computer."""

from __future__ import annotations

import errno
import os
import stat
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from connectors.local.walk import _NO_META, _folders, _kind_problem, _make_fingerprint, _make_item
from migrate.connector import Listing, Source
from migrate.errors import ConnectorError, SkipItem
from migrate.i18n import _, os_reason
from migrate.model import ItemKind, SourceItem
from migrate.runner import gcpause


class LocalSource(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def list_items(self) -> Listing:
        with gcpause.paused():  # no network here: see migrate/runner/gcpause.py
            return self._list_items()

    def _list_items(self) -> Listing:
        items: list[SourceItem | None] = []
        append = items.append
        folders: dict[str, int] = {}  # folder → its place in the order, should it be empty
        file, folder = ItemKind.FILE, ItemKind.FOLDER
        is_reg, is_dir, stat_result = stat.S_ISREG, stat.S_ISDIR, os.stat_result
        for relative, paths, infos, problem in _folders(self.root):
            if paths is None:  # a folder that cannot be read: said when its turn came
                append(SourceItem(relative + "/", relative, folder, skip_reason=problem))
            elif not paths:  # a folder found empty when its turn came
                # A folder with files is created with its first file; an empty one would be
                # lost. It keeps the place its parent's listing gave it.
                items[folders.pop(relative)] = SourceItem(relative + "/", relative, folder)
            for path, info in zip(paths or (), infos, strict=True):
                if type(info) is not stat_result:
                    append(SourceItem(path, path, file, skip_reason=_(
                        "cannot be read ({reason})").format(reason=os_reason(info))))
                elif is_reg(info.st_mode):
                    # No per-item meta: a local target reads the exact nanoseconds from the
                    # file it copies (`_exact_mtime`); a dict per file was 22 MB per 100,000.
                    append(_make_item(path, path, file, _make_fingerprint(
                        info.st_size, info.st_mtime_ns / 1e9, None, None), _NO_META, None, None))
                elif is_dir(info.st_mode):
                    folders[path] = len(items)
                    append(None)
                else:
                    append(SourceItem(path, path, file, skip_reason=_kind_problem(info.st_mode)))
        return Listing([item for item in items if item is not None])

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        # Unbuffered: every reader asks for whole blocks or the whole file, and a buffered
        # reader asked the kernel two more questions per file (is it a terminal? where is
        # its offset?), each a hand-off of the interpreter's lock to another writer thread.
        return os.fdopen(self.descriptor(item), "rb", buffering=0)

    def descriptor(self, item: SourceItem) -> int:
        """The item's file opened for reading, as a descriptor of the caller's own (to close):
        a local target reads it without a file object around it (decision 0489)."""
        try:
            # O_NOFOLLOW: a file replaced by a link since the listing is not read through it.
            return os.open(f"{self.root}/{item.path}", os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise SkipItem(_("{path} disappeared from the source since it was listed").format(
                path=item.path)) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise SkipItem(_("{path} became a symbolic link since it was listed; links are "
                                 "never followed").format(path=item.path)) from None
            raise ConnectorError(_("cannot read {path}: {reason}").format(
                path=item.path, reason=os_reason(error))) from None
