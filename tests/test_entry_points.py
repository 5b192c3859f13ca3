"""Connectors are found without `importlib.metadata` (decision 0484), and exactly as it finds
them: a plugin package installed beside ours, the same package on `sys.path` twice, a zip."""

from __future__ import annotations

import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from migrate import registry
from migrate.registry.entry_points import entries

GROUP = "migrate.connectors"


def _both(group: str = GROUP) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ours = [(entry.name, entry.value) for entry in entries(group)]
    theirs = [(entry.name, entry.value) for entry in entry_points(group=group)]
    return ours, theirs


def _distribution(folder: Path, name: str, lines: str) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(lines)


@pytest.fixture
def path_entries(monkeypatch: pytest.MonkeyPatch):
    def add(folder: Path | str) -> None:
        monkeypatch.syspath_prepend(str(folder))
    yield add
    registry._entry_points.cache_clear()
    registry.get.cache_clear()


def test_the_installed_connectors_are_the_ones_importlib_finds() -> None:
    ours, theirs = _both()
    assert ours == theirs and ("webdav", "connectors.webdav:WebdavConnector") in ours
    assert _both("console_scripts")[0] == _both("console_scripts")[1]


def test_a_plugin_package_is_found_and_loaded(tmp_path: Path, path_entries) -> None:
    _distribution(tmp_path / "first", "Shelf.Plugin",
                  "# a comment\n[console_scripts]\nshelf = nowhere:main\n\n"
                  "[migrate.connectors]\n  guide = tests.guide_connector.shelf : "
                  "ShelfConnector \n")
    # The same distribution later on sys.path (another name spelling): importlib counts the
    # first only, and so do we.
    _distribution(tmp_path / "second", "shelf_plugin",
                  "[migrate.connectors]\nother = tests.guide_connector.shelf:ShelfConnector\n")
    path_entries(tmp_path / "second")
    path_entries(tmp_path / "first")
    ours, theirs = _both()
    assert ours == theirs
    assert ("guide", "tests.guide_connector.shelf : ShelfConnector") in ours
    assert "other" not in dict(ours)
    loaded = {entry.name: entry for entry in entries(GROUP)}["guide"].load()
    assert loaded.__name__ == "ShelfConnector"


def test_a_zip_on_the_path_is_left_to_importlib(tmp_path: Path, path_entries) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("zipped-1.0.dist-info/METADATA",
                        "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        packed.writestr("zipped-1.0.dist-info/entry_points.txt",
                        "[migrate.connectors]\nzipped = zipped_module:Zipped\n")
    path_entries(archive)
    ours, theirs = _both()
    assert ours == theirs and ("zipped", "zipped_module:Zipped") in ours


def test_a_plan_run_does_not_import_importlib_metadata(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "a.txt").write_text("a")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Essai\nconnections:\n"
                    "  here: {type: local, path: source}\n  there: {type: local, path: target}\n"
                    "steps:\n  - id: files\n    copy: {from: here, to: there}\n")
    probe = ("import sys, runpy\n"
             f"sys.argv = ['migrate', 'plan', {str(plan)!r}]\n"
             "try:\n    runpy.run_module('migrate', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('loaded:', 'importlib.metadata' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "loaded: False", result.stdout + \
        result.stderr
    assert "1 to create" in result.stdout
