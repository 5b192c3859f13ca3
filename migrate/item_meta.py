"""Typed data a target may read of an item, in service-neutral names (fsspec fixes its `info`
keys the same way): a target reads `FileMeta` or `PostMeta`, never another connector's private
`meta` keys.

`SourceItem.meta` stays the source's own (what its `open` needs: a Drive id, an offset in an
archive), read by that source only. Plans and journals written before these types carried the
same fields inside `meta`; `take_legacy` reads them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict


class Grant(TypedDict, total=False):
    """One person's or group's access to an item at the source (connectors/dav/sharing.py
    says how a target recreates it)."""

    type: str  # "user", "group", "domain" or "anyone"
    role: str  # "reader", "commenter", "writer", "organizer" or "owner"
    email: str | None
    domain: str | None
    #: RFC 3339: temporary access ends then.
    expires: str | None
    #: A shared space's membership (a shared drive's: its folder carries it for its files).
    space_member: bool
    #: Below a shared drive's top level: the top items' shares cover it already.
    inherited: bool


@dataclass(slots=True)
class FileMeta:
    """What a target may need of a file or folder beyond its path and fingerprint.

    Sources whose path cannot say every name (a "/" inside a Drive name, two folders of one
    name in one folder: docs/decisions/0420-drive-levels.md) give one entry per level of the
    path, root to item: `segments` the raw names, `segment_keys` a stable key per level (the
    item's own last), `segment_ranks` 0 for the oldest of same-named siblings, 1 for the next…
    Otherwise `same_name_rank` ranks the item among items of the same path.
    """

    segments: list[str] | None = None
    segment_keys: list[str] | None = None
    segment_ranks: list[int] | None = None
    same_name_rank: int = 0
    #: Who has access at the source; a target that can share recreates them.
    permissions: list[Grant] = field(default_factory=list)
    #: Why the source could not read the item's sharing (said in the plan).
    sharing_unread: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields = (("segments", self.segments), ("segment_keys", self.segment_keys),
                  ("segment_ranks", self.segment_ranks),
                  ("same_name_rank", self.same_name_rank or None),
                  ("permissions", self.permissions or None),
                  ("sharing_unread", self.sharing_unread))
        return {name: value for name, value in fields if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileMeta:
        """TypeError for what this class never writes (a saved plan edited by hand)."""
        found = cls(_list(data, "segments", str), _list(data, "segment_keys", str),
                    _list(data, "segment_ranks", int), data.get("same_name_rank") or 0,
                    _list(data, "permissions", dict) or [], data.get("sharing_unread"))
        if not isinstance(found.same_name_rank, int) or not isinstance(
                found.sharing_unread, str | None):
            raise TypeError("same_name_rank or sharing_unread")
        return found

    @classmethod
    def take_legacy(cls, meta: dict[str, Any]) -> FileMeta | None:
        """From a `meta` saved by an earlier version (a journal's change, a saved plan): the
        fields moved out of it, or None if it holds none."""
        found = {key: meta.pop(key) for key in LEGACY_KEYS if key in meta}
        if isinstance(found.get("permissions"), list):
            # Earlier versions named a membership after the one service that has them.
            found["permissions"] = [_renamed_membership(g) for g in found["permissions"]]
        return cls.from_json(found) if found else None


LEGACY_KEYS = ("segments", "segment_keys", "segment_ranks", "same_name_rank", "permissions",
               "sharing_unread")


def _renamed_membership(grant: Any) -> Any:
    if isinstance(grant, dict) and "drive_member" in grant:
        grant = {**grant, "space_member": grant["drive_member"]}
        del grant["drive_member"]
    return grant


def _list(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if value is not None and not (isinstance(value, list)
                                  and all(isinstance(one, kind) for one in value)):
        raise TypeError(key)
    return value


#: For items that carry none, to read defaults from without a test each time; never changed.
NO_FILE_META = FileMeta()


class Media(TypedDict, total=False):
    """One picture or video of a post."""

    path: str | None  # the file inside the export; None when the export lacks it
    alt: str | None  # its description, for people who cannot see it
    type: str  # "image", "video", "gifv"
    url: str | None  # where it can be seen online (linked when it cannot be attached)
    missing: bool  # named by the export, absent from it


class Mention(TypedDict):
    name: str
    url: str


@dataclass(slots=True)
class PostMeta:
    """A post as every post source gives it (connectors/posts/__init__.py `make_post`)."""

    text: str = ""
    #: ISO 8601, as the source dated it.
    created_at: str | None = None
    #: Two letters ("fr"), from the export or recognised in the text; None if unsure.
    language: str | None = None
    #: The original's address: the marker that makes a mirrored post idempotent.
    url: str | None = None
    platform: str | None = None  # "Twitter", "Facebook"…, for the origin line
    media: list[Media] = field(default_factory=list)
    #: The original address of the post this one answers in a self-thread.
    reply_to_url: str | None = None
    mentions: list[Mention] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    #: The key of the post this one continues (pictures past what one status holds).
    part_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Every field but an unset `part_of`: the shape every source gives make_post, so a
        # post rebuilt from it (connectors/posts/__init__.py) keeps its content hash.
        data = {f.name: getattr(self, f.name) for f in POST_FIELDS}
        if data["part_of"] is None:
            del data["part_of"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PostMeta:
        """TypeError for a field it does not have or of the wrong shape."""
        post = cls(**data)
        texts = (post.created_at, post.language, post.url, post.platform, post.reply_to_url,
                 post.part_of)
        if not isinstance(post.text, str) or not all(isinstance(t, str | None) for t in texts):
            raise TypeError("a post's text fields")
        for name in ("media", "mentions"):
            _list({name: getattr(post, name)}, name, dict)
        _list({"hashtags": post.hashtags}, "hashtags", str)
        return post

    @classmethod
    def take_legacy(cls, meta: dict[str, Any]) -> PostMeta:
        """From a post's `meta` saved by an earlier version: its fields moved out of it."""
        return cls.from_json({f.name: meta.pop(f.name) for f in POST_FIELDS if f.name in meta})


POST_FIELDS = fields(PostMeta)
#: For items that carry none (a post saved before `PostMeta`, read back empty); never changed.
NO_POST_META = PostMeta()


def post_of(item: Any) -> PostMeta:
    """A post item's `PostMeta` (`SourceItem.data`)."""
    data = item.data
    return data if isinstance(data, PostMeta) else NO_POST_META
