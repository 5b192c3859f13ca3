"""When each status of the `mastodon` target goes out: now, spaced out, or at its original date.

- `spacing` (e.g. `30m`): posts are *scheduled* (`scheduled_at`), the k-th of a run at
  now + 5 minutes (Mastodon refuses less) + a minute's margin + k × spacing, after any statuses
  already scheduled on the account, so an import does not flood followers' timelines.
- `backdate: true`: servers that backfill (GoToSocial 0.18 and later: a `scheduled_at` in the
  past creates the status at once, with that date) get each status at its original date.
  Detected from `/api/v2/instance`, never guessed: Mastodon publishes a past `scheduled_at` at
  once, dated now, so there the option is refused with a plain message.

Limits: Mastodon (`ScheduledStatus::DAILY_LIMIT`, `TOTAL_LIMIT`) and Pleroma/Akkoma
(`ScheduledActivity`) take at most 25 scheduled statuses per account per (UTC) day and 300 in all,
and refuse more with 422. `Spacing` keeps within both: one post every `spacing` but never more
often than 25 a day, a full day skipped, and no more once 300 wait; the rest are left for
later runs, and the plan says when the import will end.

Threads: Mastodon cannot schedule a reply to a status that does not exist yet. With `spacing`,
a post that needs several statuses is posted at once (not spaced), and a reply whose parent is
still scheduled is left for a later run, when the parent is published. See docs/scheduling.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from migrate.errors import FatalError
from migrate.i18n import _
from migrate.item_meta import PostMeta

#: Mastodon's minimum lead time for a scheduled status, plus a margin for the time the request
#: takes to arrive (uploads, rate-limit pauses) so it is never refused as too soon.
LEAD = dt.timedelta(minutes=6)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
LINK = re.compile(r"https?://\S+")
#: GoToSocial backfills statuses with a past `scheduled_at` since this version.
GOTOSOCIAL_BACKFILL = (0, 18)


def parse_spacing(text: Any) -> dt.timedelta | None:
    """`30m`, `1h30m`, `2h`, `90s`, `1d`, or a number of seconds; None when not given."""
    if text is None or text == "":
        return None
    value = str(text).strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    elif re.fullmatch(rf"(?:{DURATION.pattern}\s*)+", value):
        seconds = sum(float(n) * UNITS[u] for n, u in DURATION.findall(value))
    else:
        seconds = -1
    if seconds <= 0:
        raise FatalError(_("'spacing' should be a duration such as 30m, 2h or 1h30m, not "
                           "'{value}'").format(value=text))
    return dt.timedelta(seconds=seconds)


def can_backdate(instance: dict[str, Any]) -> bool:
    """Whether the server, as `/api/v2/instance` describes it, backfills past `scheduled_at`."""
    if "gotosocial" not in str(instance.get("source_url") or "").lower():
        return False
    numbers = re.match(r"(\d+)\.(\d+)", str(instance.get("version") or ""))
    return numbers is not None and (int(numbers[1]), int(numbers[2])) >= GOTOSOCIAL_BACKFILL


def refuse_backdate(instance: dict[str, Any], url: str) -> FatalError:
    return FatalError(_(
        "'backdate' is not possible on {url}: this server ({software} {version}) always dates "
        "a post the day it is published. Remove 'backdate: true' from the step; each post "
        "keeps its original date in its origin line. (GoToSocial 0.18 and later can backdate.)"
    ).format(url=url, software=_software(instance), version=instance.get("version") or "?"))


def _software(instance: dict[str, Any]) -> str:
    source = str(instance.get("source_url") or "").lower()
    return "GoToSocial" if "gotosocial" in source else "Mastodon"


def text_marker(text: str) -> str | None:
    """The last link of a scheduled status's plain text: its origin line's link."""
    links = LINK.findall(text)
    return links[-1] if links else None


def original_date(post: PostMeta, part: int) -> dt.datetime | None:
    """The source post's date (part *i* of a thread one second later, to keep their order)."""
    try:
        when = dt.datetime.fromisoformat(str(post.created_at or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when + dt.timedelta(seconds=part)


#: Scheduled statuses an account may have on one UTC day, and in all (Mastodon, Pleroma).
DAILY_LIMIT, TOTAL_LIMIT = 25, 300
#: The shortest spacing that stays within the daily limit.
DAILY_SPACING = dt.timedelta(days=1) / DAILY_LIMIT


class Spacing:
    """Hands out the scheduled times of one run: each `spacing` after the one before, within
    the server's limits (25 a day, 300 in all)."""

    def __init__(self, spacing: dt.timedelta, already_scheduled: list[dt.datetime]) -> None:
        self.requested = spacing
        self.spacing = max(spacing, DAILY_SPACING)
        self.times = sorted(t.astimezone(dt.UTC) for t in already_scheduled)
        self.last = self.times[-1] if self.times else None

    @property
    def is_widened(self) -> bool:
        """`spacing` asked for more than 25 a day, so posts go out less often."""
        return self.spacing > self.requested

    @property
    def is_full(self) -> bool:
        return len(self.times) >= TOTAL_LIMIT

    def next_time(self) -> dt.datetime:
        earliest = dt.datetime.now(dt.UTC) + LEAD
        when = earliest if self.last is None else max(earliest, self.last + self.spacing)
        while sum(t.date() == when.date() for t in self.times) >= DAILY_LIMIT:
            when = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(),
                                       dt.UTC)  # that day is full: the next one
        self.times.append(when)
        self.last = when
        return when

    def forecast(self, count: int) -> tuple[int, dt.datetime | None]:
        """How many of `count` posts can be scheduled now, and when the last of them goes out."""
        trial = Spacing(self.requested, list(self.times))
        last = None
        scheduled = 0
        while scheduled < count and not trial.is_full:
            last = trial.next_time()
            scheduled += 1
        return scheduled, last
