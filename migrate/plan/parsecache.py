"""A plan file's parse, remembered beside its journal as offsets into the file, never its text.

Reading a plan costs a re-run about 14 ms of its 0.2 s: importing PyYAML (its reader compiles
a large regular expression at import) and its pure-Python scanner on even a ten-line plan. The
parse is a pure function of the file's bytes, so `apply` keeps, in the plan's state folder
(`<plan>.parsed.json` beside the journal, a private folder), what rebuilds that parse without
PyYAML:

- which bytes it was made from: the SHA-256 of the whole file, checked at every read, so any
  change to the file (one byte) means the file is parsed again; and which parser made it (this
  format's number, and the size and time of PyYAML's and `yamlpos`' files);
- the document's shape (mappings, lists), each value's and each key's line and column, and
  for each text or number only *where* it stands in the file (start and end offsets), read
  back from the file's text at each run. Only `true`/`false`/`null` are kept as values.

So the cache never holds a value of the plan: a password written in clear stays only in the
plan file. A plan whose values cannot all be read back that way (escapes in quotes, text
folded over lines, block scalars, dates, old Mac `\\r`-only line ends…) is simply not cached,
nor is a file that is not valid YAML. The record is made from the parse just done and read
back before it is kept: kept only when it gives the same values and positions. What the parse
gives is validated at every run, kept or not: a plan with errors says them each time.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any

from migrate.errors import Location
from migrate.plan import yamlpos

#: Changes whenever the record's form or meaning changes.
FORMAT = 1
_QUOTES = ("'", '"')


def cache_path(journal: Path) -> Path:
    """Where the parse of the plan whose journal is `journal` is kept."""
    return journal.with_name(journal.name.removesuffix(".journal.sqlite") + ".parsed.json")


def _parser() -> list[Any] | None:
    """What parsed the plan: PyYAML's and `yamlpos`' files, by size and time (a new PyYAML or
    an edited `yamlpos` parses again); None when PyYAML's file cannot be found."""
    spec = PathFinder.find_spec("yaml")
    origin = spec.origin if spec is not None else None
    if not origin:
        return None
    try:
        found = [os.stat(origin), os.stat(yamlpos.__file__)]
    except OSError:
        return None
    return [FORMAT, sys.implementation.cache_tag,
            *[[stat.st_size, stat.st_mtime_ns] for stat in found]]


def read(where: Path, text: str, digest: str, file: str) -> tuple[Any, yamlpos.Positions] | None:
    """The parse of `text` (whose bytes' SHA-256 is `digest`) kept in `where`, or None."""
    try:
        with open(where, encoding="utf-8") as stream:
            kept = json.load(stream)
        if (not isinstance(kept, dict) or kept.get("digest") != digest
                or kept.get("parser") != _parser()):
            return None
        positions = yamlpos.Positions(file)
        return _Rebuild(text, positions).node(kept["document"], ()), positions
    except (OSError, ValueError, LookupError, TypeError, RecursionError):
        return None  # missing, damaged or not ours: the file is parsed as if there were none


def write(where: Path, text: str, digest: str, data: Any, positions: yamlpos.Positions) -> None:
    """Keep the parse `data`, `positions` of `text` in `where`, if it can be read back
    exactly from offsets; only into a folder that exists (the journal's, made by `apply`)."""
    parser = _parser()
    if parser is None or not where.parent.is_dir():
        return
    try:
        document = _Record(text, positions).node(data, ())
    except _NotKept:
        return
    check = yamlpos.Positions(positions.file)
    if (_Rebuild(text, check).node(document, ()) != data or check.values != positions.values
            or check.keys != positions.keys):
        return
    temporary = where.with_name(f"{where.name}.{os.getpid()}.tmp")  # one per writer
    try:
        # Private as the journal beside it, though it holds no value of the plan.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as stream:
            json.dump({"digest": digest, "parser": parser, "document": document}, stream)
        os.replace(temporary, where)
    except OSError:
        return  # a read-only state folder still runs, parsing the plan each time


class _NotKept(Exception):
    """A value that cannot be read back from its place in the file: the plan is not cached."""


class _Record:
    """The record of a parse: each value's kind, place and line/column, no value itself."""

    def __init__(self, text: str, positions: yamlpos.Positions) -> None:
        self.text, self.positions = text, positions
        self.starts = [0]
        for line in text.split("\n")[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def where(self, location: Location) -> tuple[int, int, int]:
        line, column = location.line, location.column
        if not 0 < line <= len(self.starts):
            raise _NotKept
        return self.starts[line - 1] + column - 1, line, column

    def span(self, value: Any, location: Location) -> list[Any]:
        """[kind, start, end, line, column] of a scalar read back from the text."""
        start, line, column = self.where(location)
        if value is None or isinstance(value, bool):
            return ["v", value, line, column]
        kind = "s" if isinstance(value, str) else "i" if type(value) is int else \
            "f" if type(value) is float else None
        if kind is None:
            raise _NotKept  # a date, bytes…: not read back from text
        text = value if kind == "s" else None
        for begin in (start, start + 1):
            if begin > start and self.text[start:start + 1] not in _QUOTES:
                break
            end = begin + len(text) if text is not None else self._number_end(begin)
            if _read(kind, self.text[begin:end]) == (value, type(value)) and (
                    begin == start or self.text[end:end + 1] == self.text[start]):
                return [kind, begin, end, line, column]
        raise _NotKept

    def _number_end(self, begin: int) -> int:
        end = begin
        while end < len(self.text) and self.text[end] not in " \t\r\n,]}#'\"":
            end += 1
        return end

    def node(self, value: Any, path: yamlpos.Path) -> list[Any]:
        location = self.positions.values.get(path)
        if location is None:
            raise _NotKept
        if isinstance(value, dict):
            entries = []
            for key, child in value.items():
                key_at = self.positions.keys.get((*path, key))
                if key_at is None:
                    raise _NotKept
                entries.append([*self.span(key, key_at)[1:], self.node(child, (*path, key))])
            return ["m", location.line, location.column, entries]
        if isinstance(value, list):
            return ["l", location.line, location.column,
                    [self.node(child, (*path, index)) for index, child in enumerate(value)]]
        return self.span(value, location)


def _read(kind: str, text: str) -> tuple[Any, type] | None:
    try:
        value: Any = text if kind == "s" else int(text) if kind == "i" else float(text)
    except ValueError:
        return None
    return value, type(value)


class _Rebuild:
    """Values and positions from a record and the text it was made from."""

    def __init__(self, text: str, positions: yamlpos.Positions) -> None:
        self.text, self.positions = text, positions

    def node(self, record: list[Any], path: yamlpos.Path) -> Any:
        kind = record[0]
        file = self.positions.file
        if kind == "m":
            self.positions.values[path] = Location(file, record[1], record[2])
            result = {}
            for start, end, line, column, child in record[3]:
                key = self.text[start:end]
                self.positions.keys[(*path, key)] = Location(file, line, column)
                result[key] = self.node(child, (*path, key))
            return result
        if kind == "l":
            self.positions.values[path] = Location(file, record[1], record[2])
            return [self.node(child, (*path, index)) for index, child in enumerate(record[3])]
        if kind == "v":
            if record[1] not in (None, True, False):
                raise ValueError("not a kept value")
            self.positions.values[path] = Location(file, record[2], record[3])
            return record[1]
        start, end, line, column = record[1:]
        self.positions.values[path] = Location(file, line, column)
        text = self.text[start:end]
        return text if kind == "s" else int(text) if kind == "i" else float(text) \
            if kind == "f" else _unknown(kind)


def _unknown(kind: Any) -> Any:
    raise ValueError(f"unknown kind {kind!r}")
