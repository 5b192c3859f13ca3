"""A target's features are found once as it opens (rclone's `Features.Fill`), and the core acts
on the abilities it declares: the diff compares a file already on the target by what that target
keeps (a checksum, else size and modification time), never by a time the target does not keep.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from connectors.google_drive.connector import GoogleDriveConnector
from connectors.listmonk import BATCH, ListmonkTarget
from connectors.local import LocalConnector
from connectors.webdav import WebdavConnector
from migrate.connector import StepContext
from migrate.features import UNKNOWN, Comparison, Features, login_of
from migrate.model import Fingerprint
from sandbox.nextcloud import NextcloudServer
from sandbox.samples_takeout import write_workspace_sample
from tests.helpers import migrate
from tests.test_nextcloud_migration import run
from tests.test_nextcloud_real_behaviours import webdav_plan


def _context(tmp_path: Path) -> StepContext:
    return StepContext("files", "copy", {}, "plan", tmp_path)


def test_hooks_are_found_once_from_what_each_target_implements(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    local = LocalConnector({"path": "out"}, tmp_path).open_target("", _context(tmp_path))
    described = nextcloud_server.describe()
    webdav = WebdavConnector({**described, "url": nextcloud_server.dav_url() + "/"},
                             tmp_path).open_target("Plain", _context(tmp_path))
    try:
        plain, dav = Features.fill(local), Features.fill(webdav)
        assert plain.settle is None and plain.write_order is None and plain.notes is None
        assert plain.abilities.local_files and plain.comparison == Comparison(
            frozenset({"sha256"}), True)
        assert dav.settle == webdav.settle and dav.notes == webdav.notes  # reads back versions
        assert dav.comparison == Comparison(frozenset(), False)  # keeps neither
    finally:
        local.close()
        webdav.close()


def test_writing_in_groups_needs_the_hook_and_the_group_size() -> None:
    target = ListmonkTarget.__new__(ListmonkTarget)  # nothing opened: its class is enough
    features = Features.fill(target)
    assert features.write_batch is not None and features.batch_size == BATCH
    target.capabilities = dataclasses.replace(target.capabilities, batch_size=None)
    assert Features.fill(target).write_batch is None and Features.fill(target).batch_size is None


def test_a_test_double_has_the_hooks_it_defines() -> None:
    class Double:
        def write(self, *args: object) -> None: ...

        def notes(self) -> list[str]:
            return ["said once"]

    features = Features.fill(Double())
    assert features.settle is None and features.notes is not None
    assert features.notes() == ["said once"]


def test_only_connectors_with_a_sign_in_have_a_login(tmp_path: Path) -> None:
    assert login_of(LocalConnector({"path": "."}, tmp_path)) is None
    drive = GoogleDriveConnector.__new__(GoogleDriveConnector)
    assert login_of(drive) is not None


@pytest.mark.parametrize(("comparison", "same"), [
    (UNKNOWN, True),  # nothing declared (a diff with no target): whatever both sides give
    (Comparison(frozenset(), True), True),  # the target keeps times: size and time decide
    (Comparison(frozenset(), False), False),  # it does not: a time there proves nothing
    (Comparison(frozenset({"sha256"}), False), False),
])
def test_the_comparison_follows_what_the_target_keeps(comparison: Comparison,
                                                      same: bool) -> None:
    source = Fingerprint(size=5, mtime=1000.0)
    target = Fingerprint(size=5, mtime=1000.4, etag="x")
    assert comparison.same_content(source, target) is same


def test_a_checksum_decides_only_in_an_algorithm_the_target_keeps() -> None:
    source = Fingerprint(size=5, mtime=1.0, checksum="md5:ABC")
    target = Fingerprint(size=5, mtime=999.0, checksum="md5:abc")
    assert Comparison(frozenset({"md5"}), True).same_content(source, target)
    assert not Comparison(frozenset({"sha256"}), True).same_content(source, target)


def test_a_plain_webdav_file_of_the_same_size_is_not_taken_for_the_source_on_its_time(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    """A plain WebDAV server keeps no modification time sent to it: the time it lists is its
    own. When it happens to match the source's to the second, the file there is still another
    one (here, another text of the same length): the plan says so instead of adopting it."""
    there = nextcloud_server.state.files_root("alice") / "Documents"
    there.mkdir(parents=True)
    (there / "rapport.txt").write_bytes(b"version du serveur")
    source = tmp_path / "source"
    source.mkdir()
    (source / "rapport.txt").write_bytes(b"version de l'asso!")  # same length, other text
    listed = (there / "rapport.txt").stat().st_mtime
    os.utime(source / "rapport.txt", (listed, listed))
    plan = webdav_plan(tmp_path, nextcloud_server)
    planned = run("plan", plan, "--json", server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert '"action": "conflict"' in planned.stdout, planned.stdout
    assert "a different version already exists on the target" in planned.stdout
    assert (there / "rapport.txt").read_bytes() == b"version du serveur"


def test_a_target_that_cannot_share_has_the_plan_say_what_arrives_unshared(
        tmp_path: Path) -> None:
    """A Workspace export names who each file was shared with; a folder on this computer keeps
    no shares. The plan says, once for the step, how many shared items arrive unshared."""
    archive = write_workspace_sample(tmp_path / "exports")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Essais\nconnections:\n"
        f"  takeout: {{type: google_takeout, path: 'exports/{archive.name}'}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: drive\n    copy: {from: takeout, to: here}\n", encoding="utf-8")
    planned = migrate("plan", plan, "--json")
    assert planned.returncode == 0, planned.stderr
    notes = [n["note"] for n in json.loads(planned.stdout)["notes"]]
    # The shared budget and the shared Photos folder; files shared with no one are not counted.
    assert any(n.startswith("2 items are shared with other people at the source; this target "
                            "cannot share") for n in notes), notes


def test_migrate_login_says_a_connection_without_a_sign_in_needs_none(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    (tmp_path / "source").mkdir()
    plan.write_text("version: 1\norganisation: Essais\nconnections:\n"
                    "  here: {type: local, path: source}\n  there: {type: local, path: copie}\n"
                    "steps:\n  - id: files\n    copy: {from: here, to: there}\n",
                    encoding="utf-8")
    said = migrate("login", plan, "here")
    assert said.returncode == 1
    assert "connections of type 'local' need no 'migrate login'" in said.stdout + said.stderr


def test_the_core_finds_optional_hooks_only_in_features() -> None:
    """rclone's rule: detected once, then tested as `features.settle is None`, never probed."""
    core = Path(__file__).resolve().parent.parent / "migrate"
    probe = re.compile(r"""(get|has)attr\((target|connector|type\(\w+\)), ["']|is_needed\(""")
    found = [f"{path.name}:{number}" for path in sorted(core.rglob("*.py"))
             if path.name != "features.py" and "sandbox" not in path.parts
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if probe.search(line)]
    assert found == []
