"""A WebDAV re-run tells unchanged files from the journal's plain numbers and the server's ETags
(decisions 0499, 0488) and decides every item exactly as the full rules do.

Against Debian's Apache mod_dav (the fixture of test_webdav_apache.py): a tree is copied, then
changed on both sides in every way a file can differ (size, time within and beyond a second,
an edit or a touch on the server, which changes its ETag, removed on either side, new, a file
become a folder and back, a name needing encoding, NFC/NFD twins, a named pipe); the step's
real listing is diffed with every baseline made whole (a dict: no shortcut) and through the
journal's stream (the shortcut), for a plan and an apply.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import requests

from migrate.journal import Journal, StreamedBaselines, journal_path
from migrate.model import ChangeSet
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections
from migrate.steps import OpenStep, open_step
from tests.test_webdav_apache import PASSWORD, USER, Apache, _plan, _run, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")

NFC = unicodedata.normalize("NFC", "Café.txt")
NFD = unicodedata.normalize("NFD", "Café.txt")


class _Counted(StreamedBaselines):
    """The journal's stream, counting the baselines made whole (the shortcut makes none)."""

    whole_made = 0

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key, default)
        if found is not None:
            self.whole_made += 1
        return found


def _outcome(changes: ChangeSet) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    return ([(c.item.key, c.action, c.reason, c.target_name, c.rename_reason, c.notes,
              c.expected_target, c.original_path) for c in changes.changes], changes.counted)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_every_way_a_file_can_differ_on_webdav_is_decided_as_the_full_rules_decide(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)  # the plan's, read in this process too
    source = tmp_path / "source"
    for index in range(60):  # most stay as they are: the shortcut's items
        _write(source / f"Dossier {index % 3}" / f"fichier-{index}.txt", b"x" * (index + 1))
    names = ["grown", "touched-within-a-second", "touched", "edited-on-the-server",
             "touched-on-the-server", "removed-from-the-server", "removed-from-the-source",
             "becomes-a-folder", "a\\b.txt", "fin ", NFC]
    for name in names:
        _write(source / "Cas" / name, f"content of {name}".encode())
    _write(source / "Cas" / "was-a-folder" / "inside.txt", b"inside")
    plan = _plan(tmp_path, apache, None)
    _run("apply", plan, "--yes")

    cases, served = source / "Cas", apache.dir / "data" / "Archives" / "Cas"
    with (cases / "grown").open("ab") as grown:
        grown.write(b" and more")
    for name, seconds in (("touched-within-a-second", 0.5), ("touched", 1.5)):
        info = (cases / name).stat()
        os.utime(cases / name, (info.st_atime, info.st_mtime + seconds))
    url = f"{apache.url}Archives/Cas/"
    auth = (USER, PASSWORD)
    edited = b"content of edited-on-the-servex"  # the same length: only its ETag tells
    assert len(edited) == len(b"content of edited-on-the-server")
    requests.put(url + "edited-on-the-server", data=edited, auth=auth,
                 timeout=10).raise_for_status()
    info = (served / "touched-on-the-server").stat()
    os.utime(served / "touched-on-the-server", (info.st_atime, info.st_mtime + 0.2))
    requests.delete(url + "removed-from-the-server", auth=auth, timeout=10).raise_for_status()
    (cases / "removed-from-the-source").unlink()
    (cases / "becomes-a-folder").unlink()
    _write(cases / "becomes-a-folder" / "now-inside.txt", b"now inside")
    (cases / "was-a-folder" / "inside.txt").unlink()
    (cases / "was-a-folder").rmdir()
    _write(cases / "was-a-folder", b"a file now")
    _write(cases / NFD, b"the same name written the other Unicode way")  # a twin: numbered
    _write(cases / "new.txt", b"new")
    os.mkfifo(cases / "pipe")  # skipped, with its reason

    loaded = load_plan(plan)
    config = resolve_connections(loaded, Redactor())
    location = journal_path(loaded.path, None)
    journal = Journal(location)
    step: OpenStep = open_step(loaded, loaded.steps[0], config, journal.plan_id,
                               journal.cursor("files"), location.parent, journal,
                               writable=False)
    try:
        items, _listing, entries = step.list()
        for keep in (True, False):
            whole = step.diff(items, entries, journal.baselines("files"), keep_unchanged=keep)
            streamed = _Counted(journal.db, "files", (item.key for item in items))
            shortcut = step.diff(items, entries, streamed, keep_unchanged=keep)
            assert _outcome(shortcut) == _outcome(whole)
            # The 60 untouched files and the one touched within a second took the shortcut.
            assert streamed.whole_made <= len(items) - 61
    finally:
        step.close()
        journal.close()
    actions = {(c.item.path, c.action.value) for c in whole.changes}
    assert {("Cas/grown", "update"), ("Cas/touched", "update"),
            ("Cas/edited-on-the-server", "conflict"), ("Cas/touched-on-the-server", "conflict"),
            ("Cas/removed-from-the-server", "create"), ("Cas/new.txt", "create"),
            ("Cas/pipe", "skip"), ("Cas/" + NFD, "create")} <= actions
    assert whole.counted == {"files": 60 + 4}  # untouched, within a second, encoded, twin kept
