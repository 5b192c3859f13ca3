"""Load YAML into plain Python values while remembering where every key and value stood.

Plan errors must point at `file:line:col`; PyYAML's composed node tree has the marks, so we build
plain dicts/lists from it and keep a side table of positions keyed by the value's path
(`("steps", 0, "copy", "from")`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migrate.errors import Location, PlanError
from migrate.i18n import _
from migrate.printable import is_text

if TYPE_CHECKING:
    import yaml

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


#: Values a plan may hold once its aliases (`*name`) are expanded. A real plan holds a few
#: hundred; "billion laughs" (aliases of aliases) would reach billions in minutes.
MAX_VALUES = 20_000
#: Levels of nesting: a plan needs about six; PyYAML's parser is recursive.
MAX_DEPTH = 64


def load(text: str, file: str) -> tuple[Any, Positions]:
    """Parse `text`; raise PlanError at the offending line for bad YAML or duplicate keys."""
    import yaml  # here: a re-run reads its plan's parse kept by migrate/plan/parsecache.py

    positions = Positions(file)
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks every character: ReaderError here
        root = loader.get_single_node()
        if root is None:
            return None, positions
        return _build(loader, root, (), positions), positions
    except yaml.reader.ReaderError as error:
        where = _position(file, text, error.position)
        raise PlanError(_("this is not valid YAML: the character {char} cannot appear in a "
                          "plan; remove it or write it as an escape in a quoted string").format(
            char=f"U+{error.character:04X}" if isinstance(error.character, int)
            else repr(error.character)), where) from None
    except RecursionError:
        raise PlanError(_("this is not valid YAML for a plan: it nests too deeply (more than "
                          "{n} levels)").format(n=MAX_DEPTH), Location(file, 1, 1)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else None
        problem = error.problem or error.context or str(error)
        message = _("this is not valid YAML: {problem}").format(problem=problem)
        raise PlanError(message, where) from None
    except yaml.YAMLError as error:
        raise PlanError(_("this is not valid YAML: {problem}").format(problem=error)) from None
    finally:
        if loader is not None:
            loader.dispose()


def _position(file: str, text: str, index: int) -> Location:
    before = text[:index]
    return Location(file, before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    """A scalar's value as its tag says; a tag that does not fit (`!!float x`) is a plan error."""
    try:
        value = loader.construct_object(node, deep=True)
    # PyYAML's constructors fail in their own ways on text that does not fit the tag
    # (`!!timestamp 2024-13-45x` ends in AttributeError): all of them mean the same here.
    except (ValueError, TypeError, OverflowError, ArithmeticError, AttributeError, KeyError,
            IndexError) as error:
        problem = (str(error) if isinstance(error, ValueError | ArithmeticError)
                   else _("the text does not fit it"))
        raise PlanError(_("this value cannot be read as its tag '{tag}' says ({problem})")
                        .format(tag=node.tag, problem=problem), _location(file, node)) from None
    if isinstance(value, str) and not is_text(value):  # "\uD800": half of a character
        raise PlanError(_("this text holds an escape that is not a character (a lone surrogate "
                          "such as \\uD800); write the character itself"), _location(file, node))
    return value


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, positions: Positions) -> Any:
    import yaml

    positions.values[path] = _location(positions.file, node)
    if len(positions.values) > MAX_VALUES:
        raise PlanError(_("the plan holds more than {n} values once its aliases (*name) are "
                          "expanded; aliases of aliases are not allowed to grow that large")
                        .format(n=MAX_VALUES), _location(positions.file, node))
    if len(path) > MAX_DEPTH:
        raise PlanError(_("this is not valid YAML for a plan: it nests too deeply (more than "
                          "{n} levels)").format(n=MAX_DEPTH), _location(positions.file, node))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):  # never expand a structure as a key
                raise PlanError(_("a key must be plain text"),
                                _location(positions.file, key_node))
            key = _construct(loader, key_node, positions.file)
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
    return _construct(loader, node, positions.file)
