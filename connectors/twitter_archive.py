"""`twitter_archive`: the zip (or folder) from Twitter/X's "Download an archive of your data".

Known variants, all accepted: `data/tweets.js` (`window.YTD.tweets.part0 = [...]`) with
`tweets-part1.js`…, the older `tweet.js` (`window.YTD.tweet.part0`), entries with or without
the `{"tweet": …}` wrapper, media in `data/tweets_media/` or the older `tweet_media/`, and a
top-level folder inside the zip. The account's own handle (`data/account.js`) tells a
self-thread from a reply to someone else.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO

from connectors.posts import (
    Archive,
    PostFilter,
    PostSourceOptions,
    chronological,
    make_post,
    repost_text,
)
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.errors import FatalError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.model import SourceItem
from migrate.options import option
from migrate.post_counts import PostTally

TWEET_FILES = re.compile(r"(?:^|/)(?:data/)?tweets?(?:-part(\d+))?\.js$")
ACCOUNT_FILE = re.compile(r"(?:^|/)(?:data/)?account\.js$")
MEDIA_FOLDERS = re.compile(r"(?:^|/)(?:data/)?tweets?_media/([^/]+)$")
RETWEET = re.compile(r"RT @(\w+):?\s*")
CREATED_FORMAT = "%a %b %d %H:%M:%S %z %Y"


@dataclass(frozen=True, kw_only=True)
class TwitterArchiveOptions:
    path: str = option(required=True,
                       help="The archive: the .zip file, or the folder it was extracted to "
                            "(absolute or relative to the plan file).")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The Twitter/X archive (the zip from 'Download an archive of your data').\n"
            "  # L'archive Twitter/X (le zip de « Télécharger une archive de vos données »).\n"
            f"  posts_source: {{type: twitter_archive, path: {quoted(answers['twitter_path'])}}}")


#: What `migrate init` offers: the posts of a Twitter/X archive, as a source.
INIT_OFFER = Offer(
    moves="posts", role="source", choice="twitter", phrase=N_("from a Twitter/X archive"),
    connection=_init_connection, reference=lambda answers: "posts_source",
    questions=(Question("twitter_path", N_("Path of the Twitter/X archive (zip), relative to "
                                           "the client's folder"), "exports/twitter.zip"),),
    rank=10)


class TwitterArchiveConnector(Connector):
    name = "twitter_archive"
    init_offers = (INIT_OFFER,)
    summary = "A Twitter/X archive: the zip from 'Download an archive of your data', or its folder."
    Options = TwitterArchiveOptions
    config: TwitterArchiveOptions
    source_actions = ("mirror",)
    SourceStepOptions = PostSourceOptions

    def open_source(self, location: str, step: StepContext) -> TwitterArchiveSource:
        path = (self.base_dir / self.config.path).expanduser()
        return TwitterArchiveSource(Archive(path), PostFilter(self.source_options(step)))


def parse_ytd(text: str, name: str) -> list[Any]:
    """`window.YTD.tweets.part0 = [ … ]` → the list (the assignment prefix varies by year)."""
    start = text.find("[")
    if start < 0:
        raise FatalError(_("{name} does not look like a Twitter archive file").format(name=name))
    try:
        data = json.loads(text[start:])
    except RecursionError:
        raise FatalError(_("{name} nests too deeply to be a Twitter archive file").format(
            name=name)) from None
    except json.JSONDecodeError as error:
        raise FatalError(_("{name} is damaged (line {line}): download the archive again")
                         .format(name=name, line=error.lineno)) from None
    return data if isinstance(data, list) else []


class TwitterArchiveSource(Source):
    def __init__(self, archive: Archive, filters: PostFilter) -> None:
        self.archive, self.filters = archive, filters

    def list_items(self) -> Listing:
        names = self.archive.names()
        tweet_files = sorted((n for n in names if TWEET_FILES.search(n)),
                             key=lambda n: int(TWEET_FILES.search(n).group(1) or 0))  # type: ignore[union-attr]
        if not tweet_files:
            raise self.archive.unknown_layout("Twitter", "data/tweets.js or data/tweet.js")
        media = self._media_files(names)
        handle = self._own_handle(names)
        tweets: dict[str, dict[str, Any]] = {}
        tally = PostTally()
        unreadable: list[SourceItem] = []
        for name in tweet_files:
            for index, entry in enumerate(parse_ytd(self.archive.read_text(name), name)):
                tally.entries += 1
                tweet = entry.get("tweet", entry) if isinstance(entry, dict) else None
                tweet_id = str(tweet.get("id_str") or tweet.get("id") or "") \
                    if isinstance(tweet, dict) else ""
                if not tweet_id:
                    unreadable.append(make_post(f"twitter:{name}#{index}", {"text": ""}, _(
                        "entry {n} of {name} is not a tweet (no id)").format(n=index + 1,
                                                                            name=name)))
                elif tweet_id in tweets:
                    tally.merged += 1  # the same tweet in two parts of the archive
                else:
                    tweets[tweet_id] = tweet
        items = [self._item_or_skip(key, tweet, handle, tweets, media)
                 for key, tweet in tweets.items()]
        return Listing(chronological(items + unreadable), posts=tally)

    def _own_handle(self, names: list[str]) -> str | None:
        for name in names:
            if ACCOUNT_FILE.search(name):
                for entry in parse_ytd(self.archive.read_text(name), name):
                    account = entry.get("account", entry) if isinstance(entry, dict) else {}
                    if isinstance(account, dict) and account.get("username"):
                        return str(account["username"])
        return None

    def _media_files(self, names: list[str]) -> dict[str, list[str]]:
        """tweet id → its media files (named `<tweet id>-<original name>`)."""
        found: dict[str, list[str]] = {}
        for name in names:
            match = MEDIA_FOLDERS.search(name)
            if match and "-" in match.group(1):
                found.setdefault(match.group(1).split("-", 1)[0], []).append(name)
        return found

    def _item_or_skip(self, key: str, tweet: dict[str, Any], handle: str | None,
                      tweets: dict[str, Any], media: dict[str, list[str]]) -> SourceItem:
        """One malformed tweet (a field of the wrong type) is skipped with its reason; the
        others go on."""
        try:
            return self._item(tweet, handle, tweets, media)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
            return make_post(f"twitter:{key}", {"text": "", "created_at": ""}, _(
                "this tweet's entry in the archive is malformed ({problem}); it was left out")
                .format(problem=type(error).__name__))

    def _item(self, tweet: dict[str, Any], handle: str | None, tweets: dict[str, Any],
              media_files: dict[str, list[str]]) -> SourceItem:
        tweet_id = str(tweet.get("id_str") or tweet.get("id"))
        entities = tweet.get("entities") or {}
        text = html.unescape(str(tweet.get("full_text") or tweet.get("text") or ""))
        for url in entities.get("urls") or []:
            if url.get("url") and url.get("expanded_url"):
                text = text.replace(url["url"], url["expanded_url"])
        media = self._media(tweet, tweet_id, media_files.get(tweet_id, []))
        for attachment in (tweet.get("extended_entities") or entities).get("media") or []:
            if attachment.get("url"):  # the t.co link standing for the pictures themselves
                text = text.replace(attachment["url"], "")
        parent_id = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
        parent_handle = tweet.get("in_reply_to_screen_name")
        is_self_reply = bool(parent_id) and (
            (handle is not None and str(parent_handle or "").lower() == handle.lower())
            or (handle is None and str(parent_id) in tweets))
        if is_self_reply and handle:
            text = re.sub(rf"^(@{re.escape(handle)}\s+)+", "", text, flags=re.IGNORECASE)
        base = f"https://twitter.com/{handle}/status/" if handle else "https://twitter.com/i/web/status/"
        meta: dict[str, Any] = {
            "text": text.strip(),
            "created_at": _iso(tweet.get("created_at")),
            "language": _language(tweet.get("lang")),
            "url": base + tweet_id,
            "platform": "Twitter",
            "media": media,
            "reply_to_url": base + str(parent_id) if is_self_reply else None,
            "mentions": [{"name": m.get("screen_name"),
                          "url": f"https://twitter.com/{m.get('screen_name')}"}
                         for m in entities.get("user_mentions") or [] if m.get("screen_name")],
            "hashtags": [h.get("text") for h in entities.get("hashtags") or [] if h.get("text")],
        }
        is_repost = text.startswith("RT @") or bool(tweet.get("retweeted_status"))
        if is_repost and self.filters.reposts == "link":
            match = RETWEET.match(meta["text"])
            author = match.group(1) if match else None
            meta["text"] = repost_text(f"@{author}" if author else None,
                                       meta["text"][match.end():] if match else meta["text"],
                                       None)  # the origin line's link leads to the original
        reason = self.filters.reason(meta, is_reply_to_other=bool(parent_id) and not is_self_reply,
                                     is_repost=is_repost)
        started_by = _conversation_starter(tweet, handle, tweets) if is_self_reply else None
        if reason is None and started_by:
            # Decision 0321: alone it would open with other people's handles and answer
            # nothing; the conversation it continues is not migrated.
            reason = _("it continues a conversation started by @{name}, which is not migrated: "
                       "without it this reply makes no sense").format(name=started_by)
        return make_post(f"twitter:{tweet_id}", meta, reason)

    def _media(self, tweet: dict[str, Any], tweet_id: str, files: list[str]) -> list[dict]:
        entities = tweet.get("extended_entities") or tweet.get("entities") or {}
        found = []
        for attachment in entities.get("media") or []:
            kind = {"photo": "image", "animated_gif": "gifv"}.get(attachment.get("type"), "video")
            original = attachment.get("media_url_https") or attachment.get("media_url") or ""
            if kind != "image":
                variants = [v for v in (attachment.get("video_info") or {}).get("variants") or []
                            if v.get("url")]
                variants.sort(key=lambda v: int(v.get("bitrate") or 0), reverse=True)
                original = variants[0]["url"] if variants else original
            basename = original.rsplit("/", 1)[-1].split("?", 1)[0]
            path = next((f for f in files if f.endswith(f"{tweet_id}-{basename}")), None)
            if path is None and len(files) == 1:
                path = files[0]  # older archives renamed files; one candidate is unambiguous
            found.append({"path": path, "alt": attachment.get("ext_alt_text")
                          or attachment.get("alt_text"), "type": kind,
                          "url": attachment.get("expanded_url") or original or None,
                          **({"missing": True} if path is None else {})})
        return found

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        """Streams a media file: `item.path` is its path inside the archive."""
        return self.archive.open(item.path)

    def close(self) -> None:
        self.archive.close()


def _conversation_starter(tweet: dict[str, Any], handle: str | None,
                          tweets: dict[str, Any]) -> str | None:
    """The other person whose conversation this self-reply continues, if its chain of own
    replies goes back to a reply to someone else; None for a thread of one's own."""
    seen: set[str] = set()
    current = tweet
    while True:
        parent_id = str(current.get("in_reply_to_status_id_str")
                        or current.get("in_reply_to_status_id") or "")
        if not parent_id or parent_id in seen or parent_id not in tweets:
            return None
        seen.add(parent_id)
        current = tweets[parent_id]
        answered = str(current.get("in_reply_to_screen_name") or "")
        has_parent = current.get("in_reply_to_status_id_str") or current.get(
            "in_reply_to_status_id")
        if has_parent and handle and answered.lower() != handle.lower():
            return answered or "?"


def _iso(created: Any) -> str:
    if not created:
        return ""
    try:
        return dt.datetime.strptime(str(created), CREATED_FORMAT).isoformat()
    except ValueError:
        try:  # some exports carry ISO dates already
            return dt.datetime.fromisoformat(str(created).replace("Z", "+00:00")).isoformat()
        except ValueError:
            return ""


def _language(code: Any) -> str | None:
    """Twitter's `und`, `qme` (media only), `zxx`… are no language at all."""
    code = str(code or "")
    return code if re.fullmatch(r"[a-z]{2}", code) else None

