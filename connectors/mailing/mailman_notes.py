"""What the plan says before members are written to Mailman: who will be asked to confirm,
and which parts will be slow (Mailman's costs measured in decision 0510)."""

from __future__ import annotations

from migrate.i18n import _, ngettext, number
from migrate.report.format import duration

#: Mailman reads every request awaiting confirmation on the list at each new subscription:
#: about 0.7 ms each on a small server (SQLite, 2 cores; decision 0510). For the plan's estimate.
SECONDS_PER_WAITING_REQUEST = 0.0007
#: …and every ban of the list at each new ban (about 0.013 ms each).
SECONDS_PER_BAN = 0.000013
#: From how many confirmation requests on one list the plan warns that Mailman slows down.
SLOW_FROM = 1000
#: From how long (seconds) the bans alone would take, the plan says so.
SLOW_BANS = 15 * 60


def asked_notes(asked: int) -> list[str]:
    """What the plan says of subscriptions Mailman will ask to confirm."""
    if not asked:
        return []
    notes = [ngettext(
        "Mailman will e-mail {n} person a request to confirm their subscription (their "
        "opt-in is not documented at the source); they will receive nothing from the list "
        "until they confirm.",
        "Mailman will e-mail {n} people a request to confirm their subscription (their "
        "opt-in is not documented at the source); they will receive nothing from the list "
        "until they confirm.", asked).format(n=number(asked))]
    if asked >= SLOW_FROM:
        seconds = SECONDS_PER_WAITING_REQUEST * asked * asked / 2
        notes.append(_(
            "Mailman slows down as confirmation requests wait on one list (it reads every "
            "waiting request at each new subscription): these {n} could take about {t} on "
            "a small server. They are written after everyone who needs no confirmation. "
            "To go faster, leave them out of this step ('undocumented: drop' and "
            "'pending: drop' under 'with:') and ask them through a re-permission "
            "campaign.").format(
                n=number(asked), t=duration(seconds)))
    return notes

def ban_notes(bans: int) -> list[str]:
    """What the plan says of many bans: slow on Mailman."""
    seconds = SECONDS_PER_BAN * bans * bans / 2
    if seconds < SLOW_BANS:
        return []
    return [_("Mailman reads every ban of the list at each new ban: these {n} bans could "
              "take about {t} on a small server. They are written last, after every "
              "subscription.").format(n=number(bans), t=duration(seconds))]
