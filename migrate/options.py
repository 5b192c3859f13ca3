"""Options declared once per connector (and for steps); the one declaration drives validation,
`plans/schema.json` and `migrate connectors show TYPE`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from migrate.i18n import _

T = TypeVar("T")

_TYPE_NAMES = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true or false",
    "date": "date (YYYY-MM-DD)",
    "url": "web address (https://…)",
    "list": "list",
    "mapping": "mapping",
    "any": "value",
}


@dataclass(frozen=True)
class Option:
    """One setting a plan may give.

    `kind` is one of string, url, integer, number, boolean, date, list, mapping, any. `choices`
    restricts a string. `secret` marks values that must be redacted everywhere and should be
    given as `${env:…}`, `${file:…}` or `${keyring:…}` rather than written in the plan.
    """

    name: str
    kind: str = "string"
    help: str = ""
    default: Any = None
    required: bool = False
    secret: bool = False
    choices: tuple[str, ...] = ()
    item_kind: str | None = None  # for lists: the kind of each element
    #: A connection's text setting is one line (an address, a token, a folder) unless this says
    #: otherwise (a key file's JSON): a line break would reach an HTTP header or a URL.
    multiline: bool = False

    def type_label(self) -> str:
        if self.choices:
            return " | ".join(self.choices)
        return _(_TYPE_NAMES[self.kind])


class OptionValueError(ValueError):
    """A value does not fit its option; the message is plain words for the user."""


def _check_string(value: Any, option: Option) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        if option.choices:
            raise OptionValueError(_("expected one of: {choices}").format(
                choices=", ".join(option.choices)))
        raise OptionValueError(_("expected text"))
    value = str(value)
    if option.choices and value not in option.choices:
        raise OptionValueError(
            _("'{value}' is not one of: {choices}").format(
                value=value, choices=", ".join(option.choices)
            )
        )
    return value


def _check_url(value: Any, option: Option) -> Any:
    """A web address with its scheme and server: 'cloud.example.org' alone would be read as a
    path and only fail when the service is contacted, far from the plan."""
    from urllib.parse import urlsplit

    text = _check_string(value, option)
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if "://" not in text:
            raise OptionValueError(_("'{value}' is not a web address: write it with its "
                                     "beginning, e.g. https://{value}").format(value=text))
        raise OptionValueError(_("'{value}' is not a web address: it must begin with https:// "
                                 "(or http://) followed by the server's name").format(value=text))
    return text


def _check_integer(value: Any, option: Option) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionValueError(_("expected a whole number"))
    return value


def _check_number(value: Any, option: Option) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionValueError(_("expected a number"))
    return value


def _check_boolean(value: Any, option: Option) -> Any:
    if not isinstance(value, bool):
        raise OptionValueError(_("expected true or false"))
    return value


def _check_date(value: Any, option: Option) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise OptionValueError(_("expected a date written YYYY-MM-DD")) from None


def _check_list(value: Any, option: Option) -> Any:
    if not isinstance(value, list):
        raise OptionValueError(_("expected a list"))
    if option.item_kind:
        element = Option(option.name, option.item_kind)
        return [_CHECKS[option.item_kind](item, element) for item in value]
    return value


def _check_mapping(value: Any, option: Option) -> Any:
    if not isinstance(value, dict):
        raise OptionValueError(_("expected a mapping (key: value lines)"))
    return value


_CHECKS: dict[str, Callable[[Any, Option], Any]] = {
    "string": _check_string,
    "url": _check_url,
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "date": _check_date,
    "list": _check_list,
    "mapping": _check_mapping,
    "any": lambda value, option: value,
}


def check_value(option: Option, value: Any) -> Any:
    """Return the value converted to the option's kind, or raise OptionValueError."""
    return _CHECKS[option.kind](value, option)


@dataclass(frozen=True)
class OptionSet:
    """The options of one connector type or of a step, by name."""

    options: Sequence[Option] = field(default_factory=tuple)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.options)

    def names(self) -> list[str]:
        return [option.name for option in self.options]

    def get(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options if o.default is not None}

    def secret_names(self) -> set[str]:
        return {option.name for option in self.options if option.secret}

    def merged(self, *others: OptionSet) -> OptionSet:
        seen = {option.name: option for option in self.options}
        for other in others:
            for option in other:
                seen.setdefault(option.name, option)
        return OptionSet(tuple(seen.values()))


def json_schema_for(option: Option) -> dict[str, Any]:
    """The JSON Schema fragment an editor uses to complete and check one option."""
    reference = {"type": "string", "pattern": r"^.*\$\{(env|file|keyring|var)[:.].+\}.*$"}
    base: dict[str, Any]
    if option.choices:
        base = {"enum": list(option.choices)}
    else:
        base = {
            "string": {"type": "string"},
            "integer": {"type": "integer"},
            "number": {"type": "number"},
            "boolean": {"type": "boolean"},
            "date": {"type": "string", "format": "date"},
            "url": {"type": "string", "pattern": "^https?://[^/]"},
            "list": {"type": "array"},
            "mapping": {"type": "object"},
            "any": {},
        }[option.kind]
    schema: dict[str, Any] = {"description": option.help}
    if option.kind in ("string", "any") and not option.choices:
        schema.update(base)
    else:
        schema["anyOf"] = [base, reference]
    if option.default is not None and not isinstance(option.default, dt.date):
        schema["default"] = option.default
    return schema


def describe_options(options: OptionSet) -> list[dict[str, Any]]:
    """Rows for `migrate connectors show TYPE`."""
    return [
        {
            "name": o.name,
            "type": o.type_label(),
            "required": o.required,
            "default": o.default if not isinstance(o.default, dt.date) else o.default.isoformat(),
            "secret": o.secret,
            "help": _(o.help) if o.help else "",
        }
        for o in options
    ]


def unknown_keys(given: Mapping[str, Any], allowed: Sequence[str]) -> list[str]:
    return [key for key in given if key not in allowed]


# -- options declared as a frozen dataclass --------------------------------------------------
#
# A connector writes its options once, as fields (Singer's `th.Property`, dlt's `@configspec`):
#
#     @dataclass(frozen=True, kw_only=True)
#     class LocalOptions:
#         path: str = option(required=True, help="…")
#         fsync: bool = option("boolean", default=False, help="…")
#
# `declared(LocalOptions)` is the `OptionSet` that validation, the JSON Schema and `connectors
# show` read; `typed(LocalOptions, values)` is what the connector receives.

_OPTION_KEY = "transhumance.option"


def option(kind: str = "string", *, help: str = "", default: Any = None,
           required: bool = False, secret: bool = False, choices: Sequence[str] = (),
           item_kind: str | None = None, multiline: bool = False,
           name: str | None = None) -> Any:
    """One field of an options dataclass: its declaration (see `Option`) and its default.

    A list absent from the plan is an empty tuple and a mapping an empty dict, so connectors
    need no `or []`; a secret is left out of the dataclass's `repr`. `name` is the plan's
    spelling when it is not a Python name."""
    declaration = Option(name or "", kind, help, default, required, secret, tuple(choices),
                         item_kind, multiline)
    metadata = {_OPTION_KEY: declaration}
    if required:
        return field(metadata=metadata, repr=not secret)
    if default is None and kind == "list":
        return field(default=(), metadata=metadata, repr=not secret)
    if kind == "mapping":  # each instance its own dict, the declared one never shared
        initial = dict(default or {})
        return field(default_factory=initial.copy, metadata=metadata, repr=not secret)
    if kind == "list":
        return field(default=tuple(default), metadata=metadata, repr=not secret)
    return field(default=default, metadata=metadata, repr=not secret)


def _declarations(cls: type) -> list[tuple[str, Option]]:
    """(field name, option) for each option field, named as the plan spells it."""
    from dataclasses import fields, replace

    found = []
    for one in fields(cls):
        declaration = one.metadata.get(_OPTION_KEY)
        if declaration is not None:
            found.append((one.name, replace(declaration, name=declaration.name or one.name)))
    return found


def declared(cls: type) -> OptionSet:
    """The options an options dataclass declares, in field order."""
    return OptionSet(tuple(declaration for _name, declaration in _declarations(cls)))


def typed(cls: type[T], values: Mapping[str, Any]) -> T:
    """The options dataclass filled from validated values (plan options, resolved secrets);
    absent ones keep their declared default, keys of other declarations are ignored (a step's
    `with:` holds the core's, the source's and the target's options together)."""
    given: dict[str, Any] = {}
    for field_name, declaration in _declarations(cls):
        value = values.get(declaration.name)
        if value is None:
            continue
        if declaration.kind == "list":
            value = tuple(value)
        elif declaration.kind == "mapping":
            value = dict(value)
        given[field_name] = value
    return cls(**given)
