"""The `nextcloud` and `webdav` targets pass the shared conformance suite against the Nextcloud
sandbox (real HTTP, real wsgidav engine), and do what Nextcloud needs beyond it: chunked
uploads, kept modification times, checksums, filename rules, renames and shares."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from connectors.dav.target import TEMPORARY_PREFIX
from connectors.nextcloud import NextcloudConnector
from connectors.webdav import WebdavConnector
from migrate.connector import StepContext
from migrate.item_meta import FileMeta
from migrate.model import ItemKind, SourceItem
from sandbox.nextcloud import NextcloudServer
from tests.conformance.samples import MTIME, MemorySource, change_for
from tests.conformance.target_suite import TargetSuite


def _context(tmp_path: Path, **options: object) -> StepContext:
    return StepContext("files", "copy", options, "test-plan", tmp_path)


def nextcloud_target(server: NextcloudServer, tmp_path: Path, location: str = "Migration",
                     **options: object):
    config = {**server.describe(), "chunk_threshold_mb": 1, "chunk_size_mb": 5}
    return NextcloudConnector(config, tmp_path).open_target(location,
                                                            _context(tmp_path, **options))


class TestNextcloudTarget(TargetSuite):
    connector = "nextcloud"

    @pytest.fixture
    def target(self, nextcloud_server: NextcloudServer, tmp_path: Path):
        target = nextcloud_target(nextcloud_server, tmp_path)
        yield target
        target.close()

    @pytest.fixture
    def read_back(self, nextcloud_server: NextcloudServer, nextcloud_session: requests.Session):
        def read(name: str) -> bytes:
            response = nextcloud_session.get(f"{nextcloud_server.dav_url()}/Migration/{name}")
            response.raise_for_status()
            return response.content
        return read


class TestWebdavTarget(TargetSuite):
    """Plain WebDAV against the same server's DAV root: no Nextcloud headers are used."""

    connector = "webdav"

    @pytest.fixture
    def target(self, nextcloud_server: NextcloudServer, tmp_path: Path):
        described = nextcloud_server.describe()
        config = {**described, "url": nextcloud_server.dav_url() + "/"}
        target = WebdavConnector(config, tmp_path).open_target("Plain", _context(tmp_path))
        yield target
        target.close()

    @pytest.fixture
    def read_back(self, nextcloud_server: NextcloudServer, nextcloud_session: requests.Session):
        def read(name: str) -> bytes:
            response = nextcloud_session.get(f"{nextcloud_server.dav_url()}/Plain/{name}")
            response.raise_for_status()
            return response.content
        return read


def test_large_file_goes_in_chunks_with_mtime_and_checksum(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    target = nextcloud_target(nextcloud_server, tmp_path)
    source = MemorySource()
    content = bytes(range(256)) * (12 * 4096)  # 12 MiB: three chunks of 5, 5 and 2 MiB
    item = source.add("gros/fichier.bin", content, mtime=MTIME)
    nextcloud_server.state.reset_request_counts()
    entry = target.write(change_for(item, "gros/fichier.bin"), source, "a" * 32)
    counts = nextcloud_server.request_counts()
    assert counts.get("PUT") == 3 and counts.get("MOVE") == 1
    on_disk = nextcloud_server.state.files_root("alice") / "Migration/gros/fichier.bin"
    assert on_disk.read_bytes() == content
    assert on_disk.stat().st_mtime == MTIME
    listed = {e.name: e for e in target.list_entries()}["gros/fichier.bin"]
    assert listed.fingerprint.checksum == item.fingerprint.checksum
    assert entry.fingerprint.same_version_as(listed.fingerprint)
    assert not any((nextcloud_server.state.uploads_root("alice")).iterdir())


def test_listing_is_one_request_for_the_whole_tree(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    target = nextcloud_target(nextcloud_server, tmp_path)
    source = MemorySource({f"d{i}/e{i}/f{i}.txt": b"x" * i for i in range(20)})
    for item in source.list_items().items:
        target.write(change_for(item, item.path), source, item.key.encode().hex()[:32])
    nextcloud_server.state.reset_request_counts()
    files = [e for e in target.list_entries() if e.kind is ItemKind.FILE]
    assert len(files) == 20 and nextcloud_server.request_counts() == {"PROPFIND": 1}
    assert all(e.fingerprint.etag and e.fingerprint.checksum.startswith("sha256:")
               for e in files)


def test_forbidden_names_are_renamed_and_accepted_by_the_server(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    nextcloud_server.set_windows_compatible(True)
    target = nextcloud_target(nextcloud_server, tmp_path)
    source = MemorySource()
    awkward = ["Budget 2024/2025.ods", "notes ", ".htaccess", "brouillon.part", "CON.txt",
               "Qui? Quoi: où.txt", "fin.", "é" * 200 + ".txt", " espace devant.txt"]
    names = set()
    for name in awkward:
        plain = source.add(f"Dossier/{name.replace('/', '_')}", name.encode())
        item = SourceItem(plain.key, plain.path, plain.kind, plain.fingerprint,
                          data=FileMeta(segments=["Dossier", name]))
        named = target.name_for(item)
        assert named.rename_reason, name
        target.write(change_for(item, named.name), source, f"{len(names):032d}")
        names.add(named.name)
    listed = {e.name for e in target.list_entries() if e.kind is ItemKind.FILE}
    assert names <= listed and len(names) == len(awkward)


def test_same_name_twice_in_a_folder_gets_a_stable_number(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    target = nextcloud_target(nextcloud_server, tmp_path)
    items = [SourceItem("id-b", "Compta/Budget.ods"), SourceItem("id-a", "Compta/Budget.ods"),
             SourceItem("id-c", "Compta/Budget (2).ods")]
    for order in (items, list(reversed(items))):
        target.prepare_names(order)
        names = {i.key: target.name_for(i) for i in order}
        assert names["id-a"].name == "Compta/Budget.ods"
        assert names["id-b"].name == "Compta/Budget (3).ods" and names["id-b"].rename_reason
        assert names["id-c"].name == "Compta/Budget (2).ods"


def test_verify_removes_the_chunks_of_an_interrupted_upload(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    target = nextcloud_target(nextcloud_server, tmp_path)
    source = MemorySource()
    item = source.add("coupé.bin", b"z" * (6 << 20))
    key = "b" * 32
    nextcloud_server.drop_connection("/remote.php/dav/uploads/", after_bytes=1 << 20)
    with pytest.raises(Exception):  # noqa: B017  the connection is cut under the client
        target.write(change_for(item, "coupé.bin"), source, key)
    uploads = nextcloud_server.state.uploads_root("alice")
    assert [p.name for p in uploads.iterdir()] == [f"migrate-{key}"]
    assert target.verify(change_for(item, "coupé.bin"), source, key) is None
    assert not any(uploads.iterdir())
    assert all(not e.name.startswith(TEMPORARY_PREFIX) for e in target.list_entries())


PERMISSIONS = [
    {"type": "user", "role": "owner", "email": "alice@asso.org", "domain": None},
    {"type": "user", "role": "writer", "email": "Bob@asso.org", "domain": None},
    {"type": "group", "role": "reader", "email": "benevoles@asso.org", "domain": None},
    {"type": "anyone", "role": "reader", "email": None, "domain": None},
    {"type": "domain", "role": "reader", "email": None, "domain": "asso.org"},
    {"type": "user", "role": "commenter", "email": "carol@gmail.com", "domain": None},
]


def test_shares_are_mapped_idempotently_and_unmapped_ones_are_notes(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    nextcloud_server.state.groups["benevoles"] = {"bob"}
    identities = {"bob@asso.org": "bob", "benevoles@asso.org": {"group": "benevoles"}}
    target = nextcloud_target(nextcloud_server, tmp_path, sharing="map", identities=identities)
    source = MemorySource()
    plain = source.add("partagé.txt", b"shared")
    item = SourceItem(plain.key, plain.path, plain.kind, plain.fingerprint,
                      data=FileMeta(permissions=PERMISSIONS))
    named = target.name_for(item)
    assert named.notes == ("share: user bob can edit", "share: group benevoles can read",
                           "share: public link, read only",
                           "not shared: everyone at asso.org (reader) — Nextcloud has no "
                           "sharing by domain; share with a group instead",
                           "not shared: carol@gmail.com (commenter) has no match in "
                           "'identities'")
    for key in ("1" * 32, "2" * 32):  # a second write adds no share
        target.write(change_for(item, named.name), source, key)
    shares = sorted((s["share_type"], s["share_with"], s["permissions"])
                    for s in nextcloud_server.state.shares.values())
    # Nextcloud gives a public link the share bit too: 17, and the target copes (no 2nd link).
    assert shares == [(0, "bob", 19), (1, "benevoles", 1), (3, None, 17)]


def test_report_mode_lists_drive_shares_without_creating_any(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    target = nextcloud_target(nextcloud_server, tmp_path)
    source = MemorySource()
    plain = source.add("rapport.txt", b"r")
    item = SourceItem(plain.key, plain.path, plain.kind, plain.fingerprint,
                      data=FileMeta(permissions=PERMISSIONS))
    named = target.name_for(item)
    assert len(named.notes) == 5 and "sharing: report" in named.notes[0]
    target.write(change_for(item, named.name), source, "3" * 32)
    assert nextcloud_server.state.shares == {}


@pytest.mark.parametrize("name", ["a/b", "notes ", " x", "fin..", ".htaccess", "x.part",
                                  "con.txt", "Qui? <moi>|*", "déjà∕là", "tab\there", ".", "..",
                                  "ｃon", "‛quote"])
def test_renaming_is_reversible(name: str) -> None:
    from connectors.dav.names import NameRules, decode_segment, encode_segment
    rules = NameRules(windows_compatible=True, forbidden_basenames=("con",),
                      forbidden_characters=("/", "\\", *'<>:"|?*'))
    encoded, _reasons = encode_segment(name, rules)
    assert decode_segment(encoded) == name
    assert encode_segment(name, rules) == (encoded, _reasons)  # deterministic
