"""A drive as volunteers really have them — an orphan, a Drive for desktop backup, a folder
shared with the account, files the account may not download, a file Google flagged as abusive,
a temporary grant, a shared drive where the account is only a reader and one the plan does not
ask for — planned and copied into the Nextcloud sandbox by the real `migrate` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from sandbox.google_drive.seed import seed_awkward_drive
from sandbox.nextcloud import NextcloudServer
from tests.helpers import migrate

FOLDER = "application/vnd.google-apps.folder"


def write_plan(folder: Path, drive: Any, cloud: NextcloudServer, extra: str = "") -> Path:
    key = drive.auth.create_service_account(drive.token_uri)
    (folder / "google-key.json").write_text(json.dumps(key), encoding="utf-8")
    drive.auth.required = True
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "connections:\n"
        "  drive: {type: google_drive, credentials: \"${file:google-key.json}\",\n"
        f"          subject: comm@asso-exemple.fr, api_endpoint: \"{drive.api_endpoint}\"}}\n"
        f"  cloud: {{type: nextcloud, url: '{cloud.url}', user: alice,\n"
        "          password: '${env:NC_PASSWORD}'}\n"
        "steps:\n"
        "  - id: everything\n"
        "    copy: {from: \"drive:/\", to: \"cloud:/Drive\"}\n"
        "    with: {shared_drives: [Fédération], sharing: map, acknowledge_abuse: true,\n"
        f"           identities: {{\"marc@partenaire.org\": bob}}{extra}}}\n",
        encoding="utf-8")
    return plan


def run(cloud: NextcloudServer, *args: object):
    return migrate(*args, env={"NC_PASSWORD": cloud.describe()["password"]}, timeout=240)


def files_on(cloud: NextcloudServer) -> dict[str, bytes]:
    root = cloud.state.files_root("alice")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def listed_files(drive: Any, shared_drive: str) -> set[str]:
    """What Drive lists for this plan: the user's corpus and the one shared drive asked for."""
    state = drive.drive
    return {f.id for f in state.files.values() if not f.trashed and f.mime_type != FOLDER
            and f.drive_id in (None, shared_drive)}


def test_awkward_drive_planned_whole_and_copied(google_drive_server,
                                                nextcloud_server: NextcloudServer,
                                                tmp_path: Path) -> None:
    seeded = seed_awkward_drive(google_drive_server.drive)
    notable = seeded.notable
    plan = write_plan(tmp_path, google_drive_server, nextcloud_server)

    dry = run(nextcloud_server, "plan", plan, "--json", "-o", tmp_path / "saved.json")
    assert dry.returncode == 0, dry.stderr
    rows = json.loads((tmp_path / "saved.json").read_text(encoding="utf-8"))["changes"]
    by_key = {r["source_key"]: r for r in rows}
    # Every listed file is a row, or inside the one skipped folder shared with the account.
    shared_inside = {notable["shared_with_me_compte_rendu"], notable["shared_with_me_photo"]}
    assert listed_files(google_drive_server, seeded.shared_drive_id) - shared_inside <= set(by_key)
    assert notable["other_drive_file"] not in by_key
    assert not any("Autre réseau" in r["target_path"] for r in rows)
    # Items with no visible parent have a place of their own.
    assert by_key[notable["orphan"]]["target_path"] == "Orphans/Reçu orphelin.pdf"
    assert by_key[notable["computer_file"]]["target_path"] == \
        "Computers/Portable de Léa/Documents/notes.txt"
    shared = by_key[notable["shared_with_me"]]
    assert shared["action"] == "skip" and "(2 items inside)" in shared["reason"]
    assert "shared_with_me: true" in shared["reason"]
    # Restricted files are decided in the plan, each with why.
    assert by_key[notable["dlp"]]["action"] == "skip"
    assert "rule of the organisation" in by_key[notable["dlp"]]["reason"]
    restricted = by_key[notable["reader_drive_restricted"]]
    assert restricted["action"] == "skip" and "viewers and commenters" in restricted["reason"]
    # A reader of a shared drive cannot read its sharing: said, and the listing goes on.
    circular = by_key[notable["reader_drive_file"]]
    assert circular["action"] == "create"
    assert any(n.startswith("sharing not read:") for n in circular["notes"])
    # A temporary grant stays temporary.
    assert by_key[notable["expiring"]]["notes"] == ["share: user bob can read, until 2030-06-30"]

    applied = run(nextcloud_server, "apply", plan, "--yes", "--json")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    on_server = files_on(nextcloud_server)
    created = {r["target_path"] for r in rows if r["action"] == "create" and r["kind"] == "file"}
    assert {p.removeprefix("Drive/") for p in on_server} == created
    assert "Drive/Orphans/Reçu orphelin.pdf" in on_server
    assert "Drive/Computers/Portable de Léa/Documents/notes.txt" in on_server
    abusive = google_drive_server.drive.files[notable["abusive"]].content
    assert on_server["Drive/Association/outil.exe"] == b"".join(abusive.iter_range(0,
                                                                                 abusive.size))
    shares = requests.get(f"{nextcloud_server.url}/ocs/v2.php/apps/files_sharing/api/v1/shares",
                          auth=("alice", nextcloud_server.describe()["password"]),
                          headers={"OCS-APIRequest": "true", "Accept": "application/json"},
                          timeout=30).json()["ocs"]["data"]
    expiring = [s for s in shares if s["path"] == "/Drive/Association/Planning été.pdf"]
    assert [(s["share_with"], str(s["expiration"])[:10]) for s in expiring] == \
        [("bob", "2030-06-30")]


def test_abusive_file_without_acknowledge_is_skipped_with_what_to_do(
        google_drive_server, nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    notable = seed_awkward_drive(google_drive_server.drive).notable
    plan = write_plan(tmp_path, google_drive_server, nextcloud_server)
    plan.write_text(plan.read_text(encoding="utf-8").replace("acknowledge_abuse: true",
                                                             "acknowledge_abuse: false"),
                    encoding="utf-8")
    applied = run(nextcloud_server, "apply", plan, "--yes", "--json")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    assert "Drive/Association/outil.exe" not in files_on(nextcloud_server)
    assert "Drive/Association/Statuts.pdf" in files_on(nextcloud_server)
    report = json.loads(run(nextcloud_server, "report", plan, "--format", "json").stdout)
    item = {r["key"]: r for r in report["items"]}[notable["abusive"]]
    assert "acknowledge_abuse: true" in json.dumps(item, ensure_ascii=False)


def test_drive_members_are_shared_once_at_the_top_in_files_mode(
        google_drive_server, nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    """Without group folders, a shared drive's members get one share per top-level item (the
    drive's folders are items for it), not one on every file; an organizer becomes an editor,
    and the plan says why."""
    drive = google_drive_server.drive
    bureau = drive.add_shared_drive("Bureau")
    drive.add_member(bureau.id, "group", "writer", "benevoles@asso-exemple.fr")
    drive.add_member(bureau.id, "user", "organizer", "marc@partenaire.org")
    minutes = drive.add_folder("Comptes rendus", bureau.id)
    for name in ("CR janvier.txt", "CR février.txt"):
        drive.add_file(name, minutes.id, name.encode(), mime_type="text/plain")
    drive.add_file("Charte.txt", bureau.id, b"charte", mime_type="text/plain")
    nextcloud_server.state.groups["benevoles"] = {"bob"}
    plan = write_plan(tmp_path, google_drive_server, nextcloud_server, extra="")
    plan.write_text(plan.read_text(encoding="utf-8")
                    .replace("shared_drives: [Fédération]", "shared_drives: [Bureau]")
                    .replace('{"marc@partenaire.org": bob}',
                             '{"marc@partenaire.org": bob, "benevoles@asso-exemple.fr": '
                             '{group: benevoles}}'), encoding="utf-8")
    dry = run(nextcloud_server, "plan", plan, "--json")
    assert dry.returncode == 0, dry.stderr
    notes = {r["target_path"]: r["notes"] for r in json.loads(dry.stdout)["changes"]}
    top = "Shared drives/Bureau"
    assert notes[f"{top}/Comptes rendus"][:2] == ["share: group benevoles can edit",
                                                  "share: user bob can edit"]
    assert any("organizer" in n for n in notes[f"{top}/Comptes rendus"])
    assert notes[f"{top}/Comptes rendus/CR janvier.txt"] == []
    applied = run(nextcloud_server, "apply", plan, "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    shares = requests.get(f"{nextcloud_server.url}/ocs/v2.php/apps/files_sharing/api/v1/shares",
                          auth=("alice", nextcloud_server.describe()["password"]),
                          headers={"OCS-APIRequest": "true", "Accept": "application/json"},
                          timeout=30).json()["ocs"]["data"]
    assert sorted((s["path"], s["share_with"]) for s in shares) == [
        (f"/Drive/{top}/Charte.txt", "benevoles"), (f"/Drive/{top}/Charte.txt", "bob"),
        (f"/Drive/{top}/Comptes rendus", "benevoles"), (f"/Drive/{top}/Comptes rendus", "bob")]


def test_quota_answers_in_both_forms_are_waited_out_by_migrate_apply(
        google_drive_server, nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    """403 quota answers, today's (ErrorInfo RATE_LIMIT_EXCEEDED) and the legacy one, on the
    listing and on downloads, under a per-minute quota: the apply waits them out, skips and
    fails nothing, and everything arrives."""
    drive = google_drive_server.drive
    folder = drive.add_folder("Association")
    files = {f"doc{n}.txt": f"document {n}".encode() for n in range(8)}
    ids = [drive.add_file(name, folder.id, data, mime_type="text/plain").id
           for name, data in files.items()]
    plan = write_plan(tmp_path, google_drive_server, nextcloud_server)
    plan.write_text(plan.read_text(encoding="utf-8").replace("shared_drives: [Fédération], ",
                                                             ""), encoding="utf-8")
    faults = google_drive_server.faults
    faults.inject(status=403, style="errorinfo_only", path_prefix="/files")
    faults.inject(status=403, reason="userRateLimitExceeded", path_prefix="/files")
    faults.inject(status=403, style="errorinfo", path_prefix=f"/files/{ids[0]}")
    faults.inject(status=403, reason="rateLimitExceeded", path_prefix=f"/files/{ids[1]}")
    faults.queries_per_minute, faults.quota_burst = 1200, 4
    applied = run(nextcloud_server, "apply", plan, "--yes", "--json")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    counts = json.loads(applied.stdout)["counts"]
    assert counts["failed"] == 0 and counts["skipped"] == 0 and counts["done"] == 8, counts
    on_server = files_on(nextcloud_server)
    assert {name: on_server[f"Drive/Association/{name}"] for name in files} == files
    assert not faults.pending() and google_drive_server.requests.by_status[403] >= 4
