"""`LevelsOf` gives every item the levels `levels_of` gives it, in any order of items; names made
without levels are those the levels give."""

from __future__ import annotations

import random
from functools import lru_cache

from connectors.dav.collisions import CollisionResolver, Level, LevelsOf, NameFolding, levels_of
from connectors.dav.http import DavHttp
from connectors.dav.names import NameRules, encode_segment
from connectors.dav.settings import DavSettings
from connectors.dav.target import DavTarget
from migrate.connector import Capabilities
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


class _LongWay(DavTarget):
    """Levels of its own, as a group folder target has: `name_for` makes every level."""

    def levels(self, item: SourceItem) -> list[Level]:
        return super().levels(item)


def _target(kind: type[DavTarget], settings: DavSettings) -> DavTarget:
    http = DavHttp("http://127.0.0.1:9/dav/", "u", "p", 1, "")  # never asked: names only
    return kind(http, "racine", settings, Capabilities())


def test_names_of_items_that_keep_their_path_are_those_of_their_levels() -> None:
    """`name_for` names an item whose every level keeps its name without making its levels:
    the same names, reasons, notes and originals as the levels give, for items needing
    encoding, numbering, NFC/NFD twins, or none of these, whether or not the step renames."""
    rng = random.Random(17)
    plain = [SourceItem(f"p{i}", f"Dossier {i % 7}/fichier-{i}.txt", ItemKind.FILE)
             for i in range(300)]
    plain += [SourceItem(f"d{i}", f"Dossier {i}", ItemKind.FOLDER) for i in range(7)]
    for settings in (DavSettings(NameRules.plain_webdav()),
                     DavSettings(NameRules(windows_compatible=True), stores_nfc=True,
                                 folding=NameFolding(case=True))):
        # Encoded, never numbered: the step renames nothing, these items change anyway.
        encoded = [*plain[:50], *[SourceItem(f"e{i}", path, ItemKind.FILE) for i, path in
                                  enumerate(["Dossier 1/fin.", "Dossier 2/ espace", "a\\b/c.txt",
                                             "Dossier 3/CON.txt", "Fin./f.txt", "Fin./g.txt",
                                             "Dossier 4/Cafe\u0301.txt", "Dossier 5/x:y"])],
                   *plain[50:]]
        for items in (plain, encoded, _items(rng), [*plain, *_items(rng)[:200]]):
            short, long = _target(DavTarget, settings), _target(_LongWay, settings)
            short.prepare_names(items)
            long.prepare_names(items)
            assert short.collisions.renamed == long.collisions.renamed
            if items is encoded:
                assert not short.collisions.renamed
            assert [short.name_for(item) for item in items] == [
                long.name_for(item) for item in items]
            assert [short.name_for(item) for item in reversed(items)] == [
                long.name_for(item) for item in reversed(items)]


def _known_by_path(item: SourceItem) -> bool:
    data, path = item.data, item.path
    return not (data is not None and (data.segments or data.segment_keys or data.segment_ranks)
                ) and bool(path) and "//" not in path and path[0] != "/" and path[-1] != "/"


def test_none_collide_says_what_resolve_finds() -> None:
    """The short check of `prepare_names` says "no collision" exactly when `resolve`, making
    every level, numbers nothing and finds no twin."""
    rng = random.Random(18)
    twins = [("Compta/Café.txt", "Compta/Cafe\u0301.txt"), ("Compta/A.txt", "Compta/a.txt"),
             ("x:y", "x\uff1ay"), ("Dossier/f", "Dossier/f/g"), ("a", "A/b"),
             ("fin.", "fin\uff0e"), ("Compta/b.txt", "Compta/b.txt")]
    cases = [[SourceItem(f"k{i}", f"Dossier {i % 5}/f{i}.txt", ItemKind.FILE)
              for i in range(100)]]
    for first, second in twins:
        base = [SourceItem(f"k{i}", f"Dossier {i % 5}/f{i}.txt", ItemKind.FILE)
                for i in range(20)]
        cases.append([*base, SourceItem("one", first, ItemKind.FILE),
                      SourceItem("two", second, ItemKind.FILE)])
        cases.append([*base, SourceItem("one", first, ItemKind.FOLDER),
                      SourceItem("two", second, ItemKind.FILE)])
    for _round in range(40):
        cases.append([item for item in _items(rng)[:rng.randint(2, 40)]
                      if _known_by_path(item)])
    found = {True: 0, False: 0}
    for settings in (NameFolding(), NameFolding(case=True), NameFolding(unicode=False)):
        for rules in (NameRules.plain_webdav(), NameRules(windows_compatible=True,
                                                          forbidden_characters=tuple(':"|?*'))):
            encode = lru_cache(maxsize=None)(lambda s, r=rules: encode_segment(s, r))
            for items in cases:
                resolver = CollisionResolver(settings)
                says = resolver.none_collide(items, encode)
                resolver.resolve(levels_of(item, encode) for item in items)
                assert says == (not resolver.renamed and not resolver.twins), [
                    i.path for i in items]
                found[says] += 1
    assert found[True] and found[False]
    # An item not known by its path: the levels are made.
    drive = SourceItem("d", "A/b", ItemKind.FILE, data=FileMeta(segments=["A", "b"]))
    assert not CollisionResolver().none_collide([drive], encode)
