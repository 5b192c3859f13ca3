"""Workspace metadata files: read for what they say, never copied as files.

A Workspace export writes beside each file `<name>-info.json` (its Drive title, times, sharing;
`-i.json`, `-in.json`… when the name was cut to fit, `-info(1).json` for the second file of that
name), `<name>-comments.html` (its comments), and at the Drive root `Workspaces.json` and, for a
shared drive, `Shared Drive Metadata.json`. The field names are those real exports carry, as
ONLYOFFICE's Google Workspace migrator reads them (docs/decisions/0470-takeout-layouts.md).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

INFO = re.compile(r"^(?P<base>.+?)-i(?:n(?:fo?)?)?(?P<dup>\(\d+\))?\.json$", re.IGNORECASE)
COMMENTS = re.compile(r"^(?P<base>.+?)-comments(?P<dup>\(\d+\))?\.html$", re.IGNORECASE)
EXPORT_FILES = re.compile(r"^(Workspaces(\(\d+\))?\.json|Shared Drive Metadata\.json)$",
                          re.IGNORECASE)
#: The info file's times, in order of preference: Drive's modifiedTime is the last change by
#: anyone; the content time comes next.
TIME_FIELDS = ("last_modified_by_any_user", "content_last_modified", "last_modified_by_me")


@dataclass(frozen=True)
class Info:
    """What an `-info.json` says about one Drive file or folder."""

    title: str
    mtime: float | None
    permissions: tuple[dict[str, Any], ...]
    owners: tuple[str, ...]


def parse_info(content: bytes | None) -> Info | None:
    """The info, or None if these bytes are not a Drive info file (an ordinary JSON file)."""
    if not content:
        return None
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("title"), str) or not (
            "permissions" in data or any(f in data for f in TIME_FIELDS)):
        return None
    permissions = tuple(_permission(p) for p in data.get("permissions") or []
                        if isinstance(p, Mapping))
    owners = tuple(p["email"] for p in permissions if p["role"] == "owner" and p["email"])
    return Info(data["title"], _time(data), permissions, owners)


def _time(data: Mapping[str, Any]) -> float | None:
    for name in TIME_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def _permission(raw: Mapping[str, Any]) -> dict[str, Any]:
    """In the shape `connectors/dav/sharing.py` reads (the Drive source gives the same)."""
    role = str(raw.get("role") or "reader")
    if role == "reader" and "commenter" in (raw.get("additional_roles") or []):
        role = "commenter"
    return {"type": str(raw.get("type") or "user"), "role": role,
            "email": raw.get("email_address") or None, "domain": raw.get("domain") or None}


def _with_dup(name: str, dup: str) -> str:
    """`report.pdf` + `(1)` → `report(1).pdf`, as Drive names the second file of a name."""
    if not dup:
        return name
    stem, dot, extension = name.rpartition(".")
    return f"{stem}{dup}.{extension}" if dot and stem else f"{name}{dup}"


def _stem(name: str) -> str:
    stem, dot, _extension = name.rpartition(".")
    return stem if dot and stem else name


@dataclass
class Matched:
    """Metadata found for the entries of an export, by the entry's name in the export."""

    infos: dict[str, Info] = field(default_factory=dict)
    #: metadata name → what it described (for the skip line of a consumed file)
    consumed: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # comments file → described entry
    orphans: dict[str, str] = field(default_factory=dict)  # metadata file → its title


def match_metadata(entries: Iterable[str], candidates: Mapping[str, Info | None],
                   comment_files: Iterable[str]) -> Matched:
    """Pair each info file (name → parsed) and comments file with the entry it describes.

    `entries` are the names (files and folders, relative to Takeout/) that are not metadata.
    """
    by_folder: dict[str, set[str]] = {}
    for entry in entries:
        folder, _sep, base = entry.rpartition("/")
        by_folder.setdefault(folder, set()).add(base)
    result = Matched()
    for name, info in sorted(candidates.items()):
        if info is None:
            continue
        folder, _sep, base = name.rpartition("/")
        match = INFO.match(base)
        assert match is not None
        free = {n for n in by_folder.get(folder, set())
                if posixpath.join(folder, n) not in result.infos}
        found = _pick(free, match["base"], match["dup"] or "", info.title)
        if found is None:
            result.orphans[name] = info.title
            continue
        target = posixpath.join(folder, found)
        result.infos[target] = info
        result.consumed[name] = target
    for name in sorted(comment_files):
        folder, _sep, base = name.rpartition("/")
        match = COMMENTS.match(base)
        assert match is not None
        found = _pick(by_folder.get(folder, set()), match["base"], match["dup"] or "", None)
        result.comments[name] = posixpath.join(folder, found or match["base"])
    return result


def _pick(names: set[str], base: str, dup: str, title: str | None) -> str | None:
    """The one entry among `names` that a metadata file named after `base` describes."""
    rules = [
        lambda n: n == _with_dup(base, dup),
        lambda n: _stem(n) == base + dup,
        lambda n: title is not None and n == _with_dup(title, dup),
        lambda n: title is not None and _stem(n) == title + dup,
        lambda n: not dup and n.startswith(base) and len(base) >= 8,  # name cut to fit
    ]
    for rule in rules:
        found = [n for n in names if rule(n)]
        if len(found) == 1:
            return found[0]
    return None
