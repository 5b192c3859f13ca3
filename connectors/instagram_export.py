"""`instagram_export`: the JSON "Download your information" export of an Instagram account.

Known variants, all accepted: `content/posts_1.json` (and `_2`…), the newer
`your_instagram_activity/content/posts_1.json`, `posts_1.json` at the top of the folder (or of
a top-level folder inside the zip). A carousel with more pictures than a status holds is
continued by statuses answering it (`connectors.posts.with_more_pictures`); pictures missing
from the export are counted in the plan, and a post left with nothing to post is skipped. A post is
either one picture (its caption and date on the media: `media[0].title`,
`media[0].creation_timestamp`) or a carousel (caption and date on the post itself). Text is
mojibake (each UTF-8 byte escaped as `\\u00XX`) and is repaired.

Like Facebook, Instagram gives posts no id in the export: the key is a hash of the date and
caption, the marker the profile's address with that hash as fragment (decision 0310).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.posts import (
    Archive,
    ExportPostSource,
    PostFilter,
    PostSourceOptions,
    content_key,
    entries_of,
    iso_from_timestamp,
    make_post,
    media_type,
    repair_mojibake,
)
from migrate.connector import Connector, StepContext
from migrate.model import SourceItem
from migrate.options import option

POST_FILES = re.compile(r"(?:^|/)content/posts_(\d+)\.json$|^(?:[^/]+/)?posts_(\d+)\.json$")
PERSONAL_FILE = re.compile(r"(?:^|/)personal_information\.json$")
DEFAULT_PROFILE = "https://www.instagram.com/"


@dataclass(frozen=True, kw_only=True)
class InstagramExportOptions:
    path: str = option(
        required=True,
        help="The export: the .zip file, or the folder it was extracted to (absolute or "
             "relative to the plan file). Choose the JSON format when you ask for it.")
    profile_url: str | None = option(
        help="The account's address (https://www.instagram.com/centsept), for the "
             "origin line of each post. Read from the export when it holds it.")


class InstagramExportConnector(Connector):
    name = "instagram_export"
    summary = "An Instagram account export ('Download your information', JSON format)."
    Options = InstagramExportOptions
    config: InstagramExportOptions
    source_actions = ("mirror",)
    SourceStepOptions = PostSourceOptions

    def open_source(self, location: str, step: StepContext) -> InstagramExportSource:
        path = (self.base_dir / self.config.path).expanduser()
        return InstagramExportSource(Archive(path), PostFilter(self.source_options(step)),
                                     self.config.profile_url)


class InstagramExportSource(ExportPostSource):
    default_profile = DEFAULT_PROFILE
    platform = "Instagram"
    expected = "content/posts_1.json, your_instagram_activity/content/posts_1.json or " \
               "posts_1.json"

    def post_files(self, names: list[str]) -> list[str]:
        def number(name: str) -> int:
            match = POST_FILES.search(name)
            return int(match.group(1) or match.group(2)) if match else 0

        return sorted((n for n in names if POST_FILES.search(n)), key=number)

    def find_profile(self, names: list[str]) -> str | None:
        """`profile_user[0].string_map_data.Username.value` → the account's address."""
        for name in names:
            if PERSONAL_FILE.search(name):
                users = entries_of(self.archive.read_json(name))
                fields = (users[0].get("string_map_data") or {}) if users else {}
                for label in ("Username", "Nom d'utilisateur"):
                    value = (fields.get(label) or {}).get("value")
                    if value:
                        return f"https://www.instagram.com/{value}"
        return None

    def post(self, entry: dict[str, Any], profile: str,
             unique: Callable[[str], str]) -> SourceItem:
        files = [m for m in entry.get("media") or [] if isinstance(m, dict) and m.get("uri")]
        first = files[0] if files else {}
        text = repair_mojibake(str(entry.get("title") or first.get("title") or "")).strip()
        created = iso_from_timestamp(entry.get("creation_timestamp")
                                     or first.get("creation_timestamp"))
        key = unique(content_key("instagram", created, text))
        media = []
        for m in files:
            path = self.archive.find(str(m["uri"]))
            media.append({"path": path, "type": media_type(str(m["uri"])), "url": None,
                          # a carousel's pictures may carry their own captions: the best alt
                          # text there is
                          "alt": repair_mojibake(str(m.get("title") or "")).strip()
                          if entry.get("title") and m.get("title") else None,
                          **({"missing": True} if path is None else {})})
        meta: dict[str, Any] = {
            "text": text, "created_at": created, "language": None,
            "url": f"{profile}#ig-{key.split(':', 1)[1]}", "platform": "Instagram",
            "media": media, "reply_to_url": None, "mentions": [],
            "hashtags": re.findall(r"(?<!\w)#(\w+)", text),
        }
        return make_post(key, meta, self.filters.reason(meta))
