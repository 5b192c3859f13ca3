"""`linkedin_export`: the `Shares.csv` of LinkedIn's "Get a copy of your data" (zip or folder).

Columns: `Date` (UTC, `2023-05-04 10:12:33`), `ShareLink` (the post's address: its key and
marker), `ShareCommentary`, `SharedUrl`, `MediaUrl`, `Visibility`. The quoting is unusual:
commentary spans several lines, quotes are doubled, and in many exports each line of the
commentary is itself wrapped in quotes once the CSV is read (`"Bonjour"` / `""` for an empty
line); that wrapping is undone. Pictures are not in the export: `MediaUrl` is kept as a link.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.parse
from typing import Any

from connectors.posts import (
    POST_SOURCE_STEP_OPTIONS,
    Archive,
    PostFilter,
    chronological,
    content_key,
    make_post,
    repost_text,
)
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.errors import FatalError
from migrate.i18n import _
from migrate.model import SourceItem
from migrate.options import Option, OptionSet

SHARES_FILE = re.compile(r"(?:^|/)Shares\.csv$", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
#: Posts LinkedIn showed to connections only are not made public elsewhere without asking.
PRIVATE_VISIBILITY = re.compile(r"^CONNECTIONS", re.IGNORECASE)


class LinkedinExportConnector(Connector):
    name = "linkedin_export"
    summary = "A LinkedIn export ('Get a copy of your data'): the posts in Shares.csv."
    options = OptionSet((
        Option("path", required=True,
               help="The export: the .zip file, its folder, or Shares.csv itself (absolute or "
                    "relative to the plan file)."),
    ))
    source_actions = ("mirror",)
    source_step_options = POST_SOURCE_STEP_OPTIONS

    def open_source(self, location: str, step: StepContext) -> LinkedinExportSource:
        path = (self.base_dir / str(self.config["path"])).expanduser()
        if path.suffix.lower() == ".csv":  # Shares.csv alone: read its folder
            return LinkedinExportSource(Archive(path.parent), PostFilter(step.options),
                                        only=path.name)
        return LinkedinExportSource(Archive(path), PostFilter(step.options))


def unwrap_commentary(value: str) -> str:
    """Undo LinkedIn's per-line quoting when every line carries it; otherwise keep the text."""
    lines = value.replace("\r\n", "\n").split("\n")
    filled = [line for line in lines if line.strip()]
    if filled and all(len(line) >= 2 and line.startswith('"') and line.endswith('"')
                      for line in filled):
        lines = [line[1:-1].replace('""', '"') if line.strip() else "" for line in lines]
    return "\n".join(lines).strip()


def parse_date(value: str) -> str:
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), pattern).replace(tzinfo=dt.UTC).isoformat()
        except ValueError:
            continue
    return ""


class LinkedinExportSource(Source):
    def __init__(self, archive: Archive, filters: PostFilter, only: str | None = None) -> None:
        self.archive, self.filters, self.only = archive, filters, only

    def list_items(self) -> Listing:
        names = [self.only] if self.only else [n for n in self.archive.names()
                                                if SHARES_FILE.search(n)]
        items: list[SourceItem] = []
        for name in names:
            text = self.archive.read_text(name)
            try:
                rows = list(csv.DictReader(io.StringIO(text, newline="")))
            except csv.Error as error:
                raise FatalError(_("{name} in {path} cannot be read as CSV ({reason}): download "
                                   "the export again").format(name=name, path=self.archive.path,
                                                              reason=error)) from None
            # A row longer than the header holds its extra cells as a list (DictReader).
            items.extend(self._item(row) for row in rows if any(
                isinstance(v, str) and v.strip() for v in row.values()))
        return Listing(chronological(items))

    def _item(self, row: dict[str, str | None]) -> SourceItem:
        def field(name: str) -> str:
            return str(row.get(name) or "").strip()

        text = unwrap_commentary(str(row.get("ShareCommentary") or ""))
        shared = field("SharedUrl")
        if shared and shared not in text:
            text = f"{text}\n\n{shared}".strip()
        created = parse_date(field("Date"))
        link = field("ShareLink")
        urn = urllib.parse.unquote(link.rstrip("/").rsplit("/", 1)[-1]) if link else ""
        key = f"linkedin:{urn}" if urn else content_key("linkedin", created, text)
        media = [{"path": None, "alt": None, "type": "image", "url": field("MediaUrl")}
                 ] if field("MediaUrl") else []
        meta: dict[str, Any] = {
            "text": text, "created_at": created, "language": None, "url": link or None,
            "platform": "LinkedIn", "media": media, "reply_to_url": None, "mentions": [],
            "hashtags": re.findall(r"(?<!\w)#(\w+)", text),
        }
        is_repost = bool(shared) and text == shared
        if is_repost and self.filters.reposts == "link":
            meta["text"] = repost_text(None, "", shared)
        reason = self.filters.reason(meta, is_repost=is_repost)
        if reason is None and PRIVATE_VISIBILITY.search(field("Visibility")):
            reason = _("shown to your connections only on LinkedIn: not made public elsewhere")
        return make_post(key, meta, reason)

    def close(self) -> None:
        self.archive.close()
