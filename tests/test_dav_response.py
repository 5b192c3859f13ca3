"""The kept-alive connections read an answer's headers without the `email` parser
(connectors/dav/response.py, decision 0498), and must read exactly what `http.client` reads:
the same pairs from any header block, the same status, length and end of connection from a
real server's answers (Debian's Apache mod_dav, as in test_webdav_apache.py)."""

from __future__ import annotations

import base64
import http.client
import io
import random
import re
import socket
import threading

import pytest

from connectors.dav.http import DavHttp
from connectors.dav.keepalive import KeepAliveUploads
from connectors.dav.response import FastResponse, exchange, header_lines, parse_header_block
from tests.test_webdav_apache import PASSWORD, USER, Apache, apache  # noqa: F401

ODD_BLOCKS = [
    b"Content-Length: 12\r\nX-Folded: first\r\n  second\r\n\r\n",  # an obsolete folded line
    b" Leading: space\r\nContent-Length: 3\r\n\r\n",  # a continuation with nothing before
    b"Not a header line\r\nContent-Length: 3\r\n\r\n",  # ends the headers for the parser
    b": no name\r\nContent-Length: 3\r\n\r\n",
    b"From someone\r\nX: y\r\n\r\n",
    b"X-Cr: a\rb\r\nContent-Length: 3\r\n\r\n",  # a bare CR: a line end to the parser
    b"X-Ff: a\x0cb\r\nContent-Length: 3\r\n\r\n",  # so is a form feed (str.splitlines)
    b"X-Nel: a\x85b\r\nX-Latin: caf\xe9\r\n\r\n",
    b"X-Tabs:\t\tvalue \t\r\nX-Empty:\r\nX-Colons: a:b:c\r\n\n",
    b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nset-cookie: c=3\r\n\r\n",
    b"Bare-Lf: yes\nContent-Length: 0\n\n",
    b"\r\n",
    b"X-Unended: value",  # the connection closed before the block ended
]


def _stdlib(block: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(block))


def _ours(block: bytes) -> http.client.HTTPMessage:
    return parse_header_block(header_lines(io.BytesIO(block)))


@pytest.mark.parametrize("block", ODD_BLOCKS)
def test_odd_header_blocks_read_as_http_client_reads_them(block: bytes) -> None:
    assert _ours(block).items() == _stdlib(block).items()
    assert _ours(block).get_all("set-cookie") == _stdlib(block).get_all("set-cookie")


def test_random_header_blocks_read_as_http_client_reads_them() -> None:
    rng = random.Random(16)
    alphabet = (b"abcXYZ-_:; \t\r\n\x0b\x0c\x1c\x1d\x1e\x85\xe9!~\x7f" + bytes(range(0x20, 0x30)))
    plain = 0
    for _attempt in range(3000):
        lines = []
        for _line in range(rng.randint(0, 6)):
            if rng.random() < 0.7:
                name = "".join(rng.choice("AbcdeXyz-_0") for _i in range(rng.randint(1, 9)))
                value = bytes(rng.choice(alphabet) for _i in range(rng.randint(0, 12)))
                line = name.encode() + b":" + value.replace(b"\n", b"")
            else:
                line = bytes(rng.choice(alphabet) for _i in range(rng.randint(0, 20)))
            lines.append(line.replace(b"\n", b"") + rng.choice([b"\r\n", b"\n"]))
        block = b"".join(lines) + b"\r\n"
        ours, theirs = _ours(block), _stdlib(block)
        assert ours.items() == theirs.items(), block
        plain += all(b":" in line and line[:1] not in b" \t:" for line in lines)
    assert plain > 500  # the quick path was taken often, not only the parser's


def test_too_many_or_too_long_header_lines_are_refused_as_http_client_refuses_them() -> None:
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        header_lines(io.BytesIO(b"X: y\r\n" * 101 + b"\r\n"))
    with pytest.raises(http.client.LineTooLong):
        header_lines(io.BytesIO(b"X: " + b"y" * 70000 + b"\r\n\r\n"))


VARYING = ("Date", "ETag", "Last-Modified")


class _Plain(http.client.HTTPConnection):
    pass


class _Fast(http.client.HTTPConnection):
    response_class = FastResponse


def _answer(connection: http.client.HTTPConnection, method: str, path: str,
            body: bytes | None = None, headers: dict[str, str] | None = None) -> dict[str, object]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    connection.request(method, path, body=body,
                       headers={"Authorization": f"Basic {token}", **(headers or {})})
    response = connection.getresponse()
    seen = {"status": response.status, "reason": response.reason, "version": response.version,
            "chunked": response.chunked, "length": response.length,
            "will_close": response.will_close,
            "headers": [(k, v) for k, v in response.getheaders() if k not in VARYING],
            # the versions differ: each loop writes the file anew
            "body": re.sub(rb"getetag>[^<]*<", b"", response.read())}
    return seen


def test_a_real_servers_answers_read_the_same_as_http_client(apache: Apache) -> None:  # noqa: F811
    """Created, overwritten, listed, read, headed, missing, refused, 100-continue."""
    port = apache.port
    answers = {}
    for kind, connection_class in (("plain", _Plain), ("fast", _Fast)):
        connection = connection_class("127.0.0.1", port, timeout=10)
        path = "/dav/same.bin"  # the same answers, lengths included, for both
        answers[kind] = [
            _answer(connection, "PUT", path, b"x" * 1000),
            _answer(connection, "PUT", path, b"y" * 1000),
            _answer(connection, "PUT", path, b"z" * 10, {"Expect": "100-continue"}),
            _answer(connection, "PROPFIND", "/dav/", b"", {"Depth": "1"}),
            _answer(connection, "GET", path),
            _answer(connection, "HEAD", path),
            _answer(connection, "GET", "/dav/missing"),
            _answer(connection, "MKCOL", "/dav/"),
            _answer(connection, "OPTIONS", "/dav/"),
            _answer(connection, "DELETE", path),
            _answer(connection, "GET", "/dav/", headers={"Connection": "close"}),
        ]
        connection.close()
    assert answers["fast"] == answers["plain"]
    assert [answer["status"] for answer in answers["fast"]] == [
        201, 204, 204, 207, 200, 200, 404, 405, 200, 204, 404]
    assert answers["fast"][-1]["will_close"]
    assert answers["fast"][4]["body"] == b"z" * 10


def test_uploads_read_their_answers_with_the_quick_reader(apache: Apache) -> None:  # noqa: F811
    http = DavHttp(apache.url, USER, PASSWORD, 2, "")
    uploads = KeepAliveUploads(http, USER, PASSWORD, True)
    try:
        first = uploads.put(http.url("quick.txt"), b"hello", 5, "quick.txt")
        second = uploads.put(http.url("quick.txt"), b"hello again", 11, "quick.txt")
    finally:
        uploads.close()
        http.close()
    assert isinstance(first, FastResponse) and (first.status, second.status) == (201, 204)
    assert first.headers["Location"].endswith("/dav/quick.txt")
    assert (apache.dir / "data" / "quick.txt").read_bytes() == b"hello again"


class _Recorder:
    """A real socket server on loopback that keeps each request's bytes and answers 201."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.requests: list[tuple[str, list[str], bytes]] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def connected(self, host: str, port: int = 80) -> http.client.HTTPConnection:
        """A connection that names `host` in its requests and talks to this server."""
        connection = http.client.HTTPConnection(host, port)
        connection.sock = socket.create_connection(("127.0.0.1", self.port))
        return connection

    def _serve(self) -> None:
        while True:
            client, _address = self.server.accept()
            with client, client.makefile("rb") as reader:
                while line := reader.readline():
                    headers = []
                    while (header := reader.readline()) not in (b"\r\n", b""):
                        headers.append(header.decode("latin-1").rstrip("\r\n"))
                    length = next((int(h.split(":", 1)[1]) for h in headers
                                   if h.lower().startswith("content-length:")), 0)
                    self.requests.append((line.decode("latin-1").rstrip("\r\n"),
                                          sorted(headers), reader.read(length)))
                    client.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")


@pytest.mark.parametrize("host", ["127.0.0.1", "nas.example", "::1", "bücher.example"])
@pytest.mark.parametrize("port_is_default", [True, False])
def test_a_request_is_written_as_http_client_writes_it(host: str, port_is_default: bool) -> None:
    recorder = _Recorder()
    headers = {"Authorization": "Basic dTpw", "User-Agent": "transhumance-migrate",
               "Overwrite": "T"}
    seen = []
    for how in ("http.client", "exchange"):
        connection = recorder.connected(host, 80 if port_is_default else 8443)
        for method, target, body in (("PUT", "/dav/a%20b/c.bin", b"\x00body\r\n"),
                                     ("MKCOL", "/dav/a%20b/", b""),
                                     ("MOVE", "/dav/a%20b/c.bin", b"")):
            if how == "exchange":
                response = exchange(connection, method, target, dict(headers), body)
            else:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
            seen.append((how, response.status, response.read()))
        connection.close()
    # What http.client refuses to write is refused alike (it is left to write it).
    with pytest.raises(http.client.InvalidURL):
        exchange(recorder.connected(host), "PUT", "/dav/bad target", headers, b"x")
    with pytest.raises(ValueError, match="Invalid header value"):
        exchange(recorder.connected(host), "PUT", "/dav/x",
                 {"X-Injected": "a\r\nHost: evil"}, b"x")
    assert len(recorder.requests) == 6
    assert recorder.requests[:3] == recorder.requests[3:]
    assert [(status, body) for _how, status, body in seen] == [(201, b"ok")] * 6
    line, sent_headers, body = recorder.requests[3]
    assert line == "PUT /dav/a%20b/c.bin HTTP/1.1" and body == b"\x00body\r\n"
    assert "Content-Length: 7" in sent_headers and "Content-Length: 0" in recorder.requests[4][1]


def test_urls_quote_a_folder_once_and_say_the_same_as_quoting_the_whole_path() -> None:
    """`DavHttp.url` quotes a file's folder once per folder (decision 0498): the same URL as
    quoting the whole path, and '..' still refused."""
    from urllib.parse import quote

    from migrate.errors import FatalError
    from migrate.plan import confine

    http = DavHttp("http://nas.example/dav/", USER, PASSWORD, 2, "")
    rng = random.Random(498)
    for _attempt in range(20000):
        path = "".join(rng.choice("ab /é%?#:;~.\\\x00日") for _i in range(rng.randint(0, 12)))
        for folder in (False, True):
            if confine.escaping_segment(path) is not None:
                with pytest.raises(FatalError):
                    http.url(path, folder)
                continue
            quoted = quote(path.strip("/"), safe="/")
            expected = http.base + quoted + ("/" if folder and quoted else "")
            assert http.url(path, folder) == expected, path
