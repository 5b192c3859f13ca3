"""`feed`: any RSS or Atom feed, the way most associations cross-post from their website.

An entry's key is its id (Atom `<id>`, RSS `<guid>`), else its link, so an edited entry keeps
its key and is not posted again. The feed is fetched with a conditional GET: the ETag and
Last-Modified of the last applied run come back as the step's cursor, and a 304 lists nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.posts import (
    PostFilter,
    PostSourceOptions,
    chronological,
    content_key,
    make_post,
)
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.errors import ConnectorError, FatalError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.model import SourceItem
from migrate.options import option
from migrate.post_counts import PostTally

TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True, kw_only=True)
class FeedOptions:
    url: str = option("url", required=True, help="The feed's address (https://…/feed.xml).")
    timeout: float = option("number", default=30, help="Seconds to wait for the website.")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The website's news feed (RSS or Atom).\n"
            "  # Le fil d'actualités du site (RSS ou Atom).\n"
            f"  posts_source: {{type: feed, url: {quoted(answers['feed_url'])}}}")


#: What `migrate init` offers: the posts of a website's feed, as a source.
INIT_OFFER = Offer(
    moves="posts", role="source", choice="feed", phrase=N_("from a website feed (RSS/Atom)"),
    connection=_init_connection, reference=lambda answers: "posts_source",
    questions=(Question("feed_url", N_("Address of the feed")),), rank=20)


class FeedConnector(Connector):
    name = "feed"
    init_offers = (INIT_OFFER,)
    summary = "An RSS or Atom feed (a website's news, a blog)."
    Options = FeedOptions
    config: FeedOptions
    source_actions = ("mirror",)
    SourceStepOptions = PostSourceOptions

    def open_source(self, location: str, step: StepContext) -> FeedSource:
        return FeedSource(self.config.url, float(self.config.timeout), dict(step.state),
                          PostFilter(self.source_options(step)))


class FeedSource(Source):
    def __init__(self, url: str, timeout: float, state: dict[str, Any],
                 filters: PostFilter) -> None:
        import requests  # only feeds need it here

        self.url, self.timeout, self.state, self.filters = url, timeout, state, filters
        self.session = requests.Session()

    def list_items(self) -> Listing:
        import feedparser
        import requests

        headers = {"User-Agent": "transhumance (migrate feed)"}
        if self.state.get("etag"):
            headers["If-None-Match"] = self.state["etag"]
        if self.state.get("last_modified"):
            headers["If-Modified-Since"] = self.state["last_modified"]
        try:
            response = self.session.get(self.url, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise ConnectorError(_("cannot read the feed {url}: {reason}").format(
                url=self.url, reason=type(error).__name__)) from None
        if response.status_code == 304:
            return Listing([], cursor=self.state)  # nothing new since the last run
        if response.status_code in (401, 403):
            raise FatalError(_("the website refuses to give the feed {url} (HTTP {code})")
                             .format(url=self.url, code=response.status_code))
        if response.status_code >= 400:
            raise ConnectorError(_("the feed {url} answered HTTP {code}").format(
                url=self.url, code=response.status_code))
        parsed = feedparser.parse(response.content,
                                  response_headers={k.lower(): v for k, v in
                                                    response.headers.items()})
        if parsed.bozo and not parsed.entries:
            raise ConnectorError(_("{url} is not an RSS or Atom feed ({reason})").format(
                url=self.url, reason=parsed.get("bozo_exception")))
        platform = str(parsed.feed.get("title") or self.url)
        items = [self._item(entry, platform, parsed.feed.get("language"))
                 for entry in parsed.entries]
        cursor = {k: v for k, v in (("etag", response.headers.get("ETag")),
                                    ("last_modified", response.headers.get("Last-Modified")))
                  if v}
        return Listing(chronological(items), cursor=cursor,
                       posts=PostTally(len(parsed.entries)))

    def _item(self, entry: Any, platform: str, language: str | None) -> SourceItem:
        key = entry.get("id") or entry.get("guid") or entry.get("link")
        if not key:  # listed all the same, so the plan says why it is left out
            return make_post(content_key("feed", entry.get("title"), entry.get("summary")),
                             {"text": _plain(entry.get("title") or "")},
                             _("this feed entry has no id and no link to know it by"))
        title = _plain(entry.get("title") or "")
        summary = _plain(entry.get("summary") or "")
        text = title if not summary or summary.startswith(title) else f"{title}\n\n{summary}"
        if not title:
            text = summary
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        created = (dt.datetime.fromtimestamp(calendar.timegm(when), dt.UTC).isoformat()
                   if when else "")
        meta: dict[str, Any] = {
            "text": text, "created_at": created,
            "language": (entry.get("language") or language or "")[:2].lower() or None,
            "url": entry.get("link") or (key if str(key).startswith("http") else None),
            "platform": platform, "media": [], "reply_to_url": None,
            "mentions": [], "hashtags": [t.get("term") for t in entry.get("tags") or []
                                         if t.get("term")],
        }
        return make_post(f"feed:{key}", meta, self.filters.reason(meta))

    def close(self) -> None:
        self.session.close()


def _plain(markup: str) -> str:
    """HTML to readable text: paragraphs kept, tags dropped, entities decoded."""
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", markup)
    text = html.unescape(TAGS.sub("", text))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
