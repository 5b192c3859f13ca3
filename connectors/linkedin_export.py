"""`linkedin_export`: the `Shares.csv` of LinkedIn's "Get a copy of your data" (zip or folder).

Columns (their spelling varies, so they are matched ignoring case, spaces and underscores):
`Date` (UTC: `2023-05-04 10:12:33`, `2023-05-04 10:12:33 UTC`, or `2017/06/08 08:15:44 UTC` in
2018), `ShareLink` (the post's address: its key and marker), `ShareCommentary`,
`SharedUrl`/`SharedURL`, `MediaUrl`/`MediaURL`, `Visibility`. The 2018 export is UTF-16 with a
BOM and tab-separated (`Share Commentary`); today's is UTF-8 and comma-separated.

LinkedIn's quoting is its own: once the CSV is read, each line of the commentary is still
wrapped in quotes, with its inner quotes doubled, except that the first line has no opening
quote (`Bonjour"` / `""` / `"Une ""AG"" !"`); older exports wrapped the first line too. That
wrapping is undone (`unwrap_commentary`), so no stray `"` reaches a status.

LinkedIn writes one row per picture of a post: rows sharing a `ShareLink` are one post with
several pictures (the extra rows are counted as merged). Pictures are not in the export: each
`MediaUrl` is kept as a link. A row without commentary is a repost (skipped, or a short note
with `reposts: link`), never a status holding only its origin line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from connectors.posts import (
    Archive,
    PostFilter,
    PostSourceOptions,
    chronological,
    content_key,
    make_post,
    repost_text,
)
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.errors import FatalError
from migrate.i18n import _
from migrate.model import SourceItem
from migrate.options import option
from migrate.post_counts import PostTally

SHARES_FILE = re.compile(r"(?:^|/)Shares\.csv$", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y/%m/%d")
#: What LinkedIn writes in an empty link column, once the CSV is read.
EMPTY_CELLS = frozenset({"", '"', '""'})
#: Posts LinkedIn showed to connections only are not made public elsewhere without asking.
PRIVATE_VISIBILITY = re.compile(r"^CONNECTIONS", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class LinkedinExportOptions:
    path: str = option(required=True,
                       help="The export: the .zip file, its folder, or Shares.csv itself "
                            "(absolute or relative to the plan file).")


class LinkedinExportConnector(Connector):
    name = "linkedin_export"
    summary = "A LinkedIn export ('Get a copy of your data'): the posts in Shares.csv."
    Options = LinkedinExportOptions
    config: LinkedinExportOptions
    source_actions = ("mirror",)
    SourceStepOptions = PostSourceOptions

    def open_source(self, location: str, step: StepContext) -> LinkedinExportSource:
        path = (self.base_dir / self.config.path).expanduser()
        filters = PostFilter(self.source_options(step))
        if path.suffix.lower() == ".csv":  # Shares.csv alone: read its folder
            return LinkedinExportSource(Archive(path.parent), filters, only=path.name)
        return LinkedinExportSource(Archive(path), filters)


def column(name: str) -> str:
    """`Share Commentary`, `ShareCommentary`, `share_commentary` → `sharecommentary`."""
    return re.sub(r"[^a-z]", "", name.lower())


def unwrap_commentary(value: str) -> str:
    """Undo LinkedIn's per-line quoting where the text carries it; otherwise keep it as it is.

    Wrapped: every line but the first starts with `"`, every line but the last ends with `"`
    (one line: an odd number of quotes with one at its end). Each line then loses its
    wrapping quotes — the first line its opening one only if it has one — and its doubled
    quotes become single.
    """
    lines = value.replace("\r\n", "\n").strip("\n").split("\n")
    if len(lines) == 1:
        return _unwrap_line(lines[0]).strip()
    if not (all(line.startswith('"') for line in lines[1:])
            and all(line.endswith('"') for line in lines[:-1])):
        return "\n".join(lines).strip()
    first = lines[0][:-1]
    if first.count('"') % 2:  # its opening quote is there too (older exports)
        first = first[1:] if first.startswith('"') else first
    last = lines[-1][1:]
    if last.count('"') % 2 and last.endswith('"'):
        last = last[:-1]
    unwrapped = [first, *(line[1:-1] for line in lines[1:-1]), last]
    return "\n".join(line.replace('""', '"') for line in unwrapped).strip()


def _unwrap_line(line: str) -> str:
    """One line: a lone wrapping quote dropped, a fully wrapped line with doubled quotes
    inside unwrapped; a line quoting something on purpose (`Il a dit "oui"`) kept."""
    if line.count('"') % 2:
        if line.endswith('"'):
            line = line[:-1]
        elif line.startswith('"'):
            line = line[1:]
        if line.startswith('"') and line.endswith('"') and len(line) >= 2 \
                and line.count('"') % 2 == 0 and '""' in line[1:-1]:
            line = line[1:-1]
        return line.replace('""', '"')
    if len(line) >= 2 and line.startswith('"') and line.endswith('"') \
            and line[1:-1].replace('""', "").count('"') == 0:
        return line[1:-1].replace('""', '"')
    return line


def parse_date(value: str) -> str:
    value = re.sub(r"\s*UTC$", "", value.strip(), flags=re.IGNORECASE)
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).replace(tzinfo=dt.UTC).isoformat()
        except ValueError:
            continue
    return ""


def read_rows(text: str) -> list[dict[str, str]]:
    """The rows of a Shares.csv, keyed by `column()`; tab-separated (2018) or commas."""
    header = text.split("\n", 1)[0]
    delimiter = "\t" if header.count("\t") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = [column(name) for name in next(reader, [])]
    return [dict(zip(names, row, strict=False)) for row in reader
            if any(cell.strip() for cell in row)]


class LinkedinExportSource(Source):
    def __init__(self, archive: Archive, filters: PostFilter, only: str | None = None) -> None:
        self.archive, self.filters, self.only = archive, filters, only

    def list_items(self) -> Listing:
        names = [self.only] if self.only else [n for n in self.archive.names()
                                                if SHARES_FILE.search(n)]
        if not names:
            raise self.archive.unknown_layout("LinkedIn", "Shares.csv")
        posts: dict[str, list[dict[str, str]]] = {}
        tally = PostTally()
        for name in names:
            text = self.archive.read_text(name)
            try:
                rows = read_rows(text)
            except csv.Error as error:
                raise FatalError(_("{name} in {path} cannot be read as CSV ({reason}): download "
                                   "the export again").format(name=name, path=self.archive.path,
                                                              reason=error)) from None
            for index, row in enumerate(rows):
                tally.entries += 1
                link = _cell(row, "sharelink")
                group = posts.setdefault(link or f"{name}#{index}", [])
                tally.merged += 1 if group else 0  # one row per picture of the same post
                group.append(row)
        items = [self._item(rows) for rows in posts.values()]
        return Listing(chronological(items), posts=tally)

    def _item(self, rows: list[dict[str, str]]) -> SourceItem:
        commentary = next((c for c in (unwrap_commentary(r.get("sharecommentary") or "")
                                       for r in rows) if c), "")
        shared = next((c for c in (_cell(r, "sharedurl") for r in rows) if c), "")
        pictures = list(dict.fromkeys(c for c in (_cell(r, "mediaurl") for r in rows) if c))
        text = commentary
        if shared and shared not in text:
            text = f"{text}\n\n{shared}".strip()
        created = parse_date(_cell(rows[0], "date"))
        link = _cell(rows[0], "sharelink")
        urn = urllib.parse.unquote(link.rstrip("/").rsplit("/", 1)[-1]) if link else ""
        key = f"linkedin:{urn}" if urn else content_key("linkedin", created, text)
        meta: dict[str, Any] = {
            "text": text, "created_at": created, "language": None, "url": link or None,
            "platform": "LinkedIn", "reply_to_url": None, "mentions": [],
            "media": [{"path": None, "alt": None, "type": "image", "url": url}
                      for url in pictures],
            "hashtags": re.findall(r"(?<!\w)#(\w+)", text),
        }
        # No words of its own and no picture: someone else's post shared again.
        is_repost = not commentary and not pictures
        reason = None
        if is_repost and self.filters.reposts == "link":
            meta["text"] = repost_text(None, "", shared) if shared else ""
            if not shared:
                reason = _("a repost, and LinkedIn's export gives no link to the original: "
                           "nothing to post")
        if not created and not link:  # a row the CSV reader cut out of another one
            reason = _("a row of Shares.csv without date or link: it could not be read as a "
                       "post; check the file around: {start}").format(start=text[:60] or "?")
        reason = reason or self.filters.reason(meta, is_repost=is_repost)
        if reason is None and PRIVATE_VISIBILITY.search(_cell(rows[0], "visibility")):
            reason = _("shown to your connections only on LinkedIn: not made public elsewhere")
        return make_post(key, meta, reason)

    def close(self) -> None:
        self.archive.close()


def _cell(row: dict[str, str], name: str) -> str:
    value = str(row.get(name) or "").strip()
    return "" if value in EMPTY_CELLS else value
