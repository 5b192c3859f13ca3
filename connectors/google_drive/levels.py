"""Each item's levels as Drive knows them: raw names, ids and same-name ranks, root to item.

The path of an item cannot say everything: a "/" inside a Drive name is written "∕" there (so
"/" only separates levels), and two folders of one name in one folder give their children the
same path. So each item also carries, one entry per level of its path (see
docs/decisions/0420-drive-levels.md):

- `FileMeta.segments`: the raw Drive name of each level (the last one with the extension the
  export or link adds), so a target renames from the real name and says why;
- `FileMeta.segment_keys`: the Drive id of each level (the item's own key last), so a target can
  tell two same-named folders apart and put each child under the right one;
- `FileMeta.segment_ranks`: 0 for the oldest of same-named siblings (createdTime, then id), 1 for
  the next…, so the one that keeps the plain name stays the same when a newer duplicate appears.

Levels Drive has no file for (`Shared drives`, `Shared with me`) take their path component and
the key `path:<path so far>`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from connectors.google_drive import formats
from connectors.google_drive.listing import DriveListing, component
from migrate.model import SourceItem


def add_levels(listing: DriveListing, items: list[SourceItem]) -> None:
    ranks = _folder_ranks(listing.files)
    for item in items:
        parts = item.path.split("/")
        names, keys, order = _walk_up(listing, item, len(parts), ranks)
        missing = len(parts) - len(names)
        for depth in range(missing - 1, -1, -1):  # virtual levels, outermost last
            names.append(listing.root_names.get(parts[depth], parts[depth]))
            keys.append("path:" + "/".join(parts[: depth + 1]))
            order.append(0)
        names.reverse(), keys.reverse(), order.reverse()
        names[-1] += _suffix(parts[-1], item.meta.get("name", ""))
        keys[-1] = item.key
        assert item.data is not None  # given by build_items
        order[-1] = item.data.same_name_rank
        item.data.segments, item.data.segment_keys, item.data.segment_ranks = names, keys, order


def _walk_up(listing: DriveListing, item: SourceItem, depth: int,
             ranks: dict[str, int]) -> tuple[list[str], list[str], list[int]]:
    """Innermost first: the item, then its parents, while Drive has them, up to `depth`."""
    names, keys, order = [], [], []
    current: str | None = item.key
    while current in listing.files and current not in listing.roots and len(names) < depth:
        entry = listing.files[current]
        names.append(entry["name"])
        keys.append(current)
        order.append(ranks.get(current, 0))
        current = (entry.get("parents") or [None])[0]
    return names, keys, order


def _suffix(last: str, raw_name: str) -> str:
    """What the source appended to the name (".odt" for an export, ".url" for a link)."""
    stem = component(raw_name)
    return last[len(stem):] if raw_name and last.startswith(stem) else ""


def _folder_ranks(files: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Same-name rank of each folder among its siblings: oldest 0, then by id."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in files.values():
        if entry["mimeType"] == formats.FOLDER:
            groups[((entry.get("parents") or [""])[0], entry["name"])].append(entry)
    ranks: dict[str, int] = {}
    for group in groups.values():
        group.sort(key=lambda e: (e.get("createdTime", ""), e["id"]))
        ranks.update({entry["id"]: rank for rank, entry in enumerate(group)})
    return ranks
