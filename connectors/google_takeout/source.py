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
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from connectors.google_takeout.gzindex import GzipRandomAccess
from connectors.google_takeout.index import drive_listing
from connectors.google_takeout.layout import Layout, find_layout
from connectors.google_takeout.members import (
    Member,
    folder_members,
    tgz_members,
    unreadable,
    zip_members,
)
from connectors.google_takeout.metadata import (
    COMMENTS,
    EXPORT_FILES,
    INFO,
    Info,
    Matched,
    match_metadata,
    parse_info,
)
from migrate.connector import Listing, Source
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _
from migrate.model import Fingerprint, ItemKind, SourceItem

#: tgz members up to this size are read whole into memory (one per writer at most).
SMALL_MEMBER = 8 * 1024 * 1024


@dataclass(frozen=True)
class Options:
    location: str = ""
    trash: bool = False
    drive_folder: str | None = None


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
        return Listing(sorted(_Assembly(layout, members, self.options).items(),
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
        """Each export has one archive_browser.html: two different ones are two exports."""
        pages = {m.content for m in members if m.name == "archive_browser.html" and m.content}
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
                with self._zip(archive).open(name) as stream:
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
                except (zipfile.BadZipFile, OSError):
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


class _Assembly:
    """Turns one export's members into source items (pure: no I/O)."""

    def __init__(self, layout: Layout, members: list[Member], options: Options) -> None:
        self.layout, self.options = layout, options
        self.location = options.location.strip("/")
        self.members = members
        self.drive = [m for m in members if m.name.startswith(layout.drive + "/")]
        self._by_name: dict[str, list[Member]] = {}
        for member in self.drive:
            self._by_name.setdefault(member.name, []).append(member)
        self.matched = self._match()

    def _match(self) -> Matched:
        candidates: dict[str, Info | None] = {}
        comments, entries = [], []
        for member in self.drive:
            base = member.name.rsplit("/", 1)[-1]
            if not member.is_folder and INFO.match(base):
                info = parse_info(member.content)
                if info is not None:
                    candidates[member.name] = info
                    continue
            if not member.is_folder and COMMENTS.match(base) and self.layout.workspace:
                comments.append(member.name)
                continue
            entries.append(member.name)
        # Zips rarely hold folder entries: a folder's info is matched to the folder its files
        # imply.
        entries += {name.rsplit("/", n)[0] for name in entries for n in range(1, name.count("/"))}
        return match_metadata(entries, candidates, comments)

    def items(self) -> list[SourceItem]:
        files: dict[str, SourceItem] = {}
        folders: dict[str, Member] = {}
        skipped: list[SourceItem] = []
        for member in self.drive:
            placed = self.layout.place(member.name, member.is_folder)
            if placed.path is None:
                continue
            path = self._relative(placed.path)
            if path is None:
                continue
            reason = self._skip_reason(member, placed.in_trash, placed.at_drive_root)
            if reason == "consumed":
                continue
            if member.is_folder:
                if reason is None:
                    folders[path] = member
                continue
            item = self._file(member, path, reason)
            if reason is not None:
                skipped.append(item)
            elif path in files and files[path].fingerprint == item.fingerprint:
                continue  # the same file in two parts (never seen, harmless)
            elif path in files:
                skipped.append(item)  # listed twice: the diff reports the conflict
            else:
                files[path] = item
        implied = {"/".join(p.split("/")[:n]) for p in files for n in range(1, p.count("/") + 1)}
        result = list(files.values()) + skipped + self._missing(set(files))
        result += [self._folder(member.name, path) for path, member in folders.items()
                   if path not in implied]
        # A folder with its own Drive information (its sharing) is an item even when its files
        # imply it: the target shares the folder once rather than each file.
        result += [self._folder(name, path) for name, path in self._described_folders(files)
                   if path in implied and path not in folders]
        return result

    def _described_folders(self, files: dict[str, SourceItem]) -> list[tuple[str, str]]:
        found = []
        for name in self.matched.infos:
            if any(m.name == name and not m.is_folder for m in self._by_name.get(name, [])):
                continue
            placed = self.layout.place(name, is_folder=True)
            path = self._relative(placed.path) if placed.path else None
            if path is not None and not placed.in_trash:
                found.append((name, path))
        return found

    def _skip_reason(self, member: Member, in_trash: bool, at_root: bool) -> str | None:
        if member.name in self.matched.consumed:
            return "consumed"
        if in_trash and not self.options.trash:
            return _("in the Drive trash; not copied unless the step says 'trash: true'")
        base = member.name.rsplit("/", 1)[-1]
        if member.name in self.matched.orphans:
            return _("Drive information about '{title}', whose file is not in the export; "
                     "nothing to copy").format(title=self.matched.orphans[member.name])
        if member.name in self.matched.comments:
            return _("the comments of '{name}' as Google exported them; Nextcloud keeps no "
                     "comments from Drive, so they are not copied").format(
                         name=self.matched.comments[member.name].rsplit("/", 1)[-1])
        if at_root and ((EXPORT_FILES.match(base) and self.layout.workspace)
                        or base == "Shared Drive Metadata.json"):
            return _("Google's description of the export ({name}), not a Drive file; not "
                     "copied").format(name=base)
        return None

    def _file(self, member: Member, path: str, reason: str | None) -> SourceItem:
        info = self.matched.infos.get(member.name)
        checksum = f"crc32:{member.crc32:08x}" if member.crc32 is not None else None
        mtime = info.mtime if info and info.mtime is not None else member.mtime
        meta: dict[str, object] = {"archive": str(member.archive), "member": member.stored_as}
        if member.offset is not None:
            meta["offset"] = member.offset
        if info is not None:
            meta["permissions"] = list(info.permissions)
            meta["owners"] = list(info.owners)
        return SourceItem(path, path, ItemKind.FILE, Fingerprint(member.size, mtime, checksum),
                          meta, skip_reason=reason)

    def _folder(self, name: str, path: str) -> SourceItem:
        info = self.matched.infos.get(name)
        meta: dict[str, object] = {}
        if info is not None:
            meta = {"permissions": list(info.permissions), "owners": list(info.owners)}
        return SourceItem(path + "/", path, ItemKind.FOLDER, meta=meta)

    def _missing(self, present: set[str]) -> list[SourceItem]:
        """Files the export's archive_browser.html lists but no part holds."""
        pages = [m.content for m in self.members if m.name == "archive_browser.html"]
        if not pages or not pages[0]:
            return []
        listed = drive_listing(pages[0].decode("utf-8", "replace"), self.layout.drive)
        if not listed:
            return []
        have = {m.name for m in self.members}
        pairs = {tuple(name.rsplit("/", 2)[-2:]) for name in have}
        missing = []
        for name in sorted(listed - have):
            if tuple(name.rsplit("/", 2)[-2:]) in pairs:
                continue  # listed with a shorter folder name than the archive uses
            placed = self.layout.place(name, is_folder=False)
            path = self._relative(placed.path) if placed.path else None
            if path is None or path in present or (placed.in_trash and not self.options.trash):
                continue
            base = name.rsplit("/", 1)[-1]
            if INFO.match(base) or COMMENTS.match(base):
                continue
            missing.append(SourceItem(path, path, ItemKind.FILE, skip_reason=_(
                "not in the archive: Google lists it in archive_browser.html, but none of the "
                "export's parts holds it (Google could not export it, or a part is missing)")))
        return missing

    def _relative(self, path: str) -> str | None:
        path = path.strip("/")
        if not self.location:
            return path or None
        if path.startswith(self.location + "/"):
            return path[len(self.location) + 1:]
        return None
