"""The entries of one part (zip, tgz or extracted folder), listed in bulk, read one at a time.

Names are given relative to the part's `Takeout/` folder. Every file carries what identifies
its content from one export to the next without reading it again: zips keep a CRC-32 per entry
in their central directory; a tgz is read whole once anyway (tar has no index), so its CRC-32 is
computed in that same pass. Entry times are the time Google wrote the archive, not the Drive
time (docs/decisions/0471-takeout-times.md): the CRC is what tells a re-export apart.
"""

from __future__ import annotations

import calendar
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.google_takeout.gzindex import GzipRandomAccess
from connectors.google_takeout.metadata import INFO
from migrate import archives
from migrate.errors import FatalError
from migrate.i18n import _

#: Small JSON files are read during the listing: Workspace `-info.json` metadata.
METADATA_MAX = 1 << 20
#: zip extra field 0x5455 ("UT"): a Unix (UTC) modification time, when the writer gave one.
EXTENDED_TIME = 0x5455


@dataclass(frozen=True)
class Member:
    """One file or folder of a part."""

    name: str  # relative to the part's Takeout/ folder, forward slashes
    archive: Path  # the part (an archive, or an extracted Takeout folder)
    stored_as: str  # the name inside the archive, or the file's path
    is_folder: bool
    size: int
    mtime: float
    crc32: int | None = None
    offset: int | None = None  # tgz: where the content starts in the decompressed stream
    content: bytes | None = None  # small JSON and HTML metadata, read during the listing


def is_metadata_candidate(name: str, size: int) -> bool:
    """Drive info files and the export's index: read during the listing (small)."""
    base = name.rsplit("/", 1)[-1]
    return size <= METADATA_MAX and (INFO.match(base) is not None or
                                     name == "archive_browser.html")


def unreadable(archive: Path) -> FatalError:
    return FatalError(_("{path} is not a complete archive (damaged, or not fully downloaded); "
                        "download this part again from Google Takeout").format(path=archive))


def _inside(name: str) -> str | None:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if parts and parts[0] == "Takeout":
        parts = parts[1:]
    return "/".join(parts) or None


def zip_members(archive: Path) -> Iterator[Member]:
    try:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                name = _inside(info.filename)
                if name is None:
                    continue
                content = None
                if not info.is_dir() and is_metadata_candidate(name, info.file_size):
                    content = opened.read(info)
                yield Member(name, archive, info.filename, info.is_dir(), info.file_size,
                             _zip_time(info), None if info.is_dir() else info.CRC,
                             content=content)
    except archives.ENTRY_ERRORS:  # names not UTF-8 too (migrate/archives.py)
        raise unreadable(archive) from None


def _zip_time(info: zipfile.ZipInfo) -> float:
    """The entry's time: the UTC Unix time of the "UT" extra field if present; else the DOS
    time, which has no zone, read as UTC."""
    extra = info.extra
    while len(extra) >= 4:
        kind, length = struct.unpack("<HH", extra[:4])
        body = extra[4:4 + length]
        if kind == EXTENDED_TIME and len(body) >= 5 and body[0] & 1:
            return float(struct.unpack("<i", body[1:5])[0])
        extra = extra[4 + length:]
    return float(calendar.timegm((*info.date_time, 0, 0, 0)))


def tgz_members(archive: Path, reader: GzipRandomAccess) -> Iterator[Member]:
    """One streaming pass: headers, a CRC-32 of each file, small metadata files kept."""
    stream = reader.stream()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as opened:  # type: ignore[call-overload]
            for info in opened:
                name = _inside(info.name)
                if name is None or not (info.isfile() or info.isdir()):
                    continue
                crc, content = None, None
                if info.isfile():
                    crc, content = _digest(opened, info, is_metadata_candidate(name, info.size))
                yield Member(name, archive, info.name, info.isdir(), info.size,
                             float(info.mtime), crc, info.offset_data, content)
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise unreadable(archive) from None
    finally:
        stream.close()


def _digest(opened: tarfile.TarFile, info: tarfile.TarInfo,
            keep: bool) -> tuple[int, bytes | None]:
    extracted = opened.extractfile(info)
    crc, kept = 0, []
    if extracted is not None:
        while block := extracted.read(1 << 20):
            crc = zlib.crc32(block, crc)
            if keep:
                kept.append(block)
    return crc, b"".join(kept) if keep else None


def folder_members(root: Path) -> Iterator[Member]:
    """An extracted `Takeout` folder (`root` is that folder)."""
    for entry in sorted(root.rglob("*")):
        if not (entry.is_file() or entry.is_dir()):
            continue
        name = entry.relative_to(root).as_posix()
        info = entry.stat()
        content = None
        if entry.is_file() and is_metadata_candidate(name, info.st_size):
            content = entry.read_bytes()
        yield Member(name, root, str(entry), entry.is_dir(), info.st_size, info.st_mtime,
                     content=content)
