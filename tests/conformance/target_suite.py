"""The conformance suite every file target passes against its local server.

    class TestLocalTarget(TargetSuite):
        @pytest.fixture
        def target(self, tmp_path): ...          # an opened Target on a real server
        @pytest.fixture
        def read_back(self, ...): ...            # name -> bytes, read from the server itself

The suite writes through the connector and checks the bytes the server really holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

import pytest

from migrate.connector import Target
from migrate.model import Action, ItemKind
from tests.conformance.samples import MTIME, SAMPLE_FILES, MemorySource, change_for

ReadBack = Callable[[str], bytes]


def _key() -> str:
    return uuid.uuid4().hex


class TargetSuite:
    """Shared behaviour of targets holding files. Subclasses provide `target` and `read_back`."""

    #: The registered connector(s) this class checks (tests/test_conformance_coverage.py).
    connector: ClassVar[object] = ""

    def write_all(self, target: Target, source: MemorySource) -> dict[str, str]:
        names = {}
        for item in source.list_items().items:
            name = target.name_for(item).name
            target.write(change_for(item, name), source, _key())
            names[item.path] = name
        return names

    def test_lists_nothing_it_was_not_given(self, target: Target) -> None:
        names = [e.name for e in target.list_entries() if e.kind is ItemKind.FILE]
        assert not any(n in SAMPLE_FILES for n in names)

    def test_written_bytes_are_on_the_server(self, target: Target, read_back: ReadBack) -> None:
        source = MemorySource(SAMPLE_FILES)
        names = self.write_all(target, source)
        for path, content in SAMPLE_FILES.items():
            assert read_back(names[path]) == content, path

    def test_listing_shows_what_was_written(self, target: Target) -> None:
        source = MemorySource(SAMPLE_FILES)
        names = self.write_all(target, source)
        listed = {e.name: e for e in target.list_entries()}
        for path, content in SAMPLE_FILES.items():
            entry = listed[names[path]]
            assert entry.kind is ItemKind.FILE
            assert entry.fingerprint.size == len(content)

    def test_write_returns_the_entry_the_listing_shows(self, target: Target) -> None:
        source = MemorySource()
        item = source.add("un.txt", b"un")
        written = target.write(change_for(item, "un.txt"), source, _key())
        written = target.settle([written])[0]  # as the runner does before journaling it
        listed = {e.name: e for e in target.list_entries()}["un.txt"]
        assert written.fingerprint.same_version_as(listed.fingerprint)

    def test_same_key_twice_leaves_one_copy(self, target: Target, read_back: ReadBack) -> None:
        source = MemorySource()
        item = source.add("deux fois.txt", b"une seule copie")
        key = _key()
        target.write(change_for(item, "deux fois.txt"), source, key)
        target.write(change_for(item, "deux fois.txt"), source, key)
        names = [e.name for e in target.list_entries() if "deux fois" in e.name]
        assert names == ["deux fois.txt"]
        assert read_back("deux fois.txt") == b"une seule copie"

    def test_update_replaces_content(self, target: Target, read_back: ReadBack) -> None:
        source = MemorySource()
        first = source.add("doc.txt", b"version 1")
        target.write(change_for(first, "doc.txt"), source, _key())
        second = source.add("doc.txt", b"version 2, longer", mtime=MTIME + 60)
        target.write(change_for(second, "doc.txt", Action.UPDATE), source, _key())
        assert read_back("doc.txt") == b"version 2, longer"

    def test_modification_time_is_kept(self, target: Target) -> None:
        if not target.capabilities.preserves_mtime:
            pytest.skip("this target does not keep modification times")
        source = MemorySource()
        item = source.add("ancien.txt", b"old", mtime=MTIME)
        target.write(change_for(item, "ancien.txt"), source, _key())
        entry = {e.name: e for e in target.list_entries()}["ancien.txt"]
        assert entry.fingerprint.mtime == pytest.approx(MTIME, abs=1)

    def test_verify_finds_a_finished_write(self, target: Target) -> None:
        source = MemorySource()
        item = source.add("vérifié.txt", b"ok")
        key = _key()
        target.write(change_for(item, "vérifié.txt"), source, key)
        entry = target.verify(change_for(item, "vérifié.txt"), source, key)
        assert entry is not None and entry.fingerprint.size == 2

    def test_verify_reports_a_write_that_never_happened(self, target: Target) -> None:
        source = MemorySource()
        item = source.add("jamais.txt", b"never written")
        assert target.verify(change_for(item, "jamais.txt"), source, _key()) is None

    def test_verify_rejects_different_content_under_the_name(self, target: Target) -> None:
        source = MemorySource()
        item = source.add("autre.txt", b"what we meant to write")
        other = MemorySource()
        target.write(change_for(other.add("autre.txt", b"something else"), "autre.txt"),
                     other, _key())
        assert target.verify(change_for(item, "autre.txt"), source, _key()) is None

    def test_names_are_stable(self, target: Target) -> None:
        source = MemorySource(SAMPLE_FILES)
        items = list(source.list_items().items)
        assert [target.name_for(i) for i in items] == [target.name_for(i) for i in items]
