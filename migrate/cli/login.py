"""`migrate login PLAN CONNECTION`: interactive sign-in for connections that need one (a
volunteer's Google account through OAuth's installed-app flow).

The core only finds the connection and where to keep what the sign-in yields; the connector's
`login(store, ask, say)` does the talking. Stored tokens live in the state folder, mode 0600.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from migrate import registry
from migrate.errors import MigrateError
from migrate.features import login_of
from migrate.i18n import _
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections


def login_file(plan_folder: Path, connection: str) -> Path:
    """Where the sign-in of `connection` is kept: `.migrate/logins/<connection>.json` beside the
    plan (always there, whatever `--state-dir`, so every command finds it)."""
    return plan_folder / ".migrate" / "logins" / f"{connection}.json"


def login(path: str | Path, connection: str, redactor: Redactor, ask: Callable[[str], str],
          say: Callable[[str], None]) -> Path:
    """Run the connection's sign-in and return where its result was stored."""
    plan = load_plan(path)
    if connection not in plan.connections:
        raise MigrateError(_("there is no connection '{name}' in {plan} (connections: {known})")
                           .format(name=connection, plan=path,
                                   known=", ".join(sorted(plan.connections))))
    config = resolve_connections(plan, redactor)
    spec = plan.connections[connection]
    connector = registry.get(spec.type)(config[connection], plan.base_dir)
    connector.connection = connection
    sign_in = login_of(connector)
    if sign_in is None:
        raise MigrateError(_("connections of type '{type}' need no 'migrate login'").format(
            type=spec.type))
    store = login_file(plan.base_dir, connection)
    sign_in(store, ask, say)
    return store
