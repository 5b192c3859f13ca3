"""Sample items for the conformance suites, and an in-memory source that serves them.

The in-memory source is test equipment, not a stand-in for a service: it feeds content to the
target under test, whose service is real.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from migrate.connector import Listing, Source
from migrate.errors import SkipItem
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem

MTIME = 1_600_000_000.0  # 2020-09-13, a whole second: every server keeps it exactly

SAMPLE_FILES: dict[str, bytes] = {
    "Rapport annuel 2024.txt": "Assemblée générale — bilan\n".encode() * 50,
    "Compta/Été/reçus.csv": b"date;montant\n2024-07-01;12,50\n",
    "Compta/vide.txt": b"",
    "Équipe/Ünïcödé ファイル.md": "# Bénévoles\n".encode(),
    "Grand fichier.bin": bytes(range(256)) * 12_000,  # ~3 MB: streamed in several chunks
}


def item_for(path: str, content: bytes, mtime: float = MTIME) -> SourceItem:
    checksum = "sha256:" + hashlib.sha256(content).hexdigest()
    return SourceItem(key=f"k:{path}", path=path, kind=ItemKind.FILE,
                      fingerprint=Fingerprint(len(content), mtime, checksum))


def change_for(item: SourceItem, name: str, action: Action = Action.CREATE) -> Change:
    return Change("conformance", action, item, name, "conformance test")


class MemorySource(Source):
    """Serves given bytes for given items."""

    def __init__(self, contents: dict[str, bytes] | None = None) -> None:
        self.contents = dict(contents or {})

    def add(self, path: str, content: bytes, mtime: float = MTIME) -> SourceItem:
        self.contents[path] = content
        return item_for(path, content, mtime)

    def list_items(self) -> Listing:
        return Listing([item_for(path, data) for path, data in self.contents.items()])

    @contextmanager
    def _open(self, item: SourceItem) -> Iterator[BinaryIO]:
        if item.path not in self.contents:
            raise SkipItem(f"{item.path} is gone")
        yield io.BytesIO(self.contents[item.path])

    def open(self, item: SourceItem):  # type: ignore[no-untyped-def]
        return self._open(item)
