"""The Nextcloud sandbox over real HTTP: WebDAV, Nextcloud's additions, OCS and faults."""

from __future__ import annotations

import hashlib
import os
import warnings
from xml.etree import ElementTree

import pytest
import requests

from sandbox.nextcloud import NextcloudServer

D, OC = "{DAV:}", "{http://owncloud.org/ns}"
OCS = {"OCS-APIRequest": "true"}
MIB = 1024 * 1024
PROPS = """<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>
<d:getetag/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>
<d:quota-available-bytes/><d:quota-used-bytes/>
<oc:fileid/><oc:id/><oc:size/><oc:checksums/><oc:permissions/>
</d:prop></d:propfind>"""


def propfind(session: requests.Session, url: str, depth: str = "1") -> dict[str, dict]:
    """href -> {property name (Clark notation) -> text or element}."""
    response = session.request("PROPFIND", url, data=PROPS, headers={"Depth": depth})
    assert response.status_code == 207, response.text
    found: dict[str, dict] = {}
    for item in ElementTree.fromstring(response.content).iter(f"{D}response"):
        props: dict = {}
        for propstat in item.iter(f"{D}propstat"):
            if "200" in propstat.findtext(f"{D}status", ""):
                for prop in propstat.find(f"{D}prop"):
                    props[prop.tag] = prop if len(prop) else prop.text
        found[item.findtext(f"{D}href")] = props
    return found


def sabre(response: requests.Response) -> tuple[str, str]:
    root = ElementTree.fromstring(response.content)
    ns = "{http://sabredav.org/ns}"
    return root.findtext(f"{ns}exception"), root.findtext(f"{ns}message")


@pytest.fixture
def files(nextcloud_server: NextcloudServer) -> str:
    return nextcloud_server.dav_url()


# --- WebDAV and Nextcloud's additions -------------------------------------------------------


def test_put_get_bytes_with_mtime_and_headers(nextcloud_session, files):
    body = os.urandom(70_000)
    put = nextcloud_session.put(f"{files}/a.bin", data=body, headers={"X-OC-MTime": "1500000000"})
    assert put.status_code == 201
    assert put.headers["X-OC-MTime"] == "accepted"
    assert put.headers["OC-ETag"] and put.headers["OC-FileId"].startswith("00000")
    get = nextcloud_session.get(f"{files}/a.bin")
    assert get.content == body
    assert get.headers["Last-Modified"] == "Fri, 14 Jul 2017 02:40:00 GMT"
    assert nextcloud_session.put(f"{files}/a.bin", data=b"x").status_code == 204


def test_checksum_is_stored_as_sent_and_never_checked(nextcloud_session, files):
    """Nextcloud's File::put stores `OC-Checksum` as sent (NC 20–34): a wrong one is answered
    201 and listed back; without the header, no checksum is kept (docs/decisions/0440)."""
    body = b"bonjour"
    sha1 = hashlib.sha1(body).hexdigest()
    ok = nextcloud_session.put(f"{files}/c.txt", data=body, headers={"OC-Checksum": f"SHA1:{sha1}"})
    assert ok.status_code == 201

    def stored(name: str) -> str | None:
        found = propfind(nextcloud_session, f"{files}/{name}", "0")[
            f"/remote.php/dav/files/alice/{name}"].get(f"{OC}checksums")
        return None if found is None else found.findtext(f"{OC}checksum")

    assert stored("c.txt") == f"SHA1:{sha1}"
    wrong = "SHA256:" + "0" * 64
    bad = nextcloud_session.put(f"{files}/d.txt", data=body, headers={"OC-Checksum": wrong})
    assert bad.status_code == 201
    assert nextcloud_session.get(f"{files}/d.txt").content == body
    assert stored("d.txt") == wrong
    assert nextcloud_session.put(f"{files}/e.txt", data=body).status_code == 201
    assert stored("e.txt") is None


def test_propfind_depth_infinity_lists_tree_with_ids(nextcloud_session, files):
    assert nextcloud_session.request("MKCOL", f"{files}/Docs").status_code == 201
    assert nextcloud_session.request("MKCOL", f"{files}/Docs/Sub").status_code == 201
    nextcloud_session.put(f"{files}/Docs/Sub/deep.txt", data=b"12345")
    tree = propfind(nextcloud_session, f"{files}/", "infinity")
    deep = tree["/remote.php/dav/files/alice/Docs/Sub/deep.txt"]
    assert deep[f"{D}getcontentlength"] == "5" and deep[f"{OC}permissions"] == "RGDNVW"
    assert deep[f"{OC}id"].startswith(f"{int(deep[f'{OC}fileid']):08d}")
    assert deep[f"{D}getetag"].startswith('"')
    folder = tree["/remote.php/dav/files/alice/Docs/"]
    assert folder[f"{OC}size"] == "5" and folder[f"{OC}permissions"] == "RGDNVCK"
    assert folder[f"{D}quota-available-bytes"] == "-3"
    assert len({props[f"{OC}fileid"] for props in tree.values()}) == len(tree) == 4


def test_etag_changes_on_modify_and_propagates(nextcloud_session, files):
    nextcloud_session.request("MKCOL", f"{files}/P")
    nextcloud_session.put(f"{files}/P/f.txt", data=b"same")
    before = propfind(nextcloud_session, f"{files}/P", "1")
    nextcloud_session.put(f"{files}/P/f.txt", data=b"same")  # same size, same second
    after = propfind(nextcloud_session, f"{files}/P", "1")
    for href in ("/remote.php/dav/files/alice/P/", "/remote.php/dav/files/alice/P/f.txt"):
        assert before[href][f"{D}getetag"] != after[href][f"{D}getetag"]


def test_file_id_survives_move_and_restart(nextcloud_data, files):
    server = NextcloudServer(nextcloud_data, {"alice": "pw"})
    with server:
        auth = ("alice", "pw")
        put = requests.put(f"{server.dav_url()}/x.txt", data=b"x", auth=auth)
        moved = requests.request(
            "MOVE", f"{server.dav_url()}/x.txt", auth=auth,
            headers={"Destination": f"{server.dav_url()}/y.txt"},
        )  # fmt: skip
        assert moved.status_code == 201
    with NextcloudServer(nextcloud_data, {"alice": "pw"}) as again:
        session = requests.Session()
        session.auth = ("alice", "pw")
        props = propfind(session, f"{again.dav_url()}/y.txt", "0")
    (only,) = props.values()
    assert only[f"{OC}id"] == put.headers["OC-FileId"]
    assert not (nextcloud_data / "alice" / "files" / "appdata_sandbox").exists()


def test_legacy_webdav_endpoint(nextcloud_server, nextcloud_session):
    url = f"{nextcloud_server.url}/remote.php/webdav/legacy.txt"
    assert nextcloud_session.put(url, data=b"old").status_code == 201
    assert nextcloud_session.get(f"{nextcloud_server.dav_url()}/legacy.txt").content == b"old"


# --- chunked upload v2 ----------------------------------------------------------------------


def test_chunked_upload_v2_assembles_byte_exact(nextcloud_server, nextcloud_session, files):
    body = os.urandom(11 * MIB + 123)
    upload = f"{nextcloud_server.url}/remote.php/dav/uploads/alice/web-123"
    destination = {"Destination": f"{files}/big.bin"}
    assert nextcloud_session.request("MKCOL", upload, headers=destination).status_code == 201
    pieces = [body[: 5 * MIB], body[5 * MIB : 10 * MIB], body[10 * MIB :]]
    headers = {**destination, "OC-Total-Length": str(len(body))}
    nextcloud_session.put(f"{upload}/2", data=b"garbage", headers=headers)
    for number, piece in enumerate(pieces, 1):  # chunk 2 is re-sent: it overwrites
        assert nextcloud_session.put(f"{upload}/{number}", data=piece, headers=headers).ok
    listing = propfind(nextcloud_session, upload, "1")
    assert len(listing) == 4  # the folder and its three chunks: an upload can be inspected
    sha1 = hashlib.sha1(body).hexdigest()
    move = nextcloud_session.request("MOVE", f"{upload}/.file", headers={
        **headers, "X-OC-MTime": "1600000000", "OC-Checksum": f"SHA1:{sha1}"})  # fmt: skip
    assert move.status_code == 201 and move.headers["X-OC-MTime"] == "accepted"
    assert hashlib.sha1(nextcloud_session.get(f"{files}/big.bin").content).hexdigest() == sha1
    assert nextcloud_session.request("PROPFIND", upload, headers={"Depth": "0"}).status_code == 404


def test_chunked_upload_checks_and_abandon(nextcloud_server, nextcloud_session, files):
    upload = f"{nextcloud_server.url}/remote.php/dav/uploads/alice/abandoned"
    destination = {"Destination": f"{files}/never.bin"}
    nextcloud_session.request("MKCOL", upload, headers=destination)
    assert nextcloud_session.put(f"{upload}/0", data=b"x", headers=destination).status_code == 400
    nextcloud_session.put(f"{upload}/1", data=b"small", headers=destination)
    nextcloud_session.put(f"{upload}/2", data=b"tail", headers=destination)
    too_small = nextcloud_session.request("MOVE", f"{upload}/.file", headers=destination)
    assert too_small.status_code == 400
    nextcloud_session.request("DELETE", f"{upload}/2")
    wrong_total = nextcloud_session.request(
        "MOVE", f"{upload}/.file", headers={**destination, "OC-Total-Length": "99"}
    )
    assert wrong_total.status_code == 400 and "do not sum up to 99" in sabre(wrong_total)[1]
    uploads = propfind(nextcloud_session, f"{nextcloud_server.url}/remote.php/dav/uploads/alice/")
    assert "/remote.php/dav/uploads/alice/abandoned/" in uploads
    assert nextcloud_session.delete(upload).status_code == 204
    assert nextcloud_session.get(f"{files}/never.bin").status_code == 404


# --- filename rules and quota -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [".htaccess", "a.part", "b.filepart", "tab\there", " lead", "trail ", "x" * 251]
)
def test_forbidden_names_are_rejected(nextcloud_session, files, name):
    response = nextcloud_session.put(f"{files}/{requests.utils.quote(name)}", data=b"1")
    assert response.status_code == 400
    assert sabre(response)[0] == "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath"


def test_windows_compatible_mode(nextcloud_server, nextcloud_session, files):
    def put(name: str) -> int:
        url = f"{files}/{requests.utils.quote(name, safe='')}"
        return nextcloud_session.put(url, data=b"1").status_code

    assert [put(name) for name in ("CON.txt", "a:b", "dot.")] == [201, 201, 201]
    nextcloud_server.set_windows_compatible()
    for name in ("CON.txt", "a:b", "dot.", "lpt1", "q?", "c<d", "pipe|", "star*", 'q"'):
        assert put(name) == 400, name
    assert put("ordinary.txt") == 201
    assert nextcloud_session.request("MKCOL", f"{files}/nul").status_code == 400
    caps = nextcloud_session.get(f"{nextcloud_server.url}/ocs/v2.php/cloud/capabilities",
                                 params={"format": "json"}, headers=OCS).json()  # fmt: skip
    rules = caps["ocs"]["data"]["capabilities"]["files"]
    assert rules["windows_compatible_filenames"] is True
    assert "con" in rules["forbidden_filename_basenames"]
    assert ":" in rules["forbidden_filename_characters"]


def test_quota_answers_507(nextcloud_server, nextcloud_session, files):
    nextcloud_server.set_quota("alice", 1000)
    assert nextcloud_session.put(f"{files}/fits", data=b"x" * 600).status_code == 201
    over = nextcloud_session.put(f"{files}/over", data=b"x" * 600)
    assert over.status_code == 507
    assert sabre(over)[0] == "Sabre\\DAV\\Exception\\InsufficientStorage"
    props = propfind(nextcloud_session, f"{files}/", "0")["/remote.php/dav/files/alice/"]
    assert props[f"{D}quota-used-bytes"] == "600"
    assert props[f"{D}quota-available-bytes"] == "400"


# --- faults -----------------------------------------------------------------------------------


def test_fault_locked_unavailable_and_throttled(nextcloud_server, nextcloud_session, files):
    nextcloud_server.inject(423, path="/remote.php/dav/files/alice/locked.txt", times=None)
    locked = nextcloud_session.put(f"{files}/locked.txt", data=b"1")
    assert locked.status_code == 423
    assert sabre(locked)[0] == "OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked"
    assert nextcloud_session.put(f"{files}/free.txt", data=b"1").status_code == 201
    nextcloud_server.clear_faults()
    assert nextcloud_session.put(f"{files}/locked.txt", data=b"1").status_code == 201
    nextcloud_server.inject(503, times=1)
    assert nextcloud_session.get(f"{files}/free.txt").status_code == 503
    assert nextcloud_session.get(f"{files}/free.txt").status_code == 200
    nextcloud_server.inject(429, method="PUT", retry_after=7)
    throttled = nextcloud_session.put(f"{files}/t.txt", data=b"1")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"


def test_fault_control_plane_over_http(nextcloud_server, nextcloud_session, files):
    control = f"{nextcloud_server.url}/_sandbox"
    armed = requests.post(f"{control}/faults", json={"status": 503, "method": "PROPFIND"})
    assert armed.json()["id"] >= 1
    assert nextcloud_session.request("PROPFIND", files).status_code == 503
    requests.put(f"{control}/users/alice/quota", json={"bytes": 10})
    assert nextcloud_session.put(f"{files}/big", data=b"x" * 11).status_code == 507
    requests.put(f"{control}/settings", json={"windows_compatible_filenames": True})
    assert nextcloud_session.put(f"{files}/a:b", data=b"").status_code == 400
    assert requests.get(f"{control}/requests").json()["PUT"] == 2
    requests.delete(f"{control}/requests")
    assert requests.get(f"{control}/requests").json() == {}


def test_revoked_app_password_answers_401(nextcloud_server, nextcloud_session, files):
    def status(session: requests.Session | None = None, auth=None) -> int:
        response = (session or requests).request("PROPFIND", files, auth=auth)
        return response.status_code

    assert status(nextcloud_session) == 207
    user, token = nextcloud_session.auth
    requests.delete(f"{nextcloud_server.url}/_sandbox/users/{user}/app-passwords/{token}")
    assert status(nextcloud_session) == 401
    denied = nextcloud_session.request("PROPFIND", files)
    assert sabre(denied)[0] == "Sabre\\DAV\\Exception\\NotAuthenticated"
    assert "Basic" in denied.headers["WWW-Authenticate"]
    assert status(auth=("alice", "alice-password")) == 207
    assert status(auth=("alice", "wrong")) == 401


def test_dropped_connection_mid_upload_leaves_nothing(nextcloud_server, nextcloud_session, files):
    nextcloud_server.drop_connection(path="/remote.php/dav/files/alice/cut.bin", after_bytes=MIB)
    with pytest.raises(requests.exceptions.ConnectionError):
        nextcloud_session.put(f"{files}/cut.bin", data=os.urandom(4 * MIB))
    assert nextcloud_session.get(f"{files}/cut.bin").status_code == 404
    assert nextcloud_session.put(f"{files}/cut.bin", data=b"retry").status_code == 201


def test_request_counting_by_method(nextcloud_server, nextcloud_session, files):
    nextcloud_session.put(f"{files}/n.txt", data=b"1")
    nextcloud_session.get(f"{files}/n.txt")
    nextcloud_session.get(f"{files}/n.txt")
    assert nextcloud_server.request_counts() == {"PUT": 1, "GET": 2}


# --- OCS ------------------------------------------------------------------------------------


def ocs(session, server, method, route, version=2, **kwargs):
    url = f"{server.url}/ocs/v{version}.php/{route}"
    params = {"format": "json", **kwargs.pop("params", {})}
    return session.request(method, url, headers=OCS, params=params, **kwargs)


def test_ocs_requires_header_and_wraps_in_envelope(nextcloud_server, nextcloud_session):
    bare = nextcloud_session.get(f"{nextcloud_server.url}/ocs/v2.php/cloud/user?format=json")
    assert bare.status_code == 412
    v1 = ocs(nextcloud_session, nextcloud_server, "GET", "cloud/user", version=1).json()["ocs"]
    assert v1["meta"]["statuscode"] == 100 and v1["data"]["id"] == "alice"
    v2 = ocs(nextcloud_session, nextcloud_server, "GET", "cloud/capabilities").json()["ocs"]
    assert v2["meta"]["statuscode"] == 200
    caps = v2["data"]["capabilities"]
    assert caps["dav"]["chunking"] == "1.0"
    assert caps["files"]["forbidden_filename_extensions"] == [".filepart", ".part"]
    assert caps["files_sharing"]["public"]["enabled"] is True
    xml = nextcloud_session.get(f"{nextcloud_server.url}/ocs/v1.php/cloud/user", headers=OCS)
    assert ElementTree.fromstring(xml.content).findtext("meta/statuscode") == "100"


def test_ocs_users_and_groups(nextcloud_server, nextcloud_session):
    carol = {"userid": "carol", "password": "c-pass", "displayName": "Carol"}
    created = ocs(nextcloud_session, nextcloud_server, "POST", "cloud/users", data=carol)
    assert created.json()["ocs"]["data"] == {"id": "carol"}
    again = ocs(
        nextcloud_session, nextcloud_server, "POST", "cloud/users", data={"userid": "carol"}
    )
    assert again.status_code == 400 and again.json()["ocs"]["meta"]["statuscode"] == 102
    users = ocs(nextcloud_session, nextcloud_server, "GET", "cloud/users").json()["ocs"]["data"]
    assert users["users"] == ["alice", "bob", "carol"]
    assert ocs(nextcloud_session, nextcloud_server, "POST", "cloud/groups",
               data={"groupid": "board"}).ok  # fmt: skip
    ocs(nextcloud_session, nextcloud_server, "POST", "cloud/users/carol/groups",
        data={"groupid": "board"})  # fmt: skip
    members = ocs(nextcloud_session, nextcloud_server, "GET", "cloud/groups/board").json()
    assert members["ocs"]["data"]["users"] == ["carol"]
    groups = ocs(nextcloud_session, nextcloud_server, "GET", "cloud/groups").json()["ocs"]["data"]
    assert groups["groups"] == ["admin", "board"]
    carol_files = nextcloud_server.dav_url("carol")
    assert requests.request("PROPFIND", carol_files, auth=("carol", "c-pass")).status_code == 207


def test_ocs_shares_lifecycle_and_errors(nextcloud_server, nextcloud_session, files):
    nextcloud_session.request("MKCOL", f"{files}/Shared")
    route = "apps/files_sharing/api/v1/shares"
    link = ocs(nextcloud_session, nextcloud_server, "POST", route,
               data={"path": "/Shared", "shareType": 3, "password": "s3cret"}).json()  # fmt: skip
    share = link["ocs"]["data"]
    assert share["share_type"] == 3 and share["url"].endswith(share["token"])
    to_bob = {"path": "/Shared", "shareType": 0, "shareWith": "bob", "permissions": 1}
    user_share = ocs(nextcloud_session, nextcloud_server, "POST", route, data=to_bob).json()
    assert user_share["ocs"]["data"]["permissions"] == 1
    listed = ocs(nextcloud_session, nextcloud_server, "GET", route,
                 params={"path": "/Shared", "reshares": "true"})  # fmt: skip
    assert len(listed.json()["ocs"]["data"]) == 2
    share_id = share["id"]
    updated = ocs(nextcloud_session, nextcloud_server, "PUT", f"{route}/{share_id}",
                  data={"permissions": 15})  # fmt: skip
    assert updated.json()["ocs"]["data"]["permissions"] == 15
    assert ocs(nextcloud_session, nextcloud_server, "DELETE", f"{route}/{share_id}").ok
    assert ocs(nextcloud_session, nextcloud_server, "GET", f"{route}/{share_id}").status_code == 404

    def create(**data):
        return ocs(nextcloud_session, nextcloud_server, "POST", route, data=data)

    assert create(path="/missing", shareType=3).status_code == 404
    assert create(path="/Shared", shareType=0, shareWith="nobody").status_code == 404
    assert create(path="/Shared", shareType=0, shareWith="bob", permissions=64).status_code == 400
    assert create(path="/Shared", shareType=1, shareWith="admin").ok


def test_nc_py_api_talks_to_the_sandbox(nextcloud_server):
    nc_py_api = pytest.importorskip("nc_py_api")
    from nc_py_api.files.sharing import ShareType

    described = nextcloud_server.describe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        nc = nc_py_api.Nextcloud(nextcloud_url=described["url"], nc_auth_user=described["user"],
                                 nc_auth_pass=described["password"])  # fmt: skip
    assert nc.srv_version["major"] == 30
    assert nc.capabilities["files"]["forbidden_filenames"] == [".htaccess"]
    nc.files.upload("doc.txt", b"bonjour")
    (node,) = nc.files.listdir()
    assert node.name == "doc.txt" and node.info.fileid > 0
    share = nc.files.sharing.create("doc.txt", ShareType.TYPE_LINK)
    assert [s.share_id for s in nc.files.sharing.get_list()] == [share.share_id]
    assert nc.users.get_list() == ["alice", "bob"]
