"""The SQL-ish `query` expressions of `GET /api/subscribers`, evaluated in Python.

listmonk pastes the expression into a PostgreSQL WHERE clause. The emulator understands the
forms a migration tool writes: comparisons (=, !=, <>, ILIKE, LIKE, [NOT] IN (...)) on
`[subscribers.]email|name|status|uuid|id`, `subscribers.attribs->>'key'`, `LOWER(...)`, joined
with AND / OR / NOT and parentheses. Anything else is a 400, like a PostgreSQL syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.listmonk.store import ListmonkError

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<op>->>|<>|!=|=|\(|\)|,)"
                   r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")
COLUMNS = {"email", "name", "status", "uuid", "id", "created_at", "updated_at"}
Predicate = Callable[[dict[str, Any]], bool]
Operand = Callable[[dict[str, Any]], Any]


def compile_query(text: str) -> Predicate:
    """A predicate over subscriber records; an empty query matches everything."""
    if not text.strip():
        return lambda record: True
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise _error(f"unexpected {parser.peek()!r}")
    return predicate


def _error(detail: str) -> ListmonkError:
    return ListmonkError(400, f"Error preparing subscriber query: {detail}")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise _error(f"syntax error at or near {text[position:position + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _like(pattern: str, flags: int) -> Callable[[Any], bool]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(f"^{regex}$", flags | re.DOTALL)
    return lambda value: bool(compiled.match(str(value)))


class _Parser:
    """Recursive descent: expression := term (OR term)*; term := factor (AND factor)*."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise _error("unexpected end of query")
        token = self.tokens[self.index]
        if expected and token[1].upper() != expected:
            raise _error(f"expected {expected}, got {token[1]!r}")
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        if (self.peek() or "").upper() == word:
            self.index += 1
            return True
        return False

    def expression(self) -> Predicate:
        parts = [self.term()]
        while self.keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def factor(self) -> Predicate:
        if self.keyword("NOT"):
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek() == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        left = self.operand()
        negate = self.keyword("NOT")
        word = (self.peek() or "").upper()
        if word == "IN":
            self.take()
            self.take("(")
            values = [self.operand()({})]
            while self.peek() == ",":
                self.take(",")
                values.append(self.operand()({}))
            self.take(")")
            return lambda r: (left(r) in values) != negate
        if word in ("ILIKE", "LIKE"):
            self.take()
            match = _like(str(self.operand()({})), re.IGNORECASE if word == "ILIKE" else 0)
            return lambda r: match(left(r)) != negate
        _, op = self.take()
        if op not in ("=", "!=", "<>"):
            raise _error(f"unsupported operator {op!r}")
        right = self.operand()
        if op == "=":
            return lambda r: left(r) == right(r)
        return lambda r: left(r) != right(r)

    def operand(self) -> Operand:
        kind, value = self.take()
        if kind == "str":
            text = value[1:-1].replace("''", "'")
            return lambda r: text
        if kind == "num":
            return lambda r: int(value)
        if kind == "word" and value.upper() == "LOWER" and self.peek() == "(":
            self.take("(")
            inner = self.operand()
            self.take(")")
            return lambda r: str(inner(r)).lower()
        if kind == "word":
            return self.column(value)
        raise _error(f"syntax error at or near {value!r}")

    def column(self, name: str) -> Operand:
        column = name.lower().removeprefix("subscribers.")
        if column == "attribs" and self.peek() == "->>":
            self.take("->>")
            key = self.operand()({})
            return lambda r: _text(r.get("attribs", {}).get(key))
        if column not in COLUMNS:
            raise _error(f'column "{name}" does not exist')
        return lambda r: r.get(column)


def _text(value: Any) -> Any:
    # `->>` yields text in PostgreSQL, so numbers and booleans compare as their text form.
    if value is None or isinstance(value, str):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)
