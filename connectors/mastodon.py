"""`mastodon`: post a source's posts on a Mastodon account (or any server speaking its API).

Never twice: every status is posted with an `Idempotency-Key` derived from the journal's key
(part *i* of a thread: `<key>-<i>`), and each post's first status ends with an origin line whose
last link is the original post's address — the post's *marker*. `list_entries` reads the
account's own statuses and names each by its marker, so the diff sees posts already there as
unchanged; `verify` looks for the marker before a post in doubt is written again (Mastodon
forgets idempotency keys after an hour). A thread cut short by a crash is completed, not
started over: its parts are counted by their "(i/n)" suffixes.

Threads: a long text becomes a thread (`long_posts: thread`), and a reply in the author's own
thread is posted as a reply to the last status of its parent. Writes go one at a time
(`max_jobs=1`) in the source's chronological order, so a parent is always there first.
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
import re
import time
from pathlib import Path
from typing import Any

from connectors.mastodon_client import MastodonClient
from connectors.mastodon_pacing import MEDIA, STATUSES, Deferral
from connectors.mastodon_schedule import (
    Spacing,
    can_backdate,
    original_date,
    parse_spacing,
    refuse_backdate,
    text_marker,
)
from connectors.mastodon_text import Limits, compose, post_language
from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import Option, OptionSet

HREF = re.compile(r'href="([^"]+)"')
PART = re.compile(r"\((\d+)/(\d+)\)\s*$")
PAGE = 40


class MastodonConnector(Connector):
    name = "mastodon"
    summary = "A Mastodon account (or GoToSocial, Akkoma… any server speaking Mastodon's API)."
    options = OptionSet((
        Option("url", "url", required=True, help="The instance's address (https://mastodon.example)."),
        Option("token", required=True, secret=True,
               help="An access token with 'read' and 'write' scopes (Preferences → Development "
                    "→ New application); give it as ${env:MASTODON_TOKEN}."),
        Option("timeout", "number", default=30, help="Seconds to wait for each answer."),
        Option("rate_windows", "mapping",
               help="Only if this server changed Mastodon's rate-limit windows: their length in "
                    "seconds, e.g. {statuses: 10800, media: 1800, requests: 300} (Mastodon's). "
                    "The limits themselves are read from the server's answers."),
        Option("max_wait", "number", default=300,
               help="Longest pause (seconds) for a rate limit within one run; posts that would "
                    "wait longer are left for the next run."),
    ))
    target_actions = ("mirror",)
    target_step_options = OptionSet((
        Option("long_posts", choices=("thread", "truncate"), default="thread",
               help="Posts longer than the instance allows: a thread split at sentences "
                    "(default), or one status cut short with a link to the original."),
        Option("visibility", choices=("public", "unlisted", "private"), default="public",
               help="Who sees the statuses."),
        Option("sensitive", "boolean", default=False,
               help="Mark pictures and videos as sensitive (hidden until clicked)."),
        Option("spoiler_text", help="A content warning shown before every status."),
        Option("language", help="Language (fr, en…) for posts whose source does not say; "
                                 "without it, French or English is recognised from the words."),
        Option("origin_line",
               help="The line ending each post, with {platform}, {date} and {url}. Default in "
                    "the post's language: 'Publié initialement sur {platform} le {date} : {url}'."),
        Option("accounts", "mapping",
               help="Old handles to fediverse accounts, e.g. {asso_velo: velo@mastodon.example}; "
                    "others are written as plain @name with a link to their old profile."),
        Option("mention_links", "boolean", default=True,
               help="Add the old profile links of mentioned people who are not in 'accounts'."),
        Option("media_timeout", "number", default=60,
               help="Seconds to wait for the server to process each picture or video."),
        Option("spacing",
               help="Schedule the posts instead of publishing them at once, one every this "
                    "long (e.g. 30m, 2h), so an import does not flood followers' timelines."),
        Option("backdate", "boolean", default=False,
               help="Give each post its original date. Only on servers that can (GoToSocial "
                    "0.18 and later); Mastodon cannot, and the step is refused there."),
    ))

    def open_target(self, location: str, step: StepContext) -> MastodonTarget:
        windows = {str(k): float(v) for k, v in (self.config.get("rate_windows") or {}).items()}
        client = MastodonClient(str(self.config["url"]), str(self.config["token"]),
                                float(self.config.get("timeout") or 30),
                                float(self.config.get("max_wait") or 300), windows)
        limits_file = (step.state_dir / "mastodon-rate-limits.json") if step.state_dir else None
        return MastodonTarget(client, dict(step.options), limits_file)


class MastodonTarget(Target):
    def __init__(self, client: MastodonClient, options: dict[str, Any],
                 limits_file: Path | None = None) -> None:
        self.client, self.options, self.limits_file = client, options, limits_file
        instance = self.client.call(self.client.api.instance_v2)
        self.limits = self._read_limits(instance)
        self.spacing = parse_spacing(options.get("spacing"))
        self.backdate = bool(options.get("backdate"))
        if self.backdate and not can_backdate(instance):
            raise refuse_backdate(instance, self.client.url)
        if self.backdate and self.spacing is not None:
            raise FatalError(_("'backdate' and 'spacing' cannot go together: posts dated in "
                               "the past cannot also be spread out in the future; keep one"))
        self.capabilities = Capabilities(max_post_length=self.limits.max_characters,
                                         default_jobs=1, max_jobs=1)
        self.account_id = self.client.call(self.client.api.account_verify_credentials)["id"]
        self._account = f"{self.client.url} {self.account_id}"
        if self.limits_file is not None:
            self.client.buckets.load(self.limits_file, self._account)
        self._statuses: dict[str, dict[str, Any]] | None = None
        self._threads: dict[str, list[str]] = {}  # marker → status ids of the post, in order
        self._scheduled: dict[str, dict[str, Any]] = {}  # marker → scheduled status
        self._spaced: Spacing | None = None
        self.deferral = Deferral()

    def _read_limits(self, instance: dict[str, Any]) -> Limits:
        config = instance.get("configuration") or {}
        statuses, media = config.get("statuses") or {}, config.get("media_attachments") or {}
        default = Limits()
        return Limits(
            max_characters=int(statuses.get("max_characters") or default.max_characters),
            characters_per_url=int(statuses.get("characters_reserved_per_url")
                                   or default.characters_per_url),
            max_media=int(statuses.get("max_media_attachments") or default.max_media),
            image_size_limit=int(media.get("image_size_limit") or default.image_size_limit),
            video_size_limit=int(media.get("video_size_limit") or default.video_size_limit),
            description_limit=int(media.get("description_limit") or default.description_limit))

    # -- reading the account ---------------------------------------------------------------

    def _load(self) -> None:
        """Every status of the account, once per run (paged), and the posts they make up."""
        if self._statuses is not None:
            return
        # Scheduled ones first: one published meanwhile is then found among the statuses.
        scheduled = self._fetch_scheduled()
        statuses: dict[str, dict[str, Any]] = {}
        page = self.client.call(self.client.api.account_statuses, self.account_id, limit=PAGE)
        while page:
            statuses.update({str(s["id"]): s for s in page})
            page = self.client.call(self.client.api.fetch_next, page)
        self._statuses = statuses
        children: dict[str, str] = {}
        for status in statuses.values():
            parent = status.get("in_reply_to_id")
            if parent is not None and _is_continuation(status):
                children[str(parent)] = str(status["id"])
        for status in sorted(statuses.values(), key=lambda s: int(s["id"])):
            marker = _marker(status)
            if marker is None or _is_continuation(status):
                continue
            chain = [str(status["id"])]
            while chain[-1] in children:
                chain.append(children[chain[-1]])
            self._threads.setdefault(marker, chain)
        for one in scheduled:
            marker = text_marker(str((one.get("params") or {}).get("text") or ""))
            if marker is not None and marker not in self._threads:
                self._scheduled.setdefault(marker, one)
        if self.spacing is not None:
            times = [_when(s) for s in self._scheduled.values()]
            self._spaced = Spacing(self.spacing, [t for t in times if t is not None])

    def _fetch_scheduled(self) -> list[dict[str, Any]]:
        """Statuses scheduled but not yet published (none where the server has no such list)."""
        found: list[dict[str, Any]] = []
        page = self.client.call_if_found(self.client.api.scheduled_statuses, limit=PAGE)
        while page:
            found.extend(page)
            page = self.client.call(self.client.api.fetch_next, page)
        return found

    def list_entries(self) -> list[TargetEntry]:
        self._load()
        assert self._statuses is not None
        return [*(TargetEntry(marker, ItemKind.POST, Fingerprint(),
                              {"id": ids[0], "url": self._statuses[ids[0]].get("url")})
                  for marker, ids in self._threads.items() if ids[0] in self._statuses),
                *(self._scheduled_entry(marker) for marker in self._scheduled)]

    def _scheduled_entry(self, marker: str) -> TargetEntry:
        scheduled = self._scheduled[marker]
        return TargetEntry(marker, ItemKind.POST, Fingerprint(),
                           {"id": str(scheduled["id"]),
                            "scheduled_at": str(scheduled.get("scheduled_at") or "")})

    def name_for(self, item: SourceItem) -> TargetName:
        # Without its original address a post cannot carry the marker that makes it
        # idempotent: known from the item alone, so the plan says it (write still checks).
        refusal = None if item.meta.get("url") else _(
            "this post has no original address to mark it with")
        return TargetName(str(item.meta.get("url") or f"post:{item.key}"), refusal=refusal)

    # -- writing ---------------------------------------------------------------------------

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        meta = dict(change.item.meta)
        if not meta.get("url"):
            raise SkipItem(_("this post has no original address to mark it with"))
        self._load()
        if change.target_name in self._scheduled:
            return self._scheduled_entry(change.target_name)
        parent = str(meta.get("reply_to_url") or "")
        if parent in self._scheduled:
            raise SkipItem(_("left for a later run: it answers a post scheduled for {time}, and "
                             "a reply can only be posted once its parent is published").format(
                                 time=_when(self._scheduled[parent]) or "?"))
        done = list(self._threads.get(change.target_name, []))
        self._make_room(meta, len(done))
        media_ids, notes = self._upload_media(change.item, source)
        meta["notes_for_text"] = notes
        parts = compose(meta, self.options, self.limits)
        self._make_room_for(meta, STATUSES, len(parts) - len(done), 0)
        done = done[: len(parts)]
        parent_ids = self._threads.get(str(meta.get("reply_to_url") or ""), [])
        reply_to = done[-1] if done else (parent_ids[-1] if parent_ids else None)
        if self._spaced is not None and len(parts) == 1 and reply_to is None:
            return self._schedule(change.target_name, parts[0], media_ids, meta,
                                  idempotency_key)
        for index in range(len(done), len(parts)):
            status = self.client.call(
                self.client.api.status_post, parts[index], in_reply_to_id=reply_to,
                media_ids=media_ids if index == 0 and media_ids else None,
                sensitive=bool(self.options.get("sensitive")) and bool(media_ids),
                spoiler_text=self.options.get("spoiler_text") or None,
                visibility=self.options.get("visibility") or "public",
                language=post_language(meta, self.options),
                scheduled_at=original_date(meta, index) if self.backdate else None,
                idempotency_key=idempotency_key if index == 0 else f"{idempotency_key}-{index}")
            reply_to = str(status["id"])
            done.append(reply_to)
            self._threads[change.target_name] = list(done)
            assert self._statuses is not None
            self._statuses[reply_to] = status
        first = self._statuses[done[0]] if self._statuses else {}
        return TargetEntry(change.target_name, ItemKind.POST, Fingerprint(),
                           {"id": done[0], "url": first.get("url"), "parts": len(done),
                            "notes": notes})

    def _schedule(self, marker: str, text: str, media_ids: list[str], meta: dict[str, Any],
                  idempotency_key: str) -> TargetEntry:
        """One status scheduled at the run's next spaced time (`spacing`)."""
        assert self._spaced is not None
        scheduled = self.client.call(
            self.client.api.status_post, text, media_ids=media_ids or None,
            sensitive=bool(self.options.get("sensitive")) and bool(media_ids),
            spoiler_text=self.options.get("spoiler_text") or None,
            visibility=self.options.get("visibility") or "public",
            language=post_language(meta, self.options),
            scheduled_at=self._spaced.next_time(), idempotency_key=idempotency_key)
        self._scheduled[marker] = scheduled
        return self._scheduled_entry(marker)

    def _make_room(self, meta: dict[str, Any], posted: int) -> None:
        """Before a post: wait for its statuses and media to fit in their windows, or leave it
        (and, to keep the order, every later post) for a later run."""
        media = sum(1 for m in (meta.get("media") or [])[: self.limits.max_media]
                    if m.get("path"))
        statuses = max(0, len(compose({**meta, "notes_for_text": []}, self.options,
                                      self.limits)) - posted)
        if self.deferral.is_active:
            self.deferral.add(statuses, media)
            raise SkipItem(self.deferral.reason)
        self._make_room_for(meta, MEDIA, media, statuses)
        self._make_room_for(meta, STATUSES, statuses, 0)

    def _make_room_for(self, meta: dict[str, Any], family: str, count: int,
                       statuses: int) -> None:
        if count <= 0:
            return
        wait = self.client.wait_for(family, count)
        if wait <= 0:
            return
        if wait <= self.client.max_wait:
            self.client.sleep_for(family, wait)
            return
        media = sum(1 for m in meta.get("media") or [] if m.get("path"))
        self.deferral.start(family, time.time() + wait)
        self.deferral.add(count if family == STATUSES else statuses, media)
        raise SkipItem(self.deferral.reason)

    def notes(self) -> list[str]:
        """When posts were left for later runs: how many, and when the import should end."""
        if not self.deferral.is_active:
            return []
        return [self.client.buckets.end_estimate(self.deferral.posts, self.deferral.statuses,
                                                 self.deferral.media)]

    def _upload_media(self, item: SourceItem, source: Source) -> tuple[list[str], list[str]]:
        """Media uploaded (and processed); those that cannot be are linked in the text."""
        ids: list[str] = []
        notes: list[str] = []
        for index, media in enumerate(item.meta.get("media") or []):
            link = media.get("url") or ""
            if index >= self.limits.max_media:
                notes.append(_("More pictures: {link}").format(link=link) if link else "")
                continue
            if not media.get("path"):
                if link:
                    notes.append(_("Picture not in the archive: {link}").format(link=link))
                continue
            with source.open(SourceItem(f"{item.key}#media{index}", media["path"])) as stream:
                data = stream.read()
            limit = (self.limits.image_size_limit if media.get("type") == "image"
                     else self.limits.video_size_limit)
            if len(data) > limit:
                notes.append(_("Too large for this server ({size} MB): {link}").format(
                    size=round(len(data) / 1e6, 1), link=link or media["path"]))
                continue
            ids.append(self._upload_one(data, media))
        return ids, [n for n in notes if n]

    def _upload_one(self, data: bytes, media: dict[str, Any]) -> str:
        name = str(media["path"]).rsplit("/", 1)[-1]
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        alt = (media.get("alt") or None) and str(media["alt"])[: self.limits.description_limit]
        uploaded = self.client.call(self.client.api.media_post, data, mime_type=mime,
                                    description=alt, file_name=name)
        deadline = time.monotonic() + float(self.options.get("media_timeout") or 60)
        delay = 0.5
        while uploaded.get("url") is None:  # v2 media API: processed in the background
            if time.monotonic() > deadline:
                raise TransientError(_("the server took too long to process {name}").format(
                    name=name))
            time.sleep(delay)
            delay = min(delay * 2, 5)
            uploaded = self.client.call(self.client.api.media, uploaded["id"])
        return str(uploaded["id"])

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        """A post in doubt: there whole (marker found, every part there), or to be completed."""
        self._load()
        if change.target_name in self._scheduled:
            return self._scheduled_entry(change.target_name)
        ids = self._threads.get(change.target_name)
        if not ids:
            return None
        assert self._statuses is not None
        head = self._statuses[ids[0]]
        expected = (_part(head) or (1, 1))[-1]
        if len(ids) < expected:
            return None  # `write` completes the thread from where it stopped
        return TargetEntry(change.target_name, ItemKind.POST, Fingerprint(),
                           {"id": ids[0], "url": head.get("url"), "parts": len(ids)})

    def close(self) -> None:
        if self.limits_file is not None:
            self.client.buckets.save(self.limits_file, self._account)
        self.client.api.session.close()


def _text(status: dict[str, Any]) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", str(status.get("content") or ""))).strip()


def _when(scheduled: dict[str, Any]) -> dt.datetime | None:
    value = scheduled.get("scheduled_at")
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _marker(status: dict[str, Any]) -> str | None:
    """The last link of the status: the origin line's link to the original post."""
    links = HREF.findall(str(status.get("content") or ""))
    return html.unescape(links[-1]) if links else None


def _part(status: dict[str, Any]) -> tuple[int, int] | None:
    """(i, n) for the i-th status of an n-status thread, from its "(i/n)" suffix."""
    for line in _text(status).splitlines():
        match = PART.search(line)
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def _is_continuation(status: dict[str, Any]) -> bool:
    part = _part(status)
    return part is not None and part[0] > 1
