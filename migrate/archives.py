"""Reading zip archives someone else made: bounded, streamed, every failure one plain message.

An export zip is hostile input like any other. A 10 MB zip may inflate to 10 GiB ("zip bomb"),
an entry may lie about its size, be encrypted, use a compression this Python cannot read (zstd),
carry a flipped bit (CRC or zlib error) or a name that is not UTF-8. Connectors open archives
and entries through these helpers, which check each entry's declared size and compression ratio
before reading, stop a stream that inflates past what it declared, and turn every such failure
into an `ArchiveError` naming the archive and the entry.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from migrate.errors import FatalError
from migrate.i18n import _
from migrate.report.format import size

#: Largest entry read whole into memory (a posts file, a CSV of members). A very large Twitter
#: archive's tweets.js is a few hundred MB.
MAX_WHOLE = 1 << 30
#: Largest inflation accepted for an entry above RATIO_FLOOR: text compresses about 5-20 times,
#: media barely; bombs, a thousand times and more.
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20

#: What zipfile raises for a damaged, encrypted or unsupported entry.
ENTRY_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
                NotImplementedError, RuntimeError, UnicodeDecodeError, ValueError)


class ArchiveError(FatalError):
    """An archive or one of its entries cannot be read safely; the message says which and why."""


def open_zip(path: Path) -> zipfile.ZipFile:
    """The archive's directory, or an ArchiveError (not a zip, truncated, names not UTF-8)."""
    try:
        return zipfile.ZipFile(path)
    except ENTRY_ERRORS as error:
        raise ArchiveError(_("{path} is not a readable zip archive ({reason}); it may be "
                             "damaged or incompletely downloaded: download it again, or extract "
                             "it and give the folder instead").format(
            path=path, reason=_reason(error))) from None


def check_entry(archive: zipfile.ZipFile, name: str, limit: int | None = None,
                ratio: bool = True) -> zipfile.ZipInfo:
    """The entry's directory record, refused when it declares too much or (with `ratio`)
    inflates too much."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ArchiveError(_("{name} is missing from {path}").format(
            name=name, path=archive.filename)) from None
    if limit is not None and info.file_size > limit:
        raise ArchiveError(_("{name} in {path} would take {size} once unpacked (more than the "
                             "{limit} read at once); the archive looks damaged or built to "
                             "exhaust memory").format(name=name, path=archive.filename,
                                                      size=_bytes(info.file_size),
                                                      limit=_bytes(limit)))
    if ratio and info.file_size > RATIO_FLOOR and (
            info.file_size > MAX_RATIO * max(info.compress_size, 1)):
        raise ArchiveError(_("{name} in {path} unpacks to {size} from {packed}: over {ratio} "
                             "times its packed size, which only a zip bomb does; it was not "
                             "read").format(name=name, path=archive.filename,
                                            size=_bytes(info.file_size),
                                            packed=_bytes(info.compress_size), ratio=MAX_RATIO))
    if info.flag_bits & 0x1:
        raise ArchiveError(_("{name} in {path} is encrypted; export it again without a "
                             "password").format(name=name, path=archive.filename))
    return info


def read_entry(archive: zipfile.ZipFile, name: str, limit: int = MAX_WHOLE) -> bytes:
    """A whole entry, read as a stream that may not inflate past what it declared."""
    info = check_entry(archive, name, limit)
    with open_entry(archive, name, info) as stream:
        return stream.read()


def open_entry(archive: zipfile.ZipFile, name: str,
               info: zipfile.ZipInfo | None = None) -> BoundedEntry:
    """A stream of one entry, checked first; its reads raise ArchiveError, never zlib's.

    No ratio check here: a stream is copied chunk by chunk, never held in memory, and a real
    file may well be all zeros (a disk image); it still stops past its declared size."""
    info = info or check_entry(archive, name, ratio=False)
    try:
        stream = archive.open(info)
    except ENTRY_ERRORS as error:
        raise _damaged(archive, name, error) from None
    return BoundedEntry(stream, archive, name, info.file_size)


class BoundedEntry(io.RawIOBase):
    """An entry's stream that stops (ArchiveError) once it gives more than it declared."""

    def __init__(self, stream: BinaryIO, archive: zipfile.ZipFile, name: str,
                 declared: int) -> None:
        super().__init__()
        self._stream, self._archive, self._name = stream, archive, name
        self._left = declared

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        try:
            data = self._stream.read(want)
        except ENTRY_ERRORS as error:
            raise _damaged(self._archive, self._name, error) from None
        self._left -= len(data)
        if self._left < 0:
            raise ArchiveError(_("{name} in {path} unpacks to more than its declared size; the "
                                 "archive is damaged or built to exhaust memory").format(
                name=self._name, path=self._archive.filename))
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def _damaged(archive: zipfile.ZipFile, name: str, error: BaseException) -> ArchiveError:
    return ArchiveError(_("{name} in {path} cannot be read ({reason}); the archive may be "
                          "damaged: download it again").format(
        name=name, path=archive.filename, reason=_reason(error)))


def _reason(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return _("a compression method this program cannot read; extract the archive and give "
                 "the folder instead")
    if isinstance(error, UnicodeDecodeError):
        return _("a file name inside is not valid UTF-8")
    # Python's own texts are English: the common cases are said in the reader's language.
    if isinstance(error, zipfile.BadZipFile) and "CRC" in str(error):
        return _("its content does not match its checksum")
    if isinstance(error, zlib.error):
        return _("its compressed data is damaged")
    if isinstance(error, EOFError):
        return _("the archive ends too early")
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _bytes(count: int) -> str:
    return size(count)
