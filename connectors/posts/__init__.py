"""What every social-post source shares: the shape of a post, the step's filters, archives.

A post source yields `SourceItem`s of kind POST, oldest first (a self-reply after its parent),
made by `make_post` from a dict of `PostMeta`'s fields (migrate/item_meta.py), which the item
carries as its `data`:

    text          the post's text, links already expanded (str)
    created_at    ISO 8601 with a UTC offset (str)
    language      ISO 639-1 code or None
    url           the post's original address; targets use it as the post's marker
    platform      "Twitter", "Facebook", a feed's title… (for the origin line)
    media         [{"path": file inside the archive, "alt": text or None, "type": "image"|
                   "video"|"gifv", "url": original address or None}]
    reply_to_url  the original address of the post this one answers in a self-thread, or None
    mentions      [{"name": "handle", "url": profile address}]
    hashtags      ["tag", …]

Filters (`since`, `until`, `include_text`, `exclude_text`, `replies`, `reposts`) are applied
here, as skip reasons, so `migrate plan` shows every left-out post and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from connectors.posts.text import detect_language, nothing_to_post, repair_links, repair_mojibake
from migrate import archives
from migrate.connector import Listing, Source
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _, message_of
from migrate.item_meta import PostMeta, post_of
from migrate.model import Fingerprint, ItemKind, SourceItem
from migrate.options import option
from migrate.post_counts import PostTally

__all__ = ["repair_mojibake"]  # re-exported: the sources' tests reach it here

#: Pictures one status holds on Mastodon (and mastodon-mock); a post with more is continued
#: by statuses answering it, so none is lost (a server allowing more still gets all of them).
PICTURES_PER_STATUS = 4


@dataclass(frozen=True, kw_only=True)
class PostSourceOptions:
    """The step options of every post source (its `SourceStepOptions`)."""

    since: dt.date | None = option(
        "date", help="Only posts published on or after this day (YYYY-MM-DD).")
    until: dt.date | None = option(
        "date", help="Only posts published before this day (YYYY-MM-DD).")
    include_text: tuple[str, ...] = option(
        "list", item_kind="string",
        help="Only posts whose text contains one of these patterns (regular expressions, "
             "case-insensitive).")
    exclude_text: tuple[str, ...] = option(
        "list", item_kind="string",
        help="Leave out posts whose text contains one of these patterns (regular "
             "expressions, case-insensitive).")
    replies: str = option(
        choices=("self_threads_only", "skip_all"), default="self_threads_only",
        help="Replies: keep your own threads (default) or leave out every reply. Replies to "
             "other people are always left out: they make no sense without the conversation.")
    reposts: str = option(
        choices=("skip", "link"), default="skip",
        help="Reposts (retweets, shares): leave them out (default), or post a short note "
             "saying whose post it was, with its start and a link to the original.")


def make_post(key: str, meta: dict[str, Any], skip_reason: str | None = None) -> SourceItem:
    """A post item: readable path (date and start of the text), content-hash fingerprint.

    Every source comes through here: links left in mojibake are repaired, the language is
    recognised where the export does not say it, and a post with nothing of its own to post
    is skipped with its reason (never a status holding only its origin line).
    """
    meta = {**meta, "text": repair_links(str(meta.get("text") or ""))}
    if not meta.get("language"):
        meta["language"] = detect_language(meta["text"])
    skip_reason = skip_reason or nothing_to_post(meta)
    created = meta.get("created_at") or ""
    first_line = " ".join(str(meta.get("text") or "").split())[:60] or key
    path = f"{created[:10]} {first_line}".strip().replace("/", "∕").replace("\\", "∖")
    digest = hashlib.sha256(repr(sorted(meta.items())).encode()).hexdigest()[:24]
    return SourceItem(key=key, path=path, kind=ItemKind.POST,
                      fingerprint=Fingerprint(checksum=f"sha256:{digest}"),
                      skip_reason=skip_reason, data=PostMeta.from_json(meta))


class PostFilter:
    """The step's filters; `reason(meta)` says why a post is left out, or None."""

    def __init__(self, options: PostSourceOptions) -> None:
        self.since, self.until = options.since, options.until
        self.include = [re.compile(p, re.IGNORECASE) for p in options.include_text]
        self.exclude = [re.compile(p, re.IGNORECASE) for p in options.exclude_text]
        self.replies, self.reposts = options.replies, options.reposts

    def reason(self, meta: Mapping[str, Any], is_reply_to_other: bool = False,
               is_repost: bool = False) -> str | None:
        if is_repost and self.reposts == "skip":
            return _("a repost of someone else's post (reposts: skip)")
        if is_reply_to_other:
            return _("a reply to someone else: it makes no sense without the conversation")
        if meta.get("reply_to_url") and self.replies == "skip_all":
            return _("a reply in your own thread (replies: skip_all)")
        day = dt.date.fromisoformat(str(meta.get("created_at") or "0001-01-01")[:10])
        if self.since and day < self.since:
            return _("published before {day} (since)").format(day=self.since.isoformat())
        if self.until and day >= self.until:
            return _("published on or after {day} (until)").format(day=self.until.isoformat())
        text = str(meta.get("text") or "")
        if self.include and not any(p.search(text) for p in self.include):
            return _("its text matches none of the include_text patterns")
        if any(p.search(text) for p in self.exclude):
            return _("its text matches an exclude_text pattern")
        return None


def content_key(prefix: str, *parts: object) -> str:
    """A stable key for a post that has no id: a hash of what defines it (date, text)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}:{digest[:20]}"


def entries_of(data: Any) -> list[dict[str, Any]]:
    """The list of posts in a file: the file itself, or the one list inside its object."""
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), [])
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def iso_from_timestamp(value: Any) -> str:
    """Seconds since the epoch → ISO 8601 in UTC ("" when absent or not a number)."""
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


def media_type(name: str) -> str:
    """"image", "gifv" or "video", from a file name's extension."""
    extension = name.rsplit(".", 1)[-1].lower()
    if extension in ("mp4", "mov", "m4v", "webm", "avi"):
        return "video"
    return "gifv" if extension == "gif" else "image"


def repost_text(author: str | None, excerpt: str, link: str | None) -> str:
    """The short post `reposts: link` makes of a repost: whose it was, its start, its link.

    The origin line adds the repost's own address, which on Twitter leads to the original.
    """
    excerpt = " ".join(excerpt.split())
    if len(excerpt) > 200:
        excerpt = excerpt[:200].rsplit(" ", 1)[0] + "…"
    head = (_("Shared from {author}:").format(author=author) if author else _("Shared:"))
    return "\n\n".join(part for part in (f"{head} {excerpt}".strip(), link or "") if part)


def chronological(items: Iterable[SourceItem]) -> list[SourceItem]:
    """Oldest first, so a thread's parent is always written before its replies."""
    return sorted(items, key=lambda i: (str(post_of(i).created_at or ""), i.key))


class Archive:
    """A platform export given as a zip file or as the folder it was extracted to.

    A damaged or truncated zip gives one plain message naming the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._names: list[str] | None = None
        if not path.exists():
            raise FatalError(_("the export {path} does not exist").format(path=path))
        if path.is_file():
            self._zip = archives.open_zip(path)  # bounded, checked reads: migrate/archives.py

    def damaged(self, error: Exception) -> FatalError:
        return FatalError(_("{path} is not a readable zip archive ({reason}); it may be damaged "
                            "or incompletely downloaded: download the export again, or extract "
                            "it and give the folder instead").format(path=self.path,
                                                                     reason=error))

    def names(self) -> list[str]:
        """Every file inside, as forward-slash paths relative to the archive's root."""
        if self._names is None:
            if self._zip is not None:
                self._names = [n for n in self._zip.namelist() if not n.endswith("/")]
            else:
                self._names = sorted(p.relative_to(self.path).as_posix()
                                     for p in self.path.rglob("*") if p.is_file())
        return self._names

    def find(self, relative: str) -> str | None:
        """The file a path written inside the export refers to, even below a top folder."""
        relative = relative.lstrip("/")
        names = self.names()
        if relative in names:
            return relative
        return next((n for n in names if n.endswith("/" + relative)), None)

    def read_json(self, name: str) -> Any:
        """A JSON file of the export; a damaged one gives a plain message naming it."""
        try:
            return json.loads(self.read_text(name))
        except RecursionError:
            raise FatalError(_("{name} in {path} nests too deeply to be a real export").format(
                name=name, path=self.path)) from None
        except json.JSONDecodeError as error:
            raise FatalError(_("{name} in {path} is damaged (line {line}): download the export "
                               "again").format(name=name, path=self.path,
                                               line=error.lineno)) from None

    def read_text(self, name: str) -> str:
        """UTF-8 (with or without BOM), or UTF-16 when a BOM says so (LinkedIn, 2018)."""
        try:
            if self._zip is not None:
                data = archives.read_entry(self._zip, name)  # bounded, checked
            else:
                data = (self.path / name).read_bytes()
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                return data.decode("utf-16")
            return data.decode("utf-8-sig")
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise self.damaged(error) from None
        except UnicodeDecodeError:
            raise FatalError(_("{name} in {path} is not UTF-8 text").format(
                name=name, path=self.path)) from None

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """Stream one file; a missing one skips the item that needs it."""
        if name not in self.names():
            raise SkipItem(_("{name} is missing from {path}").format(name=name, path=self.path))
        try:
            if self._zip is not None:
                with archives.open_entry(self._zip, name) as stream:
                    yield stream  # type: ignore[misc]
            else:
                with open(self.path / name, "rb") as stream:
                    yield stream
        except archives.ArchiveError as error:  # this one file only: the other posts go on
            raise SkipItem(message_of(error)) from None  # still a message: any language

    def size(self, name: str) -> int | None:
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        target = self.path / name
        return target.stat().st_size if target.exists() else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def unknown_layout(self, platform: str, expected: str) -> FatalError:
        """The error for an export holding none of the files its source reads."""
        names = self.names()
        if any(n.rsplit("/", 1)[-1] in ("outbox.json", "actor.json") for n in names):
            return FatalError(_("{path} is a Mastodon account export (outbox.json), not a "
                                "{platform} export: to bring a Mastodon account's posts "
                                "elsewhere, use the server's own account migration").format(
                path=self.path, platform=platform))
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        return FatalError(_("{path} does not look like a {platform} export: it holds none of "
                            "the files expected ({expected}); found: {found}. Check that you "
                            "gave the right file or folder").format(
            path=self.path, platform=platform, expected=expected,
            found=shown or _("nothing")))


class ExportPostSource(Source):
    """What the sources of platform exports without post ids (Facebook, Instagram) share: read
    every posts file in order, turn each entry into a post, number identical posts made in the
    same second, and stream media from the export.

    A subclass gives `post_files(names)`, `find_profile(names)` and `post(entry, profile,
    unique)`, where `unique(key)` numbers a key seen before; `platform` and `expected` name the
    export and its posts files for the error an unknown layout gives.
    """

    default_profile = ""
    platform = ""
    expected = ""

    def __init__(self, archive: Archive, filters: PostFilter, profile_url: str | None) -> None:
        self.archive, self.filters, self.profile_url = archive, filters, profile_url

    def list_items(self) -> Listing:
        names = self.archive.names()
        profile = (self.profile_url or self.find_profile(names)
                   or self.default_profile).rstrip("/")
        files = self.post_files(names)
        if not files:
            raise self.archive.unknown_layout(self.platform, self.expected)
        items: list[SourceItem] = []
        seen: dict[str, int] = {}
        entries = 0
        for name in files:
            for index, entry in enumerate(entries_of(self.archive.read_json(name))):
                entries += 1
                try:
                    item = self.post(entry, profile, lambda key: _numbered(key, seen))
                except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
                    # One malformed entry (a field of the wrong type) never stops the others.
                    item = make_post(content_key("malformed", name, index), {
                        "text": "", "created_at": ""}, _(
                        "entry {n} of {name} is malformed ({problem}); it was left out").format(
                        n=index + 1, name=name, problem=type(error).__name__))
                if item is not None:
                    items.extend(with_more_pictures(item))
        return Listing(chronological(items), posts=PostTally(entries))

    def post_files(self, names: list[str]) -> list[str]:
        raise NotImplementedError

    def find_profile(self, names: list[str]) -> str | None:
        raise NotImplementedError

    def post(self, entry: dict[str, Any], profile: str,
             unique: Callable[[str], str]) -> SourceItem:
        raise NotImplementedError

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        """Streams a picture or video: `item.path` is its path inside the export."""
        return self.archive.open(item.path)

    def close(self) -> None:
        self.archive.close()


def _numbered(key: str, seen: dict[str, int]) -> str:
    """Two identical posts in the same second: keep both, numbered stably in export order."""
    seen[key] = seen.get(key, 0) + 1
    return key if seen[key] == 1 else f"{key}-{seen[key]}"


def with_more_pictures(item: SourceItem) -> list[SourceItem]:
    """A post with more pictures than a status holds, and the statuses continuing it.

    Mastodon takes at most `PICTURES_PER_STATUS` pictures in a status, and a video only alone
    (`media_attachments.validations.images_and_video` in its PostStatusService). The post
    keeps its first group (and the pictures missing from the export, which count for
    nothing); each continuation answers the one before it, with the next group and a short
    counter ("📷 5–8/9") as its text, so it is never empty.
    """
    post = post_of(item)
    media = list(post.media)
    groups = _status_groups([m for m in media if m.get("path")])
    if len(groups) <= 1:
        return [item]
    head_media = groups[0] + [m for m in media if not m.get("path")]
    fields = post.to_json()
    parts = [make_post(item.key, {**fields, "media": head_media}, item.skip_reason)]
    total = sum(len(group) for group in groups)
    first = len(groups[0])
    for number, group in enumerate(groups[1:], 2):
        shown = f"{first + 1}–{first + len(group)}" if len(group) > 1 else f"{first + 1}"
        first += len(group)
        previous = post_of(parts[-1])
        meta = {**fields, "media": group, "hashtags": [], "mentions": [],
                "text": f"📷 {shown}/{total}",
                "language": post.language, "part_of": item.key,
                "url": f"{post.url}-{number}",
                "reply_to_url": previous.url,
                # a continuation is published just after its post, in the same second
                "created_at": previous.created_at}
        parts.append(make_post(f"{item.key}#pictures{number}", meta, item.skip_reason))
    return parts


def _status_groups(media: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Media in the order of the post, cut into what one status holds: up to
    `PICTURES_PER_STATUS` pictures (or animated GIFs), or one video alone."""
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for one in media:
        if one.get("type") == "video":
            groups += [current, [one]] if current else [[one]]
            current = []
            continue
        current.append(one)
        if len(current) == PICTURES_PER_STATUS:
            groups.append(current)
            current = []
    return [*groups, current] if current else groups
