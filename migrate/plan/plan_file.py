"""The plan file: load, substitute variables, validate against each connector's declared options.

Every error carries `file:line:col`, says what is wrong in plain words and, where it can,
suggests the nearest valid key. Secrets stay references until `resolve_connections`
(migrate/plan/secrets.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate import registry
from migrate.connector import Connector
from migrate.diff import CoreStepOptions
from migrate.errors import Location, PlanError
from migrate.i18n import _, os_reason
from migrate.options import Option, OptionSet, OptionValueError, check_value, declared
from migrate.plan import confine, parsecache, yamlpos
from migrate.plan.references import (
    ReferenceError_,
    has_secret_reference,
    resolve_variable,
    substitute,
)
from migrate.plan.secrets import _line_break_message, has_line_break

# Still named here by migrate/api.py and the tests, as before they moved.
from migrate.plan.secrets import literal_secrets as literal_secrets
from migrate.plan.secrets import resolve_connections as resolve_connections

ACTIONS = ("copy", "mirror", "export")
TOP_LEVEL_KEYS = ("version", "organisation", "vars", "connections", "steps")
STEP_KEYS = ("id", *ACTIONS, "with")
ENDPOINT_KEYS = ("from", "to")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

#: Options every step accepts, whatever its connectors (declared with the diff, which reads
#: them).
CORE_STEP_OPTIONS = declared(CoreStepOptions)


@dataclass(frozen=True)
class Endpoint:
    """`drive:/Communication` → connection 'drive', location '/Communication'."""

    connection: str
    location: str

    def __str__(self) -> str:
        return f"{self.connection}:{self.location}" if self.location else self.connection


@dataclass
class ConnectionSpec:
    name: str
    type: str
    options: dict[str, Any]
    location: Location


@dataclass
class StepSpec:
    id: str
    action: str
    source: Endpoint
    target: Endpoint
    options: dict[str, Any]
    location: Location


@dataclass
class Plan:
    path: Path
    version: int
    organisation: str
    variables: dict[str, str]
    connections: dict[str, ConnectionSpec]
    steps: list[StepSpec]
    digest: str
    positions: yamlpos.Positions = field(repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise PlanError(_unknown(_("unknown step '{name}'").format(name=step_id), step_id,
                                 [s.id for s in self.steps]))

    def connector_for(self, endpoint: Endpoint) -> type[Connector]:
        return registry.get(self.connections[endpoint.connection].type)


def _unknown(message: str, name: str, known: list[str]) -> str:
    """`message` ("unknown key 'form'"), then the nearest known name or the known ones."""
    import difflib  # only for a misspelt name

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return message + " — " + _("did you mean '{s}'?").format(s=close[0])
    if known:
        return message + " — " + _("expected one of: {known}").format(known=", ".join(known))
    return message


def load_plan(path: str | Path, parsed: Path | None = None) -> Plan:
    """Read and validate a plan file without resolving secrets or contacting any service.

    `parsed` is where its parse is kept between runs (`migrate/plan/parsecache.py`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PlanError(
            _("cannot read the plan file {path}: {reason}").format(
                path=path, reason=os_reason(error)
            )
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlanError(_("the plan file {path} is not UTF-8 text").format(path=path)) from None
    digest = hashlib.sha256(raw).hexdigest()
    kept = parsecache.read(parsed, text, digest, str(path)) if parsed is not None else None
    data, positions = kept if kept is not None else yamlpos.load(text, str(path))
    if parsed is not None and kept is None:  # before the validator reads (and fills) `data`
        parsecache.write(parsed, text, digest, data, positions)
    return _Validator(path, data, positions, digest).plan()


class _Validator:
    def __init__(self, path: Path, data: Any, positions: yamlpos.Positions, digest: str) -> None:
        self.path, self.data, self.positions, self.digest = path, data, positions, digest
        self.variables: dict[str, str] = {}

    def fail(self, message: str, at: yamlpos.Path, key: bool = False) -> PlanError:
        where = self.positions.of_key(at) if key else self.positions.of_value(at)
        return PlanError(message, where)

    def plan(self) -> Plan:
        data = self.data
        if not isinstance(data, dict):
            raise self.fail(_("a plan must be a mapping with version, connections and steps"), ())
        self.check_keys(data, TOP_LEVEL_KEYS, (), _("at the top of the plan"))
        if "version" not in data:
            raise self.fail(_("the plan has no 'version:' (write 'version: 1' at the top)"), ())
        if data["version"] != 1:
            raise self.fail(_("only 'version: 1' is understood by this version"), ("version",))
        self.variables = self.read_variables(data.get("vars") or {})
        data = self.substitute_variables(data, ())
        connections = self.read_connections(data.get("connections"))
        steps = self.read_steps(data.get("steps"), connections)
        return Plan(
            path=self.path,
            version=1,
            organisation=str(data.get("organisation") or self.path.parent.name),
            variables=self.variables,
            connections=connections,
            steps=steps,
            digest=self.digest,
            positions=self.positions,
        )

    def check_keys(self, given: Mapping[str, Any], allowed: tuple[str, ...] | list[str],
                   at: yamlpos.Path, where: str) -> None:
        for key in given:
            if key not in allowed:
                message = _unknown(_("unknown key '{name}' {where}").format(name=key,
                                                                            where=where),
                                   key, list(allowed))
                raise self.fail(message, (*at, key), key=True)

    def read_variables(self, raw: Any) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail(_("'vars' must be a mapping of names to values"), ("vars",))
        for name, value in raw.items():
            if not isinstance(value, str | int | float | bool):
                raise self.fail(_("the variable '{n}' must be plain text").format(n=name),
                                ("vars", name))
        return {name: str(value) for name, value in raw.items()}

    def substitute_variables(self, value: Any, at: yamlpos.Path) -> Any:
        if isinstance(value, dict):
            return {k: self.substitute_variables(v, (*at, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute_variables(v, (*at, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value and at[:1] != ("vars",):
            try:
                return substitute(value, lambda e: resolve_variable(e, self.variables))
            except ReferenceError_ as error:
                raise self.fail(str(error), at) from None
        return value

    def read_connections(self, raw: Any) -> dict[str, ConnectionSpec]:
        if not isinstance(raw, dict) or not raw:
            raise self.fail(_("the plan needs 'connections:', each with a 'type'"),
                            ("connections",))
        return {name: self.read_connection(name, spec) for name, spec in raw.items()}

    def read_connection(self, name: str, spec: Any) -> ConnectionSpec:
        at: yamlpos.Path = ("connections", name)
        if not isinstance(spec, dict) or "type" not in spec:
            raise self.fail(_("the connection '{n}' needs a 'type'").format(n=name), at)
        try:
            connector = registry.get(str(spec["type"]))
        except registry.UnknownConnectorError as error:
            raise self.fail(str(error), (*at, "type")) from None
        options = {k: v for k, v in spec.items() if k != "type"}
        where = _("in connection '{n}'").format(n=name)
        checked = self.check_options(options, connector.options, at, where)
        for key, value in checked.items():
            if has_line_break(connector.options.get(key), value):
                raise self.fail(_line_break_message(key, name), (*at, key))
        return ConnectionSpec(name, connector.name, checked, self.positions.of_key(at))

    def check_options(self, given: dict[str, Any], declared: OptionSet, at: yamlpos.Path,
                      where: str) -> dict[str, Any]:
        self.check_keys(given, declared.names(), at, where)
        result = declared.defaults()
        for option in declared:
            if option.name not in given:
                if option.required:
                    raise self.fail(_("'{o}' is required {where}").format(o=option.name,
                                    where=where), at, key=True)
                continue
            result[option.name] = self.check_value(option, given[option.name], (*at, option.name))
        return result

    def check_value(self, option: Option, value: Any, at: yamlpos.Path) -> Any:
        if isinstance(value, str) and has_secret_reference(value):
            return value  # checked once resolved
        try:
            return check_value(option, value)
        except OptionValueError as error:
            message = _("'{o}': {problem}").format(o=option.name, problem=error)
            raise self.fail(message, at) from None

    def refuse_secret_references(self, value: Any, at: yamlpos.Path) -> None:
        """Step options are not secrets and are used as written: a reference is refused
        (connection options resolve them; `${var.x}` is already substituted here)."""
        if isinstance(value, dict):
            for key, inner in value.items():
                self.refuse_secret_references(inner, (*at, key))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                self.refuse_secret_references(inner, (*at, index))
        elif isinstance(value, str) and has_secret_reference(value):
            raise self.fail(_("${env:…}, ${file:…} and ${keyring:…} are for connection "
                              "options; write this step option's value itself (or use "
                              "${var.name})"), at)

    def read_steps(self, raw: Any, connections: dict[str, ConnectionSpec]) -> list[StepSpec]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(_("the plan needs 'steps:', a list of steps"), ("steps",))
        steps: list[StepSpec] = []
        for index, spec in enumerate(raw):
            step = self.read_step(index, spec, connections)
            if any(s.id == step.id for s in steps):
                raise self.fail(_("two steps are called '{id}'").format(id=step.id),
                                ("steps", index, "id"))
            steps.append(step)
        return steps

    def read_step(self, index: int, spec: Any, connections: dict[str, ConnectionSpec]) -> StepSpec:
        at: yamlpos.Path = ("steps", index)
        if not isinstance(spec, dict):
            raise self.fail(_("each step must be a mapping with an 'id' and an action"), at)
        step_id = str(spec.get("id", ""))
        if not STEP_ID.match(step_id):
            raise self.fail(_("each step needs an 'id' made of letters, digits, '-', '_' or '.'"),
                            (*at, "id") if "id" in spec else at)
        where = _("in step '{id}'").format(id=step_id)
        self.check_keys(spec, STEP_KEYS, at, where)
        actions = [a for a in ACTIONS if a in spec]
        if len(actions) != 1:
            raise self.fail(_("step '{id}' needs exactly one of: copy, mirror, export").format(
                id=step_id), at)
        action = actions[0]
        body = spec[action]
        if not isinstance(body, dict):
            raise self.fail(_("'{a}' takes 'from' and 'to'").format(a=action), (*at, action))
        self.check_keys(body, ENDPOINT_KEYS, (*at, action), where)
        source = self.endpoint(body, "from", (*at, action), connections, where)
        target = self.endpoint(body, "to", (*at, action), connections, where)
        source_type = registry.get(connections[source.connection].type)
        target_type = registry.get(connections[target.connection].type)
        self.check_role(source_type, action, "source", (*at, action, "from"))
        self.check_role(target_type, action, "target", (*at, action, "to"))
        declared = CORE_STEP_OPTIONS.merged(source_type.source_step_options,
                                            target_type.target_step_options)
        given = spec.get("with") or {}
        if not isinstance(given, dict):
            raise self.fail(_("'with' must be a mapping of options"), (*at, "with"))
        self.refuse_secret_references(given, (*at, "with"))
        options = self.check_options(given, declared, (*at, "with"), where)
        return StepSpec(step_id, action, source, target, options, self.positions.of_value(at))

    def endpoint(self, body: dict[str, Any], key: str, at: yamlpos.Path,
                 connections: dict[str, ConnectionSpec], where: str) -> Endpoint:
        if key not in body:
            raise self.fail(_("'{k}' is missing {where}").format(k=key, where=where), at)
        name, _sep, location = str(body[key]).partition(":")
        if name not in connections:
            raise self.fail(_unknown(_("unknown connection '{name}'").format(name=name), name,
                                     list(connections)), (*at, key))
        trouble = confine.problem(location)
        if trouble is not None:
            raise self.fail(_("'{k}': {problem}").format(k=key, problem=trouble), (*at, key))
        return Endpoint(name, location)

    def check_role(self, connector: type[Connector], action: str, role: str,
                   at: yamlpos.Path) -> None:
        actions = connector.source_actions if role == "source" else connector.target_actions
        if action not in actions:
            can = ", ".join(actions) or _("nothing")
            raise self.fail(
                _("a '{t}' connection cannot be the {role} of '{a}' (it can: {can})").format(
                    t=connector.name, role=_(role), a=action, can=can), at)
