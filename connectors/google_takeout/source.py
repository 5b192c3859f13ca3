"""The `google_takeout` source: an export's Drive files, listed in bulk, streamed one at a time.

Keys are paths in Drive: Takeout carries no Drive ids, and the path is what stays the same from
one export of a Drive to the next. Every entry of the Drive folder is accounted for: copied,
or listed as skipped with its reason (trash, metadata, comments, files Google lists but did not
put in the archive).
"""

from __future__ import annotations

import io
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

from connectors.google_takeout.assembly import Assembly, Options
from connectors.google_takeout.gzindex import GzipRandomAccess
from connectors.google_takeout.index import export_identity
from connectors.google_takeout.layout import Layout, find_layout
from connectors.google_takeout.members import (
    Member,
    folder_members,
    tgz_members,
    unreadable,
    zip_members,
)
from migrate import archives
from migrate.connector import Listing, Source
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _, message_of
from migrate.model import SourceItem

#: tgz members up to this size are read whole into memory (one per writer at most).
SMALL_MEMBER = 8 * 1024 * 1024


class GoogleTakeoutSource(Source):
    def __init__(self, parts: list[Path], options: Options) -> None:
        self.parts, self.options = parts, options
        self.location = options.location.strip("/")
        self._part_index = {str(part): index for index, part in enumerate(parts)}
        self._zips: dict[Path, zipfile.ZipFile] = {}
        self._gzips: dict[Path, GzipRandomAccess] = {}
        self._lock = threading.Lock()
        self._part_locks: dict[Path, threading.Lock] = {}

    # -- listing

    def list_items(self) -> Listing:
        members = [m for part in self.parts for m in self._members(part)]
        self._refuse_two_indexes(members)
        layout = self._layout(members)
        return Listing(sorted(Assembly(layout, members, self.options).items(),
                              key=self._reading_order))

    def _reading_order(self, item: SourceItem) -> tuple[int, int, str]:
        """Items in the order their bytes lie in the parts: the runner writes in source order,
        so a tgz is read front to back (a few writers at once stay close together) instead of
        jumping around it. Targets create parent folders as they need them."""
        archive = item.meta.get("archive")
        part = self._part_index.get(archive, len(self.parts)) if archive else len(self.parts)
        return part, int(item.meta.get("offset", -1)), item.path

    def _members(self, part: Path) -> Iterator[Member]:
        if part.is_dir():
            return folder_members(part)
        if part.suffix.lower() == ".zip":
            return zip_members(part)
        return tgz_members(part, self._gzip(part))

    def _layout(self, members: list[Member]) -> Layout:
        tops: set[str] = set()
        children: dict[str, set[str]] = {}
        for member in members:
            top, _sep, rest = member.name.partition("/")
            tops.add(top)
            if rest:
                children.setdefault(top, set()).add(rest.split("/")[0])
        where = str(self.parts[0]) if len(self.parts) == 1 else _(
            "{first} and its {count} other parts").format(first=self.parts[0],
                                                         count=len(self.parts) - 1)
        return find_layout(tops, children, self.options.drive_folder, where)

    @staticmethod
    def _refuse_two_indexes(members: list[Member]) -> None:
        """Two archive_browser.html of different exports among the parts: two exports."""
        # Every part may carry a copy of the index: only different exports' ids are a mix.
        pages = {export_identity(m.content.decode("utf-8", "replace")) for m in members
                 if m.name == "archive_browser.html" and m.content} - {None}
        if len(pages) > 1:
            where = sorted({str(m.archive) for m in members if m.name == "archive_browser.html"})
            raise FatalError(_(
                "these parts come from different Takeout exports (each has its own "
                "archive_browser.html): {parts}. Reading them together would let an older copy "
                "overwrite a newer one; keep the parts of one export together").format(
                    parts=", ".join(where)))

    # -- content

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        return self._open(item)

    @contextmanager
    def _open(self, item: SourceItem) -> Iterator[BinaryIO]:
        archive, name = Path(item.meta["archive"]), item.meta["member"]
        try:
            if archive.is_dir():
                with open(name, "rb") as stream:
                    yield stream
            elif archive.suffix.lower() == ".zip":
                # Checked and bounded (bombs, damaged entries): migrate/archives.py
                with archives.open_entry(self._zip(archive), name) as stream:
                    yield stream  # type: ignore[misc]
            else:
                with self._tar_member(archive, item) as stream:
                    yield stream
        except KeyError:
            raise SkipItem(_("{path} is no longer in {archive}").format(
                path=item.path, archive=archive.name)) from None
        except FileNotFoundError:
            raise SkipItem(_("{path} is no longer in {archive}").format(
                path=item.path, archive=archive)) from None
        except archives.ArchiveError as error:  # this entry only: the other files go on
            raise SkipItem(message_of(error)) from None  # still a message: any language
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error):
            raise unreadable(archive) from None

    @contextmanager
    def _tar_member(self, archive: Path, item: SourceItem) -> Iterator[BinaryIO]:
        offset, size = item.meta.get("offset"), item.fingerprint.size
        if offset is None or size is None:
            raise SkipItem(_("{path}: the saved plan does not say where it is in {archive}; "
                             "make the plan again").format(path=item.path, archive=archive.name))
        reader = self._gzip(archive)
        if size <= SMALL_MEMBER:
            # Small files are inflated one at a time, in the order the writers ask, and handed
            # over from memory: one cursor then goes through the part once, whatever the jobs.
            lock = self._part_locks.setdefault(archive, threading.Lock())
            with lock, reader.open_range(int(offset), int(size)) as whole:
                data = whole.read()
            yield io.BytesIO(data)
            return
        stream = reader.open_range(int(offset), int(size))
        try:
            yield stream  # type: ignore[misc]
        finally:
            stream.close()

    def _zip(self, archive: Path) -> zipfile.ZipFile:
        # One open ZipFile per archive, shared: zipfile serialises reads of a shared file.
        with self._lock:
            if archive not in self._zips:
                try:
                    self._zips[archive] = zipfile.ZipFile(archive)
                except archives.ENTRY_ERRORS:
                    raise unreadable(archive) from None
            return self._zips[archive]

    def _gzip(self, archive: Path) -> GzipRandomAccess:
        # One per part, kept: the listing's pass leaves checkpoints the reads start from.
        with self._lock:
            if archive not in self._gzips:
                self._gzips[archive] = GzipRandomAccess(archive)
            return self._gzips[archive]

    def close(self) -> None:
        with self._lock:
            for opened in self._zips.values():
                opened.close()
            for gzip in self._gzips.values():
                gzip.close()
            self._zips.clear()
            self._gzips.clear()
