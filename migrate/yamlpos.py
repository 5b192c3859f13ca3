"""Load YAML into plain Python values while remembering where every key and value stood.

Plan errors must point at `file:line:col`; PyYAML's composed node tree has the marks, so we build
plain dicts/lists from it and keep a side table of positions keyed by the value's path
(`("steps", 0, "copy", "from")`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from migrate.errors import Location, PlanError
from migrate.i18n import _

Path = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each value (and each mapping key) of a loaded document stands in its file."""

    file: str
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def of_value(self, path: Path) -> Location:
        """The value at `path`, or the nearest enclosing one that exists."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Location(self.file, 1, 1))

    def of_key(self, path: Path) -> Location:
        """The key that introduces `path`, else its value's position."""
        return self.keys.get(path) or self.of_value(path)


def _location(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def load(text: str, file: str) -> tuple[Any, Positions]:
    """Parse `text`; raise PlanError at the offending line for bad YAML or duplicate keys."""
    positions = Positions(file)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, positions
        return _build(loader, root, (), positions), positions
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else None
        problem = error.problem or error.context or str(error)
        message = _("this is not valid YAML: {problem}").format(problem=problem)
        raise PlanError(message, where) from None
    except yaml.YAMLError as error:
        raise PlanError(_("this is not valid YAML: {problem}").format(problem=error)) from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, positions: Positions) -> Any:
    positions.values[path] = _location(positions.file, node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise PlanError(_("a key must be plain text"), _location(positions.file, key_node))
            key = str(key)
            if key in result:
                raise PlanError(
                    _("the key '{key}' is given twice here").format(key=key),
                    _location(positions.file, key_node),
                )
            positions.keys[(*path, key)] = _location(positions.file, key_node)
            result[key] = _build(loader, value_node, (*path, key), positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, child, (*path, i), positions) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
