"""The conformance suite every source passes against its local server (or sample export).

    class TestLocalSource(SourceSuite):
        @pytest.fixture
        def source(self, ...): ...      # an opened Source over known content
        @pytest.fixture
        def expected(self, ...): ...    # {path: bytes or None} the source must offer

`expected` maps each item's path to its content, or to None for items without a byte stream
(posts, members) or that the source itself skips.
"""

from __future__ import annotations

from typing import ClassVar

from migrate.connector import Source
from migrate.model import ItemKind


class SourceSuite:
    #: The registered connector(s) this class checks (tests/test_conformance_coverage.py).
    connector: ClassVar[object] = ""

    def test_lists_every_expected_item(self, source: Source, expected: dict) -> None:
        paths = {item.path for item in source.list_items().items}
        assert set(expected) <= paths

    def test_keys_are_unique_and_stable(self, source: Source) -> None:
        first = [item.key for item in source.list_items().items]
        second = [item.key for item in source.list_items().items]
        assert len(first) == len(set(first))
        assert sorted(first) == sorted(second)

    def test_fingerprints_are_stable_between_listings(self, source: Source) -> None:
        first = {i.key: i.fingerprint for i in source.list_items().items}
        second = {i.key: i.fingerprint for i in source.list_items().items}
        assert all(first[k].same_version_as(second[k]) or first[k] == second[k] for k in first)

    def test_paths_are_relative_with_forward_slashes(self, source: Source) -> None:
        for item in source.list_items().items:
            assert not item.path.startswith("/") and "\\" not in item.path, item.path

    def test_streams_the_exact_bytes(self, source: Source, expected: dict) -> None:
        for item in source.list_items().items:
            content = expected.get(item.path)
            if item.kind is not ItemKind.FILE or content is None or item.skip_reason:
                continue
            with source.open(item) as stream:
                assert stream.read() == content, item.path

    def test_sizes_match_content(self, source: Source, expected: dict) -> None:
        for item in source.list_items().items:
            content = expected.get(item.path)
            if content is not None and item.fingerprint.size is not None:
                assert item.fingerprint.size == len(content), item.path

    def test_skipped_items_say_why(self, source: Source) -> None:
        for item in source.list_items().items:
            if item.skip_reason is not None:
                assert item.skip_reason.strip(), item.key
