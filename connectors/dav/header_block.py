"""An answer's header block and a request's first lines, as `http.client` reads and writes
them, for the lean read path (connectors/dav/wire.py) and the uploads' quick reader
(connectors/dav/response.py). Decisions 0490 and 0498."""

from __future__ import annotations

import re
from typing import Any

#: What `http.client` accepts: a line's length, the lines in a block.
MAX_LINE = 65536
MAX_HEADERS = 100
#: A header line the parser reads as one `name: value` pair and nothing else: a name of
#: printable ASCII without ':', then no character that `str.splitlines` (which the parser
#: uses) would take for a line end before the final CRLF or LF.
PLAIN = re.compile(rb"[!-9;-~]+:[^\r\n\x0b\x0c\x1c\x1d\x1e\x85]*\r?\n")
ENDS = (b"\r\n", b"\n", b"")
#: What `http.client` refuses in a request target (`_contains_disallowed_url_pchar_re`).
BAD_TARGET = re.compile("[\x00-\x20\x7f]")
#: A header name written as is: printable ASCII, no space or ':' (others go to `http.client`).
NAME = re.compile("[!-9;-~]+")


def host_header(host: str, port: int, default_port: int) -> str:
    """The two headers `http.client.HTTPConnection.putrequest` adds to every request."""
    try:
        encoded = host.encode("ascii").decode("ascii")
    except UnicodeEncodeError:
        encoded = host.encode("idna").decode("ascii")
    if ":" in host:
        encoded = f"[{encoded}]"  # an IPv6 address
    if port != default_port:
        encoded = f"{encoded}:{port}"
    return f"Host: {encoded}\r\nAccept-Encoding: identity\r\n"


class Headers:
    """A plain header block as `http.client.HTTPMessage` shows it to our callers: `get` and
    `[]` in any case (the first value, None when absent), `get_all`, `in`, `items`."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> str | None:
        return self._first.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def get_all(self, name: str, default: Any = None) -> list[str] | Any:
        wanted = name.lower()
        return [value for key, value in self._pairs if key.lower() == wanted] or default

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def keys(self) -> list[str]:
        return [name for name, _value in self._pairs]

    def __len__(self) -> int:
        return len(self._pairs)


def parse_plain(lines: list[bytes]) -> Headers | None:
    """The headers of a block of plain lines (its empty last line included); None for any
    other block, which only the `email` parser reads as `http.client` does."""
    plain = PLAIN.fullmatch
    pairs = []
    for line in lines[:-1]:
        if not plain(line):
            return None
        name, _colon, value = line.decode("iso-8859-1").partition(":")
        pairs.append((name, value.lstrip(" \t").rstrip("\r\n")))
    return Headers(pairs)
