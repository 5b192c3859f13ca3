"""Locations and names stay inside their connection.

A step's location (`cloud:/Communication`) and an item's target name are paths *inside* the
connection's folder: a `..` segment would climb out of it (`dst:/../../elsewhere`), and so would
an absolute path once joined. The plan refuses such a location when it is loaded (so `validate`
and `plan` already say so), and every connector that joins paths checks again with
`inside(...)` before it writes: the plan is not the only way a name reaches a target.
"""

from __future__ import annotations

from pathlib import Path

from migrate.errors import FatalError
from migrate.i18n import _


def escaping_segment(location: str) -> str | None:
    """The first segment of a relative location that would leave its folder, or None.

    Both `/` and `\\` separate segments here: a Windows share or a WebDAV server may read a
    backslash as a separator even where this computer does not.
    """
    for segment in location.replace("\\", "/").split("/"):
        if segment.strip() == "..":
            return segment
    return None


def problem(location: str) -> str | None:
    """Why a step's location cannot be used, or None when it is fine."""
    if escaping_segment(location) is not None:
        return _("'..' would leave the connection's folder; give a folder inside it")
    if "\0" in location:
        return _("a location cannot contain the NUL character")
    return None


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refused (FatalError) when it would lead outside `root`.

    Only the text is checked, never the disk: links are the target's own business (see
    connectors/local/target.py, which never follows one).
    """
    if escaping_segment(relative) is not None:
        raise FatalError(_("{path} would lead outside the connection's folder {root}; nothing "
                           "is written there").format(path=relative, root=root))
    cleaned = relative.strip("/")
    return root / cleaned if cleaned else root
