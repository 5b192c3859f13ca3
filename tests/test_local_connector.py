"""The `local` connector passes the shared conformance suites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.local import TEMPORARY_PREFIX, LocalConnector
from migrate.connector import StepContext
from migrate.model import ItemKind, SourceItem
from tests.conformance.samples import MTIME, SAMPLE_FILES, MemorySource, change_for
from tests.conformance.source_suite import SourceSuite
from tests.conformance.target_suite import TargetSuite


def _context(tmp_path: Path) -> StepContext:
    return StepContext("files", "copy", {}, "test-plan", tmp_path)


class TestLocalTarget(TargetSuite):
    connector = "local"

    @pytest.fixture
    def target(self, tmp_path: Path):
        connector = LocalConnector({"path": "out"}, tmp_path)
        return connector.open_target("", _context(tmp_path))

    @pytest.fixture
    def read_back(self, tmp_path: Path):
        return lambda name: (tmp_path / "out" / name).read_bytes()


class TestLocalSource(SourceSuite):
    connector = "local"

    @pytest.fixture
    def expected(self) -> dict:
        return dict(SAMPLE_FILES)

    @pytest.fixture
    def source(self, tmp_path: Path, expected: dict):
        for path, content in expected.items():
            (tmp_path / "in" / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "in" / path).write_bytes(content)
        (tmp_path / "in" / "Dossier vide").mkdir()
        return LocalConnector({"path": "in"}, tmp_path).open_source("", _context(tmp_path))


def test_empty_folders_are_items_and_full_ones_are_implied(tmp_path: Path) -> None:
    (tmp_path / "in" / "plein").mkdir(parents=True)
    (tmp_path / "in" / "plein" / "f.txt").write_text("x")
    (tmp_path / "in" / "vide").mkdir()
    source = LocalConnector({"path": "in"}, tmp_path).open_source("", _context(tmp_path))
    kinds = {i.path: i.kind for i in source.list_items().items}
    assert kinds == {"plein/f.txt": ItemKind.FILE, "vide": ItemKind.FOLDER}


def test_folders_known_by_their_listing_type_and_links_to_folders_never_walked(
        tmp_path: Path) -> None:
    """A folder is told from the listing's own type without a `stat` of it (decision 0499): a
    link to a folder is still a link, on both sides, and what it points to is never listed."""
    outside = tmp_path / "ailleurs"
    (outside / "profond").mkdir(parents=True)
    (outside / "profond" / "secret.txt").write_text("hors champ")
    for side in ("in", "out"):
        (tmp_path / side / "a" / "b").mkdir(parents=True)
        (tmp_path / side / "a" / "b" / "f.txt").write_text("x")
        (tmp_path / side / "a" / "vide").mkdir()
        os.symlink(outside, tmp_path / side / "a" / "lien")
    context = _context(tmp_path)
    source = LocalConnector({"path": "in"}, tmp_path).open_source("", context)
    items = {i.path: (i.kind, i.skip_reason) for i in source.list_items().items}
    assert set(items) == {"a/b/f.txt", "a/lien", "a/vide"}
    assert items["a/vide"] == (ItemKind.FOLDER, None)
    assert items["a/b/f.txt"] == (ItemKind.FILE, None)
    assert "symbolic link" in (items["a/lien"][1] or "")
    target = LocalConnector({"path": "out"}, tmp_path).open_target("", context)
    entries = {e.name: (e.kind, e.fingerprint.size) for e in target.list_entries()}
    assert entries == {"a": (ItemKind.FOLDER, None), "a/b": (ItemKind.FOLDER, None),
                       "a/b/f.txt": (ItemKind.FILE, 1), "a/vide": (ItemKind.FOLDER, None)}


def test_in_doubt_write_leftovers_are_removed_by_verify(tmp_path: Path) -> None:
    target = LocalConnector({"path": "out"}, tmp_path).open_target("", _context(tmp_path))
    source = MemorySource()
    item = source.add("a/b.txt", b"content")
    key = "0123456789abcdef0123"
    leftover = tmp_path / "out" / "a" / f"{TEMPORARY_PREFIX}{key[:16]}.part"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"cont")  # a write cut short by a crash
    assert target.verify(change_for(item, "a/b.txt"), source, key) is None
    assert not leftover.exists()
    assert [e.name for e in target.list_entries() if e.kind is ItemKind.FILE] == []


def test_mtime_is_set_before_the_file_appears(tmp_path: Path) -> None:
    target = LocalConnector({"path": "out"}, tmp_path).open_target("", _context(tmp_path))
    source = MemorySource()
    item = source.add("t.txt", b"x", mtime=MTIME)
    target.write(change_for(item, "t.txt"), source, "k" * 32)
    assert os.stat(tmp_path / "out" / "t.txt").st_mtime == MTIME


def test_a_plain_path_is_its_own_name_and_dot_levels_are_renamed(tmp_path: Path) -> None:
    target = LocalConnector({"path": "out"}, tmp_path).open_target("", _context(tmp_path))
    plain = SourceItem("k", "Dossier/2024/compte-rendu...v2.odt")
    assert target.name_for(plain).name is plain.path and not target.name_for(plain).rename_reason
    for path in ("a/./b.txt", "a/../b.txt", "../b.txt", "a/..", "./b.txt", "a/."):
        named = target.name_for(SourceItem("k", path))
        assert named.rename_reason and "'.', '..'" in named.rename_reason, path
    assert target.name_for(SourceItem("k", "a//b.txt")).name == "a/b.txt"
