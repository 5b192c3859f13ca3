"""Disk helpers of the `local` target: how the file system compares names, links met on the
way, exact modification times, checksums, and disk errors turned into `FatalError` or
`ConnectorError` in one place (`_translate`).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

from connectors.dav.collisions import NameFolding
from connectors.local.walk import TEMPORARY_PREFIX
from migrate.connector import iter_chunks
from migrate.errors import ConnectorError, FatalError, SkipItem
from migrate.i18n import _, os_reason

CHUNK = 1 << 20


def probe_folding(root: Path) -> NameFolding:
    """How the file system holding `root` compares names, found by creating one empty
    temporary file and looking it up in another case and Unicode form: macOS and Windows
    disks ignore case, macOS ignores the Unicode form (NFC/NFD). Assumes exact names when
    nothing can be written there."""
    folder = root
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    import tempfile  # with `shutil`, about 2 ms of every start: only a local target probes

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

def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _stat_of(stream: BinaryIO) -> os.stat_result | None:
    """`fstat` of a source stream that is a file on this computer; None for other streams."""
    try:
        return os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _exact_mtime(found: os.stat_result | None, listed: float | None) -> int | None:
    """The modification time in nanoseconds of a source that is a file on this computer (its
    `found` stat), when it is still the time the listing saw (a float of seconds cannot hold
    every nanosecond; the file itself can): what rsync -a copies. None for other streams or a
    time that moved."""
    if listed is None or found is None:
        return None
    exact = found.st_mtime_ns
    return exact if abs(exact - listed * 1e9) < 1000 else None


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
