"""State that only the person running the migration may read: journals, saved plans, pacing.

A saved plan lists every address of an audience; a state folder holds the journal and what a
connector keeps between runs. They are created private (folders 0700, files 0600) whatever the
umask, and a folder found too open is closed to others.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) readable by its owner only; tighten it if it exists.

    Only the last folder is tightened: its parents may be the user's own shared folders."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    with contextlib.suppress(OSError):  # a folder we do not own stays as it is
        if path.stat().st_mode & 0o077:
            os.chmod(path, FOLDER_MODE)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Write a whole file atomically (temporary name, then rename), mode 0600 from the start."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                         FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), FILE_MODE)  # an older temporary may have kept another mode
            out.write(raw)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
