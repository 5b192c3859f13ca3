"""Read-only WebDAV exchanges (PROPFIND, OPTIONS) on a kept-alive socket, without `http.client`.

A re-run that writes nothing sends only these (40 PROPFINDs for a tree of 40 folders on
Apache). Through `http.client` each costs its request building, a buffered reader made per
answer and 8 KB reads of the chunked body, and importing it costs about 6 ms at every start
(it brings `email.parser`, `email.message`, `ssl`). Here the request is written in one send
and the answer read with large `recv`s into one buffer; the status line, the headers and the
body (Content-Length, chunked with extensions and trailers, or up to the connection's end)
are read as CPython 3.11's `http.client` reads them, with its limits (65,536 bytes a line,
100 header lines) and its exceptions (imported only to raise them), so a broken answer says
the same as before. A header block that is not plain `Name: value` lines goes to the `email`
parser as `http.client` would (connectors/dav/response.py). Decision 0490.
"""

from __future__ import annotations

import errno
import select
import socket
import sys
from typing import TYPE_CHECKING, Any

from connectors.dav.header_block import (
    BAD_TARGET,
    ENDS,
    MAX_HEADERS,
    MAX_LINE,
    NAME,
    host_header,
    parse_plain,
)
from connectors.dav.http import TIMEOUT
from migrate.errors import TransientError
from migrate.network import connection_problem

if TYPE_CHECKING:
    import ssl

#: Bytes asked of the socket per read: a listing's answer in one or two reads.
RECEIVE = 1 << 18
#: Whether the kernel can time reads and writes out (`SO_RCVTIMEO` with a 64-bit timeval).
KERNEL_TIMEOUTS = sys.platform == "linux" and sys.maxsize > 1 << 32


def failure(kind: str, *args: Any) -> Exception:
    """`http.client`'s exception `kind`: what it raises for the same broken answer."""
    import http.client  # only for a broken answer

    return getattr(http.client, kind)(*args)  # type: ignore[no-any-return]


def is_connection_error(error: BaseException) -> bool:
    """A lost or broken connection (an `OSError`, or one of `http.client`'s exceptions, which
    exist only once it is imported)."""
    if isinstance(error, OSError):
        return True
    module = sys.modules.get("http.client")
    return module is not None and isinstance(error, module.HTTPException)


class Wire:
    """One thread's kept-alive connection to the server, for read-only requests.

    `reading` is the answer whose body is not read to its end yet: the next request closes
    the connection first (the unread bytes are not its answer)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None) -> None:
        self.host, self.port, self.context = host, port, context
        # `getaddrinfo` encodes a str host with the IDNA codec (importing it, 1.5 ms): an
        # ASCII host goes as bytes, the same name.
        self.address: str | bytes = host.encode("ascii") if host.isascii() else host
        self.fixed = host_header(host, port, 443 if context is not None else 80)
        self.sock: socket.socket | None = None
        self.poller: Any = None
        self.data, self.pos = b"", 0
        self.reading: Body | None = None

    def ready(self) -> socket.socket:
        """A connected socket with nothing pending: reconnects when the last answer was left
        half read or the server closed the idle connection (as `KeepAliveUploads` does)."""
        if self.reading is not None:
            if not self.reading.done:
                self.close()
            self.reading = None
        if self.sock is not None and self.poller.poll(0):
            self.close()  # readable while idle: the server closed (or spoke out of turn)
        if self.sock is None:
            self.connect()
        return self.sock  # type: ignore[return-value]

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), TIMEOUT[0])
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client
        except OSError as error:
            if error.errno != errno.ENOPROTOOPT:
                sock.close()
                raise
        if self.context is not None:
            try:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        if self.context is None and KERNEL_TIMEOUTS:
            # The kernel times each read and write out: Python's own timeout polls the socket
            # before every `send` and `recv`, two more system calls per request, each handing
            # the interpreter's lock to another walker.
            sock.settimeout(None)
            interval = TIMEOUT[1].to_bytes(8, sys.byteorder) + bytes(8)  # struct timeval
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, interval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, interval)
        else:
            sock.settimeout(TIMEOUT[1])
        self.sock, self.data, self.pos = sock, b"", 0
        self.poller = select.poll()
        self.poller.register(sock, select.POLLIN)

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)  # type: ignore[union-attr]
        except BlockingIOError:
            raise TimeoutError("timed out") from None  # what Python's own timeout says

    def receive(self) -> bytes:
        try:
            return self.sock.recv(RECEIVE)  # type: ignore[union-attr]
        except BlockingIOError:
            raise TimeoutError("timed out") from None

    def close(self) -> None:
        sock, self.sock, self.data, self.pos = self.sock, None, b"", 0
        if sock is not None:
            sock.close()

    def head(self, method: str, target: str, headers: dict[str, str]) -> bytes | None:
        """The request's header block as `http.client` writes it for a body given in full
        (the caller's `Content-Length` included); None for anything it would refuse or
        write otherwise, left to it."""
        values = "".join(headers.values())
        if (BAD_TARGET.search(target) or not target.isascii() or "\r" in values
                or "\n" in values or not all(map(NAME.fullmatch, headers))):
            return None
        lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        try:
            return f"{method} {target} HTTP/1.1\r\n{self.fixed}{lines}\r\n".encode("latin-1")
        except UnicodeEncodeError:
            return None

    # --- reading ----------------------------------------------------------------------

    def line(self, what: str) -> bytes:
        """The next line, its end included; what is left when the connection ends first."""
        data, pos = self.data, self.pos
        end = data.find(b"\n", pos)
        while end < 0:
            if len(data) - pos > MAX_LINE:
                raise failure("LineTooLong", what)
            more = self.receive()
            if not more:
                self.data, self.pos = b"", 0
                return data[pos:]
            searched = len(data) - pos
            data, pos = data[pos:] + more, 0
            end = data.find(b"\n", searched)
        end += 1
        if end - pos > MAX_LINE:
            raise failure("LineTooLong", what)
        self.data, self.pos = data, end
        return data[pos:end]

    def take(self, count: int) -> bytes:
        """The next `count` bytes; fewer only when the connection ended first."""
        data, pos = self.data, self.pos
        available = len(data) - pos
        if available >= count:
            self.pos = pos + count
            return data[pos:pos + count]
        pieces = [data[pos:]] if available else []
        self.data, self.pos = b"", 0
        got = available
        while got < count:
            more = self.receive()
            if not more:
                break
            if got + len(more) > count:
                keep = count - got
                pieces.append(more[:keep])
                self.data, self.pos = more, keep
                break
            pieces.append(more)
            got += len(more)
        return b"".join(pieces)

    def answer(self, method: str, what: str) -> tuple[int, str, Any, Body]:
        """(status, reason, headers, body) of the answer to the request just sent, read as
        `HTTPResponse.begin` reads it."""
        while True:  # until an answer that is not "100 Continue"
            version, status, reason = self._status()
            if status != 100:
                break
            self._header_lines()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            modern = False
        elif version.startswith("HTTP/1."):
            modern = True
        else:
            raise failure("UnknownProtocol", version)
        lines = self._header_lines()
        headers = parse_plain(lines)
        if headers is None:
            from connectors.dav.response import parse_header_block

            headers = parse_header_block(lines)
        encoding = headers.get("transfer-encoding")
        chunked = bool(encoding and encoding.lower() == "chunked")
        will_close = _will_close(headers, modern)
        length = None
        text = headers.get("content-length")
        if text and not chunked:
            try:
                length = int(text)
            except ValueError:
                length = None
            else:
                if length < 0:  # a negative length means none
                    length = None
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            length = 0
        if not will_close and not chunked and length is None:
            will_close = True  # no length, not chunked: the body ends with the connection
        body = Body(self, what, chunked, length, will_close)
        self.reading = body
        if length == 0 and not chunked:
            body.end()
        return status, reason.strip(), headers, body

    def _status(self) -> tuple[str, int, str]:
        line = str(self.line("status line"), "iso-8859-1")
        if not line:
            raise failure("RemoteDisconnected",
                          "Remote end closed connection without response")
        try:
            version, status, reason = line.split(None, 2)
        except ValueError:
            try:
                version, status = line.split(None, 1)
                reason = ""
            except ValueError:
                version = ""
        if not version.startswith("HTTP/"):
            self.close()
            raise failure("BadStatusLine", line)
        try:
            code = int(status)
        except ValueError:
            raise failure("BadStatusLine", line) from None
        if code < 100 or code > 999:
            raise failure("BadStatusLine", line)
        return version, code, reason

    def _header_lines(self) -> list[bytes]:
        lines = []
        while True:
            line = self.line("header line")
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                raise failure("HTTPException", f"got more than {MAX_HEADERS} headers")
            if line in ENDS:
                return lines


def _will_close(headers: Any, modern: bool) -> bool:
    """`HTTPResponse._check_close`."""
    connection = headers.get("connection")
    if modern:
        return bool(connection and "close" in connection.lower())
    if headers.get("keep-alive"):
        return False
    if connection and "keep-alive" in connection.lower():
        return False
    proxy = headers.get("proxy-connection")
    return not (proxy and "keep-alive" in proxy.lower())


class Body:
    """An answer's body, read as it arrives (`read`, as `HTTPResponse.read`), decoded from
    its chunks. A broken or cut body closes the connection and raises `TransientError` in
    plain words, as a broken exchange does."""

    #: What the listing sets on `requests`' raw answer; nothing is encoded here (we ask for
    #: `Accept-Encoding: identity`, as `http.client` does).
    decode_content = True

    def __init__(self, wire: Wire, what: str, chunked: bool, length: int | None,
                 will_close: bool) -> None:
        self.wire, self.what = wire, what
        self.chunked, self.will_close = chunked, will_close
        #: Bytes left: of the body (Content-Length), of the current chunk (chunked: None
        #: before the first size line, 0 at a chunk's end); None without either: up to the
        #: connection's end.
        self.left = length
        self.done = False

    def isclosed(self) -> bool:
        return self.done

    def read(self, amount: int | None = -1) -> bytes:
        if self.done:
            return b""
        if amount is None or amount < 0:
            amount = 1 << 62
        try:
            if self.chunked:
                return self._chunks(amount)
            return self._plain(amount)
        except BaseException as error:  # Ctrl-C included: the rest is not read
            self.done = True
            self.wire.close()
            if is_connection_error(error):
                raise TransientError(connection_problem(error, self.what)) from None
            raise

    def _plain(self, amount: int) -> bytes:
        if self.left is None:  # up to the connection's end
            data = self.wire.take(amount)
            if len(data) < amount:
                self.end()
            return data
        count = min(amount, self.left)
        data = self.wire.take(count)
        if len(data) < count:
            raise failure("IncompleteRead", data, count - len(data))
        self.left -= count
        if not self.left:
            self.end()
        return data

    def _chunks(self, amount: int) -> bytes:
        """`HTTPResponse._read_chunked`: what `amount` asks, across chunks."""
        wire, pieces = self.wire, []
        while amount:
            left = self.left
            if not left:
                if left is not None:
                    wire.take(2)  # the CRLF ending a chunk (http.client does not check it)
                left = self._chunk_size(pieces)
                if left == 0:
                    self._trailer()
                    self.end()
                    break
            count = min(left, amount)
            data = wire.take(count)
            pieces.append(data)
            if len(data) < count:
                raise failure("IncompleteRead", b"".join(pieces), count - len(data))
            amount -= count
            self.left = left - count
        return b"".join(pieces)

    def _chunk_size(self, pieces: list[bytes]) -> int:
        line = self.wire.line("chunk size")
        extension = line.find(b";")
        if extension >= 0:
            line = line[:extension]  # chunk extensions are ignored
        try:
            size = int(line, 16)
        except ValueError:
            size = -1
        if size < 0:  # protocol synchronisation is lost
            raise failure("IncompleteRead", b"".join(pieces))
        return size

    def _trailer(self) -> None:
        while True:
            line = self.wire.line("trailer line")
            if line in ENDS:
                return

    def end(self) -> None:
        """The body is read: the connection is free again, or closed when the answer said so
        (or the server sent more than its answer)."""
        self.done = True
        wire = self.wire
        if wire.reading is self:
            wire.reading = None
        if self.will_close or wire.pos < len(wire.data):
            wire.close()
