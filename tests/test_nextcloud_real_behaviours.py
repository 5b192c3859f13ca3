"""What a real Nextcloud does that a naive client loses data or stops on (issue 12), played on
the sandbox, which now behaves as the real server (docs/decisions/0440): names stored in NFC,
the Group folders app only on index.php and ocs/v1.php."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import requests

from sandbox.nextcloud import NextcloudServer
from tests.test_nextcloud_migration import run, write_plan

COMPOSED = unicodedata.normalize("NFC", "café.txt")
DECOMPOSED = unicodedata.normalize("NFD", "café.txt")
OCS = {"OCS-APIRequest": "true", "Accept": "application/json"}


def stored(server: NextcloudServer, user: str = "alice") -> dict[str, bytes]:
    root = server.state.files_root(user) / "Documents"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def twins_in(source: Path) -> None:
    source.mkdir(parents=True)
    (source / COMPOSED).write_bytes(b"typed on Windows")
    (source / DECOMPOSED).write_bytes(b"typed on a Mac")
    (source / "Été").mkdir()
    (source / "Été" / "notes.txt").write_bytes(b"plain")


def test_nfc_and_nfd_twins_arrive_as_two_files_one_renamed_then_nothing_to_do(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    twins_in(tmp_path / "source")
    plan = write_plan(tmp_path, nextcloud_server)
    planned = run("plan", plan, server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "café (2).txt" in unicodedata.normalize("NFC", planned.stdout)
    assert "the other Unicode way (NFC/NFD)" in planned.stdout
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert stored(nextcloud_server) == {
        COMPOSED: b"typed on Windows",  # the one already in the server's form keeps the name
        unicodedata.normalize("NFC", "café (2).txt"): b"typed on a Mac",
        unicodedata.normalize("NFC", "Été/notes.txt"): b"plain"}
    for _run in range(2):  # never re-sent, never a conflict
        again = run("plan", plan, "--detailed-exitcode", server=nextcloud_server)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "3 unchanged" in again.stdout


def webdav_plan(folder: Path, server: NextcloudServer, options: str = "") -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Essais\nconnections:\n"
        "  here: {type: local, path: source}\n"
        f"  dav: {{type: webdav, url: '{server.dav_url()}', user: alice, "
        f"password: '${{env:NC_PASSWORD}}'{options}}}\n"
        "steps:\n  - id: files\n    copy: {from: here, to: 'dav:/Documents'}\n",
        encoding="utf-8")
    return plan


def test_webdav_target_keeps_unicode_twins_apart(nextcloud_server: NextcloudServer,
                                                 tmp_path: Path) -> None:
    twins_in(tmp_path / "source")
    plan = webdav_plan(tmp_path, nextcloud_server)
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert sorted(stored(nextcloud_server).values()) == [b"plain", b"typed on Windows",
                                                         b"typed on a Mac"]
    again = run("plan", plan, "--detailed-exitcode", server=nextcloud_server)
    assert again.returncode == 0, again.stdout + again.stderr


def test_webdav_target_that_ignores_case_numbers_case_twins(nextcloud_server: NextcloudServer,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Budget.ods").write_bytes(b"capital")
    (source / "budget.ods").write_bytes(b"lower")
    plan = webdav_plan(tmp_path, nextcloud_server, ", case_insensitive: true")
    planned = run("plan", plan, server=nextcloud_server)
    assert "it ignores upper and lower case" in planned.stdout, planned.stdout
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert stored(nextcloud_server) == {"Budget.ods": b"capital",
                                        "budget (2).ods": b"lower"}
    assert run("plan", plan, "--detailed-exitcode", server=nextcloud_server).returncode == 0


def test_group_folders_app_answers_on_index_php_not_ocs_v2(tmp_path: Path) -> None:
    with NextcloudServer(tmp_path / "nc", {"alice": "pw"}, group_folders=True) as server:
        def get(front: str) -> requests.Response:
            return requests.get(f"{server.url}/{front}/apps/groupfolders/folders",
                                params={"format": "json"}, headers=OCS, auth=("alice", "pw"),
                                timeout=10)

        assert get("index.php").json()["ocs"]["meta"]["statuscode"] == 100
        assert get("ocs/v1.php").json()["ocs"]["meta"]["statuscode"] == 100
        assert get("ocs/v2.php").status_code == 404


def test_a_plan_without_shared_drives_ignores_the_group_folders_app(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "budget.ods").write_bytes(b"figures")
    with NextcloudServer(tmp_path / "nc", {"alice": "alice-password"},
                         group_folders=True) as server:
        plan = write_plan(tmp_path, server)
        planned = run("plan", plan, "--detailed-exitcode", server=server)
        assert planned.returncode == 2, planned.stdout + planned.stderr
        assert "1 to create" in planned.stdout
        applied = run("apply", plan, "--yes", server=server)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert stored(server) == {"budget.ods": b"figures"}
        assert run("plan", plan, "--detailed-exitcode", server=server).returncode == 0


def test_local_target_on_a_folding_disk_numbers_case_and_unicode_twins(tmp_path: Path) -> None:
    """A macOS or Windows disk sees `café`/`café` and `Readme`/`README` as one name: the
    local target numbers the second of each, stably, and says why. (This machine's disk does
    not fold, so the folding the probe would find is given.)"""
    from connectors.dav.collisions import NameFolding
    from connectors.local import LocalSource, LocalTarget, probe_folding

    source = tmp_path / "source"
    twins_in(source)
    (source / "Readme.txt").write_bytes(b"mixed")
    (source / "README.txt").write_bytes(b"upper")
    target = LocalTarget(tmp_path / "target", folding=NameFolding(unicode=True, case=True))
    reader = LocalSource(source)
    items = list(reader.list_items().items)
    target.prepare_names(items)
    named = {item.path: target.name_for(item) for item in items}
    assert named[COMPOSED].name == COMPOSED and named[COMPOSED].rename_reason is None
    assert named[DECOMPOSED].name == unicodedata.normalize("NFD", "café (2).txt")
    assert "Unicode" in (named[DECOMPOSED].rename_reason or "")
    assert named["README.txt"].name == "README.txt"
    assert named["Readme.txt"].name == "Readme (2).txt"
    assert "upper and lower case" in (named["Readme.txt"].rename_reason or "")
    assert len({target.name_key(n.name) for n in named.values()}) == len(named)
    assert probe_folding(tmp_path) in (NameFolding(False, False), NameFolding(True, True),
                                       NameFolding(False, True), NameFolding(True, False))
    assert not list(tmp_path.glob(".~migrate-probe*"))  # the probe cleans up after itself


# --- 3. checksums are stored, not checked: reading back is what verifies -------------------


def test_read_back_catches_bytes_the_server_stored_wrong(nextcloud_server: NextcloudServer,
                                                         tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for index in range(6):
        (source / f"note-{index}.txt").write_bytes(f"contenu {index}".encode() * 50)
    plain = write_plan(tmp_path, nextcloud_server)
    planned = run("plan", plain, server=nextcloud_server)
    assert "the content is not read back" in planned.stdout  # said, not implied
    # Nextcloud stores what arrives, whatever OC-Checksum said: without read_back the damage
    # is not seen...
    nextcloud_server.corrupt_upload(path="/remote.php/dav/files/alice/Documents/note-0.txt")
    assert run("apply", plain, "--yes", server=nextcloud_server).returncode == 0
    assert stored(nextcloud_server)["note-0.txt"] != (source / "note-0.txt").read_bytes()

    # ... with it, the damaged copy is found and sent again.
    (tmp_path / "plan.yaml").unlink()
    checked = write_plan(tmp_path, nextcloud_server, extra="    with: {read_back: all}\n")
    (source / "note-1.txt").write_bytes(b"changed at the source")
    nextcloud_server.corrupt_upload(path="/remote.php/dav/files/alice/Documents/note-1.txt")
    planned = run("plan", checked, server=nextcloud_server)
    assert "1 of 1 files will be downloaded again" in planned.stdout, planned.stdout
    applied = run("apply", checked, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "1 file was downloaded again after upload: identical" in applied.stdout
    assert stored(nextcloud_server)["note-1.txt"] == b"changed at the source"
    # The handover report says it too: what was verified, and how.
    report = run("report", checked, server=nextcloud_server)
    assert "1 file was downloaded again after upload: identical" in report.stdout, report.stdout


def test_read_back_a_random_sample(nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for index in range(12):
        (source / f"f{index}.txt").write_bytes(b"x" * index)
    plan = write_plan(tmp_path, nextcloud_server, extra="    with: {read_back: 5}\n")
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "5 of 12 files will be downloaded again" in applied.stdout
    assert "5 files were downloaded again after upload: identical" in applied.stdout
    wrong = write_plan(tmp_path, nextcloud_server, extra="    with: {read_back: some}\n")
    refused = run("plan", wrong, server=nextcloud_server)
    assert refused.returncode == 1 and "'read_back' is 'all', 'none' or a number" in (
        refused.stdout + refused.stderr)


# --- 4. a person's lock (files_lock): not an edit, and not a busy server --------------------


def test_a_lock_by_someone_else_is_no_conflict_and_names_its_holder(
        nextcloud_server: NextcloudServer, nextcloud_session: requests.Session,
        tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "budget.ods").write_bytes(b"2024 figures")
    (source / "notes.txt").write_bytes(b"notes")
    plan = write_plan(tmp_path, nextcloud_server)
    assert run("apply", plan, "--yes", server=nextcloud_server).returncode == 0
    url = f"{nextcloud_server.dav_url()}/Documents/budget.ods"
    before = nextcloud_session.head(url).headers["ETag"]
    nextcloud_server.lock_file("alice", "/Documents/budget.ods", by="bob")
    assert nextcloud_session.head(url).headers["ETag"] != before  # as files_lock does
    assert nextcloud_session.put(url, data=b"x").status_code == 423
    planned = run("plan", plan, "--detailed-exitcode", server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout  # same content: no conflict, nothing to do

    # A different size: an edit within the same second with the same size is not seen by a
    # source compared on size and modification time (as rsync's default).
    (source / "budget.ods").write_bytes(b"2025 figures, revised")
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert "budget.ods is locked on the server by bob" in applied.stdout + applied.stderr
    assert "busy" not in applied.stdout + applied.stderr
    assert stored(nextcloud_server)["budget.ods"] == b"2024 figures"
    nextcloud_server.unlock_file("alice", "/Documents/budget.ods", by="bob")
    again = run("apply", plan, "--yes", server=nextcloud_server)  # left for a later run: this one
    assert again.returncode == 0, again.stdout + again.stderr
    assert stored(nextcloud_server)["budget.ods"] == b"2025 figures, revised"
    assert run("plan", plan, "--detailed-exitcode", server=nextcloud_server).returncode == 0


def test_lock_properties_as_files_lock_gives_them(nextcloud_server: NextcloudServer,
                                                  nextcloud_session: requests.Session) -> None:
    url = f"{nextcloud_server.dav_url()}/paper.txt"
    nextcloud_session.put(url, data=b"x").raise_for_status()
    locked = nextcloud_session.request("LOCK", url, headers={"X-User-Lock": "1"})
    assert locked.status_code == 200 and b"<nc:lock-owner>alice</nc:lock-owner>" in locked.content
    body = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:nc="http://nextcloud.org/ns">'
            "<d:prop><nc:lock/><nc:lock-owner/><nc:lock-owner-type/></d:prop></d:propfind>")
    found = nextcloud_session.request("PROPFIND", url, data=body, headers={"Depth": "0"}).text
    assert "<nc:lock-owner>alice</nc:lock-owner>" in found
    assert "<nc:lock-owner-type>0</nc:lock-owner-type>" in found
    assert nextcloud_session.put(url, data=b"mine").status_code == 204  # the holder may write
    assert nextcloud_session.request("UNLOCK", url, headers={"X-User-Lock": "1"}).ok
    assert nextcloud_session.request("UNLOCK", url,
                                     headers={"X-User-Lock": "1"}).status_code == 412


# --- 5. quota: one file too large is not a full account; a full account is said once --------

MIB = 1024 * 1024


def test_a_file_larger_than_the_space_left_is_skipped_with_both_figures(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "film.mov").write_bytes(b"\1" * (12 * MIB))
    for index in range(5):
        (source / f"petit-{index}.txt").write_bytes(b"x" * 1000)
    plan = write_plan(tmp_path, nextcloud_server,
                      options=", chunk_threshold_mb: 5, chunk_size_mb: 5")
    nextcloud_server.set_quota("alice", 8 * MIB)
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    output = applied.stdout + applied.stderr
    assert "film.mov (12.6 MB) does not fit in the space left on the account (8.4 MB free)" \
        in output, output
    assert "is full" not in output
    assert sorted(stored(nextcloud_server)) == [f"petit-{i}.txt" for i in range(5)]
    uploads = nextcloud_server.state.uploads_root("alice")
    assert list(uploads.iterdir()) == []  # no empty upload folder left behind


def test_mkcol_and_first_chunk_answer_507_as_nextcloud_does(
        nextcloud_server: NextcloudServer, nextcloud_session: requests.Session) -> None:
    files = nextcloud_server.dav_url()
    nextcloud_server.set_quota("alice", 6 * MIB)
    upload = f"{nextcloud_server.url}/remote.php/dav/uploads/alice/big"
    headers = {"Destination": f"{files}/big.bin", "OC-Total-Length": str(300 * MIB)}
    assert nextcloud_session.request("MKCOL", upload, headers=headers).status_code == 201
    first = nextcloud_session.put(f"{upload}/1", data=b"x" * 1000, headers=headers)
    assert first.status_code == 507 and f"{300 * MIB} required" in first.text
    nextcloud_server.set_quota("alice", 100)
    refused = nextcloud_session.request("MKCOL", f"{files}/Dossier")
    assert refused.status_code == 507 and "Cannot create directory" in refused.text


def test_a_full_account_is_said_once(nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    source = tmp_path / "source"
    for folder in range(4):
        for index in range(10):
            path = source / f"dossier-{folder}" / f"f{index}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"y" * 500)
    plan = write_plan(tmp_path, nextcloud_server)
    nextcloud_server.set_quota("alice", 0)
    stopped = run("apply", plan, "--yes", server=nextcloud_server)
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0
    assert output.count("is full") == 1, output


# --- 6. renames by the marker alone are renames; renames and notes are never folded ---------


def test_marker_only_renames_are_listed_among_many_creations(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for index in range(40):
        (source / f"a-{index:03}.txt").write_bytes(b"plain")
    (source / "\u2215already-lookalike.txt").write_bytes(b"slash look-alike")
    (source / "full\uff0dwidth\uff1f.txt").write_bytes(b"full-width question mark")
    plan = write_plan(tmp_path, nextcloud_server)
    planned = run("plan", plan, server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    lines = planned.stdout.splitlines()
    for shown in ("\u201b\u2215already-lookalike.txt", "full\uff0dwidth\u201b\uff1f.txt"):
        line = next((x for x in lines if shown in x), "")
        assert "renamed from" in line, planned.stdout
    assert "… and" in planned.stdout  # plain creations are still folded
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = run("report", plan, "--format", "md", server=nextcloud_server)
    assert report.returncode == 0, report.stdout + report.stderr
    renamed = [x for x in report.stdout.splitlines() if "already-lookalike" in x]
    assert renamed and "renamed names use" in " ".join(renamed), report.stdout


# --- 7 and 8: share recipients checked at plan time; public links come back with 17 ---------


def drive_plan(folder: Path, drive: object, cloud: NextcloudServer, identities: str) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Essais\nconnections:\n"
        f"  drive: {{type: google_drive, api_endpoint: \"{drive.api_endpoint}\"}}\n"  # type: ignore[attr-defined]
        f"  cloud: {{type: nextcloud, url: '{cloud.url}', user: alice, "
        "password: '${env:NC_PASSWORD}'}\n"
        "steps:\n  - id: docs\n    copy: {from: 'drive:/', to: 'cloud:/Partages'}\n"
        f"    with: {{sharing: map, identities: {identities}}}\n", encoding="utf-8")
    return plan


def test_unknown_share_recipients_are_said_in_the_plan_not_failed_at_apply(
        google_drive_server, nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    drive = google_drive_server.drive
    known = drive.add_file("pour-bob.txt", None, b"bob", mime_type="text/plain")
    drive.add_permission(known.id, "user", "reader", email_address="bob@asso.org")
    ghost = drive.add_file("pour-fantome.txt", None, b"ghost", mime_type="text/plain")
    drive.add_permission(ghost.id, "user", "writer", email_address="ghost@asso.org")
    drive.add_permission(ghost.id, "group", "reader", email_address="ca@asso.org")
    public = drive.add_file("affiche.pdf", None, b"%PDF", mime_type="application/pdf")
    drive.add_permission(public.id, "anyone", "reader")
    identities = ('{"bob@asso.org": bob, "ghost@asso.org": fantome, '
                  '"ca@asso.org": {group: conseil}}')
    plan = drive_plan(tmp_path, google_drive_server, nextcloud_server, identities)
    planned = run("plan", plan, server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "'fantome', which is not an account on the server" in planned.stdout
    assert "the group 'conseil', which does not exist on the server" in planned.stdout
    assert "share: user bob can read" in planned.stdout
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "could not be shared" not in applied.stdout + applied.stderr
    shares = {(s["path"], s["share_type"], s["share_with"], s["permissions"])
              for s in nextcloud_server.state.shares.values()}
    assert shares == {("/Partages/pour-bob.txt", 0, "bob", 1),
                      ("/Partages/affiche.pdf", 3, None, 17)}  # 17: Nextcloud adds share
    again = run("apply", plan, "--yes", server=nextcloud_server)  # a link with 17 is kept
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(nextcloud_server.state.shares) == 2


def test_sharees_search_as_nextcloud_answers_it(nextcloud_server: NextcloudServer,
                                                nextcloud_session: requests.Session) -> None:
    url = f"{nextcloud_server.url}/ocs/v2.php/apps/files_sharing/api/v1/sharees"

    def search(**params: object) -> requests.Response:
        return nextcloud_session.get(url, headers=OCS, params={"format": "json", **params})

    assert search(search="bob").status_code == 400  # itemType is required
    found = search(search="BOB", itemType="file").json()["ocs"]["data"]
    assert [e["value"] for e in found["exact"]["users"]] == [{"shareType": 0,
                                                              "shareWith": "bob"}]
    assert found["users"] == [] and found["exact"]["groups"] == []
    partial = search(search="o", itemType="file", **{"shareType[]": 0}).json()["ocs"]["data"]
    assert [e["value"]["shareWith"] for e in partial["users"]] == ["bob"]
    assert partial["groups"] == []
