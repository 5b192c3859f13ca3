"""The `dummy` target (test equipment for retries) is a real connector: registered by name, it
passes the file-target conformance suite when nothing is set to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate import registry
from migrate.connector import StepContext
from migrate.errors import FatalError
from tests.conformance.target_suite import TargetSuite


def open_dummy(tmp_path: Path, **options: object):
    context = StepContext("files", "copy", {}, "plan", tmp_path)
    return registry.get("dummy")({"path": "out", **options}, tmp_path).open_target("", context)


class TestDummyTarget(TargetSuite):
    connector = "dummy"

    @pytest.fixture
    def target(self, tmp_path: Path):
        target = open_dummy(tmp_path)
        yield target
        target.close()

    @pytest.fixture
    def read_back(self, tmp_path: Path):
        return lambda name: (tmp_path / "out" / name).read_bytes()


def test_an_unknown_outcome_in_the_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"'explode' in the script of a\.txt"):
        open_dummy(tmp_path, script={"a.txt": ["explode"]})
