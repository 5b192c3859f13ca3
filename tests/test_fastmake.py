"""The quick constructors of what a listing makes 100,000s of (migrate/journal/fastmake.py) are
really the quick ones: `maker` falls back to the class itself when its fields differ from the
names it was given, so a field added to `SourceItem` (`data`) silently made every local item
through the frozen dataclass's `__init__` again (decision 0499)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from connectors.dav import collisions, listing
from connectors.local import walk
from migrate.journal import baselines
from migrate.model import Fingerprint, ItemKind, SourceItem
from migrate.runner import forked


@pytest.mark.parametrize("made", [
    walk._make_fingerprint, walk._make_item, walk._make_entry, walk._make_name,
    baselines._make_fingerprint, baselines._make_baseline,
    forked._make_entry, forked._make_fingerprint,
    listing._fingerprint, listing._resource, listing._entry, collisions._level,
], ids=lambda made: getattr(made, "__qualname__", str(made)))
def test_every_quick_constructor_is_generated_not_the_class(made: object) -> None:
    assert not isinstance(made, type), f"{made}: its names no longer match the class's fields"


def test_a_quick_item_is_the_item_the_class_makes() -> None:
    made = walk._make_item("k", "p", ItemKind.FILE, Fingerprint(1, 2.0), {}, None, None)
    assert made == SourceItem("k", "p", ItemKind.FILE, Fingerprint(1, 2.0))
    assert [getattr(made, f.name) for f in fields(SourceItem)] == [
        "k", "p", ItemKind.FILE, Fingerprint(1, 2.0), {}, None, None]
