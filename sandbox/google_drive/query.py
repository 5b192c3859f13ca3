"""The `q` search language of files.list, parsed into a predicate over emulated files.

Supported: `name`, `mimeType` (=, !=, contains), `trashed`, `starred` (=, !=), `modifiedTime`,
`createdTime` (comparisons), `'ID' in parents|owners|writers|readers`, `sharedWithMe`,
`fullText contains` (matched against names only), `and`, `or`, `not` and parentheses.
Anything else is a 400 `invalid` on `q`, which is what Drive answers for queries it rejects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from .errors import DriveApiError
from .model import DriveFile, parse_time
from .state import DriveState

Predicate = Callable[[DriveFile, DriveState], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<paren>[()])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def invalid_query() -> DriveApiError:
    return DriveApiError(400, "invalid", "Invalid Value", location="q")


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split a query into (kind, text) tokens; kinds are string, op, paren and word."""
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise invalid_query()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str | None = None, word: str | None = None) -> str:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (word and token[1].lower() != word):
            raise invalid_query()
        self.index += 1
        return token[1]

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() == word

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.is_word("or"):
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda f, s: any(t(f, s) for t in terms)

    def conjunction(self) -> Predicate:
        terms = [self.unary()]
        while self.is_word("and"):
            self.take()
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else lambda f, s: all(t(f, s) for t in terms)

    def unary(self) -> Predicate:
        if self.is_word("not"):
            self.take()
            inner = self.unary()
            return lambda f, s: not inner(f, s)
        token = self.peek()
        if token == ("paren", "("):
            self.take()
            inner = self.expression()
            self.take("paren")
            return inner
        return self.term()

    def term(self) -> Predicate:
        token = self.peek()
        if token and token[0] == "string":
            value = self.take()
            self.take("word", "in")
            return _membership(value, self.take("word"))
        field = self.take("word")
        if field == "sharedWithMe":
            return lambda f, s: f.owner is not None and f.owner != s.user
        if self.is_word("contains"):
            self.take()
            return _contains(field, self.take("string"))
        operator = self.take("op")
        kind, value = self.peek() or ("", "")
        self.take()
        return _comparison(field, operator, kind, value)


def _membership(value: str, collection: str) -> Predicate:
    if collection == "parents":
        return lambda f, s: s.resolve_id(value) in f.parents
    if collection == "owners":
        return lambda f, s: f.owner is not None and value in (f.owner.email, "me")
    if collection in ("writers", "readers"):
        roles = {"owner", "organizer", "fileOrganizer", "writer"}
        if collection == "readers":
            roles |= {"commenter", "reader"}
        return lambda f, s: any(
            p.role in roles and value in (p.email_address, p.domain)
            for p in s.effective_permissions(f)
        )
    raise invalid_query()


def _contains(field: str, value: str) -> Predicate:
    needle = value.casefold()
    if field in ("name", "fullText"):
        # Drive matches name prefixes per word; a substring test is a close, documented superset.
        return lambda f, s: needle in f.name.casefold()
    if field == "mimeType":
        return lambda f, s: value in f.mime_type
    raise invalid_query()


def _comparison(field: str, operator: str, kind: str, value: str) -> Predicate:
    compare = _COMPARE[operator]
    if field in ("trashed", "starred"):
        if kind != "word" or value not in ("true", "false") or operator not in ("=", "!="):
            raise invalid_query()
        expected = value == "true"
        return lambda f, s: compare(getattr(f, field), expected)
    if kind != "string":
        raise invalid_query()
    if field in ("name", "mimeType") and operator in ("=", "!="):
        attribute = "name" if field == "name" else "mime_type"
        return lambda f, s: compare(getattr(f, attribute), value)
    if field in ("modifiedTime", "createdTime"):
        moment = _moment(value)
        attribute = "modified_time" if field == "modifiedTime" else "created_time"
        return lambda f, s: compare(getattr(f, attribute), moment)
    raise invalid_query()


def _moment(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise invalid_query() from None


def parse_query(text: str | None) -> Predicate:
    """A predicate for `q`; an absent or blank query matches everything."""
    if not text or not text.strip():
        return lambda f, s: True
    parser = _Parser(tokenize(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise invalid_query()
    return predicate
