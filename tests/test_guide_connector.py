"""The connector written from docs/connector-guide.md alone (tests/guide_connector/) is found
by name once installed, and passes the file-target conformance suite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate import registry
from migrate.connector import StepContext
from tests.conformance.target_suite import TargetSuite
from tests.guide_connector import installed


@pytest.fixture
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with installed(tmp_path_factory.mktemp("site")):
        yield


class TestShelfTarget(TargetSuite):
    connector = "shelf"

    @pytest.fixture
    def target(self, plugin: None, tmp_path: Path):
        connector = registry.get("shelf")({"path": "shelf.sqlite"}, tmp_path)
        target = connector.open_target("", StepContext("files", "copy", {}, "plan", tmp_path))
        yield target
        target.close()

    @pytest.fixture
    def read_back(self, tmp_path: Path):
        def read(name: str) -> bytes:
            with sqlite3.connect(tmp_path / "shelf.sqlite") as db:
                return db.execute("SELECT content FROM files WHERE name = ?",
                                  (name,)).fetchone()[0]
        return read


def test_installed_it_is_registered(plugin: None) -> None:
    assert registry.get("shelf").target_actions == ("copy",)


def test_not_installed_it_is_unknown() -> None:
    assert "shelf" not in registry.names()
