"""Distinct, stable names for items that would share one name in one folder, level by level.

Each item is seen as its levels from the step's root (see `levels_of`): the name the target
accepts, a key saying *which* folder or file that level is, and a rank. Two different keys
wanting one name under one parent are a collision: the lowest (rank, key) keeps the name, the
others get ` (2)`, ` (3)`… before the extension, skipping names already used in that folder.
Because it works on folders as well as files, the children of the second "Compta" folder land in
"Compta (2)", not mixed into the first.

Sources that know which folder is which (Drive) give `meta["segment_keys"]` and
`meta["segment_ranks"]` (docs/decisions/0420-drive-levels.md); for the others, a folder is known
by its path, and the rank is `meta["same_name_rank"]` (0 when absent), then the key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from connectors.dav.names import numbered
from migrate.model import ItemKind, SourceItem

Encode = Callable[[str], tuple[str, list[str]]]


@dataclass(frozen=True)
class Level:
    """One level of an item's path: the raw name, the name the server accepts, why it changed,
    which node it is, and its rank among same-named siblings."""

    raw: str
    name: str
    reasons: tuple[str, ...]
    key: str
    rank: int = 0


def levels_of(item: SourceItem, encode: Encode) -> list[Level]:
    """The item's levels, from `meta["segments"]` when the source gives them, else its path."""
    meta = item.meta
    raw = list(meta.get("segments") or [p for p in item.path.split("/") if p])
    keys = meta.get("segment_keys")
    ranks = meta.get("segment_ranks")
    if not keys or len(keys) != len(raw):
        keys = ["path:" + "/".join(raw[: depth + 1]) for depth in range(len(raw))]
        if item.kind is not ItemKind.FOLDER:
            keys[-1] = item.key
    if not ranks or len(ranks) != len(raw):
        ranks = [0] * (len(raw) - 1) + [int(meta.get("same_name_rank", 0))]
    levels = []
    for segment, key, rank in zip(raw, keys, ranks, strict=True):
        name, reasons = encode(segment)
        levels.append(Level(segment, name, tuple(reasons), str(key), int(rank)))
    return levels


class CollisionResolver:
    """Numbers colliding nodes; `renamed` maps a node key to its numbered name."""

    def __init__(self) -> None:
        self.renamed: dict[str, str] = {}

    def resolve(self, every: Iterable[Sequence[Level]]) -> None:
        """`every` holds the levels of every item of the step."""
        # parent key -> name -> {node key: rank}
        children: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for levels in every:
            parent = ""
            for level in levels:
                children[parent][level.name][level.key] = level.rank
                parent = level.key
        self.renamed = {}
        for names in children.values():
            taken = set(names)
            for name, nodes in sorted(names.items()):
                if len(nodes) < 2:
                    continue
                ordered = sorted(nodes, key=lambda key: (nodes[key], key))
                number = 2
                for key in ordered[1:]:
                    while numbered(name, number) in taken:
                        number += 1
                    self.renamed[key] = numbered(name, number)
                    taken.add(self.renamed[key])
