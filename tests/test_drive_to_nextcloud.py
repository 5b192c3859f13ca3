"""The flagship: the seeded ~1,000-item demo Drive copied into the Nextcloud sandbox by the real
`migrate` command — every rename, skip and share in the plan, the tree as planned, checksums,
ODF exports, mtimes and shares on the server, nothing to do on a re-run, and only three files
sent again after three changed in Drive."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.google_drive.seed import seed_demo_drive
from sandbox.nextcloud import NextcloudServer
from tests.helpers import migrate

pytestmark = pytest.mark.slow

IDENTITIES = ('{"bureau@asso-exemple.fr": {group: bureau}, "marc@partenaire.org": bob}')
ODF_TYPES = {".odt": "application/vnd.oasis.opendocument.text",
             ".ods": "application/vnd.oasis.opendocument.spreadsheet",
             ".odp": "application/vnd.oasis.opendocument.presentation"}


def write_plan(folder: Path, drive: Any, cloud: NextcloudServer) -> Path:
    key = drive.auth.create_service_account(drive.token_uri)
    (folder / "google-key.json").write_text(json.dumps(key), encoding="utf-8")
    drive.auth.required = True
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        "  drive: {type: google_drive, credentials: \"${file:google-key.json}\",\n"
        f"          subject: comm@asso-exemple.fr, api_endpoint: \"{drive.api_endpoint}\"}}\n"
        f"  cloud: {{type: nextcloud, url: '{cloud.url}', user: alice,\n"
        "          password: '${env:NC_PASSWORD}'}\n"
        "steps:\n"
        "  - id: documents\n"
        "    copy: {from: \"drive:/Communication\", to: \"cloud:/Communication\"}\n"
        f"    with: {{sharing: map, identities: {IDENTITIES}}}\n"
        "  - id: bureau\n"
        "    copy: {from: \"drive:/Shared drives/Bureau de l'association\",\n"
        "           to: \"cloud:/Bureau\"}\n"
        f"    with: {{shared_drives: all, sharing: map, identities: {IDENTITIES}}}\n",
        encoding="utf-8")
    return plan


def run(cloud: NextcloudServer, *args: object):
    return migrate(*args, env={"NC_PASSWORD": cloud.describe()["password"]}, timeout=240)


def files_on(cloud: NextcloudServer) -> dict[str, Path]:
    root = cloud.state.files_root("alice")
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def planned(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Written rows by their full path on Nextcloud."""
    where = {"documents": "Communication", "bureau": "Bureau"}
    return {f"{where[r['step']]}/{r['target_path']}": r for r in rows
            if r["action"] == "create"}


def test_demo_drive_to_nextcloud(google_drive_server, nextcloud_server: NextcloudServer,
                                 tmp_path: Path) -> None:
    seeded = seed_demo_drive(google_drive_server.drive, items=1000, rng_seed=7)
    notable = seeded.notable
    nextcloud_server.state.groups["bureau"] = {"bob"}
    plan = write_plan(tmp_path, google_drive_server, nextcloud_server)

    # --- the plan: every rename, skip and share, with its reason -----------------------------
    dry = run(nextcloud_server, "plan", plan, "--json", "-o", tmp_path / "saved.json")
    assert dry.returncode == 0, dry.stderr
    # The saved plan has the same rows as --json, with each item's kind, fingerprint and meta.
    rows = json.loads((tmp_path / "saved.json").read_text(encoding="utf-8"))["changes"]
    assert [r["target_path"] for r in rows] == [
        r["target_path"] for r in json.loads(dry.stdout)["changes"]]
    by_key = {r["source_key"]: r for r in rows}
    assert json.loads(dry.stdout)["summary"]["conflict"] == 0
    renamed = {r["source_key"]: r for r in rows if r["rename"]}
    slash = renamed[notable["slash_name"]]
    assert slash["target_path"] == "Bilan 2023∕2024.pdf" and "'/'" in slash["rename"]
    assert renamed[notable["trailing_space"]]["target_path"] == "Note importante .txt␠"
    assert by_key[notable["duplicate_a"]]["target_path"] == "Budget.xlsx"
    assert renamed[notable["duplicate_b"]]["target_path"] == "Budget (2).xlsx"
    # Children of the second "Photos" land in "Photos (2)", the folder's rename given as reason.
    assert by_key[notable["duplicate_folder_a_file"]]["target_path"] == "Photos/atelier.jpg"
    second = renamed[notable["duplicate_folder_b_file"]]
    assert second["target_path"] == "Photos (2)/atelier.jpg"
    assert "folder 'Photos' became 'Photos (2)'" in second["rename"]
    in_slash_folder = renamed[notable["slash_folder_file"]]
    assert in_slash_folder["target_path"] == "Saison 2023∕2024/programme.pdf"
    skips = {r["source_key"]: r["reason"] for r in rows if r["action"] == "skip"}
    assert skips[notable["form"]].startswith("Google Forms have no file equivalent")
    assert "copied already" in skips[notable["shortcut_inside"]]
    assert "no longer exists" in skips[notable["shortcut_dangling"]]
    assert by_key[notable["shortcut_outside"]]["action"] == "create"
    assert by_key[notable["shared_folder"]]["notes"] == ["share: group bureau can edit"]
    assert by_key[notable["shared_writer"]]["notes"] == ["share: user bob can edit"]
    assert by_key[notable["shared_with_anyone"]]["notes"] == ["share: public link, read only"]
    unmapped = by_key[notable["shared_with_user"]]["notes"]
    assert unmapped == ["not shared: claire.dupont@gmail.com (commenter) has no match in "
                        "'identities'"]
    assert "no sharing by domain" in by_key[notable["shared_with_domain"]]["notes"][0]
    text = run(nextcloud_server, "plan", plan)
    for row in [*renamed.values(), *(r for r in rows if r["notes"] or r["action"] == "skip")]:
        assert row["target_path"] in text.stdout, row["target_path"]
    assert "claire.dupont@gmail.com" in text.stdout
    assert not files_on(nextcloud_server)

    # --- apply: the tree as planned, bytes, exports, mtimes, shares ------------------------
    google_drive_server.requests.reset()
    applied = run(nextcloud_server, "apply", plan, "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    listing_endpoints = ("files.list", "files.get", "drives.list", "permissions.list",
                         "changes.list", "changes.getStartPageToken")
    full_listing = sum(google_drive_server.requests.by_endpoint[e] for e in listing_endpoints)
    on_server = files_on(nextcloud_server)
    wanted = planned(rows)
    assert set(on_server) == {p for p, r in wanted.items() if r["kind"] == "file"}
    for path, row in wanted.items():
        local = on_server.get(path) or nextcloud_server.state.files_root("alice") / path
        assert local.exists(), path
        if row["kind"] != "file":
            continue
        assert int(local.stat().st_mtime) == int(row["source_fingerprint"]["mtime"]), path
        checksum = row["source_fingerprint"].get("checksum")
        if checksum:
            assert "md5:" + hashlib.md5(local.read_bytes()).hexdigest() == checksum, path
        elif Path(path).suffix in ODF_TYPES:
            with zipfile.ZipFile(local) as odf:
                assert odf.read("mimetype").decode() == ODF_TYPES[Path(path).suffix], path
                assert "content.xml" in odf.namelist()
    big = on_server["Communication/Rapport annuel complet.odt"]
    assert big.stat().st_size > 10 * 1024 * 1024
    assert google_drive_server.requests.by_endpoint["exportLinks"] == 1
    assert "Bureau/Procès-verbaux/PV 1.pdf" in on_server
    shares = requests.get(f"{nextcloud_server.url}/ocs/v2.php/apps/files_sharing/api/v1/shares",
                          auth=("alice", nextcloud_server.describe()["password"]),
                          headers={"OCS-APIRequest": "true", "Accept": "application/json"},
                          timeout=30).json()["ocs"]["data"]
    assert sorted((s["path"], s["share_type"], s["share_with"]) for s in shares) == [
        ("/Communication/Affiche publique.pdf", 3, None),
        ("/Communication/Partagé avec le bureau", 1, "bureau"),
        ("/Communication/Programme co-écrit.odt", 0, "bob")]

    # --- the report: every rename and every unshared identity -------------------------------
    report = json.loads(run(nextcloud_server, "report", plan, "--format", "json").stdout)
    assert {r["key"] for r in report["renamed"]} == set(renamed)
    items = {r["key"]: r for r in report["items"]}
    assert any("has no match in 'identities'" in note and "@gmail.com" in note
               for note in items[notable["shared_with_user"]]["notes"])
    assert items[notable["shared_folder"]]["notes"] == ["share: group bureau can edit"]

    # --- nothing to do, then only three changed files sent again ---------------------------
    again = run(nextcloud_server, "plan", plan, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout[-3000:]
    media = [r for p, r in sorted(wanted.items()) if r["meta"].get("how") == "media"
             and not r["notes"] and r["source_fingerprint"].get("size")][:3]
    assert len(media) == 3
    for row in media:
        google_drive_server.drive.modify(row["source_key"], b"v2 " + row["source_key"].encode())
    nextcloud_server.state.reset_request_counts()
    google_drive_server.requests.reset()
    third = run(nextcloud_server, "apply", plan, "--yes", "--json")
    assert json.loads(third.stdout)["summary"]["update"] == 3, third.stdout[-3000:]
    # Both steps read Drive's changes feed from the cursor the first apply left, instead of
    # listing the drive again: a request or two each, against a full listing's many.
    drive_counts = google_drive_server.requests.by_endpoint
    incremental = sum(drive_counts[e] for e in listing_endpoints)
    assert drive_counts["files.list"] == 0 and drive_counts["changes.list"] == 2, drive_counts
    assert drive_counts["permissions.list"] <= 3  # only for changed shared-drive files
    assert incremental <= 5 and full_listing >= 10, (incremental, full_listing)
    counts = nextcloud_server.request_counts()
    assert counts.get("PUT", 0) == 3 and counts.get("MOVE", 0) == 0, counts
    for row in media:
        where = "Communication" if row["step"] == "documents" else "Bureau"
        assert files_on(nextcloud_server)[f"{where}/{row['target_path']}"].read_bytes() == (
            b"v2 " + row["source_key"].encode())
