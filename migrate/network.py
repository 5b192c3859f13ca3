"""Plain words for a network failure, told apart by what happened rather than by its text:
nothing listening (refused, unknown name) says to check the address or the server; a connection
that dropped midway says it was lost, and is worth trying again."""

from __future__ import annotations

import socket

from migrate.i18n import _


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what it wraps: `__cause__`/`__context__`, and the wrapped errors that
    requests and urllib3 keep in `args` and `reason`."""
    found: list[BaseException] = []
    pending: list[object] = [error]
    while pending and len(found) < 20:
        current = pending.pop()
        if not isinstance(current, BaseException) or current in found:
            continue
        found.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                        *current.args])
    return found


def never_connected(error: BaseException) -> bool:
    """True when no connection was made at all: refused, or the server's name is unknown."""
    return any(isinstance(cause, ConnectionRefusedError | socket.gaierror)
               for cause in _causes(error))


def connection_problem(error: BaseException, what: str) -> str:
    """One sentence for a failed request about `what` (an item, a folder)."""
    if never_connected(error):
        return _("could not connect to the server while working on {what}: check its address "
                 "in the plan and that the server is running ({kind})").format(
            what=what, kind=type(error).__name__)
    return _("the connection to the server was lost while working on {what} ({kind})").format(
        what=what, kind=type(error).__name__)
