"""What the plan says of a `spacing` import: how often, how many now, when it will end."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.mastodon.pacing import duration
from connectors.mastodon.schedule import DAILY_LIMIT, TOTAL_LIMIT, Spacing
from migrate.i18n import _, date_time, ngettext, number
from migrate.model import Action, Change


def spacing_notes(spaced: Spacing | None, changes: Sequence[Change]) -> list[str]:
    """One note: the spacing used (widened to the server's 25 a day when asked for more), how
    many posts go into the schedule now, how many wait for later runs, and the end date."""
    if spaced is None:
        return []
    count = sum(1 for c in changes if c.action in (Action.CREATE, Action.UPDATE))
    if count == 0:
        return []
    now, last = spaced.forecast(count)
    notes = []
    if spaced.is_widened:
        notes.append(_("'spacing: {asked}' would schedule more than {daily} posts a day, the "
                       "most this server takes: one post every {used} instead.").format(
                           asked=duration(spaced.requested.total_seconds()),
                           daily=number(DAILY_LIMIT),
                           used=duration(spaced.spacing.total_seconds())))
    if last is not None:
        notes.append(ngettext("{n} post will be scheduled, the last for {when}.",
                              "{n} posts will be scheduled, the last for {when}.", now).format(
                                  n=number(now), when=date_time(last.astimezone())))
    left = count - now
    if left > 0:
        end = (last or spaced.last)
        end_text = date_time((end + spaced.spacing * left).astimezone()) if end else "?"
        notes.append(ngettext(
            "{n} post is left for later runs: at most {total} scheduled posts wait on an "
            "account at once. Run 'migrate apply' again as they are published (for example "
            "daily from 'migrate schedule'); the import should end around {end}.",
            "{n} posts are left for later runs: at most {total} scheduled posts wait on an "
            "account at once. Run 'migrate apply' again as they are published (for example "
            "daily from 'migrate schedule'); the import should end around {end}.", left).format(
                n=number(left), total=number(TOTAL_LIMIT), end=end_text))
    return [" ".join(notes)]
