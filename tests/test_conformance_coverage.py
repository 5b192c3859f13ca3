"""Every registered connector passes a conformance suite: a source the `SourceSuite`, a target
a target suite (files, members or posts), and a target whose service has a local server the
error suite too. A connector registered without one fails here, by name.

A test class says which connector it checks with `connector = "name"` (a tuple for one class
serving several, or the connector class itself). The connector written from the guide
(tests/guide_connector/) is installed meanwhile, as the tests' own plugin."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from migrate import registry
from migrate.connector import Connector
from tests.conformance.error_suite import ErrorSuite
from tests.conformance.member_target_suite import MemberTargetSuite
from tests.conformance.post_target_suite import PostTargetSuite
from tests.conformance.source_suite import SourceSuite
from tests.conformance.target_suite import TargetSuite
from tests.guide_connector import installed

TARGET_SUITES = (TargetSuite, MemberTargetSuite, PostTargetSuite)



@pytest.fixture(autouse=True)
def guide_connector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with installed(tmp_path_factory.mktemp("site")):
        yield


def names_of(declared: object) -> tuple[str, ...]:
    if isinstance(declared, type) and issubclass(declared, Connector):
        return (declared.name,)
    if isinstance(declared, str):
        return (declared,) if declared else ()
    return tuple(str(name) for name in declared)  # type: ignore[attr-defined]


def test_classes() -> Iterator[type]:
    """Every collected test class of the test modules (they are imported, not run)."""
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__name__.startswith("Test") \
                    and value.__module__ == module.__name__:
                yield value


test_classes.__test__ = False  # type: ignore[attr-defined]


def covered() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"source": set(), "target": set(), "errors": set()}
    for cls in test_classes():
        names = set(names_of(getattr(cls, "connector", "")))
        if issubclass(cls, SourceSuite):
            found["source"] |= names
        if issubclass(cls, TARGET_SUITES):
            found["target"] |= names
        if issubclass(cls, ErrorSuite):
            found["errors"] |= names
    return found


def missing_suites(found: dict[str, set[str]]) -> list[str]:
    served = {entry.name for entry in entry_points(group="migrate.sandbox")}
    missing = []
    for name in registry.names():
        connector = registry.get(name)
        if connector.source_actions and name not in found["source"]:
            missing.append(f"{name}: no class inherits SourceSuite with connector = '{name}'")
        if connector.target_actions and name not in found["target"]:
            missing.append(f"{name}: no class inherits a target suite with connector = '{name}'")
        if connector.target_actions and name in served and name not in found["errors"]:
            missing.append(f"{name}: has a local server but no class inherits ErrorSuite")
    return missing


def test_every_registered_connector_has_its_suites() -> None:
    assert missing_suites(covered()) == []


def test_a_connector_without_a_suite_is_named() -> None:
    found = covered()
    found["target"].discard("webdav")
    found["source"].discard("feed")
    assert missing_suites(found) == [
        "feed: no class inherits SourceSuite with connector = 'feed'",
        "webdav: no class inherits a target suite with connector = 'webdav'"]


def test_declared_names_are_registered() -> None:
    known = set(registry.names())
    assert "shelf" in known
    assert set().union(*covered().values()) <= known
