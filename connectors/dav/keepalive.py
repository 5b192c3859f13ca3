"""The upload hot path: one keep-alive `http.client` connection per writing thread.

A PUT through `requests` costs about 1 ms of interpreter time (session merging, hooks, adapter,
urllib3's pool); through `http.client` about 0.2 ms. With thousands of small files and the
GIL shared by every writer, that difference decides the copy time, so file bodies go this way,
while the other writes (MKCOL, MOVE, chunked uploads, shares) stay on `DavHttp`'s
`requests.Session`. The read-only PROPFIND and OPTIONS (`DavHttp.request`, `answer` here) go
on a lighter connection still, without `http.client` (connectors/dav/wire.py): a re-run that
writes nothing never imports it. Errors are translated by `DavHttp.translate`, by status,
exactly as there.

Not used when the environment names a proxy for the server (`requests` honours proxies; this
class does not).
"""

from __future__ import annotations

import binascii
import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from connectors.dav.http import TIMEOUT, DavHttp
from connectors.dav.wire import Wire, is_connection_error
from migrate.errors import TransientError
from migrate.network import connection_problem

if TYPE_CHECKING:  # imported by the first upload (a re-run writing nothing never needs them)
    import http.client
    import ssl

    from connectors.dav.response import Connection, TlsConnection

#: Bytes per read from a streamed body and per `send`: large, so a big file costs few calls.
BLOCK = 1 << 20


class KeepAliveUploads:
    """PUTs over per-thread persistent connections to the server of `http.base`."""

    def __init__(self, http: DavHttp, user: str, password: str, verify_tls: bool) -> None:
        self.http = http
        parts = urlsplit(http.base)
        self.is_tls = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.is_tls else 80)
        # `binascii`, not `base64` (which imports `struct`): the same token.
        token = binascii.b2a_base64(f"{user}:{password}".encode(), newline=False).decode()
        self.headers = {"Authorization": f"Basic {token}", "User-Agent": "transhumance-migrate"}
        self.context = _tls_context(verify_tls) if self.is_tls else None
        #: `url[self.origin:]` is the request target ("/dav/…") of a URL made by `http.url`.
        self.origin = len(http.base) - len(parts.path)
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection | Wire] = []
        self._lock = threading.Lock()

    @staticmethod
    def is_usable(base: str) -> bool:
        """False when a proxy applies to the server: then `requests` must carry the uploads.

        On Linux a proxy comes only from the environment (`urllib.request.getproxies`): with
        no `*_proxy` variable set, none applies and `requests` need not be imported to say so
        (about 0.1 s of a re-run)."""
        if sys.platform == "linux" and not any(
                name.lower() in _PROXY_VARIABLES for name in os.environ):
            return True
        import requests

        return not requests.utils.get_environ_proxies(base)

    def answer(self, method: str, url: str, what: str, body: bytes,
               headers: dict[str, str] | None, ok: tuple[int, ...],
               stream: bool) -> Answer | None:
        """A read-only request for `DavHttp.request`: 2xx and `ok` answers are returned (the
        body left to read when `stream`), others raised as ours. None for a redirect, which
        `requests` follows and this class does not: the caller sends it again that way.

        Sent on this thread's `Wire` (connectors/dav/wire.py), without `http.client`; a
        request it would write otherwise (an odd header) goes through `http.client`."""
        sent = {**self.headers, **(headers or {})}
        if body:
            sent["Content-Length"] = str(len(body))
        wire = self._wire()
        head = wire.head(method, url[self.origin:], sent)
        if head is None:
            return self._answer_through_http_client(method, url, what, body, sent, ok, stream)
        wire.ready()
        try:
            wire.send(head + body)
            status, reason, received, raw = wire.answer(method, what)
            answer = Answer(raw, status, reason, received, wire)
            if not stream or status >= 300:
                answer.content  # noqa: B018 (read now, so the connection is free again)
        except BaseException as error:  # Ctrl-C included: a request half sent or read
            wire.close()  # reconnects on the next request
            if not is_connection_error(error):
                raise
            raise TransientError(connection_problem(error, what)) from None
        if 300 <= status < 400 and status not in ok:
            return None
        if status >= 300 and status not in ok:
            raise self.http.translate(answer, what)
        return answer

    def _answer_through_http_client(self, method: str, url: str, what: str, body: bytes,
                                    sent: dict[str, str], ok: tuple[int, ...],
                                    stream: bool) -> Answer | None:
        import http.client

        connection = self._connection()
        try:
            if body:
                connection.glue = body
            connection.request(method, url[self.origin:], body=body or None, headers=sent)
            response = connection.getresponse()
            connection.reading = response
            answer = Answer(response, response.status, response.reason, response.msg,
                            connection)
            if not stream or response.status >= 300:
                answer.content  # noqa: B018 (read now, so the connection is free again)
        except (OSError, http.client.HTTPException) as error:
            connection.close()  # reconnects on the next request
            raise TransientError(connection_problem(error, what)) from None
        finally:
            connection.glue = connection.sent_with_headers = None
        if 300 <= response.status < 400 and response.status not in ok:
            return None
        if response.status >= 300 and response.status not in ok:
            raise self.http.translate(answer, what)
        return answer

    def put(self, url: str, body: bytes | BinaryIO, length: int, what: str,
            headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """PUT `length` bytes (bytes, or a readable giving exactly that many) to `url`.

        Returns the response (body read) for 2xx; raises our errors otherwise."""
        return self.send("PUT", url, what, body, {**(headers or {}),
                                                   "Content-Length": str(length)})

    def send(self, method: str, url: str, what: str, body: bytes | BinaryIO = b"",
             headers: dict[str, str] | None = None,
             ok: tuple[int, ...] = ()) -> http.client.HTTPResponse:
        """One request; 2xx and `ok` answers are returned (body read), others raised as ours."""
        import http.client

        from connectors.dav.response import exchange

        sent = {**self.headers, **(headers or {})}
        connection = self._connection()
        try:
            if isinstance(body, bytes):  # a small file, or none: in one send, read quickly
                response = exchange(connection, method, url[self.origin:], sent, body)
            else:
                connection.request(method, url[self.origin:], body=body, headers=sent)
                response = connection.getresponse()
            content = response.read()
        except TransientError:
            connection.close()  # the body's own complaint (the source shrank) mid-request
            raise
        except (OSError, http.client.HTTPException) as error:
            connection.close()  # reconnects on the next request
            raise TransientError(connection_problem(error, what)) from None
        finally:
            connection.glue = connection.sent_with_headers = None
        if response.status >= 300 and response.status not in ok:
            raise self.http.translate(Answer(response, response.status, response.reason,
                                             response.msg, connection, content), what)
        return response

    def _connection(self) -> Connection | TlsConnection:
        from connectors.dav.response import is_dropped

        connection: Connection | TlsConnection | None = getattr(self._local, "connection",
                                                                None)
        if connection is not None and connection.reading is not None:
            if not connection.reading.isclosed():
                connection.close()  # a streamed answer left unread: the socket is not free
            connection.reading = None
        if connection is not None and is_dropped(connection):
            connection.close()  # the server closed an idle keep-alive connection
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        if connection.sock is None:
            connection.timeout = TIMEOUT[0]
            connection.connect()
            connection.sock.settimeout(TIMEOUT[1])
        return connection

    def _open(self) -> Connection | TlsConnection:
        from connectors.dav.response import Connection, TlsConnection

        connection: Connection | TlsConnection
        if self.is_tls:
            connection = TlsConnection(self.host, self.port, blocksize=BLOCK,
                                       context=self.context)
        else:
            connection = Connection(self.host, self.port, blocksize=BLOCK)
        with self._lock:
            self._opened.append(connection)
        return connection

    def _wire(self) -> Wire:
        """This thread's connection for read-only requests."""
        wire: Wire | None = getattr(self._local, "wire", None)
        if wire is None:
            wire = self._local.wire = Wire(self.host, self.port, self.context)
            with self._lock:
                self._opened.append(wire)
        return wire

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()


def _tls_context(verify: bool) -> ssl.SSLContext:
    """The CA bundle `requests` would use (certifi, or REQUESTS_CA_BUNDLE)."""
    import ssl  # only for an https server

    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        import certifi  # a dependency of requests

        bundle = certifi.where()
    return ssl.create_default_context(cafile=bundle)


class Answer:
    """An answer in the shape `requests.Response` has for `DavHttp`'s callers and
    `DavHttp.translate`: `status_code`, `reason`, `headers` (case-insensitive `get`),
    `content`, `json()`, and `raw` to stream the body (`iterparse`). `raw` is a
    `wire.Body`, or an `http.client` response (uploads, and requests written by it)."""

    def __init__(self, raw: Any, status: int, reason: str, headers: Any,
                 connection: Any, content: bytes | None = None) -> None:
        self.raw = raw
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self._connection = connection
        self._content = content

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.raw.read()
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    def close(self) -> None:
        """Done with the answer; a body not read to its end closes the connection (the next
        request must not read the rest as its own answer)."""
        if not self.raw.isclosed() and getattr(self._connection, "reading", None) is self.raw:
            self._connection.close()

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy"}
