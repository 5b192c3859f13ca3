"""A WebDAV tree walked folder by folder (`Depth: 1`, Apache refuses `Depth: infinity`) by the
listing's own walker threads (connectors/dav/listing.py `_walk`), against Debian's Apache
mod_dav: every file once; a reader that stops early asks no more folders and leaves no walker
behind; a folder the server refuses is said with the words a single PROPFIND of it gives.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from connectors.dav.listing import PLAIN_BODY, propfind
from migrate.errors import MigrateError
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections
from migrate.steps import OpenStep, open_step
from tests.test_webdav_apache import PASSWORD, Apache, _plan, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")

FOLDERS, FILES = 12, 3


def _walkers() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("list_")]


def _listed_folders(server: Apache, at_least: int) -> int:
    """The PROPFINDs answered 207 since the last look, once Apache has logged them: it logs a
    request just after answering it. Waits for `at_least`, then until 0.2 s bring no more."""
    seen, quiet, deadline = 0, 0, time.monotonic() + 10
    while time.monotonic() < deadline:
        more = server.statuses()[("PROPFIND", "207")]
        seen += more
        quiet = 0 if more else quiet + 1
        if seen >= at_least and quiet >= 10:
            break
        time.sleep(0.02)
    return seen


def _served_tree(server: Apache) -> set[str]:
    """FOLDERS folders of FILES files each under /dav/Archives, written on the server's disk."""
    root = server.dir / "data" / "Archives"
    expected = set()
    for folder in range(FOLDERS):
        for index in range(FILES):
            path = root / f"dossier {folder}" / f"fichier-{index}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{folder}/{index}")
            expected.add(f"dossier {folder}/fichier-{index}.txt")
        expected.add(f"dossier {folder}")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "www-data:www-data", root], check=True)
    return expected


def _opened(tmp_path: Path, server: Apache, monkeypatch: pytest.MonkeyPatch) -> OpenStep:
    (tmp_path / "source").mkdir()
    plan = _plan(tmp_path, server, None)
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    loaded = load_plan(plan)
    config = resolve_connections(loaded, Redactor())
    return open_step(loaded, loaded.steps[0], config, "essai", {}, None, None, writable=False)


def test_every_folder_is_walked_once_and_no_walker_is_left(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    expected = _served_tree(apache)
    step = _opened(tmp_path, apache, monkeypatch)
    try:
        names = [entry.name for entry in step.target.list_entries()]
        assert sorted(names) == sorted(expected)  # each once
        # The whole tree asked once (refused, 403), then the root and each folder once.
        assert _listed_folders(apache, FOLDERS + 1) == FOLDERS + 1
        assert _walkers() == []
    finally:
        step.close()


def test_a_reader_that_stops_early_asks_no_more_and_leaves_no_walker(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _served_tree(apache)
    step = _opened(tmp_path, apache, monkeypatch)
    try:
        list(step.target.list_entries())  # the server's refusal of a whole tree is learnt
        _listed_folders(apache, FOLDERS + 1)  # its lines logged: not counted below
        listed = step.target.list_entries()
        first = next(listed)  # the root's listing: its folders are being asked
        assert first.name
        listed.close()
        assert _walkers() == []
        asked = _listed_folders(apache, 1)
        assert 1 <= asked < FOLDERS + 1  # the folders not yet asked never were
    finally:
        step.close()


def test_a_folder_the_server_refuses_is_said_as_a_single_propfind_says_it(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    if os.geteuid() != 0:
        pytest.skip("making a folder unreadable to Apache's www-data needs root")
    _served_tree(apache)
    locked = apache.dir / "data" / "Archives" / "dossier 7"
    locked.chmod(0o000)
    step = _opened(tmp_path, apache, monkeypatch)
    try:
        http = step.target.http
        with pytest.raises(MigrateError) as alone:
            list(propfind(http, http.url("Archives/dossier 7", folder=True), "1",
                          "Archives/dossier 7", body=PLAIN_BODY, prefix="dossier 7"))
        with pytest.raises(MigrateError) as walked:
            list(step.target.list_entries())
        assert type(walked.value) is type(alone.value)
        assert str(walked.value) == str(alone.value)
        assert "dossier 7" in str(walked.value)
        assert _walkers() == []
    finally:
        locked.chmod(0o755)
        step.close()
