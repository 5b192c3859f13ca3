"""The Drive API emulator, exercised through google-api-python-client over real HTTP."""

from __future__ import annotations

import http.client
import io
import json
import urllib.error
import urllib.request
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from google.auth.exceptions import InvalidOperation, RefreshError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

from sandbox.google_drive import GoogleDriveServer
from sandbox.google_drive.exports import ODT
from sandbox.google_drive.seed import SeededDrive, seed_demo_drive, seed_large_drive
from sandbox.google_drive.state import DriveState
from tests.fixtures.google_drive import build_drive_service

FOLDER = "application/vnd.google-apps.folder"
SCOPE = ["https://www.googleapis.com/auth/drive.readonly"]


def reason_of(error: HttpError) -> str:
    return error.error_details[0]["reason"]


def list_all(service: Any, **params: Any) -> list[dict[str, Any]]:
    files, token = [], None
    while True:
        page = service.files().list(pageToken=token, **params).execute()
        files += page["files"]
        token = page.get("nextPageToken")
        if not token:
            return files


def control(server: GoogleDriveServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.url}/_emulator/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


# ----- listing -------------------------------------------------------------------------------


def test_paging_2500_items_takes_three_requests_of_1000(google_drive_server, drive_service):
    folder = google_drive_server.drive.add_folder("Photos")
    for index in range(2500):
        google_drive_server.drive.add_file(f"p{index}.jpg", folder.id, b"x", mime_type="image/jpeg")
    google_drive_server.requests.reset()

    files = list_all(
        drive_service,
        q=f"'{folder.id}' in parents",
        pageSize=1000,
        fields="nextPageToken,files(id)",
    )

    assert len({f["id"] for f in files}) == 2500
    assert google_drive_server.requests.by_endpoint["files.list"] == 3


def test_default_page_size_is_100_and_over_1000_is_refused(google_drive_server, drive_service):
    for index in range(150):
        google_drive_server.drive.add_file(f"f{index}", content=b"")
    assert len(drive_service.files().list().execute()["files"]) == 100
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(pageSize=1001).execute()
    assert caught.value.status_code == 400 and reason_of(caught.value) == "invalid"


def test_page_token_from_another_query_is_refused(google_drive_server, drive_service):
    for index in range(3):
        google_drive_server.drive.add_file(f"f{index}", content=b"")
    token = drive_service.files().list(pageSize=1).execute()["nextPageToken"]
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(pageSize=1, pageToken=token, q="trashed = false").execute()
    assert caught.value.status_code == 400


def test_fields_mask_returns_exactly_the_nested_fields(google_drive_server, drive_service):
    folder = google_drive_server.drive.add_folder("Docs")
    google_drive_server.drive.add_file("a.txt", folder.id, b"abc", mime_type="text/plain")

    page = (
        drive_service.files()
        .list(q=f"'{folder.id}' in parents", fields="files(id,name,parents,md5Checksum,size)")
        .execute()
    )

    assert set(page) == {"files"}
    (item,) = page["files"]
    assert set(item) == {"id", "name", "parents", "md5Checksum", "size"}
    assert item["md5Checksum"] == "900150983cd24fb0d6963f7d28e17f72" and item["size"] == "3"
    assert set(drive_service.files().get(fileId=item["id"]).execute()) == {
        "kind",
        "id",
        "name",
        "mimeType",
    }


def test_unknown_field_in_mask_is_400_invalid_parameter(drive_service):
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(fields="files(id,colour)").execute()
    assert caught.value.status_code == 400 and reason_of(caught.value) == "invalidParameter"


def test_q_filters_parents_trash_mime_and_names(google_drive_server, drive_service):
    drive = google_drive_server.drive
    folder = drive.add_folder("Communication")
    sub = drive.add_folder("Sous-dossier", folder.id)
    drive.add_file("l'été.txt", folder.id, b"1", mime_type="text/plain")
    old = drive.add_file("ancien.txt", folder.id, b"2", mime_type="text/plain")
    drive.trash(old.id)

    def names(q: str) -> set[str]:
        return {f["name"] for f in list_all(drive_service, q=q)}

    in_folder = f"'{folder.id}' in parents"
    assert names(in_folder) == {"Sous-dossier", "l'été.txt", "ancien.txt"}
    assert names(f"{in_folder} and trashed = false") == {"Sous-dossier", "l'été.txt"}
    assert names(f"{in_folder} and mimeType = '{FOLDER}'") == {"Sous-dossier"}
    assert names(f"{in_folder} and mimeType != '{FOLDER}' and trashed = false") == {"l'été.txt"}
    assert names("name = 'l\\'été.txt' or name = 'Sous-dossier'") == {"l'été.txt", sub.name}
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(q="colour = 'blue'").execute()
    assert caught.value.status_code == 400 and caught.value.error_details[0]["location"] == "q"


def test_order_by_folder_then_name(google_drive_server, drive_service):
    drive = google_drive_server.drive
    for name in ["b.txt", "A.txt"]:
        drive.add_file(name, content=b"")
    drive.add_folder("z dossier")
    files = drive_service.files().list(orderBy="folder,name").execute()["files"]
    assert [f["name"] for f in files] == ["z dossier", "A.txt", "b.txt"]
    with pytest.raises(HttpError):
        drive_service.files().list(orderBy="colour").execute()


def test_shared_drive_items_only_with_both_flags(seeded_google_drive, drive_service):
    shared = seeded_google_drive.shared_drive_id
    default_ids = {f["id"] for f in list_all(drive_service, pageSize=1000)}
    everything = list_all(
        drive_service,
        pageSize=1000,
        corpora="allDrives",
        includeItemsFromAllDrives=True,
        supportsAllDrives=True,
        fields="nextPageToken,files(id,driveId)",
    )
    in_shared = [f for f in everything if f.get("driveId") == shared]
    assert len(in_shared) == 7 and not {f["id"] for f in in_shared} & default_ids
    only_drive = list_all(
        drive_service,
        corpora="drive",
        driveId=shared,
        includeItemsFromAllDrives=True,
        supportsAllDrives=True,
    )
    assert len(only_drive) == 7
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(corpora="drive", driveId=shared).execute()
    assert caught.value.status_code == 403
    doc = seeded_google_drive.notable["shared_drive_doc"]
    with pytest.raises(HttpError) as caught:
        drive_service.files().get(fileId=doc).execute()
    assert caught.value.status_code == 404 and reason_of(caught.value) == "notFound"
    assert drive_service.files().get(fileId=doc, supportsAllDrives=True, fields="driveId").execute()
    drives = drive_service.drives().list(pageSize=1).execute()["drives"]
    assert drives == [{"kind": "drive#drive", "id": shared, "name": "Bureau de l'association"}]


# ----- content ---------------------------------------------------------------------------------


def test_media_download_whole_chunked_and_ranged(google_drive_server, drive_service):
    item = google_drive_server.drive.add_file("video.mp4", size=300_000, mime_type="video/mp4")
    whole = drive_service.files().get_media(fileId=item.id).execute()
    assert len(whole) == 300_000

    buffer = io.BytesIO()
    downloader = MediaIoBaseDownload(
        buffer, drive_service.files().get_media(fileId=item.id), chunksize=100_000
    )
    done = False
    while not done:
        _, done = downloader.next_chunk()
    assert buffer.getvalue() == whole

    request = drive_service.files().get_media(fileId=item.id)
    request.headers["Range"] = "bytes=1000-1999"
    assert request.execute() == whole[1000:2000]
    metadata = drive_service.files().get(fileId=item.id, fields="md5Checksum").execute()
    assert metadata["md5Checksum"] == item.content.md5


def test_google_types_are_not_downloadable(google_drive_server, drive_service):
    doc = google_drive_server.drive.add_google_doc("Note", kind="doc")
    with pytest.raises(HttpError) as caught:
        drive_service.files().get_media(fileId=doc.id).execute()
    assert caught.value.status_code == 403 and reason_of(caught.value) == "fileNotDownloadable"


def test_export_gives_valid_opendocument(google_drive_server, drive_service):
    doc = google_drive_server.drive.add_google_doc("Compte rendu", kind="doc", export_size=50_000)
    data = drive_service.files().export(fileId=doc.id, mimeType=ODT).execute()
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert archive.read("mimetype") == ODT.encode() and archive.testzip() is None
    assert "content.xml" in archive.namelist() and abs(len(data) - 50_000) < 100


def test_export_limits_and_formats(google_drive_server, drive_service):
    drive = google_drive_server.drive
    big = drive.add_google_doc("Gros rapport", kind="doc", export_size=12 * 1024 * 1024)
    form = drive.add_google_doc("Inscription", kind="form")
    with pytest.raises(HttpError) as caught:
        drive_service.files().export(fileId=big.id, mimeType="application/pdf").execute()
    assert caught.value.status_code == 403 and reason_of(caught.value) == "exportSizeLimitExceeded"
    with pytest.raises(HttpError) as caught:
        drive_service.files().export(fileId=big.id, mimeType="image/png").execute()
    assert caught.value.status_code == 400
    with pytest.raises(HttpError) as caught:
        drive_service.files().export(fileId=form.id, mimeType="application/zip").execute()
    assert caught.value.status_code == 403

    links = drive_service.files().get(fileId=big.id, fields="exportLinks").execute()["exportLinks"]
    assert links[ODT].startswith(google_drive_server.url)
    response, data = drive_service._http.request(links[ODT])
    assert response.status == 200 and len(data) > 10 * 1024 * 1024
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_shortcuts_inside_outside_and_dangling(seeded_google_drive, drive_service):
    notable = seeded_google_drive.notable
    details = {
        key: drive_service.files().get(fileId=notable[key], fields="shortcutDetails").execute()
        for key in ("shortcut_inside", "shortcut_outside", "shortcut_dangling")
    }
    assert details["shortcut_inside"]["shortcutDetails"]["targetId"] == notable["slash_name"]
    assert details["shortcut_outside"]["shortcutDetails"]["targetId"] == notable["outside_file"]
    dangling = details["shortcut_dangling"]["shortcutDetails"]
    with pytest.raises(HttpError) as caught:
        drive_service.files().get(fileId=dangling["targetId"]).execute()
    assert caught.value.status_code == 404


def test_permissions_inline_inherited_and_paged(seeded_google_drive, drive_service):
    notable = seeded_google_drive.notable
    file_id = notable["shared_with_user"]
    inline = drive_service.files().get(fileId=file_id, fields="permissions(type,role)").execute()
    assert {(p["type"], p["role"]) for p in inline["permissions"]} == {
        ("user", "owner"),
        ("user", "commenter"),
        ("group", "writer"),
    }
    pages, token = [], None
    while True:
        page = (
            drive_service.permissions().list(fileId=file_id, pageSize=1, pageToken=token).execute()
        )
        pages.append(page["permissions"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert [len(p) for p in pages] == [1, 1, 1]
    anyone = drive_service.permissions().list(fileId=notable["shared_with_anyone"]).execute()
    assert {
        "kind": "drive#permission",
        "id": "anyoneWithLink",
        "type": "anyone",
        "role": "reader",
    } in anyone["permissions"]


# ----- changes -----------------------------------------------------------------------------------


def test_changes_after_modify_trash_and_delete(google_drive_server, drive_service):
    drive = google_drive_server.drive
    kept = drive.add_file("a.txt", content=b"v1")
    trashed = drive.add_file("b.txt", content=b"b")
    deleted = drive.add_file("c.txt", content=b"c")
    start = drive_service.changes().getStartPageToken().execute()["startPageToken"]
    old_md5 = kept.content.md5
    drive.modify(kept.id, b"v2")
    drive.modify(kept.id, b"v3")
    drive.trash(trashed.id)
    drive.delete(deleted.id)

    fields = (
        "nextPageToken,newStartPageToken,changes(fileId,removed,file(trashed,md5Checksum,version))"
    )
    first = drive_service.changes().list(pageToken=start, pageSize=2, fields=fields).execute()
    second = (
        drive_service.changes()
        .list(pageToken=first["nextPageToken"], pageSize=2, fields=fields)
        .execute()
    )

    changes = {c["fileId"]: c for c in first["changes"] + second["changes"]}
    assert len(first["changes"]) + len(second["changes"]) == 3  # a.txt appears once
    assert changes[kept.id]["file"]["md5Checksum"] not in (old_md5, None)
    assert changes[kept.id]["file"]["version"] == "3"
    assert changes[trashed.id]["file"]["trashed"] is True
    assert changes[deleted.id]["removed"] is True and "file" not in changes[deleted.id]
    assert "newStartPageToken" in second and "nextPageToken" not in second
    latest = drive_service.changes().list(pageToken=second["newStartPageToken"]).execute()
    assert latest["changes"] == []


def test_shared_drive_changes_need_the_flags(google_drive_server, drive_service):
    shared = google_drive_server.drive.add_shared_drive("Équipe")
    start = drive_service.changes().getStartPageToken().execute()["startPageToken"]
    google_drive_server.drive.add_file("x.pdf", shared.id, b"%PDF")
    assert drive_service.changes().list(pageToken=start).execute()["changes"] == []
    flagged = (
        drive_service.changes()
        .list(pageToken=start, supportsAllDrives=True, includeItemsFromAllDrives=True)
        .execute()
    )
    assert [c["driveId"] for c in flagged["changes"]] == [shared.id]


# ----- errors and faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (403, "userRateLimitExceeded"),
        (403, "rateLimitExceeded"),
        (500, "backendError"),
        (503, "backendError"),
        (403, "dailyLimitExceeded"),
    ],
)
def test_injected_errors_surface_as_http_errors(google_drive_server, drive_service, status, reason):
    control(
        google_drive_server, "faults", {"status": status, "reason": reason, "path_prefix": "/files"}
    )
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    assert caught.value.status_code == status and reason_of(caught.value) == reason
    assert drive_service.files().list().execute()["files"] == []  # count=1: consumed


def test_injected_401_reaches_a_client_that_does_not_refresh(google_drive_server):
    google_drive_server.faults.inject(status=401)
    with pytest.raises(InvalidOperation):  # google_auth_httplib2 tries to refresh anonymous creds
        build_drive_service(google_drive_server).files().list().execute()
    google_drive_server.faults.inject(status=401)
    service = build_drive_service(google_drive_server, refresh_on_401=False)
    with pytest.raises(HttpError) as caught:
        service.files().list().execute()
    assert caught.value.status_code == 401 and reason_of(caught.value) == "authError"


def test_429_carries_retry_after(google_drive_server, drive_service):
    google_drive_server.faults.inject(status=429, retry_after=7)
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    assert caught.value.status_code == 429 and reason_of(caught.value) == "rateLimitExceeded"
    assert caught.value.resp["retry-after"] == "7"


def test_client_retries_transient_errors(google_drive_server, drive_service):
    google_drive_server.faults.inject(status=503, count=1)
    assert drive_service.files().list().execute(num_retries=1)["files"] == []
    assert google_drive_server.requests.by_status[503] == 1
    assert google_drive_server.requests.by_endpoint["files.list"] == 2


def test_daily_quota_and_per_user_rate_limit(google_drive_server, drive_service):
    control(google_drive_server, "quotas", {"queries_per_100_seconds": 2})
    drive_service.files().list().execute()
    drive_service.files().list().execute()
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    assert reason_of(caught.value) == "userRateLimitExceeded"
    control(google_drive_server, "quotas", {"daily_limit": 0})
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    assert caught.value.status_code == 403 and reason_of(caught.value) == "dailyLimitExceeded"


def test_dropped_connection_mid_download(google_drive_server, drive_service):
    item = google_drive_server.drive.add_file("gros.bin", size=2_000_000)
    control(google_drive_server, "faults", {"kind": "drop", "after_bytes": 100_000})
    # Not an HttpError, and not retried by googleapiclient's num_retries: the connector must.
    with pytest.raises(http.client.IncompleteRead):
        drive_service.files().get_media(fileId=item.id).execute()
    assert len(drive_service.files().get_media(fileId=item.id).execute()) == 2_000_000


def test_unknown_query_parameter_is_400(google_drive_server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{google_drive_server.url}/files?colour=blue")
    body = json.loads(caught.value.read())
    assert caught.value.code == 400 and body["error"]["errors"][0]["reason"] == "badRequest"


def test_about_requires_fields(drive_service):
    with pytest.raises(HttpError) as caught:
        drive_service.about().get().execute()
    assert caught.value.status_code == 400
    about = drive_service.about().get(fields="user(emailAddress),exportFormats").execute()
    assert about["user"] == {"emailAddress": "comm@asso-exemple.fr"}
    assert ODT in about["exportFormats"]["application/vnd.google-apps.document"]


# ----- authentication -----------------------------------------------------------------------------


def test_required_auth_refuses_anonymous(google_drive_server):
    google_drive_server.auth.required = True
    service = build_drive_service(google_drive_server, refresh_on_401=False)
    with pytest.raises(HttpError) as caught:
        service.files().list().execute()
    assert caught.value.status_code == 401 and reason_of(caught.value) == "authError"


def test_expired_static_token_is_401(google_drive_server):
    token = google_drive_server.auth.issue_token()
    credentials = user_credentials.Credentials(token)
    service = build_drive_service(google_drive_server, credentials, refresh_on_401=False)
    assert service.files().list().execute()["files"] == []
    google_drive_server.auth.expire_all()
    with pytest.raises(HttpError) as caught:
        service.files().list().execute()
    assert caught.value.status_code == 401 and reason_of(caught.value) == "authError"


def test_refresh_token_credentials_refresh_after_expiry(google_drive_server):
    google_drive_server.auth.required = True
    client = google_drive_server.auth.create_refresh_token()
    credentials = user_credentials.Credentials(
        None, token_uri=google_drive_server.token_uri, **client
    )
    service = build_drive_service(google_drive_server, credentials)
    service.files().list().execute()
    google_drive_server.auth.expire_all()
    service.files().list().execute()  # 401, refresh, retry: transparent to the caller
    assert len(google_drive_server.auth.grants_issued) == 2
    assert google_drive_server.requests.by_status[401] == 1


def test_service_account_with_domain_wide_delegation(google_drive_server):
    google_drive_server.auth.required = True
    info = google_drive_server.auth.create_service_account(google_drive_server.token_uri)
    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPE)
    service = build_drive_service(google_drive_server, credentials.with_subject("tresor@asso.fr"))
    service.files().list().execute()
    assert google_drive_server.auth.grants_issued[-1].subject == "tresor@asso.fr"

    refused = google_drive_server.auth.create_service_account(
        google_drive_server.token_uri, email="nodwd@x.iam.gserviceaccount.com", can_delegate=False
    )
    credentials = service_account.Credentials.from_service_account_info(refused, scopes=SCOPE)
    service = build_drive_service(google_drive_server, credentials.with_subject("tresor@asso.fr"))
    with pytest.raises(RefreshError):
        service.files().list().execute()


# ----- seeding ------------------------------------------------------------------------------------


def test_demo_drive_is_deterministic_and_has_the_hard_cases(seeded_google_drive, drive_service):
    again = DriveState()
    assert seed_demo_drive(again, items=1000, rng_seed=7).notable == seeded_google_drive.notable
    notable = seeded_google_drive.notable
    names = {
        key: drive_service.files()
        .get(fileId=notable[key], supportsAllDrives=True)
        .execute()["name"]
        for key in ("slash_name", "trailing_space", "non_latin_folder")
    }
    assert "/" in names["slash_name"] and names["trailing_space"].endswith(" ")
    assert not names["non_latin_folder"].isascii()
    with pytest.raises(HttpError) as caught:
        drive_service.files().export(fileId=notable["big_doc"], mimeType=ODT).execute()
    assert reason_of(caught.value) == "exportSizeLimitExceeded"
    empty = drive_service.files().get(fileId=notable["empty_file"], fields="size").execute()
    assert empty["size"] == "0"
    trashed = drive_service.files().get(fileId=notable["trashed"], fields="trashed").execute()
    assert trashed["trashed"] is True
    depth = _max_depth(seeded_google_drive, drive_service)
    assert depth >= 4


def _max_depth(seeded: SeededDrive, service: Any) -> int:
    folders = list_all(
        service, q=f"mimeType = '{FOLDER}'", pageSize=1000, fields="nextPageToken,files(id,parents)"
    )
    parent_of = {f["id"]: f["parents"][0] for f in folders}

    def depth(folder_id: str) -> int:
        steps = 0
        while folder_id in parent_of and folder_id != seeded.scope_folder_id:
            folder_id, steps = parent_of[folder_id], steps + 1
        return steps

    return max(depth(f) for f in parent_of)


def test_modify_bumps_version_time_and_checksum(google_drive_server, drive_service):
    item = google_drive_server.drive.add_file("a.txt", content=b"one")
    before = (
        drive_service.files()
        .get(fileId=item.id, fields="version,md5Checksum,modifiedTime,headRevisionId")
        .execute()
    )
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    google_drive_server.drive.modify(item.id, b"two", modified_time=when)
    after = (
        drive_service.files()
        .get(fileId=item.id, fields="version,md5Checksum,modifiedTime,headRevisionId")
        .execute()
    )
    assert int(after["version"]) > int(before["version"])
    assert after["md5Checksum"] != before["md5Checksum"]
    assert after["headRevisionId"] != before["headRevisionId"]
    assert after["modifiedTime"] == "2030-01-02T03:04:05.000Z"


def test_large_drive_lists_in_few_requests(google_drive_server, drive_service):
    seeded = seed_large_drive(google_drive_server.drive, items=3000)
    google_drive_server.requests.reset()
    files = list_all(
        drive_service, pageSize=1000, q="trashed = false", fields="nextPageToken,files(id)"
    )
    assert len(files) == seeded.item_count == 3000
    assert google_drive_server.requests.total == 3


def test_control_plane_aliases_and_stats(google_drive_server, drive_service):
    control(google_drive_server, "faults", {"status": 500, "times": 2})
    for _ in range(2):
        with pytest.raises(HttpError):
            drive_service.files().list().execute()
    drive_service.files().list().execute()
    with urllib.request.urlopen(f"{google_drive_server.url}/_emulator/requests") as response:
        stats = json.loads(response.read())
    assert stats["by_endpoint"]["files.list"] == 3 and stats["by_status"]["500"] == 2


# ----- what real drives hold beyond ordinary folders (issue 13) ---------------------------------


def test_pages_may_hold_fewer_items_than_asked(google_drive_server, drive_service):
    for index in range(12):
        google_drive_server.drive.add_file(f"f{index}.txt", None, b"x")
    google_drive_server.drive.page_cap = 5
    first = drive_service.files().list(pageSize=1000).execute()
    assert len(first["files"]) == 5 and first["nextPageToken"]
    assert len(list_all(drive_service, pageSize=1000)) == 12


def test_parentless_items_computers_orphans_and_shared_with_me(google_drive_server,
                                                               drive_service):
    from sandbox.google_drive.model import User

    drive = google_drive_server.drive
    laptop = drive.add_computer("Portable")
    lost = drive.orphan(drive.add_file("perdu.txt", drive.add_folder("A").id, b"x").id)
    other = drive.add_folder("De Léa", owner=User("lea@ailleurs.org", "Léa"))
    drive.orphan(other.id)
    fields = "files(id,name,parents,ownedByMe)"
    found = {f["id"]: f for f in list_all(drive_service, fields=fields)}
    assert "parents" not in found[laptop.id] and found[laptop.id]["ownedByMe"]
    assert "parents" not in found[lost.id] and found[lost.id]["ownedByMe"]
    assert "parents" not in found[other.id] and not found[other.id]["ownedByMe"]


def test_incomplete_search_over_all_drives(seeded_google_drive, google_drive_server,
                                           drive_service):
    google_drive_server.drive.incomplete_all_drives = True
    page = drive_service.files().list(corpora="allDrives", includeItemsFromAllDrives=True,
                                      supportsAllDrives=True, pageSize=1000,
                                      fields="incompleteSearch,files(driveId)").execute()
    assert page["incompleteSearch"] is True and not any("driveId" in f for f in page["files"])
    per_drive = drive_service.files().list(corpora="drive", includeItemsFromAllDrives=True,
                                           supportsAllDrives=True,
                                           driveId=seeded_google_drive.shared_drive_id,
                                           fields="incompleteSearch,files(id)").execute()
    assert per_drive["incompleteSearch"] is False and per_drive["files"]


@pytest.mark.parametrize("style", ["errorinfo", "errorinfo_only"])
def test_quota_403_in_errorinfo_form(google_drive_server, drive_service, style):
    google_drive_server.faults.inject(status=403, style=style)
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    error = caught.value
    assert error.status_code == 403
    # The client fills error_details from `details` first: the ErrorInfo, not errors[0].
    assert error.error_details[0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert error.error_details[0]["metadata"]["quota_limit_value"] == "12000"
    body = json.loads(error.content)["error"]
    assert body["status"] == "PERMISSION_DENIED"
    assert ("errors" in body) is (style == "errorinfo")


def test_per_minute_quota_answers_errorinfo_with_its_limit(google_drive_server, drive_service):
    google_drive_server.faults.queries_per_minute = 60
    google_drive_server.faults.quota_burst = 2
    drive_service.files().list().execute()
    drive_service.files().list().execute()
    with pytest.raises(HttpError) as caught:
        drive_service.files().list().execute()
    assert caught.value.error_details[0]["metadata"]["quota_limit_value"] == "60"


def test_restricted_files_cannot_be_downloaded(google_drive_server, drive_service):
    drive = google_drive_server.drive
    reader_drive = drive.add_shared_drive("Fédé", role="reader")
    restricted = drive.add_file("liste.pdf", reader_drive.id, b"secret")
    drive.restrict(restricted.id, copy_requires_writer_permission=True)
    free = drive.add_file("libre.pdf", reader_drive.id, b"libre")
    dlp = drive.restrict(drive.add_file("dlp.csv", None, b"a;b").id, dlp=True)
    fields = "capabilities(canDownload),copyRequiresWriterPermission,downloadRestrictions"
    got = drive_service.files().get(fileId=restricted.id, supportsAllDrives=True,
                                    fields=fields).execute()
    assert got["capabilities"]["canDownload"] is False and got["copyRequiresWriterPermission"]
    mine = drive_service.files().get(fileId=dlp.id, fields=fields).execute()
    assert mine["capabilities"]["canDownload"] is False  # DLP holds the owner back too
    effective = mine["downloadRestrictions"]["effectiveDownloadRestrictionWithContext"]
    assert effective["restrictedForReaders"] and effective["restrictedForWriters"]
    assert not mine["downloadRestrictions"]["itemDownloadRestriction"]["restrictedForReaders"]
    for file_id in (restricted.id, dlp.id):
        with pytest.raises(HttpError) as caught:
            drive_service.files().get_media(fileId=file_id, supportsAllDrives=True).execute()
        assert caught.value.status_code == 403 and reason_of(caught.value) == "cannotDownloadFile"
    assert drive_service.files().get_media(fileId=free.id, supportsAllDrives=True).execute() \
        == b"libre"


def test_abusive_file_needs_acknowledge_abuse_from_its_owner(google_drive_server,
                                                             drive_service):
    from sandbox.google_drive.model import User

    drive = google_drive_server.drive
    mine = drive.flag_abuse(drive.add_file("outil.exe", None, b"MZ").id)
    theirs = drive.add_file("autre.exe", None, b"MZ2", owner=User("x@ailleurs.org", "X"))
    drive.add_permission(theirs.id, "user", "reader", email_address=drive.user.email)
    drive.flag_abuse(theirs.id)
    with pytest.raises(HttpError) as caught:
        drive_service.files().get_media(fileId=mine.id).execute()
    assert reason_of(caught.value) == "cannotDownloadAbusiveFile"
    assert drive_service.files().get_media(fileId=mine.id, acknowledgeAbuse=True).execute() \
        == b"MZ"
    with pytest.raises(HttpError) as caught:
        drive_service.files().get_media(fileId=theirs.id, acknowledgeAbuse=True).execute()
    assert reason_of(caught.value) == "cannotDownloadAbusiveFile"


def test_readers_of_a_shared_drive_may_not_list_permissions(google_drive_server,
                                                            drive_service):
    drive = google_drive_server.drive
    reader_drive = drive.add_shared_drive("Fédé", role="reader")
    item = drive.add_file("circulaire.pdf", reader_drive.id, b"x")
    with pytest.raises(HttpError) as caught:
        drive_service.permissions().list(fileId=item.id, supportsAllDrives=True).execute()
    assert caught.value.status_code == 403
    assert reason_of(caught.value) == "insufficientFilePermissions"
    got = drive_service.files().get(fileId=item.id, supportsAllDrives=True,
                                    fields="capabilities(canShare)").execute()
    assert got["capabilities"]["canShare"] is False


def test_temporary_grants_carry_their_expiration(google_drive_server, drive_service):
    drive = google_drive_server.drive
    item = drive.add_file("planning.pdf", None, b"x")
    drive.add_permission(item.id, "user", "reader", email_address="marc@partenaire.org",
                         expiration_time=datetime(2030, 6, 30, 12, tzinfo=UTC))
    grants = drive_service.permissions().list(
        fileId=item.id, fields="permissions(emailAddress,expirationTime)").execute()
    assert {"emailAddress": "marc@partenaire.org",
            "expirationTime": "2030-06-30T12:00:00.000Z"} in grants["permissions"]
    with pytest.raises(ValueError):
        drive.add_permission(item.id, "anyone", "reader",
                             expiration_time=datetime(2030, 1, 1, tzinfo=UTC))


def test_files_download_is_a_long_running_operation(google_drive_server, drive_service):
    drive = google_drive_server.drive
    vid = drive.add_google_doc("Clip", None, "vid", export_size=5000)
    drive.operation_polls = 1
    operation = drive_service.files().download(fileId=vid.id, mimeType="video/mp4").execute()
    assert operation["done"] is False and operation["name"]
    assert drive_service.operations().get(name=operation["name"]).execute()["done"] is False
    done = drive_service.operations().get(name=operation["name"]).execute()
    uri = done["response"]["downloadUri"]
    with urllib.request.urlopen(uri) as response:
        assert len(response.read()) == 5000
    with pytest.raises(HttpError) as caught:
        drive_service.files().export(fileId=vid.id, mimeType="video/mp4").execute()
    assert caught.value.status_code == 403


def test_sheets_may_spell_the_ods_export_link_the_legacy_way(google_drive_server,
                                                             drive_service):
    sheet = google_drive_server.drive.add_google_doc("Budget", None, "sheet")
    google_drive_server.drive.legacy_ods_links = True
    links = drive_service.files().get(fileId=sheet.id, fields="exportLinks").execute()
    assert "application/x-vnd.oasis.opendocument.spreadsheet" in links["exportLinks"]
    assert "application/vnd.oasis.opendocument.spreadsheet" not in links["exportLinks"]


def test_forgotten_changes_refuse_old_tokens(google_drive_server, drive_service):
    token = drive_service.changes().getStartPageToken().execute()["startPageToken"]
    google_drive_server.drive.add_file("a.txt", None, b"a")
    google_drive_server.drive.forget_changes()
    with pytest.raises(HttpError) as caught:
        drive_service.changes().list(pageToken=token).execute()
    assert caught.value.status_code == 400


def test_pkce_verifier_must_match_the_challenge(google_drive_server):
    import base64
    import hashlib
    import urllib.parse

    import requests

    client = google_drive_server.auth.create_oauth_client()
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                         ).decode().rstrip("=")

    def code() -> str:
        landed = requests.get(google_drive_server.auth_uri, allow_redirects=False, timeout=10,
                              params={"client_id": client["client_id"], "response_type": "code",
                                      "redirect_uri": "http://127.0.0.1:8765/",
                                      "scope": SCOPE[0], "code_challenge": challenge,
                                      "code_challenge_method": "S256"}).headers["Location"]
        return urllib.parse.parse_qs(urllib.parse.urlsplit(landed).query)["code"][0]

    def exchange(the_code: str, the_verifier: str) -> requests.Response:
        return requests.post(google_drive_server.token_uri, timeout=10, data={
            "grant_type": "authorization_code", "code": the_code, "redirect_uri":
            "http://127.0.0.1:8765/", "code_verifier": the_verifier, **client})

    refused = exchange(code(), "w" * 50)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    granted = exchange(code(), verifier).json()
    assert granted["scope"] == SCOPE[0] and granted["refresh_token"].startswith("1//")
    google_drive_server.auth.expire_refresh_tokens()
    renewed = requests.post(google_drive_server.token_uri, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": granted["refresh_token"], **client})
    assert renewed.status_code == 400
    assert renewed.json() == {"error": "invalid_grant",
                              "error_description": "Token has been expired or revoked."}
