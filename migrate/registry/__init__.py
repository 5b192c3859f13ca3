"""Connectors by name, found through the `migrate.connectors` entry points and imported lazily.

The entry points are read by `migrate.registry.entry_points`, not `importlib.metadata` (0484).

Only the name→class-path table is read at start; a connector's module (and its client library)
is imported the first time a plan uses it.
"""

from __future__ import annotations

from functools import cache

from migrate.connector import Connector
from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.registry.entry_points import Entry, entries

GROUP = "migrate.connectors"


class UnknownConnectorError(MigrateError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        import difflib  # only for a misspelt name

        self.suggestion = next(iter(difflib.get_close_matches(name, known, n=1)), None)
        message = _("unknown connection type '{name}'").format(name=name)
        if self.suggestion:
            message += " — " + _("did you mean '{s}'?").format(s=self.suggestion)
        else:
            message += " — " + _("known types: {known}").format(known=", ".join(known))
        super().__init__(message)


@cache
def _entry_points() -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for entry in entries(GROUP):
        if entry.name in found and found[entry.name].value != entry.value:
            raise MigrateError(
                _("two connectors are installed under the name '{name}': {a} and {b}").format(
                    name=entry.name, a=found[entry.name].value, b=entry.value
                )
            )
        found[entry.name] = entry
    return found


def names() -> list[str]:
    """Every installed connector type, sorted."""
    return sorted(_entry_points())


@cache
def get(name: str) -> type[Connector]:
    """The connector class registered as `name`; raises UnknownConnectorError."""
    entry = _entry_points().get(name)
    if entry is None:
        raise UnknownConnectorError(name, names())
    connector = entry.load()
    if not (isinstance(connector, type) and issubclass(connector, Connector)):
        raise MigrateError(f"entry point {entry.value} is not a Connector subclass")
    if connector.name != name:
        raise MigrateError(f"connector {entry.value} calls itself '{connector.name}', not '{name}'")
    return connector


def label(name: str | None) -> str:
    """What the core calls a connector type's service ("Nextcloud"): its declared `label`, or
    the type name itself when it declares none or is not installed."""
    if not name:
        return "?"
    try:
        return get(name).label or name
    except MigrateError:
        return name
