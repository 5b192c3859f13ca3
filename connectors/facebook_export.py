"""`facebook_export`: the JSON "Download your information" export of a profile or a Page.

Known variants, all accepted: `posts/your_posts_1.json` (and `_2`…), the newer
`your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json`, a Page's
`profile_posts_1.json`, a top-level folder inside the zip, and files whose list sits under one
key of an object. Text is mojibake (each UTF-8 byte escaped as `\\u00XX`) and is repaired.

Facebook gives posts no id and no address, so a post's key is a hash of its date and repaired
text, and its marker (the origin line's link) is the profile's address with that hash as the
fragment: `https://www.facebook.com/centsept#fb-…`. See docs/decisions/0310-posts-without-ids.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors.posts import (
    POST_SOURCE_STEP_OPTIONS,
    Archive,
    ExportPostSource,
    PostFilter,
    content_key,
    iso_from_timestamp,
    make_post,
    media_type,
    repair_mojibake,
    repost_text,
)
from migrate.connector import Connector, StepContext
from migrate.model import SourceItem
from migrate.options import Option, OptionSet

POST_FILES = re.compile(r"(?:^|/)(?:your_posts[^/]*|profile_posts)_(\d+)\.json$")
PROFILE_FILE = re.compile(r"(?:^|/)profile_information\.json$")
#: "X shared a post." / "X a partagé une publication." with no words of its own: a repost.
SHARED_POST = re.compile(r"shared (?:a|an) (?:post|memory|video|photo)|a partagé une "
                         r"(?:publication|vidéo|photo)|a partagé un souvenir", re.IGNORECASE)
DEFAULT_PROFILE = "https://www.facebook.com/"


class FacebookExportConnector(Connector):
    name = "facebook_export"
    summary = "A Facebook profile or Page export ('Download your information', JSON format)."
    options = OptionSet((
        Option("path", required=True,
               help="The export: the .zip file, or the folder it was extracted to (absolute or "
                    "relative to the plan file). Choose the JSON format when you ask for it."),
        Option("profile_url",
               help="The profile's or Page's address (https://www.facebook.com/centsept), for "
                    "the origin line of each post. Read from the export when it holds it."),
    ))
    source_actions = ("mirror",)
    source_step_options = POST_SOURCE_STEP_OPTIONS

    def open_source(self, location: str, step: StepContext) -> FacebookExportSource:
        path = (self.base_dir / str(self.config["path"])).expanduser()
        return FacebookExportSource(Archive(path), PostFilter(step.options),
                                    self.config.get("profile_url"))


class FacebookExportSource(ExportPostSource):
    default_profile = DEFAULT_PROFILE

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
             unique: Callable[[str], str]) -> SourceItem | None:
        texts = [repair_mojibake(str(d["post"])) for d in entry.get("data") or []
                 if isinstance(d, dict) and d.get("post")]
        text = "\n\n".join(texts).strip()
        media, links = self._attachments(entry)
        for link in links:
            if link not in text:
                text = f"{text}\n\n{link}".strip()
        created = iso_from_timestamp(entry.get("timestamp"))
        if not text and not media:
            return None  # "updated their profile picture" and the like: nothing to post
        key = unique(content_key("facebook", created, text))
        meta: dict[str, Any] = {
            "text": text, "created_at": created, "language": None,
            "url": f"{profile}#fb-{key.split(':', 1)[1]}", "platform": "Facebook",
            "media": media, "reply_to_url": None, "mentions": [],
            "hashtags": re.findall(r"(?<!\w)#(\w+)", text),
        }
        title = repair_mojibake(str(entry.get("title") or ""))
        is_repost = not texts and bool(SHARED_POST.search(title))
        if is_repost and self.filters.reposts == "link":
            meta["text"] = repost_text(None, "", links[0] if links else None)
        return make_post(key, meta, self.filters.reason(meta, is_repost=is_repost))

    def _attachments(self, entry: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        media: list[dict[str, Any]] = []
        links: list[str] = []
        for attachment in entry.get("attachments") or []:
            for data in (attachment or {}).get("data") or []:
                found = (data or {}).get("media")
                if isinstance(found, dict) and found.get("uri"):
                    uri = str(found["uri"])
                    media.append({"path": self.archive.find(uri),
                                  "alt": repair_mojibake(str(found.get("description") or ""))
                                  or None, "type": media_type(uri), "url": None})
                context = (data or {}).get("external_context")
                if isinstance(context, dict) and context.get("url"):
                    links.append(str(context["url"]))
        return media, links

