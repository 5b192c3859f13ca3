"""The uploads' connections (imported by the first upload, with `http.client`): a request
with its body in memory, written and answered without `http.client`'s slow parts.

`exchange` writes the request's header block itself and sends it with the body in one call:
`http.client`'s `putrequest`/`putheader`/`endheaders` cost about 20 µs of checks and
per-header encoding, as much as sending a 30 KB file. What it checks is checked here too
(nothing in the target or a header that could end a line early), and anything unusual is
left to `http.client` itself.

`http.client` hands every header block to `email.parser` (`parse_headers`): about 22 µs for
the seven headers Apache sends with a PUT answer, more than the rest of reading the answer,
on every small file. `FastResponse.begin` does what `HTTPResponse.begin` does (CPython 3.11's
`Lib/http/client.py`: same limits and errors), except that a block of plain `Name: value`
lines is stored as those pairs directly (`Message.set_raw`, as the parser itself does), in
about 3 µs. Anything else (a folded line, a line that is not a header, a character that the
parser would take for the end of a line) goes to the parser exactly as before, so the headers
are always the ones `http.client` would have given. Decision 0498.
"""

from __future__ import annotations

import email.parser
import http.client
import select
from typing import Any

from connectors.dav.header_block import BAD_TARGET as _BAD_TARGET
from connectors.dav.header_block import ENDS as _ENDS
from connectors.dav.header_block import MAX_HEADERS, MAX_LINE, host_header
from connectors.dav.header_block import PLAIN as _PLAIN


def header_lines(fp: Any) -> list[bytes]:
    """The lines of a header block, its empty last line included (`http.client._read_headers`)."""
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _ENDS:
            return lines


def parse_header_block(lines: list[bytes]) -> http.client.HTTPMessage:
    """The `HTTPMessage` that `http.client.parse_headers` makes of these lines."""
    plain = _PLAIN.fullmatch
    if all(plain(line) for line in lines[:-1]):
        message = http.client.HTTPMessage()
        for line in lines[:-1]:
            name, _colon, value = line.decode("iso-8859-1").partition(":")
            message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
        return message
    text = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)  # type: ignore[return-value]


def exchange(connection: http.client.HTTPConnection, method: str, target: str,
             headers: dict[str, str], body: bytes) -> http.client.HTTPResponse:
    """`connection.request(method, target, body, headers)` then `getresponse()`, for a
    connected `connection` with no answer pending; the answer is read by `FastResponse`."""
    names, values = "".join(headers), "".join(headers.values())
    if (_BAD_TARGET.search(target) or "\r" in names + values or "\n" in names + values
            or ":" in names or connection.sock is None):
        connection.request(method, target, body=body, headers=headers)
        return connection.getresponse()
    fixed = getattr(connection, "fixed_headers", None)
    if fixed is None:
        fixed = connection.fixed_headers = _fixed_headers(connection)  # type: ignore[attr-defined]
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if "Content-Length" not in headers:
        lines += f"Content-Length: {len(body)}\r\n"
    head = f"{method} {target} HTTP/1.1\r\n{fixed}{lines}\r\n".encode("latin-1")
    sock = connection.sock
    sock.sendall(head + body)
    response = FastResponse(sock, method=method)
    response.begin()
    if response.will_close:
        connection.close()  # as `getresponse` does: the answer keeps the socket until read
    return response


def _fixed_headers(connection: http.client.HTTPConnection) -> str:
    """The two headers `http.client.HTTPConnection.putrequest` adds to every request."""
    return host_header(connection.host, connection.port, connection.default_port)


class FastResponse(http.client.HTTPResponse):
    """`HTTPResponse` with `begin` reading the header block through `parse_header_block`."""

    def begin(self) -> None:
        if self.headers is not None:
            return  # already started reading the answer
        while True:  # until an answer that is not "100 Continue"
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status != http.client.CONTINUE:
                break
            header_lines(self.fp)
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = parse_header_block(header_lines(self.fp))
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:  # a negative length means none
                    self.length = None
        if (status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
                or 100 <= status < 200 or self._method == "HEAD"):  # type: ignore[attr-defined]
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # no length, not chunked: the body ends with the connection


class _Glued:
    """A body given in memory leaves in the same system call as its header block.

    `http.client` sends them apart: for a small file, two sends (and two waits for the
    socket), each handing the interpreter's lock to another thread. `glue` is set to the body
    just before `request()`, whose first send is always the header block."""

    glue: bytes | None = None
    sent_with_headers: bytes | None = None
    #: The last streamed answer, until its body is read.
    reading: http.client.HTTPResponse | None = None

    def send(self, data: Any) -> None:
        glue, self.glue = self.glue, None
        if glue is not None:
            self.sent_with_headers = glue
            super().send(data + glue)  # type: ignore[misc]
        elif data is not None and data is self.sent_with_headers:
            self.sent_with_headers = None  # already on its way, with the headers
        else:
            super().send(data)  # type: ignore[misc]


class Connection(_Glued, http.client.HTTPConnection):
    """An uploads' kept-alive connection (connectors/dav/keepalive.py)."""

    response_class = FastResponse


class TlsConnection(_Glued, http.client.HTTPSConnection):
    response_class = FastResponse


def is_dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable was closed (or spoken to) by the server."""
    if connection.sock is None:
        return False
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))
