"""Text from outside (file names, posts, server answers) made safe to print and to store.

A file name may hold a newline (and forge a `+ fake.txt` line in the plan), an ANSI escape
(and repaint the terminal), or bytes that are not UTF-8 (which Python keeps as lone surrogates,
and which neither a terminal nor SQLite accepts). Everything printed passes `for_terminal`;
names placed inside a line pass `one_line`.

Escapes are written `\\uXXXX`, which stays valid inside JSON strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, line/paragraph separators, non-characters, lone surrogates.
_OTHERS = "\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff"
_ANY_CONTROL = re.compile("[\x00-\x1f" + _OTHERS + "]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f" + _OTHERS + "]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def one_line(text: str) -> str:
    """A name or value shown inside a line: every control character escaped, newlines too."""
    return _ANY_CONTROL.sub(_escape, text)


def for_terminal(text: str) -> str:
    """Text about to be printed: control characters escaped; newlines and tabs kept."""
    return _CONTROL_BUT_LINES.sub(_escape, text)


def is_text(value: str) -> bool:
    """Whether `value` can be encoded as UTF-8 (no lone surrogate from undecodable bytes)."""
    if value.isascii():  # most names: no copy made to find out
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Values that hold no text: a dict of them with ASCII keys is storable as it is.
_PLAIN = (int, float, bool, type(None))


def is_storable(value: Any) -> bool:
    """Whether every string inside `value` (a JSON-like structure) is valid Unicode."""
    if type(value) is dict and all(type(k) is str and k.isascii() and type(v) in _PLAIN
                                   for k, v in value.items()):
        return True  # e.g. a local file's {"mtime_ns": …}, once per item: no JSON text made
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        return False
    return True


def reversible(value: str) -> str:
    """Undecodable bytes as `\\xNN` (and lone surrogates as `\\udNNN`): valid text that still
    tells the original apart."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def shorten(text: str, limit: int = 240) -> str:
    """A path or value far too long to read (a 200 KB folder name): its start and its end."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…{text[-half:]}"
