"""A sample Google Takeout export (two zip parts, made by the generator) copied into the
Nextcloud sandbox by the real `migrate` command: bytes and times kept, the refused name renamed
and reported, and a re-run with nothing to do."""

from __future__ import annotations

import calendar
import json
import zipfile
from pathlib import Path

from migrate.sandbox.nextcloud import NextcloudServer
from migrate.sandbox.samples_takeout import takeout_sample_files, write_takeout_sample
from tests.helpers import migrate


def test_takeout_archive_to_nextcloud_then_nothing_to_do(nextcloud_server: NextcloudServer,
                                                         tmp_path: Path) -> None:
    archive = write_takeout_sample(tmp_path / "exports")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        f"  takeout: {{type: google_takeout, path: exports/{archive.name}}}\n"
        f"  cloud: {{type: nextcloud, url: '{nextcloud_server.url}', user: alice,\n"
        "          password: '${env:NC_PASSWORD}'}\n"
        "steps:\n"
        "  - id: takeout\n"
        "    copy: {from: takeout, to: 'cloud:/Drive (Takeout)'}\n", encoding="utf-8")
    env = {"NC_PASSWORD": nextcloud_server.describe()["password"]}

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
        when = next(i for i in first.infolist() if "Mon Drive" in i.filename).date_time
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
