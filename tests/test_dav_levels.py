"""`LevelsOf` gives every item the levels `levels_of` gives it, in any order of items."""

from __future__ import annotations

import random

from connectors.dav.collisions import LevelsOf, levels_of
from connectors.dav.names import NameRules, encode_segment
from migrate.item_meta import FileMeta
from migrate.model import ItemKind, SourceItem


def _items(rng: random.Random) -> list[SourceItem]:
    names = ["Compta", "compta", "Café", "Cafe\u0301", "a:b", "CON", "x.", " ", "é"]
    items = []
    for index in range(3000):
        depth = rng.randint(1, 4)
        path = "/".join(rng.choice(names) for _ in range(depth))
        if rng.random() < 0.05:
            path = rng.choice(["/", "//", ""]).join([path, rng.choice(names)])
        kind = ItemKind.FOLDER if rng.random() < 0.2 else ItemKind.FILE
        data = None
        if rng.random() < 0.2:
            data = FileMeta(same_name_rank=rng.randint(0, 2))
        elif rng.random() < 0.1:
            parts = path.strip("/").split("/")
            data = FileMeta(segments=parts, segment_keys=[f"k{i}" for i in range(len(parts))],
                            segment_ranks=[rng.randint(0, 1) for _ in parts])
        items.append(SourceItem(f"key-{index}", path, kind, data=data))
    items.sort(key=lambda item: item.path.rpartition("/")[0] if rng.random() < 0.8 else "")
    return items


def test_the_levels_are_those_of_levels_of() -> None:
    rules = NameRules()

    def encode(segment: str) -> tuple[str, list[str]]:
        return encode_segment(segment, rules)

    items = _items(random.Random(16))
    levels = LevelsOf(encode)
    assert [levels(item) for item in items] == [levels_of(item, encode) for item in items]
    assert [levels(item) for item in reversed(items)] == [
        levels_of(item, encode) for item in reversed(items)]
