"""Distinct, stable names for items that would share one name in one folder, level by level.

Each item is seen as its levels from the step's root (see `levels_of`): the name the target
accepts, a key saying *which* folder or file that level is, and a rank. Two different keys
wanting one name under one parent are a collision: the lowest (rank, key) keeps the name, the
others get ` (2)`, ` (3)`… before the extension, skipping names already used in that folder.
Because it works on folders as well as files, the children of the second "Compta" folder land in
"Compta (2)", not mixed into the first.

Names are compared as the target compares them (`NameFolding`): Nextcloud stores every name in
Unicode NFC, so `café.txt` typed on Windows (NFC) and on a Mac (NFD) are one name there; a
Windows or macOS disk also ignores case. Of such twins the one already in the target's form
keeps the name, whatever the order the source lists them in, so the numbering is stable.

Sources that know which folder is which (Drive) give `FileMeta.segment_keys` and
`FileMeta.segment_ranks` (docs/decisions/0420-drive-levels.md); for the others, a folder is known
by its path, and the rank is `FileMeta.same_name_rank` (0 when absent), then the key.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from connectors.dav.names import numbered
from migrate.i18n import _, join
from migrate.item_meta import NO_FILE_META
from migrate.journal.fastmake import maker
from migrate.model import ItemKind, SourceItem

Encode = Callable[[str], tuple[str, list[str]]]


@dataclass(frozen=True)
class NameFolding:
    """How a target compares names: `unicode`, canonical equivalents are one name (stored or
    compared in NFC); `case`, upper and lower case are one name."""

    unicode: bool = True
    case: bool = False

    def key(self, name: str) -> str:
        if self.unicode:
            name = unicodedata.normalize("NFC", name)
        return name.casefold() if self.case else name

    def keyer(self) -> Callable[[str], str]:
        """`key` as the cheapest callable giving the same: a C function where one does (a
        re-run folds every name of both listings; decision 0488), `str` when nothing folds."""
        if not self.unicode:
            return str.casefold if self.case else str
        return self.key if self.case else partial(unicodedata.normalize, "NFC")

    def is_exact(self, name: str) -> bool:
        """Whether `name` is already in the form the target stores (NFC)."""
        return not self.unicode or unicodedata.is_normalized("NFC", name)


@dataclass(frozen=True, slots=True)
class Level:
    """One level of an item's path: the raw name, the name the server accepts, why it changed,
    which node it is, and its rank among same-named siblings."""

    raw: str
    name: str
    reasons: tuple[str, ...]
    key: str
    rank: int = 0


def levels_of(item: SourceItem, encode: Encode) -> list[Level]:
    """The item's levels, from `FileMeta.segments` when the source gives them, else its path."""
    data = item.data or NO_FILE_META
    raw = list(data.segments or [p for p in item.path.split("/") if p])
    keys = data.segment_keys
    ranks = data.segment_ranks
    last = len(raw) - 1
    given_keys = bool(keys) and len(keys) == len(raw)
    given_ranks = bool(ranks) and len(ranks) == len(raw)
    # Called twice per item of every WebDAV plan (names, then each name): built in one pass.
    levels = []
    path = ""
    for depth, segment in enumerate(raw):
        path = f"{path}/{segment}" if depth else segment
        if given_keys:
            key = str(keys[depth])
        elif depth == last and item.kind is not ItemKind.FOLDER:
            key = item.key
        else:
            key = "path:" + path
        rank = (int(ranks[depth]) if given_ranks else
                int(data.same_name_rank) if depth == last else 0)
        name, reasons = encode(segment)
        levels.append(_level(segment, name, tuple(reasons), key, rank))
    return levels


_level = maker(Level, ("raw", "name", "reasons", "key", "rank"))


def known_by_path(item: SourceItem) -> bool:
    """An item whose levels are its path's parts (`levels_of`): no `segments`, keys or ranks
    given, no empty part."""
    data, path = item.data, item.path
    return not ((data is not None and (data.segments or data.segment_keys or data.segment_ranks))
                or not path or path[0] == "/" or path[-1] == "/" or "//" in path)


class LevelsOf:
    """`levels_of`, reusing the folders' levels of the item named before: a listing gives a
    folder's files one after another, and an item known by its path (no `segments`, keys or
    ranks given) has the same folder levels as its neighbour in the same folder. Holds one
    folder's levels, never one per item."""

    def __init__(self, encode: Encode) -> None:
        self.encode = encode
        #: The last folder's path and levels, as one value (name_for may run in threads).
        self._last: tuple[str | None, list[Level]] = (None, [])

    def __call__(self, item: SourceItem) -> list[Level]:
        data = item.data
        path = item.path
        if not known_by_path(item):
            return levels_of(item, self.encode)
        folder, _sep, segment = path.rpartition("/")
        last, above = self._last
        if folder != last:
            levels = levels_of(item, self.encode)
            self._last = (folder, levels[:-1])
            return levels
        key = "path:" + path if item.kind is ItemKind.FOLDER else item.key
        name, reasons = self.encode(segment)
        return [*above, _level(segment, name, tuple(reasons), key,
                               int(data.same_name_rank) if data is not None else 0)]


class KeptNames:
    """Whether every level of an item known by its path keeps its name (most items of a
    re-run): its name is then its path, without making its levels. Holds the last folder
    found so, as `LevelsOf` holds one folder's levels."""

    def __init__(self, encode: Encode) -> None:
        self.encode = encode
        self._folder: str | None = None

    def __call__(self, item: SourceItem) -> bool:
        if not known_by_path(item):
            return False
        folder, _sep, segment = item.path.rpartition("/")
        if folder and folder != self._folder:
            if not all(self.encode(part) == (part, []) for part in folder.split("/")):
                return False
            self._folder = folder
        return self.encode(segment) == (segment, [])


def twin_reason(kept: str, raw: str) -> str:
    """Why `raw` was numbered: the target sees it as the same name as `kept`."""
    if unicodedata.normalize("NFC", kept) == unicodedata.normalize("NFC", raw):
        return _("another item in the folder is named '{other}' with its accents written the "
                 "other Unicode way (NFC/NFD), which the target sees as the same name").format(
                     other=kept)
    return _("another item in the folder is named '{other}', which the target sees as the "
             "same name (it ignores upper and lower case)").format(other=kept)


@dataclass
class CollisionResolver:
    """Numbers colliding nodes; `renamed` maps a node key to its numbered name, `twins` maps
    it to the name of the node that kept the name when the two differ only as the target
    folds them (accents in another Unicode form, case)."""

    folding: NameFolding = field(default_factory=NameFolding)
    renamed: dict[str, str] = field(default_factory=dict)
    twins: dict[str, str] = field(default_factory=dict)

    def none_collide(self, items: Iterable[SourceItem], encode: Encode) -> bool:
        """Whether `resolve` would find no collision among `items`, all known by their path
        (no `segments`, keys or ranks; no empty part): each node (a folder by its path, a
        file by its key) is put under its parent's path with its folded name, and none may
        meet another there. Cheaper than making every item's levels; False (make them) as
        soon as one item is not known by its path or two nodes meet."""
        fold = self.folding.keyer()
        nodes: dict[tuple[str, str], str] = {}
        folders: set[str] = set()

        def meets(parent: str, segment: str, key: str) -> bool:
            place = (parent, fold(encode(segment)[0]))
            found = nodes.setdefault(place, key)
            return found != key

        for item in items:
            if not known_by_path(item):
                return False
            path = item.path
            folder, _sep, segment = path.rpartition("/")
            above = folder
            while above and above not in folders:  # its folders, each once
                folders.add(above)
                parent, _sep, name = above.rpartition("/")
                if meets("path:" + parent if parent else "", name, "path:" + above):
                    return False
                above = parent
            key = "path:" + path if item.kind is ItemKind.FOLDER else item.key
            if meets("path:" + folder if folder else "", segment, key):
                return False
        return True

    def resolve(self, every: Iterable[Sequence[Level]]) -> None:
        """`every` holds the levels of every item of the step."""
        fold = self.folding.key
        # parent key -> folded name -> {node key: (rank, not exact, name, raw name)}
        children: dict[str, dict[str, dict[str, tuple[int, bool, str, str]]]] = defaultdict(
            lambda: defaultdict(dict))
        previous: Sequence[Level] = ()
        for levels in every:
            parent = ""
            same = True  # the folders shared with the item before (`LevelsOf`) are known
            for depth, level in enumerate(levels):
                if same and depth < len(previous) and previous[depth] is level:
                    parent = level.key
                    continue
                same = False
                exact = self.folding.is_exact(level.raw)
                children[parent][fold(level.name)][level.key] = (level.rank, not exact,
                                                                 level.name, level.raw)
                parent = level.key
            previous = levels
        self.renamed, self.twins = {}, {}
        for names in children.values():
            taken = set(names)
            for _folded, nodes in sorted(names.items()):
                if len(nodes) < 2:
                    continue
                ordered = sorted(nodes, key=lambda key: (*nodes[key][:2], key))
                kept = nodes[ordered[0]][3]
                number = 2
                for key in ordered[1:]:
                    name, raw = nodes[key][2:]
                    while fold(numbered(name, number)) in taken:
                        number += 1
                    self.renamed[key] = numbered(name, number)
                    taken.add(fold(self.renamed[key]))
                    if raw != kept:
                        self.twins[key] = kept

    def name_of(self, levels: Sequence[Level]) -> tuple[str, str | None, str]:
        """(the name, why it changed or None, the source's name) of an item from its levels."""
        parts, reasons = [level.name for level in levels], []
        # Most items keep every level's name: nothing renamed in the step, nothing encoded.
        changing = self.renamed or self.twins or any(level.reasons for level in levels)
        for depth, level in enumerate(levels if changing else ()):
            name = self.renamed.get(level.key, level.name)
            why = list(level.reasons)
            if level.key in self.twins:
                why.append(twin_reason(self.twins[level.key], level.raw))
            elif name != level.name:
                why.append(_("another item in the folder has the same name"))
            if why and depth < len(levels) - 1:  # say which folder, for the files inside it
                why = [_("folder '{name}' became '{new}': {why}").format(
                    name=level.raw, new=name, why=join("; ", why))]
            parts[depth] = name
            reasons += why
        reason = (join("; ", dict.fromkeys(reasons)) or None) if reasons else None
        # a '/' inside a name shows as '/'
        return "/".join(parts), reason, "/".join([level.raw for level in levels])
