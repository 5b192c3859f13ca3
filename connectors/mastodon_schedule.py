"""When each status of the `mastodon` target goes out: now, spaced out, or at its original date.

- `spacing` (e.g. `30m`): posts are *scheduled* (`scheduled_at`), the k-th of a run at
  now + 5 minutes (Mastodon refuses less) + a minute's margin + k × spacing, after any statuses
  already scheduled on the account, so an import does not flood followers' timelines.
- `backdate: true`: servers that backfill (GoToSocial 0.18 and later: a `scheduled_at` in the
  past creates the status at once, with that date) get each status at its original date.
  Detected from `/api/v2/instance`, never guessed: Mastodon publishes a past `scheduled_at` at
  once, dated now, so there the option is refused with a plain message.

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


def original_date(meta: dict[str, Any], part: int) -> dt.datetime | None:
    """The source post's date (part *i* of a thread one second later, to keep their order)."""
    try:
        when = dt.datetime.fromisoformat(str(meta.get("created_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when + dt.timedelta(seconds=part)


class Spacing:
    """Hands out the scheduled times of one run: each `spacing` after the one before."""

    def __init__(self, spacing: dt.timedelta, already_scheduled: list[dt.datetime]) -> None:
        self.spacing = spacing
        self.last = max(already_scheduled) if already_scheduled else None

    def next_time(self) -> dt.datetime:
        earliest = dt.datetime.now(dt.UTC) + LEAD
        when = earliest if self.last is None else max(earliest, self.last + self.spacing)
        self.last = when
        return when
