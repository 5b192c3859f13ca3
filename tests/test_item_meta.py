"""Typed item data (`FileMeta`, `PostMeta`): what a target reads of a file or a post, in names
no service owns, and journals or saved plans written before them (the same fields inside
`meta`) still read right."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import requests

from connectors.posts import make_post, with_more_pictures
from migrate.item_meta import LEGACY_KEYS, FileMeta, PostMeta
from migrate.journal import Journal
from migrate.member_meta import MemberMeta
from migrate.model import Action, Change, ItemKind, SourceItem
from sandbox.nextcloud import NextcloudServer
from tests.conformance.samples import MemorySource, change_for
from tests.test_nextcloud_connector import PERMISSIONS, nextcloud_target

IDENTITIES = {"bob@asso.org": "bob", "benevoles@asso.org": {"group": "benevoles"}}


def as_previous_version_wrote_it(change: Change) -> dict:
    """The change's JSON as the version before `FileMeta` journaled it: fields in `meta`."""
    data = change.to_json()
    typed = data.pop("data") or {}
    data["meta"] = {**data["meta"], **typed}
    return data


def test_a_change_keeps_its_file_data_through_json() -> None:
    data = FileMeta(segments=["Dossier", "a/b.txt"], segment_keys=["d", "f"],
                    segment_ranks=[0, 1], permissions=PERMISSIONS[:2], sharing_unread="403")
    item = SourceItem("f", "Dossier/a∕b.txt", meta={"content_id": "f"}, data=data)
    change = Change("files", Action.CREATE, item, "Dossier/a∕b.txt", "new")
    again = Change.from_json(json.loads(json.dumps(change.to_json())))
    assert again.item.data == data and again.item.meta == {"content_id": "f"}


def test_a_change_journaled_by_the_previous_version_reads_its_data_from_meta() -> None:
    item = SourceItem("f", "x.txt", meta={"content_id": "f"},
                      data=FileMeta(same_name_rank=1, permissions=PERMISSIONS[:1]))
    old = as_previous_version_wrote_it(Change("files", Action.CREATE, item, "x.txt", "new"))
    assert old["meta"]["same_name_rank"] == 1 and "data" not in old
    again = Change.from_json(old)
    assert again.item.data == item.data and again.item.meta == {"content_id": "f"}
    member = {**old, "kind": "member", "meta": {"email": "a@b.org", "permissions": ["E-mail"]}}
    again = Change.from_json(member).item  # a member's fields are a member's, not a file's
    assert again.data == MemberMeta(email="a@b.org") and again.meta == {"permissions": ["E-mail"]}


@pytest.mark.parametrize("damaged", [{"segments": "Dossier"}, {"permissions": ["bob"]},
                                     {"same_name_rank": "1"}, "x"])
def test_file_data_of_the_wrong_shape_is_refused_as_a_damaged_saved_plan(damaged) -> None:
    change = Change("files", Action.CREATE, SourceItem("f", "x.txt"), "x.txt", "new").to_json()
    with pytest.raises((TypeError, AttributeError)):
        Change.from_json({**change, "data": damaged})


def test_an_item_in_doubt_from_the_previous_version_gets_its_shares_when_verified(
        nextcloud_server: NextcloudServer, tmp_path: Path,
        nextcloud_session: requests.Session) -> None:
    """The previous version wrote the file, then stopped before its shares and its DONE. The
    new version finds the INTENT, reads the grants from the old row's `meta`, sees the file on
    the server and makes the shares there."""
    nextcloud_server.state.groups["benevoles"] = {"bob"}
    target = nextcloud_target(nextcloud_server, tmp_path, sharing="map", identities=IDENTITIES)
    source = MemorySource()
    plain = source.add("partagé.txt", b"shared")
    item = SourceItem(plain.key, plain.path, ItemKind.FILE, plain.fingerprint,
                      data=FileMeta(permissions=PERMISSIONS))
    change = change_for(item, target.name_for(item).name)
    nextcloud_session.request("MKCOL", f"{nextcloud_server.dav_url()}/Migration")
    uploaded = nextcloud_session.put(
        f"{nextcloud_server.dav_url()}/Migration/partagé.txt", data=b"shared")
    assert uploaded.status_code in (201, 204)
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    journal.record_intents([(change, "k" * 32)], journal.start_run("apply"))
    with journal.transaction() as db:
        db.execute("UPDATE items SET change = ?",
                   (json.dumps(as_previous_version_wrote_it(change), ensure_ascii=False),))
    journal.close()

    (doubt,) = Journal(path).in_doubt("conformance")
    assert doubt.change.item.data == FileMeta(permissions=PERMISSIONS)
    entry = target.verify(doubt.change, source, doubt.idempotency_key)
    assert entry is not None and entry.fingerprint.size == len(b"shared")
    shares = sorted((s["share_type"], s["share_with"], s["permissions"])
                    for s in nextcloud_server.state.shares.values())
    assert shares == [(0, "bob", 19), (1, "benevoles", 1), (3, None, 17)]


def test_no_connector_reads_a_file_field_from_another_connectors_meta() -> None:
    """Targets read `FileMeta`; a `meta` key named like one of its fields is a leftover."""
    keys = "|".join(LEGACY_KEYS)
    pattern = re.compile(rf"""meta(\.get\(|\[|\.update\()\s*["']?({keys})\b""")
    root = Path(__file__).resolve().parent.parent / "connectors"
    found = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []


def _previous_digest(meta: dict) -> str:
    """How the previous version hashed a post: its `meta` dict, every field."""
    return "sha256:" + hashlib.sha256(repr(sorted(meta.items())).encode()).hexdigest()[:24]


def test_posts_keep_their_content_hash_so_a_journal_of_the_previous_version_still_matches(
        ) -> None:
    """The source's fields are hashed as before: the post and each continuation carrying the
    pictures one status cannot hold have the fingerprints the previous version journaled."""
    fields = {"text": "Fête des semis", "created_at": "2024-04-01T10:00:00+00:00",
              "language": "fr", "url": "https://www.instagram.com/centsept#ig-1",
              "platform": "Instagram", "reply_to_url": None, "mentions": [], "hashtags": [],
              "media": [{"path": f"media/{n}.jpg", "alt": None, "type": "image", "url": None}
                        for n in range(6)]}
    head, continuation = with_more_pictures(make_post("instagram:1", fields))
    assert head.meta == {} and isinstance(head.data, PostMeta)
    assert head.fingerprint.checksum == _previous_digest({**fields, "media": fields["media"][:4]})
    assert continuation.data.part_of == "instagram:1"
    assert continuation.fingerprint.checksum == _previous_digest({
        **fields, "media": fields["media"][4:], "hashtags": [], "mentions": [],
        "text": "📷 5–6/6", "part_of": "instagram:1",
        "url": "https://www.instagram.com/centsept#ig-1-2",
        "reply_to_url": "https://www.instagram.com/centsept#ig-1",
        "created_at": fields["created_at"]})


def test_a_post_journaled_by_the_previous_version_reads_as_a_post() -> None:
    post = make_post("twitter:1", {"text": "Bonjour", "created_at": "2020-07-23T10:00:00Z",
                                   "language": "fr", "url": "https://twitter.com/a/status/1",
                                   "platform": "Twitter", "media": [], "reply_to_url": None,
                                   "mentions": [], "hashtags": ["AG"]})
    change = Change("posts", Action.CREATE, post, "https://twitter.com/a/status/1", "new")
    old = change.to_json()
    old["meta"] = old.pop("data")
    again = Change.from_json(old)
    assert again.item.data == post.data and again.item.meta == {}
    assert again.item.fingerprint == post.fingerprint
    with pytest.raises(TypeError):  # a field no post has: a damaged saved plan
        Change.from_json({**change.to_json(), "data": {**old["meta"], "colour": "red"}})
    with pytest.raises(TypeError):
        Change.from_json({**change.to_json(), "data": {**old["meta"], "media": "photo.jpg"}})
