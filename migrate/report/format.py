"""Numbers, sizes and dates as a report shows them: one place, so the language work can
localise them (French writes `1 204` and `12,5 Mo`; English `1,204` and `12.5 MB`).

Everything a report prints that is a count, a size or a moment goes through these functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from migrate.i18n import _, date_time
from migrate.i18n import number as _number


def number(value: int | float | None) -> str:
    """A count with thousands separators; an em dash when unknown."""
    return _number(value)


def size(value: int | None) -> str:
    """Bytes in decimal units, as file managers show them (`12.5 MB`); a dash when unknown."""
    if value is None:
        return "—"
    if value < 1000:
        return _("{n} B").format(n=number(value))
    units = (_("{n} KB"), _("{n} MB"), _("{n} GB"), _("{n} TB"))
    amount = value / 1000
    for unit in units[:-1]:
        if amount < 1000:
            return unit.format(n=_number(amount, 1))
        amount /= 1000
    return units[-1].format(n=_number(amount, 1))


def moment(value: float | str | None) -> str:
    """A date and time in UTC, to the minute (`2024-07-23 14:05 UTC`); a dash when unknown."""
    if value is None:
        return "—"
    when = (dt.datetime.fromisoformat(value) if isinstance(value, str)
            else dt.datetime.fromtimestamp(value, dt.UTC))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return _("{moment} UTC").format(moment=date_time(when.astimezone(dt.UTC)))


def duration(seconds: float | None) -> str:
    """A run's length: `42 s`, `3 min 5 s`, `2 h 10 min`."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return _("{s} s").format(s=whole)
    if whole < 3600:
        return _("{m} min {s} s").format(m=whole // 60, s=whole % 60)
    return _("{h} h {m} min").format(h=whole // 3600, m=whole % 3600 // 60)


def reconciliation_headers() -> list[str]:
    """The columns of a mailing list's reconciliation table (per status at the source)."""
    return [_("status at the source"), _("at the source"), _("imported"), _("suppressed"),
            _("dropped"), _("merged")]


def reconciliation_rows(group: dict[str, Any]) -> list[list[str]]:
    """One row per status at the source: counts written for the language."""
    return [[_(status), "?" if row.get("source") is None else number(row["source"]),
             number(row.get("imported") or 0), number(row.get("suppressed") or 0),
             number(row.get("dropped") or 0), number(row.get("merged") or 0)]
            for status, row in group["rows"].items()]
