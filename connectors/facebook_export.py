"""`facebook_export`: the JSON "Download your information" export of a profile or a Page.

Known variants, all accepted: `posts/your_posts_1.json` (and `_2`…), the newer
`your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json`, a Page's
`profile_posts_1.json`, a top-level folder inside the zip, and files whose list sits under one
key of an object. Text is mojibake (each UTF-8 byte escaped as `\\u00XX`) and is repaired,
links included.

Every entry is listed: posts without text are posted when they carry pictures or a link, and
otherwise skipped saying what they were (a check-in, a life event, Facebook's own line such as
"updated its profile picture"). A repost is a link to Facebook itself with nothing of one's
own, whatever the language of the account (decisions 0330, 0331).

Facebook gives posts no id and no address, so a post's key is a hash of its date and repaired
text, and its marker (the origin line's link) is the profile's address with that hash as the
fragment: `https://www.facebook.com/centsept#fb-…`. See docs/decisions/0310-posts-without-ids.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.posts import (
    Archive,
    ExportPostSource,
    PostFilter,
    PostSourceOptions,
    content_key,
    iso_from_timestamp,
    make_post,
    media_type,
    repair_mojibake,
    repost_text,
)
from migrate.connector import Connector, StepContext
from migrate.i18n import _
from migrate.model import SourceItem
from migrate.options import option

POST_FILES = re.compile(r"(?:^|/)(?:your_posts[^/]*|profile_posts)_(\d+)\.json$")
PROFILE_FILE = re.compile(r"(?:^|/)profile_information\.json$")
#: A link to Facebook itself, shared with no words of one's own: someone else's post (or one's
#: own memory) shared again. Told by the link, never by the title, whose words are in the
#: language of the account ("X shared a post.", "X a partagé une publication.").
FACEBOOK_LINK = re.compile(r"^https?://(?:[\w-]+\.)?(?:facebook\.com|fb\.com|fb\.me)/",
                           re.IGNORECASE)
DEFAULT_PROFILE = "https://www.facebook.com/"


@dataclass(frozen=True, kw_only=True)
class FacebookExportOptions:
    path: str = option(
        required=True,
        help="The export: the .zip file, or the folder it was extracted to (absolute or "
             "relative to the plan file). Choose the JSON format when you ask for it.")
    profile_url: str | None = option(
        help="The profile's or Page's address (https://www.facebook.com/centsept), for "
             "the origin line of each post. Read from the export when it holds it.")


class FacebookExportConnector(Connector):
    name = "facebook_export"
    summary = "A Facebook profile or Page export ('Download your information', JSON format)."
    Options = FacebookExportOptions
    config: FacebookExportOptions
    source_actions = ("mirror",)
    SourceStepOptions = PostSourceOptions

    def open_source(self, location: str, step: StepContext) -> FacebookExportSource:
        path = (self.base_dir / self.config.path).expanduser()
        return FacebookExportSource(Archive(path), PostFilter(self.source_options(step)),
                                    self.config.profile_url)


class FacebookExportSource(ExportPostSource):
    default_profile = DEFAULT_PROFILE
    platform = "Facebook"
    expected = "posts/your_posts_1.json, your_facebook_activity/posts/your_posts__check_ins__" \
               "photos_and_videos_1.json or profile_posts_1.json"

    def post_files(self, names: list[str]) -> list[str]:
        return sorted((n for n in names if POST_FILES.search(n)),
                      key=lambda n: (n.rsplit("/", 1)[-1].split("_")[0],
                                     int(POST_FILES.search(n).group(1))))  # type: ignore[union-attr]

    def find_profile(self, names: list[str]) -> str | None:
        for name in names:
            if PROFILE_FILE.search(name):
                data = self.archive.read_json(name)
                for key in ("profile_v2", "profile"):
                    if isinstance(data, dict) and isinstance(data.get(key), dict):
                        uri = data[key].get("profile_uri")
                        if uri:
                            return str(uri)
        return None

    def post(self, entry: dict[str, Any], profile: str,
             unique: Callable[[str], str]) -> SourceItem:
        texts = [repair_mojibake(str(d["post"])) for d in entry.get("data") or []
                 if isinstance(d, dict) and d.get("post")]
        text = "\n\n".join(texts).strip()
        found = self._attachments(entry)
        for link in found.links:
            if link not in text:
                text = f"{text}\n\n{link}".strip()
        created = iso_from_timestamp(entry.get("timestamp"))
        title = repair_mojibake(str(entry.get("title") or ""))
        # Keyed by date and text, as always; one with neither text nor picture (a check-in, a
        # life event), which used to be left out unlisted, by its title: it is listed now.
        key = unique(content_key("facebook", created,
                                 text if text or found.media else f"title:{title}"))
        meta: dict[str, Any] = {
            "text": text, "created_at": created, "language": None,
            "url": f"{profile}#fb-{key.split(':', 1)[1]}", "platform": "Facebook",
            "media": found.media, "reply_to_url": None, "mentions": [],
            "hashtags": re.findall(r"(?<!\w)#(\w+)", text),
        }
        is_repost = not texts and not found.media and (
            bool(found.links) and all(FACEBOOK_LINK.match(link) for link in found.links))
        if is_repost and self.filters.reposts == "link":
            meta["text"] = repost_text(None, "", found.links[0])
        reason = self.filters.reason(meta, is_repost=is_repost)
        if reason is None and not texts and not found.media and not found.links:
            reason = found.nothing_reason(title)
        return make_post(key, meta, reason)

    def _attachments(self, entry: dict[str, Any]) -> Attachments:
        found = Attachments()
        for attachment in entry.get("attachments") or []:
            for data in (attachment or {}).get("data") or []:
                if isinstance(data, dict):
                    self._attachment(data, found)
        return found

    def _attachment(self, data: dict[str, Any], found: Attachments) -> None:
        media = data.get("media")
        if isinstance(media, dict) and media.get("uri"):
            uri = str(media["uri"])
            path = self.archive.find(uri)
            found.media.append({
                "path": path, "alt": repair_mojibake(str(media.get("description") or ""))
                or None, "type": media_type(uri), "url": None,
                **({"missing": True} if path is None else {})})
        context = data.get("external_context")
        if isinstance(context, dict) and context.get("url"):
            found.links.append(repair_mojibake(str(context["url"])))
        place = data.get("place")
        if isinstance(place, dict) and place.get("name"):
            found.place = repair_mojibake(str(place["name"]))
        event = data.get("life_event")
        if isinstance(event, dict):
            found.life_event = repair_mojibake(str(event.get("title") or "")) or "?"


@dataclass
class Attachments:
    """What a Facebook post carries beside its text."""

    media: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    place: str | None = None
    life_event: str | None = None

    def nothing_reason(self, title: str) -> str:
        """Why a post with no text, picture or link is not posted: what it was."""
        if self.life_event:
            return _("a life event ({event}) with no words of its own: nothing to post").format(
                event=self.life_event)
        if self.place:
            return _("a check-in at {place} with no words of its own: nothing to post").format(
                place=self.place)
        if title:
            return _("only Facebook's line \"{title}\", no words of its own: nothing to "
                     "post").format(title=title)
        return _("no text, picture or link of its own: nothing to post")
