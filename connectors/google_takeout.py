"""`google_takeout`: the Drive part of Google Takeout archives, read in place.

Takeout splits an export into `takeout-<date>-001.zip`, `-002.zip`… (or `.tgz`); this source
reads them where they are — the zip central directories or the tar headers for the listing, one
member streamed at a time for the content — so nothing is extracted to disk. An already
extracted `Takeout/` folder works too.

Keys are the paths inside Drive: Takeout carries no Drive ids, and the path is the only thing
that stays the same between two exports of the same Drive. Modification times are those of the
archive entries (zip times are read as UTC, which is what Takeout writes).
"""

from __future__ import annotations

import calendar
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from migrate import archives
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _
from migrate.model import Fingerprint, ItemKind, SourceItem
from migrate.options import Option, OptionSet

#: The Drive folder under Takeout/, as Google names it in the account's language.
DRIVE_FOLDERS = ("Drive", "Google Drive", "My Drive", "Mon Drive", "Mi unidad", "Meine Ablage",
                 "Il mio Drive", "Meu Drive", "Mijn Drive")
ARCHIVE = re.compile(r"\.(zip|tgz|tar\.gz)$", re.IGNORECASE)
PART = re.compile(r"^(?P<stem>.+)-(?P<part>\d{3})\.(zip|tgz|tar\.gz)$", re.IGNORECASE)


@dataclass(frozen=True)
class Member:
    """One file or folder of the Drive tree, and where its bytes are."""

    path: str  # inside Drive
    archive: Path
    name: str  # inside the archive (or the file's path for an extracted folder)
    is_folder: bool
    size: int
    mtime: float


class GoogleTakeoutConnector(Connector):
    name = "google_takeout"
    summary = "Google Takeout archives of a Drive (zip or tgz, several parts), read in place."
    options = OptionSet((
        Option("path", required=True,
               help="One Takeout archive (the other parts beside it are found), a folder "
                    "holding the archives, or an extracted Takeout folder."),
    ))
    source_actions = ("copy",)

    def open_source(self, location: str, step: StepContext) -> GoogleTakeoutSource:
        path = (self.base_dir / str(self.config["path"])).expanduser()
        return GoogleTakeoutSource(archives_for(path), location.strip("/"))


def archives_for(path: Path) -> list[Path]:
    """The archives (or the one extracted folder) an export is made of, in part order."""
    if path.is_file():
        match = PART.match(path.name)
        if not match:
            return [path]
        stem = re.escape(match["stem"])
        siblings = [p for p in path.parent.iterdir() if re.match(rf"^{stem}-\d{{3}}\.", p.name)]
        return sorted(p for p in siblings if ARCHIVE.search(p.name))
    if not path.is_dir():
        raise FatalError(_("there is no Takeout archive or folder at {path}").format(path=path))
    if (path / "Takeout").is_dir() or any((path / n).is_dir() for n in DRIVE_FOLDERS):
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_file() and ARCHIVE.search(p.name))
    if not found:
        raise FatalError(_("{path} holds no Takeout archive (takeout-….zip or .tgz)").format(
            path=path))
    return found


def _drive_path(name: str) -> str | None:
    """The path inside Drive of an archive entry, or None if it is not part of Drive."""
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if parts and parts[0] == "Takeout":
        parts = parts[1:]
    if not parts or parts[0] not in DRIVE_FOLDERS:
        return None
    return "/".join(parts[1:])


def _unreadable(archive: Path) -> FatalError:
    return FatalError(_("{path} is not a complete archive (damaged, or not fully downloaded); "
                        "download this part again from Google Takeout").format(path=archive))


def _zip_members(archive: Path) -> Iterator[Member]:
    try:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                path = _drive_path(info.filename)
                if path:
                    yield Member(path, archive, info.filename, info.is_dir(), info.file_size,
                                 float(calendar.timegm((*info.date_time, 0, 0, 0))))
    except archives.ENTRY_ERRORS:  # names not UTF-8 too (migrate/archives.py)
        raise _unreadable(archive) from None


def _tar_members(archive: Path) -> Iterator[Member]:
    try:
        with tarfile.open(archive, "r:*") as opened:
            for info in opened:
                path = _drive_path(info.name)
                if path and (info.isfile() or info.isdir()):
                    yield Member(path, archive, info.name, info.isdir(), info.size,
                                 float(info.mtime))
    except (tarfile.TarError, EOFError, OSError):
        raise _unreadable(archive) from None


def _folder_members(root: Path) -> Iterator[Member]:
    for entry in sorted(root.rglob("*")):
        path = _drive_path(entry.relative_to(root).as_posix())
        if path and (entry.is_file() or entry.is_dir()):
            info = entry.stat()
            yield Member(path, root, str(entry), entry.is_dir(), info.st_size, info.st_mtime)


def members(archive: Path) -> Iterator[Member]:
    if archive.is_dir():
        return _folder_members(archive)
    if archive.suffix.lower() == ".zip":
        return _zip_members(archive)
    return _tar_members(archive)


class GoogleTakeoutSource(Source):
    def __init__(self, archives: list[Path], location: str) -> None:
        self.archives, self.location = archives, location
        self._zips: dict[Path, zipfile.ZipFile] = {}
        self._lock = threading.Lock()

    def list_items(self) -> Listing:
        files: dict[str, Member] = {}
        folders: dict[str, Member] = {}
        for archive in self.archives:
            for member in members(archive):
                path = self._relative(member.path)
                if path is not None:
                    (folders if member.is_folder else files)[path] = member
        implied = {"/".join(p.split("/")[:n]) for p in files for n in range(1, p.count("/") + 1)}
        items = [SourceItem(path, path, ItemKind.FILE, Fingerprint(m.size, m.mtime),
                            {"archive": str(m.archive), "member": m.name})
                 for path, m in files.items()]
        items += [SourceItem(path + "/", path, ItemKind.FOLDER)
                  for path in folders if path not in implied]
        return Listing(sorted(items, key=lambda i: i.path))

    def _relative(self, path: str) -> str | None:
        if not self.location:
            return path.strip("/") or None
        if path.startswith(self.location + "/"):
            return path[len(self.location) + 1:]
        return None

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
                with tarfile.open(archive, "r:*") as opened:
                    stream = opened.extractfile(name)
                    if stream is None:
                        raise SkipItem(_("{path} is not a file").format(path=item.path))
                    yield stream  # type: ignore[misc]
        except KeyError:
            raise SkipItem(_("{path} is no longer in {archive}").format(
                path=item.path, archive=archive.name)) from None
        except archives.ArchiveError as error:  # this entry only: the other files go on
            raise SkipItem(str(error)) from None
        except (zipfile.BadZipFile, tarfile.TarError, EOFError):
            raise _unreadable(archive) from None

    def _zip(self, archive: Path) -> zipfile.ZipFile:
        # One open ZipFile per archive, shared: zipfile serialises reads of a shared file.
        with self._lock:
            if archive not in self._zips:
                try:
                    self._zips[archive] = zipfile.ZipFile(archive)
                except archives.ENTRY_ERRORS:
                    raise _unreadable(archive) from None
            return self._zips[archive]

    def close(self) -> None:
        with self._lock:
            for opened in self._zips.values():
                opened.close()
            self._zips.clear()
