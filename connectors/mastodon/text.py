"""Turning a source post into the text of one status or of a thread.

Pure functions, so the same post always gives the same statuses: an interrupted thread is
resumed part by part, and `verify` can count the parts a post needs.

Lengths are counted the way Mastodon does, except that a link counts for the larger of its
length and the instance's `characters_reserved_per_url`: the result then fits on Mastodon, which
counts every link as 23 characters, and on servers that count links as written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.mastodon.options import MastodonStepOptions

from migrate.item_meta import PostMeta

URL = re.compile(r"https?://\S+")
MENTION = re.compile(r"(?<![\w@])@(\w{1,30})\b")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
WORD_JOINER = "\u2060"  # keeps "@name" from mentioning a same-named account on the instance

MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}
ORIGIN_LINES = {
    "fr": "Publié initialement sur {platform} le {date} : {url}",
    "en": "First published on {platform} on {date}: {url}",
}


def post_language(post: PostMeta, options: MastodonStepOptions) -> str | None:
    """The post's language: what the source says (the export, or the source's language
    identification when it is confident: connectors/posts/text.py), else the step's
    `language`; None if unsure, so the origin line is in English rather than mislabelled."""
    return post.language or options.language


@dataclass(frozen=True)
class Limits:
    """The instance's limits, from `/api/v2/instance` (defaults: Mastodon's)."""

    max_characters: int = 500
    characters_per_url: int = 23
    max_media: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    description_limit: int = 1500


def weight(text: str, limits: Limits) -> int:
    """The length a server counts (links at least `characters_per_url`)."""
    total = len(text)
    for link in URL.findall(text):
        total += max(0, limits.characters_per_url - len(link))
    return total


def rewrite_mentions(text: str, accounts: Mapping[str, str], profile_base: str | None) -> str:
    """`@old` → the mapped fediverse account, else a plain `@old` that mentions nobody here."""
    lowered = {k.lower().lstrip("@"): v for k, v in accounts.items()}

    def replace(match: re.Match[str]) -> str:
        mapped = lowered.get(match.group(1).lower())
        if mapped:
            return "@" + mapped.lstrip("@")
        return "@" + WORD_JOINER + match.group(1)

    return MENTION.sub(replace, text)


def mention_links(post: PostMeta, accounts: Mapping[str, str]) -> list[str]:
    """Profile links of the unmapped people a post mentions, once each."""
    mapped = {k.lower().lstrip("@") for k in accounts}
    seen: dict[str, str] = {}
    for mention in post.mentions:
        name = str(mention.get("name") or "")
        if name and name.lower() not in mapped and mention.get("url"):
            seen.setdefault(name.lower(), str(mention["url"]))
    return list(seen.values())


def origin_line(post: PostMeta, template: str | None, language: str | None) -> str:
    """"Publié initialement sur Twitter le 23 juillet 2020 : <link>" in the post's language."""
    lang = language if language in ORIGIN_LINES else "en"
    chosen = template or ORIGIN_LINES[lang]
    created = str(post.created_at or "")
    try:
        day = dt.date.fromisoformat(created[:10])
        date = (f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}" if lang == "fr"
                else f"{MONTHS['en'][day.month - 1]} {day.day}, {day.year}")
    except ValueError:
        date = "?"
    return chosen.format(platform=post.platform or "?", date=date, url=post.url or "").strip()


def compose(post: PostMeta, options: MastodonStepOptions, limits: Limits,
            notes: Sequence[str] = ()) -> list[str]:
    """The statuses for one post: one, or a thread (`long_posts: thread`), or one truncated.

    `notes` end the text (links to what could not be attached). The origin line ends the
    first status; its link is the post's marker.
    """
    body = rewrite_mentions(post.text, options.accounts, None)
    extra = mention_links(post, options.accounts) if options.mention_links else []
    if extra:
        body = f"{body}\n\n" + " ".join(extra)
    body = "\n\n".join([body, *notes]).strip()
    origin = origin_line(post, options.origin_line, post_language(post, options))
    single = f"{body}\n\n{origin}".strip()
    if weight(single, limits) <= limits.max_characters:
        return [single]
    if options.long_posts == "truncate":
        room = limits.max_characters - weight(origin, limits) - 3
        return [f"{_cut(body, room - 1, limits)}…\n\n{origin}"]
    return _thread(body, origin, limits)


def _thread(body: str, origin: str, limits: Limits) -> list[str]:
    counter_room = len(" (99/99)")
    first_room = limits.max_characters - weight(origin, limits) - 2 - counter_room
    rest_room = limits.max_characters - counter_room
    parts: list[str] = []
    remaining = body
    while remaining:
        room = first_room if not parts else rest_room
        piece = _cut(remaining, room, limits)
        parts.append(piece)
        remaining = remaining[len(piece):].strip()
    total = len(parts)
    numbered = [f"{part} ({index}/{total})" for index, part in enumerate(parts, 1)]
    numbered[0] = f"{numbered[0]}\n\n{origin}"
    return numbered


def _cut(text: str, room: int, limits: Limits) -> str:
    """The longest start of `text` that fits in `room`, ending at a sentence, else a word."""
    if weight(text, limits) <= room:
        return text
    best_sentence = best_word = 0
    for match in SENTENCE_END.finditer(text):
        if weight(text[:match.start()], limits) > room:
            break
        best_sentence = match.start()
    for match in re.finditer(r"\s+", text):
        if weight(text[:match.start()], limits) > room:
            break
        best_word = match.start()
    cut = best_sentence if best_sentence >= room // 2 else best_word
    if cut <= 0:  # one endless word: cut it where it must be cut
        cut = max(1, room)
    return text[:cut].rstrip()
