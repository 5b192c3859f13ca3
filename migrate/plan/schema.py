"""The plan's JSON Schema (`plans/schema.json`), generated from every connector's declarations.

Editors that speak JSON Schema (VS Code with the YAML extension, JetBrains) then complete and
check plan files as they are typed.
"""

from __future__ import annotations

from typing import Any

from migrate import registry
from migrate.options import OptionSet, json_schema_for
from migrate.plan.plan_file import ACTIONS, CORE_STEP_OPTIONS


def _properties(options: OptionSet) -> dict[str, Any]:
    return {option.name: json_schema_for(option) for option in options}


def _connection_schema(name: str) -> dict[str, Any]:
    connector = registry.get(name)
    properties = {"type": {"const": name, "description": connector.summary}}
    properties.update(_properties(connector.options))
    required = ["type", *[o.name for o in connector.options if o.required]]
    return {"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"properties": properties, "required": required,
                     "additionalProperties": False}}


def plan_schema() -> dict[str, Any]:
    names = registry.names()
    step_options = CORE_STEP_OPTIONS
    for name in names:
        connector = registry.get(name)
        step_options = step_options.merged(connector.source_step_options,
                                           connector.target_step_options)
    endpoint = {"type": "object", "additionalProperties": False, "required": ["from", "to"],
                "properties": {"from": {"type": "string", "description": "connection[:path]"},
                               "to": {"type": "string", "description": "connection[:path]"}}}
    step = {"type": "object", "required": ["id"], "additionalProperties": False,
            "properties": {"id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                           **{action: endpoint for action in ACTIONS},
                           "with": {"type": "object", "properties": _properties(step_options)}},
            "oneOf": [{"required": [action]} for action in ACTIONS]}
    connection = {"type": "object", "required": ["type"],
                  "properties": {"type": {"enum": names}},
                  "allOf": [_connection_schema(name) for name in names]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://transhumance.example/plans/schema.json",
        "title": "Transhumance migration plan",
        "type": "object",
        "required": ["version", "connections", "steps"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "organisation": {"type": "string"},
            "vars": {"type": "object", "additionalProperties": {"type": ["string", "number",
                                                                          "boolean"]}},
            "connections": {"type": "object", "additionalProperties": connection},
            "steps": {"type": "array", "minItems": 1, "items": step},
        },
    }
