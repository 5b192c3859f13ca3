"""The seeded demo Drive, shared drive included, into a Nextcloud with the Group folders app, by
the real `migrate` command: the shared drive lands once in a group folder given to the group its
members map to, a member of that group sees it, the migrating account's own files hold no copy,
every placement and unmapped member is in the plan, and a second plan has nothing to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from sandbox.google_drive.seed import seed_demo_drive
from sandbox.nextcloud import NextcloudServer
from tests.servers.test_nextcloud_server import OC, propfind
from tests.test_drive_to_nextcloud import run

DRIVE = "Bureau de l'association"
IDENTITIES = '{"bureau@asso-exemple.fr": {group: bureau}, "marc@partenaire.org": bob}'
OCS = {"OCS-APIRequest": "true", "Accept": "application/json"}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[NextcloudServer]:
    users = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
    with NextcloudServer(tmp_path / "nextcloud", users, group_folders=True) as server:
        server.state.groups["bureau"] = {"bob"}
        yield server


def write_plan(folder: Path, drive: object, cloud: NextcloudServer) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "connections:\n"
        f"  drive: {{type: google_drive, api_endpoint: \"{drive.api_endpoint}\"}}\n"
        f"  cloud: {{type: nextcloud, url: '{cloud.url}', user: alice,\n"
        "          password: '${env:NC_PASSWORD}'}\n"
        "steps:\n"
        "  - id: drive\n"
        "    copy: {from: \"drive:/\", to: \"cloud:/Drive\"}\n"
        f"    with: {{shared_drives: all, sharing: map, identities: {IDENTITIES}}}\n",
        encoding="utf-8")
    return plan


def test_shared_drive_lands_in_a_group_folder(google_drive_server, cloud: NextcloudServer,
                                              tmp_path: Path) -> None:
    seeded = seed_demo_drive(google_drive_server.drive, items=150, rng_seed=7)
    drive = google_drive_server.drive
    drive.add_member(seeded.shared_drive_id, "group", "writer", "bureau@asso-exemple.fr")
    drive.add_member(seeded.shared_drive_id, "user", "writer", "marc@partenaire.org")
    drive.add_member(seeded.shared_drive_id, "user", "reader", "claire.dupont@gmail.com")
    plan = write_plan(tmp_path, google_drive_server, cloud)

    dry = run(cloud, "plan", plan, "--json")
    assert dry.returncode == 0, dry.stderr[-3000:]
    rows = [r for r in json.loads(dry.stdout)["changes"] if r["action"] == "create"]
    in_drive = {r["target_path"] for r in rows if r["source_path"].startswith("Shared drives/")}
    assert f"/{DRIVE}/Procès-verbaux/PV 1.pdf" in in_drive
    assert all(path.startswith(f"/{DRIVE}/") for path in in_drive)
    notes = [note for r in rows for note in r["notes"]]
    assert (f"shared drive '{DRIVE}' goes to the group folder '/{DRIVE}', for groups: "
            "bureau (can edit)") in notes
    assert any("'alice' is in none of these groups" in n for n in notes)
    assert any("claire.dupont@gmail.com (reader) has no match in 'identities'" in n
               for n in notes)
    assert any("marc@partenaire.org (writer) is mapped to the user bob" in n for n in notes)
    text = run(cloud, "plan", plan)
    assert "goes to the group folder" in text.stdout

    applied = run(cloud, "apply", plan, "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    folders = requests.get(f"{cloud.url}/index.php/apps/groupfolders/folders",
                           params={"format": "json"}, headers=OCS,
                           auth=("alice", "alice-pw"), timeout=10).json()["ocs"]["data"]
    assert [(f["mount_point"], f["groups"]) for f in folders.values()] == [
        (DRIVE, {"bureau": 31, "admin": 31})]
    stored = cloud.state.data_dir / "__groupfolders" / str(next(iter(folders.values()))["id"])
    on_disk = sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file())
    # The drive's top folders are items too (its members' share goes there, once).
    assert (stored / "Procès-verbaux").is_dir()
    assert on_disk == sorted(q for q in (p.strip("/").split("/", 1)[1] for p in in_drive)
                             if not (stored / q).is_dir())
    own = cloud.state.files_root("alice")
    assert not list(own.rglob("PV 1.pdf")) and not (own / "Drive" / "Shared drives").exists()
    assert (own / "Drive" / "Communication").is_dir()  # My Drive went to the step's folder

    with requests.Session() as session:  # a member of the mapped group sees it, read-write
        session.auth = ("bob", "bob-pw")
        seen = {unquote(href): props for href, props in
                propfind(session, cloud.dav_url("bob") + "/", "infinity").items()}
    pv = seen[f"/remote.php/dav/files/bob/{DRIVE}/Procès-verbaux/PV 1.pdf"]
    assert pv[f"{OC}permissions"] == "RMGDNVW"
    assert requests.get(f"{cloud.dav_url('bob')}/{DRIVE}/Procès-verbaux/PV 1.pdf",
                        auth=("bob", "bob-pw"), timeout=10).content == (
        stored / "Procès-verbaux" / "PV 1.pdf").read_bytes()
    assert requests.get(f"{cloud.dav_url('carol')}/{DRIVE}/", auth=("carol", "carol-pw"),
                        timeout=10).status_code == 404  # not in the group: not mounted

    again = run(cloud, "plan", plan, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout[-3000:]
