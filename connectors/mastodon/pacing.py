"""Mastodon's three rate-limit buckets, paced separately, and when a long import will end.

Mastodon limits an account to 300 requests per 5 minutes, 300 new statuses per 3 hours and 30
media uploads per 30 minutes. Each answer's `X-RateLimit-*` headers describe one bucket: the
answer to `POST /api/v1/statuses` the statuses bucket, to a media upload the media bucket, to
anything else the requests bucket. `Buckets` keeps what the last answer of each said; headers
do not give a window's length, so the lengths are Mastodon's (a connection can override them).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.i18n import _, date_time, ngettext, number
from migrate.private import write_private

REQUESTS, STATUSES, MEDIA = "requests", "statuses", "media"
#: Mastodon's windows, in seconds (app/lib/rate_limiter.rb, config/initializers/rack_attack.rb).
PERIODS = {REQUESTS: 300, STATUSES: 3 * 3600, MEDIA: 1800}
#: Left unused in each window, for the association's own posting while an import runs.
RESERVES = {REQUESTS: 2, STATUSES: 2, MEDIA: 0}
#: Which bucket a Mastodon.py method's answer reports.
FAMILY_OF = {"status_post": STATUSES, "media_post": MEDIA}


@dataclass
class Bucket:
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds

    def room(self, reserve: int, now: float) -> int | None:
        """How many calls may go now; None when unknown (no header seen, or window over)."""
        if self.remaining is None or self.reset is None or self.reset <= now:
            return None
        return self.remaining - reserve


@dataclass
class Buckets:
    periods: dict[str, float] = field(default_factory=lambda: dict(PERIODS))
    state: dict[str, Bucket] = field(default_factory=lambda: {f: Bucket() for f in PERIODS})

    def wait_for(self, family: str, count: int = 1) -> float:
        """Seconds to wait before `count` calls of `family` fit in its window (0: go now)."""
        now = time.time()
        bucket = self.state[family]
        room = bucket.room(RESERVES[family], now)
        if room is None or room >= count or bucket.reset is None:
            return 0.0
        if bucket.limit is not None and count > bucket.limit - RESERVES[family] and room > 0:
            return 0.0  # longer than a whole window allows: go now rather than never
        # Servers round the reset time down to the second: one more second is always safe.
        return bucket.reset - now + 1.0

    def after_wait(self, family: str) -> None:
        """The window is over: its count is full again until the next answer says otherwise."""
        bucket = self.state[family]
        bucket.remaining = bucket.limit

    def observe(self, family: str, limit: int | None, remaining: int | None,
                reset: float | None) -> None:
        """Record an answer's headers (None: the answer had none) for `family`'s bucket."""
        if remaining is not None:
            self.state[family] = Bucket(limit, remaining, reset)
        if family != REQUESTS:  # the call counted in the requests bucket too, unreported
            general = self.state[REQUESTS]
            if general.remaining is not None:
                general.remaining -= 1

    def saved(self) -> dict[str, dict[str, Any]]:
        """What the journal keeps of these buckets (`restore` reads it back)."""
        return {family: vars(bucket) for family, bucket in self.state.items()}

    def restore(self, saved: Any) -> None:
        """What an earlier run, or another worker, learnt of this account's buckets (a fresh run
        cannot ask: only a post tells the statuses bucket, and posting into a spent one meets
        a 429)."""
        for family, values in (saved if isinstance(saved, dict) else {}).items():
            if family in self.state and isinstance(values, dict):
                self.state[family] = newer(self.state[family], Bucket(
                    values.get("limit"), values.get("remaining"), values.get("reset")))

    def end_estimate(self, posts: int, statuses: int, media: int) -> str:
        """Plain words: how many posts are left, and when the import should end."""
        now = time.time()
        end, runs, blocking = now, 1, []
        for family, need in ((STATUSES, statuses), (MEDIA, media)):
            bucket = self.state[family]
            if need <= 0 or bucket.limit is None:
                continue
            per_window = max(1, bucket.limit - RESERVES[family])
            room = bucket.room(RESERVES[family], now)
            start = bucket.reset if room is not None and bucket.reset else now
            windows = math.ceil(max(0, need - max(room or 0, 0)) / per_window)
            if windows:
                end = max(end, start + (windows - 1) * self.periods[family])
                runs = max(runs, windows)
                blocking.append(self.periods[family])
        every = min(blocking or [self.periods[REQUESTS]])
        when = date_time(dt.datetime.fromtimestamp(end + 60).astimezone())
        left = ngettext("{n} post left for later runs.", "{n} posts left for later runs.",
                        posts).format(n=number(posts))
        return _("{left} At this server's limits ({limits}), the import should end in about "
                 "{runs} more runs, around {when}, if 'migrate apply' runs at least every "
                 "{every} (for example from 'migrate schedule').").format(
            left=left, limits=self.describe(), runs=number(runs), when=when,
            every=duration(every))

    def describe(self) -> str:
        parts = []
        for family, label in ((STATUSES, _("{n} posts every {period}")),
                              (MEDIA, _("{n} pictures or videos every {period}"))):
            limit = self.state[family].limit
            if limit is not None:
                parts.append(label.format(n=number(limit),
                                          period=duration(self.periods[family])))
        return ", ".join(parts) or _("unknown")


#: Two readings whose reset times are closer than this are of the same window. Mastodon.py
#: moves each answer's reset by the server's clock as its `Date` header says it, to the whole
#: second: two answers of one window give resets up to a second or so apart (seen: 1.5 s).
SAME_WINDOW = 2.0


def newer(mine: Bucket, theirs: Bucket) -> Bucket:
    """Of two readings of one bucket, the one that says the most spent: the later window, and
    in the same window the fewer calls left (a window's count only goes down). Two workers, or
    two runs, merge their readings with it and neither loses the other's calls. (Comparing the
    resets exactly took a later answer of the same window, its reset rounded earlier, for an
    older window: the count went back up, and the fleet posted into a spent bucket.)"""
    if theirs.remaining is None or theirs.reset is None:
        return mine
    if mine.remaining is None or mine.reset is None:
        return theirs
    if abs(theirs.reset - mine.reset) >= SAME_WINDOW:
        return theirs if theirs.reset > mine.reset else mine
    return theirs if theirs.remaining < mine.remaining else mine


def merged(stored: Any, account: str, buckets: Buckets) -> dict[str, Any]:
    """The journal's value (account -> buckets) with `buckets` merged into `account`'s."""
    everything = dict(stored) if isinstance(stored, dict) else {}
    mine = Buckets(state=dict(buckets.state))
    mine.restore(everything.get(account))
    everything[account] = mine.saved()
    return everything


def read_old_file(path: Path, account: str) -> dict[str, Any] | None:
    """The buckets an earlier version kept in `mastodon-rate-limits.json` for `account`, read
    once: the account's entry leaves the file, and the file goes when it is empty."""
    try:
        everything = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(everything, dict):
        return None
    mine = everything.pop(account, None)
    if everything:
        write_private(path, json.dumps(everything))
    else:
        path.unlink(missing_ok=True)
    return mine if isinstance(mine, dict) else None


@dataclass
class Deferral:
    """Posts this run leaves for later because a bucket is spent for longer than a run waits."""

    family: str | None = None
    until: float = 0.0
    posts: int = 0
    statuses: int = 0
    media: int = 0

    @property
    def is_active(self) -> bool:
        return self.family is not None

    def start(self, family: str, until: float) -> None:
        self.family, self.until = family, until

    def add(self, statuses: int, media: int) -> None:
        self.posts += 1
        self.statuses += statuses
        self.media += media

    @property
    def reason(self) -> str:
        when = date_time(dt.datetime.fromtimestamp(self.until).astimezone())
        if self.family == MEDIA:
            return _("left for a later run: this account may upload no more pictures or "
                     "videos until {when} (Mastodon's limit)").format(when=when)
        return _("left for a later run: this account may publish no more posts until {when} "
                 "(Mastodon's limit)").format(when=when)


def duration(seconds: float) -> str:
    """`3 hours`, `30 minutes`, `45 seconds`, in the language of the messages."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return ngettext("{n} hour", "{n} hours", hours).format(n=number(hours))
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        return ngettext("{n} minute", "{n} minutes", minutes).format(n=number(minutes))
    whole = math.ceil(seconds)
    return ngettext("{n} second", "{n} seconds", whole).format(n=number(whole))
