"""`mastodon`: post a source's posts on a Mastodon account (or any server speaking its API).

Never twice: every status is posted with an `Idempotency-Key` derived from the journal's key
(part *i* of a thread: `<key>-<i>`), and each post's first status ends with an origin line whose
last link is the original post's address — the post's *marker*. `list_entries` reads the
account's own statuses and names each by its marker, so the diff sees posts already there as
unchanged; `verify` looks for the marker before a post in doubt is written again (Mastodon
forgets idempotency keys after an hour; GoToSocial and Takahē ignore them). A post counts as
there only when whole: a thread cut short by a crash is planned again and completed, not
started over, its parts counted by their "(i/n)" suffixes; after an answer lost, the account
is read again before the retry (docs/decisions/0321).

Threads: a long text becomes a thread (`long_posts: thread`), and a reply in the author's own
thread is posted as a reply to the last status of its parent. Writes go one at a time
(`max_jobs=1`) in the source's chronological order, so a parent is always there first; a reply
whose parent is not there (it failed, or waits) waits too. Servers differ (Mastodon 3.5 → 4.x,
GoToSocial, Akkoma/Pleroma, Takahē): `mastodon_dialects.py`, docs/decisions/0320.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.mastodon.client import MastodonClient
from connectors.mastodon.dialects import Dialect, read_dialect
from connectors.mastodon.later import CarriedDeferral, deferring
from connectors.mastodon.media import MediaUploader
from connectors.mastodon.notes import spacing_notes
from connectors.mastodon.options import MastodonOptions, MastodonStepOptions
from connectors.mastodon.pacing import MEDIA, STATUSES, Deferral
from connectors.mastodon.schedule import (
    TOTAL_LIMIT,
    Spacing,
    can_backdate,
    original_date,
    parse_spacing,
    refuse_backdate,
    text_marker,
)
from connectors.mastodon.shared_buckets import read_buckets, share_buckets
from connectors.mastodon.text import compose, post_language
from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.errors import Deferred, FatalError, SkipItem, TransientError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.item_meta import PostMeta, post_of
from migrate.journal.step_state import StepState
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName

HREF = re.compile(r'href="([^"]+)"')
PART = re.compile(r"\((\d+)/(\d+)\)\s*$")
PAGE = 40


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    token = secrets.ref("MASTODON_TOKEN", "an access token of the Mastodon account / un jeton "
                        "d'accès du compte Mastodon")
    return ("  # The Mastodon account that publishes them.\n"
            "  # Le compte Mastodon qui les publie.\n"
            f"  masto:\n    type: mastodon\n    url: {quoted(answers['mastodon_url'])}\n"
            f"    token: \"{token}\"\n")


#: What `migrate init` offers: a Mastodon account publishing the posts.
INIT_OFFER = Offer(
    moves="posts", role="target", choice="mastodon", phrase="Mastodon",
    connection=_init_connection, reference=lambda answers: "masto",
    questions=(Question("mastodon_url", N_("Address of the Mastodon server"),
                        "https://mastodon.example"),), rank=10)


class MastodonConnector(Connector):
    name = "mastodon"
    init_offers = (INIT_OFFER,)
    summary = "A Mastodon account (or GoToSocial, Akkoma… any server speaking Mastodon's API)."
    Options = MastodonOptions
    config: MastodonOptions
    label = "Mastodon"
    target_actions = ("mirror",)
    TargetStepOptions = MastodonStepOptions

    def open_target(self, location: str, step: StepContext) -> MastodonTarget:
        """Connects: reads the instance (its software, its limits) and the account, and checks
        the step's options against what the server can do."""
        options: MastodonStepOptions = self.target_options(step)
        client = MastodonClient(self.config.url, self.config.token, float(self.config.timeout),
                                float(self.config.max_wait),
                                {str(k): float(v) for k, v in self.config.rate_windows.items()})
        try:
            instance = client.instance()
            spacing = parse_spacing(options.spacing)
            if options.backdate and not can_backdate(instance):
                raise refuse_backdate(instance, client.url)
            if options.backdate and spacing is not None:
                raise FatalError(_("'backdate' and 'spacing' cannot go together: posts dated "
                                   "in the past cannot also be spread out in the future; keep "
                                   "one"))
            account_id = str(client.call(client.api.account_verify_credentials)["id"])
        except BaseException:
            client.api.session.close()
            raise
        return MastodonTarget(client, options, read_dialect(instance), account_id, spacing,
                              step.state_store, step.state_dir)


class MastodonTarget(CarriedDeferral, Target):
    """One account's statuses. Built from what `MastodonConnector.open_target` read from the
    server: construction itself sends no request."""

    def __init__(self, client: MastodonClient, options: MastodonStepOptions, dialect: Dialect,
                 account_id: str, spacing: dt.timedelta | None = None,
                 store: StepState | None = None, state_dir: Path | None = None) -> None:
        self.client, self.options, self.store = client, options, store
        self.dialect, self.account_id, self.spacing = dialect, account_id, spacing
        self.limits = dialect.limits
        self.media = MediaUploader(client, dialect, float(options.media_timeout))
        self.backdate = options.backdate
        self.capabilities = Capabilities(max_post_length=self.limits.max_characters,
                                         default_jobs=1, max_jobs=1)
        self._account = f"{self.client.url} {self.account_id}"
        read_buckets(self.client.buckets, store, state_dir, self._account)
        self._statuses: dict[str, dict[str, Any]] | None = None
        self._threads: dict[str, list[str]] = {}  # marker → status ids of the post, in order
        self._scheduled: dict[str, dict[str, Any]] = {}  # marker → scheduled status
        self._spaced: Spacing | None = None
        self._in_scope: set[str] | None = None
        self.deferral = Deferral()

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
            # Every scheduled status of the account counts in the server's limits, ours or not.
            times = [_when(s) for s in scheduled]
            self._spaced = Spacing(self.spacing, [t for t in times if t is not None])

    def _fetch_scheduled(self) -> list[dict[str, Any]]:
        """Statuses scheduled but not yet published (none where the server has no such list)."""
        found: list[dict[str, Any]] = []
        page = self.client.call_if_found(self.client.api.scheduled_statuses, limit=PAGE)
        if page is None and self.spacing is not None:
            raise FatalError(_(
                "'spacing' is not possible on {url}: this server ({software} {version}) keeps "
                "no scheduled posts (it answered 404 to GET /api/v1/scheduled_statuses), and "
                "some such servers publish a post meant for later at once. Remove 'spacing' "
                "from the step to publish the posts now").format(
                    url=self.client.url, software=self.dialect.software,
                    version=self.dialect.version or "?"))
        while page:
            found.extend(page)
            page = self.client.call(self.client.api.fetch_next, page)
        return found

    def list_entries(self) -> list[TargetEntry]:
        """Posts already there *whole*: a thread or split post cut short by a crash is left
        out, so the diff plans it and `write` completes it (never "unchanged" half-posted)."""
        self._load()
        assert self._statuses is not None
        return [*(TargetEntry(marker, ItemKind.POST, Fingerprint(),
                              {"id": ids[0], "url": self._statuses[ids[0]].get("url")})
                  for marker, ids in self._threads.items()
                  if ids[0] in self._statuses and self._is_whole(ids)),
                *(self._scheduled_entry(marker) for marker in self._scheduled)]

    def _is_whole(self, ids: list[str]) -> bool:
        """Every part there: as many statuses as the "(1/n)" of the first one announces."""
        assert self._statuses is not None
        return len(ids) >= (_part(self._statuses[ids[0]]) or (1, 1))[-1]

    def prepare_names(self, items: Sequence[SourceItem]) -> None:
        """Remember which posts this step migrates, so a reply whose parent is one of them
        waits for it (rather than going out alone) when the parent is not there yet."""
        self._in_scope = {str(post_of(i).url) for i in items
                          if not i.skip_reason and post_of(i).url}

    def _scheduled_entry(self, marker: str) -> TargetEntry:
        scheduled = self._scheduled[marker]
        return TargetEntry(marker, ItemKind.POST, Fingerprint(),
                           {"id": str(scheduled["id"]),
                            "scheduled_at": str(scheduled.get("scheduled_at") or "")})

    def name_for(self, item: SourceItem) -> TargetName:
        # Without its original address a post cannot carry the marker that makes it
        # idempotent: known from the item alone, so the plan says it (write still checks).
        url = post_of(item).url
        refusal = None if url else _("this post has no original address to mark it with")
        return TargetName(str(url or f"post:{item.key}"), refusal=refusal)

    # -- writing ---------------------------------------------------------------------------

    @deferring
    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        post = post_of(change.item)
        if not post.url:
            raise SkipItem(_("this post has no original address to mark it with"))
        self._load()
        if change.target_name in self._scheduled:
            return self._scheduled_entry(change.target_name)
        parent = str(post.reply_to_url or "")
        if parent in self._scheduled:
            raise Deferred(_("left for a later run: it answers a post scheduled for {time}, and "
                             "a reply can only be posted once its parent is published").format(
                                 time=_when(self._scheduled[parent]) or "?"))
        parent_ids = self._threads.get(parent, []) if parent else []
        if parent and not parent_ids and (self._in_scope is None or parent in self._in_scope):
            raise Deferred(_("waits for the post it answers ({parent}), which is not on the "
                             "account yet; it will be posted after it, as its reply").format(
                                 parent=parent))
        done = list(self._threads.get(change.target_name, []))
        if not done and not parent_ids and self._spaced is not None and self._spaced.is_full \
                and len(compose(post, self.options, self.limits)) == 1:
            raise Deferred(_("left for a later run: {n} posts are already scheduled on this "
                             "account, the most the server allows; more can be scheduled once "
                             "some are published").format(n=TOTAL_LIMIT))
        self._make_room(post, len(done))
        media_ids, notes = self.media.upload_all(change.item, source)
        parts = compose(post, self.options, self.limits, notes)
        self._make_room_for(post, STATUSES, len(parts) - len(done), 0)
        done = done[: len(parts)]
        reply_to = done[-1] if done else (parent_ids[-1] if parent_ids else None)
        if self._spaced is not None and len(parts) == 1 and reply_to is None:
            return self._schedule(change.target_name, parts[0], media_ids, post,
                                  idempotency_key)
        for index in range(len(done), len(parts)):
            try:
                status = self._post(
                    parts[index], post, media_ids, in_reply_to_id=reply_to,
                    media_ids=media_ids if index == 0 and media_ids else None,
                    scheduled_at=original_date(post, index) if self.backdate else None,
                    idempotency_key=(idempotency_key if index == 0
                                     else f"{idempotency_key}-{index}"))
            except TransientError:
                # The status may exist all the same (answer lost): read the account again
                # before any retry, since not every server honours the idempotency key.
                self._forget()
                raise
            reply_to = str(status["id"])
            done.append(reply_to)
            self._threads[change.target_name] = list(done)
            assert self._statuses is not None
            self._statuses[reply_to] = status
        share_buckets(self.client.buckets, self.store, self._account)
        first = self._statuses[done[0]] if self._statuses else {}
        return TargetEntry(change.target_name, ItemKind.POST, Fingerprint(),
                           {"id": done[0], "url": first.get("url"), "parts": len(done),
                            "notes": notes})

    def _post(self, text: str, post: PostMeta, post_media: list[str],
              **status: Any) -> dict[str, Any]:
        """One status of a post, with what the step's options give every one of them (a
        sensitive mark when the post has pictures, the content warning, who sees it, the
        post's language); `status` says where it goes (reply, schedule, media, key)."""
        result: dict[str, Any] = self.client.call(
            self.client.api.status_post, text,
            sensitive=self.options.sensitive and bool(post_media),
            spoiler_text=self.options.spoiler_text or None,
            visibility=self.options.visibility, language=post_language(post, self.options),
            **status)
        return result

    def _forget(self) -> None:
        """Drop what was read of the account; the next write or verify reads it again."""
        self._statuses = None
        self._threads = {}
        self._scheduled = {}

    def _schedule(self, marker: str, text: str, media_ids: list[str], post: PostMeta,
                  idempotency_key: str) -> TargetEntry:
        """One status scheduled at the run's next spaced time (`spacing`)."""
        assert self._spaced is not None
        scheduled = self._post(text, post, media_ids, media_ids=media_ids or None,
                               scheduled_at=self._spaced.next_time(),
                               idempotency_key=idempotency_key)
        self._scheduled[marker] = scheduled
        return self._scheduled_entry(marker)

    def _make_room(self, post: PostMeta, posted: int) -> None:
        """Before a post: wait for its statuses and media to fit in their windows, or leave it
        (and, to keep the order, every later post) for a later run."""
        media = sum(1 for m in post.media[: self.limits.max_media] if m.get("path"))
        statuses = max(0, len(compose(post, self.options, self.limits)) - posted)
        if self.deferral.is_active:
            self.deferral.add(statuses, media)
            raise Deferred(self.deferral.reason, self.deferral.until)
        self._make_room_for(post, MEDIA, media, statuses)
        self._make_room_for(post, STATUSES, statuses, 0)

    def _make_room_for(self, post: PostMeta, family: str, count: int,
                       statuses: int) -> None:
        if count <= 0:
            return
        wait = self.client.wait_for(family, count)
        if wait <= 0:
            return
        if wait <= self.client.max_wait:
            self.client.sleep_for(family, wait)
            return
        media = sum(1 for m in post.media if m.get("path"))
        self.deferral.start(family, time.time() + wait)
        self.deferral.add(count if family == STATUSES else statuses, media)
        raise Deferred(self.deferral.reason, self.deferral.until)

    def plan_notes(self, changes: Sequence[Change]) -> list[str]:
        return [*self.media.plan_notes(changes), *spacing_notes(self._spaced, changes)]

    def notes(self) -> list[str]:
        """When posts were left for later runs: how many, and when the import should end."""
        if not self.deferral.is_active:
            return []
        return [self.client.buckets.end_estimate(self.deferral.posts, self.deferral.statuses,
                                                 self.deferral.media)]

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
        if not self._is_whole(ids):
            return None  # `write` completes the thread from where it stopped
        return TargetEntry(change.target_name, ItemKind.POST, Fingerprint(),
                           {"id": ids[0], "url": head.get("url"), "parts": len(ids)})

    def close(self) -> None:
        try:
            share_buckets(self.client.buckets, self.store, self._account)
        finally:
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
