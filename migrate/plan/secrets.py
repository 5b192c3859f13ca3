"""A plan's connection options made ready to use: secret references resolved (each secret value
given to the redactor, too short ones refused), one-line settings checked for line breaks, and
secrets written in clear found for a warning. The plan file itself is read by
`migrate.plan.plan_file`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from migrate import registry
from migrate.errors import Location, PlanError
from migrate.i18n import _
from migrate.options import Option, OptionValueError, check_value
from migrate.plan import yamlpos
from migrate.plan.references import (
    Redactor,
    ReferenceError_,
    has_secret_reference,
    is_secret_reference,
    resolve_secret,
    substitute,
)

if TYPE_CHECKING:
    from migrate.plan.plan_file import Plan, StepSpec


def resolve_connections(plan: Plan, redactor: Redactor,
                        steps: Iterable[StepSpec] | None = None) -> dict[str, dict[str, Any]]:
    """Each connection's options with secrets resolved; every secret value goes to `redactor`.

    With `steps`, only the connections those steps use are resolved: `--step posts` must not
    need the Drive's credentials.
    """
    wanted = None if steps is None else {
        endpoint.connection for step in steps for endpoint in (step.source, step.target)}
    resolved: dict[str, dict[str, Any]] = {}
    for name, spec in plan.connections.items():
        if wanted is not None and name not in wanted:
            continue
        connector = registry.get(spec.type)
        options: dict[str, Any] = {}
        secret_names = connector.options.secret_names()
        for key, value in spec.options.items():
            at = ("connections", name, key)
            if key in secret_names and isinstance(value, str):
                if not has_secret_reference(value):
                    _refuse_short(plan, value, at)
                redactor.add(value)  # written in clear: still never shown
            if isinstance(value, str) and has_secret_reference(value):
                value = _resolve_value(plan, value, at, redactor, key in secret_names)
                option = connector.options.get(key)
                if option is not None:
                    try:
                        value = check_value(option, value)
                    except OptionValueError as error:
                        raise PlanError(f"'{key}': {error}", plan.positions.of_value(at)) from None
            if has_line_break(connector.options.get(key), value):
                raise PlanError(_line_break_message(key, name), plan.positions.of_value(at))
            options[key] = value
        resolved[name] = options
    return resolved


#: `scheme://user:${env:X}@host`: whatever stands in a URL's user part is a password.
_USERINFO_REFERENCE = re.compile(r"://[^/@]*\$\{[^}]*\}[^/@]*@")


def _resolve_value(plan: Plan, value: str, at: yamlpos.Path, redactor: Redactor,
                   is_secret_option: bool) -> str:
    in_userinfo = bool(_USERINFO_REFERENCE.search(value))
    secrets: list[str] = []

    def one(expression: str) -> str | None:
        secret = resolve_secret(expression, plan.base_dir)
        if secret is not None and (is_secret_option or in_userinfo
                                   or is_secret_reference(expression)):
            _refuse_short(plan, secret, at)
            redactor.add(secret)
            secrets.append(secret)
        return secret

    try:
        resolved = substitute(value, one)
    except ReferenceError_ as error:
        connection, option = at[1], at[2]
        message = _("{problem} (needed by connection '{c}', option '{o}')").format(
            problem=error, c=connection, o=option)
        raise PlanError(message, plan.positions.of_value(at)) from None
    if secrets and "://" in resolved:
        _check_address(plan, resolved, at)
    return resolved


def has_line_break(option: Option | None, value: Any) -> bool:
    """A one-line setting (see `Option.multiline`) holding a line break."""
    return (option is not None and not option.multiline and isinstance(value, str)
            and ("\n" in value or "\r" in value))


def _line_break_message(option: str, connection: str) -> str:
    return _("option '{o}' of connection '{c}' holds a line break; this setting is one line "
             "(a file given with ${{file:…}} must hold it on its first line only)").format(
        o=option, c=connection)


def _refuse_short(plan: Plan, secret: str, at: yamlpos.Path) -> None:
    if Redactor.too_short(secret):
        raise PlanError(_("the secret given to option '{o}' of connection '{c}' has fewer than "
                          "{n} characters: too short to be hidden safely in messages; use a "
                          "longer one").format(o=at[2], c=at[1], n=Redactor.MINIMUM_LENGTH),
                        plan.positions.of_value(at))


def _check_address(plan: Plan, address: str, at: yamlpos.Path) -> None:
    """An address holding a secret must parse; the message never shows the address."""
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018  # raises ValueError when the text after ':' is no port
    except ValueError:
        raise PlanError(_("option '{o}' of connection '{c}' is not a valid address once its "
                          "references are filled in; in a password, write / ? # @ : as %2F, "
                          "%3F, %23, %40, %3A").format(o=at[2], c=at[1]),
                        plan.positions.of_value(at)) from None


def literal_secrets(plan: Plan) -> list[tuple[Location, str]]:
    """Secret options written in clear in the plan: worth a warning, never an echo of the value."""
    found = []
    for name, spec in plan.connections.items():
        for key in registry.get(spec.type).options.secret_names():
            value = spec.options.get(key)
            if isinstance(value, str) and not has_secret_reference(value):
                found.append((plan.positions.of_value(("connections", name, key)), key))
    return found
