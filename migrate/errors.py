"""One error hierarchy. The CLI turns any of these into one plain message at one boundary.

`MigrateError` is what a user can act on. Its subclasses say what to do next:
- `PlanError`: the plan file is wrong; carries file:line:col.
- `ConnectorError` and its kinds: what a service answered, translated at the connector's edge.
The runner retries only `TransientError`; `FatalError` stops the whole step (bad credentials,
quota); `SkipItem` and `Unsupported` skip one item with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass


class MigrateError(Exception):
    """Something the user can understand and act on. `str(error)` is the plain message."""

    exit_code = 1


@dataclass(frozen=True)
class Location:
    """Where in a plan file something is: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class PlanError(MigrateError):
    """The plan file cannot be used as it is; the message names file:line:col."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class ConnectorError(MigrateError):
    """A service or a data source answered something we cannot go on with for an item."""


class TransientError(ConnectorError):
    """Worth retrying: rate limit, timeout, 5xx. `retry_after` in seconds when the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    """Stops the whole step: bad credentials, quota exhausted, server refusing everything."""


class SkipItem(ConnectorError):
    """This one item cannot be migrated; the message says why. Other items go on."""


class Deferred(SkipItem):
    """Nothing wrong with the item: the service will take it later, not in this run (a rate
    limit spent for longer than a run waits, a parent post scheduled for later). Recorded like
    a skip, so the next run writes it; `until` (seconds since the epoch) says when, if known."""

    def __init__(self, message: str, until: float | None = None) -> None:
        super().__init__(message)
        self.until = until


class Unsupported(SkipItem):
    """The item has no equivalent on the target (a Google Form, a poll)."""


class LockedError(MigrateError):
    """Another `migrate apply` holds the journal's run lock."""


class JournalDamagedError(MigrateError):
    """The journal cannot be read as a journal (truncated, overwritten, a folder in its place).

    `migrate repair PLAN` keeps it aside and rebuilds a journal from what the targets hold."""

    def __init__(self, message: str, path: object) -> None:
        super().__init__(message)
        self.path = path


class StaleError(MigrateError):
    """A saved plan no longer matches the plan file it was made from."""


class Interrupted(MigrateError):
    """The user stopped the run (Ctrl-C); what was done is kept and a later apply resumes."""

    exit_code = 130
