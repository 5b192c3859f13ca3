"""Pictures and videos of a post on a server speaking Mastodon's API: uploaded, or linked.

What the server will not take — a type missing from its `supported_mime_types`, a video where
`video_size_limit` is 0 (Takahē), a file over its size limit, more attachments than it allows —
is never sent: the status carries a link to the original (or names the file) with a plain note,
and the plan says so beforehand. Sending it anyway fails the same way on every run (Takahē
answers 500 to a video), so the post would never go out. A refusal the server still makes
(422, 413, 415) becomes the same note.
"""

from __future__ import annotations

import mimetypes
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from connectors.mastodon.client import MastodonClient, MediaRefused
from connectors.mastodon.dialects import Dialect
from migrate.connector import Source
from migrate.errors import TransientError
from migrate.i18n import _, ngettext
from migrate.item_meta import post_of
from migrate.model import Change, SourceItem


def mime_of(media: dict[str, Any]) -> str:
    name = str(media.get("path") or media.get("url") or "").rsplit("/", 1)[-1]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def link_note(media: dict[str, Any], why: str) -> str:
    """"Not posted here (why): link" — the original's address, else the file's name."""
    where = media.get("url") or str(media.get("path") or "").rsplit("/", 1)[-1]
    return _("Picture or video not posted here ({why}): {link}").format(why=why, link=where)


class MediaUploader:
    def __init__(self, client: MastodonClient, dialect: Dialect,
                 media_timeout: float = 60.0) -> None:
        """`media_timeout`: seconds the server may take to process one picture or video."""
        self.client, self.dialect, self.media_timeout = client, dialect, media_timeout

    def upload_all(self, item: SourceItem, source: Source) -> tuple[list[str], list[str]]:
        """Media uploaded (and processed); those that cannot be are linked in the text."""
        limits = self.dialect.limits
        ids: list[str] = []
        notes: list[str] = []
        beyond = 0  # pictures past the server's limit with no address to link to
        for index, media in enumerate(post_of(item).media):
            link = media.get("url") or ""
            if index >= limits.max_media:
                if link:
                    notes.append(_("More pictures: {link}").format(link=link))
                else:
                    beyond += media.get("path") is not None
                continue
            if not media.get("path"):
                if link:
                    notes.append(_("Picture not in the archive: {link}").format(link=link))
                continue
            mime = mime_of(media)
            refused = self.dialect.refusal(mime)
            if refused:
                notes.append(link_note(media, refused))
                continue
            with source.open(SourceItem(f"{item.key}#media{index}", media["path"])) as stream:
                data = stream.read()
            refused = self.dialect.refusal(mime, len(data))
            if refused:
                notes.append(link_note(media, refused))
                continue
            try:
                ids.append(self._upload_one(data, mime, media))
            except MediaRefused:
                notes.append(link_note(media, _("refused by the server")))
        if beyond:  # said in the post, never lost without a word (the plan says it too)
            notes.append(ngettext(
                "{n} more picture is not posted here: this server takes at most {max} per post.",
                "{n} more pictures are not posted here: this server takes at most {max} per "
                "post.", beyond).format(n=beyond, max=limits.max_media))
        return ids, [n for n in notes if n]

    def _upload_one(self, data: bytes, mime: str, media: dict[str, Any]) -> str:
        name = str(media["path"]).rsplit("/", 1)[-1]
        limit = self.dialect.limits.description_limit
        alt = (media.get("alt") or None) and str(media["alt"])[:limit]
        uploaded = self.client.upload(data, mime, name, alt)
        deadline = time.monotonic() + self.media_timeout
        delay = 0.5
        while uploaded.get("url") is None:  # v2 media API: processed in the background
            if time.monotonic() > deadline:
                raise TransientError(_("the server took too long to process {name}").format(
                    name=name))
            time.sleep(delay)
            delay = min(delay * 2, 5)
            uploaded = self.client.call(self.client.api.media, uploaded["id"])
        return str(uploaded["id"])

    def plan_notes(self, changes: Sequence[Change]) -> list[str]:
        """Before anything is written: how many attachments will be links, and why."""
        why: Counter[str] = Counter()
        beyond = 0
        for change in changes:
            for index, media in enumerate(post_of(change.item).media):
                if index >= self.dialect.limits.max_media:
                    beyond += bool(media.get("path")) and not media.get("url")
                    continue
                if not media.get("path"):
                    continue
                refused = self.dialect.refusal(mime_of(media))
                if refused:
                    why[refused] += 1
        said = [ngettext(
            "{n} picture is past what this server takes in one post ({max}): it will not be "
            "posted, and its post says so.",
            "{n} pictures are past what this server takes in one post ({max}): they will not "
            "be posted, and their posts say so.", beyond).format(
                n=beyond, max=self.dialect.limits.max_media)] if beyond else []
        if not why:
            return said
        total = sum(why.values())
        reasons = "; ".join(_("{reason}: {n}").format(reason=reason, n=count)
                            for reason, count in why.most_common())
        return [*said, ngettext(
            "{n} picture or video will be a link in its post, not an attachment "
            "({server} {version}: {reasons}).",
            "{n} pictures or videos will be links in their posts, not attachments "
            "({server} {version}: {reasons}).", total).format(
                n=total, server=self.dialect.software, version=self.dialect.version,
                reasons=reasons)]
