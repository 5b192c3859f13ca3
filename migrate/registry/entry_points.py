"""One group's entry points, read from the installed distributions without `importlib.metadata`.

Every command that reads a plan looks its connectors up by name. `importlib.metadata` finds
them, but importing it (with `zipfile`, `csv`, `email` and its path machinery) costs about as
much as a re-run's whole listing of a small target. What it does for `entry_points(group=…)`
is simple enough to do here with `os.scandir`, for folders on `sys.path`: every
`*.dist-info` / `*.egg-info` folder's `entry_points.txt`, a distribution seen twice counted
once (the first on `sys.path`, as there). Where `sys.path` holds anything else (a zip file, an
egg), `importlib.metadata` is asked instead.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from importlib import import_module
from typing import Any

from migrate.runner import gcpause

_SUFFIXES = (".dist-info", ".egg-info")


class Entry:
    """`importlib.metadata.EntryPoint`'s `name`, `value` and `load()`."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def load(self) -> Any:
        """`module:attribute.path [extras]`, as `EntryPoint.load` reads it (no regular
        expression: compiling importlib's, with its Unicode classes, costs more than the
        whole scan)."""
        module, _sep, attribute = self.value.partition("[")[0].partition(":")
        if not module.strip():
            raise ValueError(f"entry point {self.name} = {self.value} names no object")
        attributes = filter(None, attribute.strip().split("."))
        with gcpause.paused():  # an import makes long-lived objects, not garbage
            loaded = import_module(module.strip())
        return functools.reduce(getattr, attributes, loaded)


def entries(group: str) -> list[Entry]:
    """Every entry point of `group`, in the order `importlib.metadata` gives them."""
    found: list[Entry] = []
    seen: set[str] = set()
    for path in sys.path:
        folder = path or "."
        try:
            with os.scandir(folder) as listing:
                names = [entry.name for entry in listing]
        except NotADirectoryError:
            return _from_importlib(group)  # a zip or an egg: its own finder knows it
        except OSError:
            continue  # a path entry that does not exist: importlib.metadata skips it too
        for name in names:
            stem, dot, extension = name.rpartition(".")
            if not dot or "." + extension.lower() not in _SUFFIXES:
                continue
            distribution = _normal(stem.partition("-")[0])
            if distribution in seen:
                continue
            seen.add(distribution)
            found += _read(os.path.join(folder, name, "entry_points.txt"), group)
    return found


def _normal(name: str) -> str:
    """importlib.metadata's `Prepared.normalize`: `Foo.Bar-baz` and `foo_bar_baz` are one."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _read(path: str, group: str) -> list[Entry]:
    """The entries of `[group]` in one `entry_points.txt` (importlib.metadata's `Sectioned`)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return []
    if group not in text:
        return []
    section = None
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group:
            name, _sep, value = line.partition("=")
            found.append(Entry(name.strip(), value.strip()))
    return found


def _from_importlib(group: str) -> list[Entry]:
    from importlib.metadata import entry_points

    return [Entry(entry.name, entry.value) for entry in entry_points(group=group)]
