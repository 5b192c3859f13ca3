"""What every social-post source shares: the shape of a post, the step's filters, archives.

A post source yields `SourceItem`s of kind POST, oldest first (a self-reply after its parent),
whose `meta` holds:

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from migrate import archives
from migrate.connector import Listing, Source
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _
from migrate.model import Fingerprint, ItemKind, SourceItem
from migrate.options import Option, OptionSet

POST_SOURCE_STEP_OPTIONS = OptionSet((
    Option("since", "date", help="Only posts published on or after this day (YYYY-MM-DD)."),
    Option("until", "date", help="Only posts published before this day (YYYY-MM-DD)."),
    Option("include_text", "list", item_kind="string",
           help="Only posts whose text contains one of these patterns (regular expressions, "
                "case-insensitive)."),
    Option("exclude_text", "list", item_kind="string",
           help="Leave out posts whose text contains one of these patterns (regular "
                "expressions, case-insensitive)."),
    Option("replies", choices=("self_threads_only", "skip_all"), default="self_threads_only",
           help="Replies: keep your own threads (default) or leave out every reply. Replies to "
                "other people are always left out: they make no sense without the conversation."),
    Option("reposts", choices=("skip", "link"), default="skip",
           help="Reposts (retweets, shares): leave them out (default), or post a short note "
                "saying whose post it was, with its start and a link to the original."),
))


def make_post(key: str, meta: dict[str, Any], skip_reason: str | None = None) -> SourceItem:
    """A post item: readable path (date and start of the text), content-hash fingerprint."""
    created = meta.get("created_at") or ""
    first_line = " ".join(str(meta.get("text") or "").split())[:60] or key
    path = f"{created[:10]} {first_line}".strip().replace("/", "∕").replace("\\", "∖")
    digest = hashlib.sha256(repr(sorted(meta.items())).encode()).hexdigest()[:24]
    return SourceItem(key=key, path=path, kind=ItemKind.POST,
                      fingerprint=Fingerprint(checksum=f"sha256:{digest}"), meta=meta,
                      skip_reason=skip_reason)


class PostFilter:
    """The step's filters; `reason(meta)` says why a post is left out, or None."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.since: dt.date | None = options.get("since")
        self.until: dt.date | None = options.get("until")
        self.include = [re.compile(p, re.IGNORECASE) for p in options.get("include_text") or []]
        self.exclude = [re.compile(p, re.IGNORECASE) for p in options.get("exclude_text") or []]
        self.replies = options.get("replies", "self_threads_only")
        self.reposts = options.get("reposts", "skip")

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


def repair_mojibake(text: str) -> str:
    """Facebook and Instagram exports escape each UTF-8 byte as `\\u00XX`: "Ã©tÃ©" → "été".

    Repaired only where it applies: every character below 256 and the bytes valid UTF-8, so
    correct text ("été" typed as Latin-1, an emoji) is left as it is.
    """
    if text.isascii() or any(ord(char) > 255 for char in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return text


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
    return sorted(items, key=lambda i: (str(i.meta.get("created_at") or ""), i.key))


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
        try:
            if self._zip is not None:
                return archives.read_entry(self._zip, name).decode("utf-8-sig")
            return (self.path / name).read_text(encoding="utf-8-sig")
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
            raise SkipItem(str(error)) from None

    def size(self, name: str) -> int | None:
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        target = self.path / name
        return target.stat().st_size if target.exists() else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


class ExportPostSource(Source):
    """What the sources of platform exports without post ids (Facebook, Instagram) share: read
    every posts file in order, turn each entry into a post, number identical posts made in the
    same second, and stream media from the export.

    A subclass gives `post_files(names)`, `find_profile(names)` and `post(entry, profile,
    unique)`, where `unique(key)` numbers a key seen before.
    """

    default_profile = ""

    def __init__(self, archive: Archive, filters: PostFilter, profile_url: str | None) -> None:
        self.archive, self.filters, self.profile_url = archive, filters, profile_url

    def list_items(self) -> Listing:
        names = self.archive.names()
        profile = (self.profile_url or self.find_profile(names)
                   or self.default_profile).rstrip("/")
        items: list[SourceItem] = []
        seen: dict[str, int] = {}
        for name in self.post_files(names):
            for index, entry in enumerate(entries_of(self.archive.read_json(name))):
                try:
                    item = self.post(entry, profile, lambda key: _numbered(key, seen))
                except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
                    # One malformed entry (a field of the wrong type) never stops the others.
                    item = make_post(content_key("malformed", name, index), {
                        "text": "", "created_at": ""}, _(
                        "entry {n} of {name} is malformed ({problem}); it was left out").format(
                        n=index + 1, name=name, problem=type(error).__name__))
                if item is not None:
                    items.append(item)
        return Listing(chronological(items))

    def post_files(self, names: list[str]) -> list[str]:
        raise NotImplementedError

    def find_profile(self, names: list[str]) -> str | None:
        raise NotImplementedError

    def post(self, entry: dict[str, Any], profile: str,
             unique: Callable[[str], str]) -> SourceItem | None:
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
