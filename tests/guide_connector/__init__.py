"""A connector written from docs/connector-guide.md alone, registered for the tests the way a
plugin package registers one: an installed distribution with a `migrate.connectors` entry point
(`installed()` puts one on `sys.path` for the duration)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from migrate import registry


@contextmanager
def installed(folder: Path) -> Iterator[None]:
    info = folder / "transhumance_guide_connector-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: transhumance-guide-connector\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[migrate.connectors]\nshelf = tests.guide_connector.shelf:ShelfConnector\n")
    sys.path.insert(0, str(folder))
    registry._entry_points.cache_clear()
    registry.get.cache_clear()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        registry._entry_points.cache_clear()
        registry.get.cache_clear()
