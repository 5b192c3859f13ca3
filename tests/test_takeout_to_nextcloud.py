"""Sample Google Takeout exports (made by the generator) copied into the Nextcloud sandbox by the
real `migrate` command: a personal Takeout (bytes and times kept, the refused name renamed and
reported, a re-run with nothing to do) and a Google Workspace export (Drive times from its
`-info.json` files, metadata, comments and trash not copied, every entry accounted for, and a
later re-export of the same Drive uploading only what changed)."""

from __future__ import annotations

import calendar
import json
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from sandbox.nextcloud import NextcloudServer
from sandbox.samples_takeout import (
    EDITOR,
    NOT_EXPORTED,
    WORKSPACE_TIMES,
    takeout_sample_files,
    workspace_sample_files,
    write_takeout_sample,
    write_workspace_sample,
)
from tests.helpers import migrate


def _plan(tmp_path: Path, server: NextcloudServer, archive: str) -> tuple[Path, dict]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        f"  takeout: {{type: google_takeout, path: '{archive}'}}\n"
        f"  cloud: {{type: nextcloud, url: '{server.url}', user: alice,\n"
        "          password: '${env:NC_PASSWORD}'}\n"
        "steps:\n"
        "  - id: takeout\n"
        "    copy: {from: takeout, to: 'cloud:/Drive (Takeout)'}\n", encoding="utf-8")
    return plan, {"NC_PASSWORD": server.describe()["password"]}


def test_takeout_archive_to_nextcloud_then_nothing_to_do(nextcloud_server: NextcloudServer,
                                                         tmp_path: Path) -> None:
    archive = write_takeout_sample(tmp_path / "exports")
    plan, env = _plan(tmp_path, nextcloud_server, f"exports/{archive.name}")

    dry = migrate("plan", plan, "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    rows = {r["source_path"]: r for r in json.loads(dry.stdout)["changes"]}
    expected = takeout_sample_files()
    assert set(rows) == set(expected)  # the Gmail part and the archive browser are not Drive
    assert rows["Brouillon."]["target_path"] == "Brouillon．"
    assert "end with a space or a dot" in rows["Brouillon."]["rename"]

    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    root = nextcloud_server.state.files_root("alice") / "Drive (Takeout)"
    on_server = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    assert set(on_server) == {rows[path]["target_path"] for path in expected}
    with zipfile.ZipFile(archive) as first:
        when = next(i for i in first.infolist() if "Drive/" in i.filename).date_time
    for path, data in expected.items():
        stored = on_server[rows[path]["target_path"]]
        assert stored.read_bytes() == data, path
        assert int(stored.stat().st_mtime) == calendar.timegm((*when, 0, 0, 0)), path

    report = json.loads(migrate("report", plan, "--format", "json", env=env).stdout)
    assert [r["source_path"] for r in report["renamed"]] == ["Brouillon."]

    nextcloud_server.state.reset_request_counts()
    again = migrate("plan", plan, "--detailed-exitcode", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = migrate("apply", plan, "--yes", env=env)
    assert rerun.returncode == 0 and "Nothing to do" in rerun.stdout, rerun.stdout
    counts = nextcloud_server.request_counts()
    assert counts.get("PUT", 0) == 0 and counts.get("MOVE", 0) == 0, counts


def _utc(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_workspace_export_to_nextcloud_then_a_re_export_uploads_only_what_changed(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    write_workspace_sample(tmp_path / "exports")
    plan, env = _plan(tmp_path, nextcloud_server, "exports")  # the folder: parts found by name

    dry = migrate("plan", plan, "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    rows = {r["source_path"]: r for r in json.loads(dry.stdout)["changes"]}
    expected = workspace_sample_files()
    created = {path for path, row in rows.items()
               if row["action"] == "create" and not row["source_key"].endswith("/")}
    assert created == set(expected)  # Computers/…, Orphans/… in place; no metadata file
    skipped = {path: row["reason"] for path, row in rows.items() if row["action"] == "skip"}
    assert "trash" in skipped["Trash/Ancien budget.xlsx"]
    assert "comments" in skipped["Compte rendu AG-comments.html"]
    assert "not a Drive file" in skipped["Workspaces.json"]
    assert "Inscriptions" in skipped["Inscriptions-info.json"]
    assert "not in the archive" in skipped[NOT_EXPORTED]
    # The folder's own -info.json makes it an item, carrying its sharing (shared once).
    assert rows["Photos"]["source_key"] == "Photos/" and rows["Photos"]["action"] == "create"
    assert any(EDITOR in note for note in rows["Photos"]["notes"])
    assert set(rows) == created | set(skipped) | {"Photos"}  # every entry accounted for
    budget = rows["Budget 2024.xlsx"]
    assert any(EDITOR in note and "writer" in note for note in budget["notes"])  # sharing read

    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    root = nextcloud_server.state.files_root("alice") / "Drive (Takeout)"
    on_server = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    assert set(on_server) == set(expected)
    for path, data in expected.items():
        assert on_server[path].read_bytes() == data, path
    for path, when in WORKSPACE_TIMES.items():  # the Drive time, not the export's
        assert int(on_server[path].stat().st_mtime) == _utc(when), path

    # Google exports the same Drive again a month later: new zip times, one file changed.
    shutil.rmtree(tmp_path / "exports")
    write_workspace_sample(tmp_path / "exports", when=(2024, 7, 10, 8, 5, 0),
                           changed={"Photos/Fête des semis.jpg": b"\xff\xd8\xff retouched"})
    again = json.loads(migrate("plan", plan, "--json", env=env).stdout)
    actions = {r["source_path"]: r["action"] for r in again["changes"]}
    assert actions["Photos/Fête des semis.jpg"] == "update"
    assert [p for p, a in actions.items() if a in ("create", "update")] == [
        "Photos/Fête des semis.jpg"]
    nextcloud_server.state.reset_request_counts()
    rerun = migrate("apply", plan, "--yes", env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert nextcloud_server.request_counts().get("PUT", 0) == 1
    assert on_server["Photos/Fête des semis.jpg"].read_bytes() == b"\xff\xd8\xff retouched"
