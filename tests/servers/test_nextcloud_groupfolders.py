"""The sandbox's Group folders app over real HTTP: the API as nextcloud/groupfolders exposes it,
folders mounted in every member's files, stored once, with their groups' permissions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.nextcloud import NextcloudServer
from tests.servers.test_nextcloud_server import OC, propfind

OCS = {"OCS-APIRequest": "true", "Accept": "application/json"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NextcloudServer]:
    users = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
    with NextcloudServer(tmp_path / "data", users, group_folders=True) as running:
        running.state.groups.update({"bureau": {"bob"}, "lecteurs": {"carol"}})
        yield running


def call(server: NextcloudServer, method: str, route: str, user: str = "alice",
         front: str = "index.php", **data: object) -> requests.Response:
    return requests.request(method, f"{server.url}/{front}/apps/groupfolders/{route}",
                            params={"format": "json"}, data=data, headers=OCS,
                            auth=(user, f"{user}-pw"), timeout=10)


def folder_with(server: NextcloudServer, mount: str, **groups: int) -> int:
    created = call(server, "POST", "folders", mountpoint=mount).json()["ocs"]["data"]
    for group, bits in groups.items():
        assert call(server, "POST", f"folders/{created['id']}/groups", group=group).ok
        assert call(server, "POST", f"folders/{created['id']}/groups/{group}",
                    permissions=bits).ok
    return int(created["id"])


def test_capabilities_name_the_app_only_when_it_is_enabled(server, nextcloud_server):
    def caps(srv: NextcloudServer, user: str, password: str) -> dict:
        return requests.get(f"{srv.url}/ocs/v2.php/cloud/capabilities", headers=OCS,
                            params={"format": "json"}, auth=(user, password),
                            timeout=10).json()["ocs"]["data"]["capabilities"]

    assert "groupfolders" not in caps(nextcloud_server, "alice", "alice-password")
    assert caps(server, "bob", "bob-pw")["groupfolders"] == {
        "appVersion": "18.0.6", "hasGroupFolders": False}
    folder_with(server, "Bureau", bureau=31)
    assert caps(server, "bob", "bob-pw")["groupfolders"]["hasGroupFolders"] is True


def ocs_status(response: requests.Response) -> int:
    """The OCS v1 envelope answers HTTP 200 and says the outcome in `meta.statuscode`."""
    assert response.status_code == 200
    return int(response.json()["ocs"]["meta"]["statuscode"])


def test_folders_api_on_index_php_and_ocs_v1_not_v2(server):
    created = call(server, "POST", "folders", front="index.php", mountpoint="Bureau").json()
    assert created["ocs"]["meta"]["statuscode"] == 100  # index.php answers OCS v1
    folder_id = created["ocs"]["data"]["id"]
    assert ocs_status(call(server, "GET", "folders", front="ocs/v1.php")) == 100
    # The real app declares no OCS routes: ocs/v2.php answers 404 (docs/decisions/0440).
    assert call(server, "GET", "folders", front="ocs/v2.php").status_code == 404
    twice = call(server, "POST", "folders", mountpoint="Bureau")
    assert ocs_status(twice) == 400
    assert twice.json()["ocs"]["meta"]["message"] == "Mount point already exists"
    added = call(server, "POST", f"folders/{folder_id}/groups", group="bureau").json()
    assert added["ocs"]["data"]["folder"]["groups"] == {"bureau": 31}
    call(server, "POST", f"folders/{folder_id}/groups/bureau", permissions=7)
    call(server, "POST", f"folders/{folder_id}/quota", quota=1000)
    call(server, "POST", f"folders/{folder_id}/mountpoint", mountpoint="Le bureau")
    listed = call(server, "GET", "folders").json()["ocs"]["data"]
    assert listed[str(folder_id)] | {"size": 0} == {
        "id": folder_id, "mount_point": "Le bureau", "quota": 1000, "acl": False, "size": 0,
        "groups": {"bureau": 7}, "manage": [],
        "group_details": {"bureau": {"displayName": "bureau", "permissions": 7,
                                     "type": "group"}}}
    assert ocs_status(call(server, "POST", "folders", user="bob", mountpoint="X")) == 403
    assert list(call(server, "GET", "folders", user="bob").json()["ocs"]["data"]) == [
        str(folder_id)]  # a member sees their own folders
    assert call(server, "GET", "folders", user="carol").json()["ocs"]["data"] == {}
    assert ocs_status(call(server, "GET", "folders/99")) == 404


def test_a_folder_is_mounted_in_each_members_files_and_stored_once(server):
    folder_id = folder_with(server, "Bureau", bureau=31, lecteurs=1)
    bob, carol = ("bob", "bob-pw"), ("carol", "carol-pw")
    put = requests.put(f"{server.dav_url('bob')}/Bureau/pv.txt", data=b"compte rendu",
                       auth=bob, timeout=10)
    assert put.status_code == 201, put.text
    stored = server.state.data_dir / "__groupfolders" / str(folder_id) / "pv.txt"
    assert stored.read_bytes() == b"compte rendu"
    assert not (server.state.files_root("bob") / "Bureau").exists()

    with requests.Session() as session:
        session.auth = carol
        root = propfind(session, server.dav_url("carol") + "/", "infinity")
    assert root["/remote.php/dav/files/carol/Bureau/"][f"{OC}permissions"] == "MG"
    seen = root["/remote.php/dav/files/carol/Bureau/pv.txt"]
    assert seen[f"{OC}permissions"] == "MG"
    with requests.Session() as session:
        session.auth = bob
        mine = propfind(session, server.dav_url("bob") + "/Bureau/pv.txt", "0")
    ours = mine["/remote.php/dav/files/bob/Bureau/pv.txt"]
    assert ours[f"{OC}permissions"] == "RMGDNVW"
    assert ours[f"{OC}fileid"] == seen[f"{OC}fileid"]  # one file, seen by both
    assert requests.get(f"{server.dav_url('carol')}/Bureau/pv.txt", auth=carol,
                        timeout=10).content == b"compte rendu"
    refused = requests.put(f"{server.dav_url('carol')}/Bureau/pv.txt", data=b"x", auth=carol,
                           timeout=10)
    assert refused.status_code == 403
    # alice administers the folder but is in none of its groups: not mounted for her.
    assert requests.get(f"{server.dav_url('alice')}/Bureau/pv.txt", auth=("alice", "alice-pw"),
                        timeout=10).status_code == 404


def test_folder_quota_answers_507(server):
    folder_id = folder_with(server, "Bureau", bureau=31)
    call(server, "POST", f"folders/{folder_id}/quota", quota=10)
    full = requests.put(f"{server.dav_url('bob')}/Bureau/big.bin", data=b"x" * 100,
                        auth=("bob", "bob-pw"), timeout=10)
    assert full.status_code == 507
