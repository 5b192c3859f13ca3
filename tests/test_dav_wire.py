"""PROPFIND and OPTIONS are read without `http.client` (connectors/dav/wire.py, decision 0490),
and must read what it reads: the same status, headers and body from a real server's answers
(Debian's Apache mod_dav, the Nextcloud sandbox), the same bodies from the forms real servers
seldom send (chunk extensions, trailers, a body ending with the connection), one connection
kept across many requests, a connection the server closed while idle replaced, and the same
error, in the same words, for a broken answer or an error status."""

from __future__ import annotations

import base64
import http.client
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from connectors.dav.http import DavHttp, InsufficientStorageError, LockedError
from connectors.dav.keepalive import KeepAliveUploads
from connectors.dav.listing import PLAIN_BODY, propfind
from connectors.dav.wire import Wire
from migrate.errors import FatalError, TransientError
from sandbox.nextcloud import NextcloudServer
from tests.test_webdav_apache import PASSWORD, USER, Apache, apache  # noqa: F401

TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
VARYING = ("Date", "ETag", "Last-Modified", "Keep-Alive")


def _read(kind: str, port: int, requests: list[tuple[str, str, dict[str, str], bytes]],
          ) -> list[tuple[object, ...]]:
    """Each request's (status, reason, headers, body), on one connection, read by `kind`."""
    seen = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    wire = Wire("127.0.0.1", port, None)
    for method, target, headers, body in requests:
        headers = {"Authorization": f"Basic {TOKEN}", **headers}
        if body:
            headers["Content-Length"] = str(len(body))
        if kind == "http.client":
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            status, reason, pairs, content = (response.status, response.reason,
                                              response.getheaders(), response.read())
        else:
            head = wire.head(method, target, headers)
            assert head is not None
            wire.ready().sendall(head + body)
            status, reason, received, raw = wire.answer(method, target)
            pairs, content = received.items(), raw.read()
            assert raw.isclosed()
        seen.append((status, reason, [(k, v) for k, v in pairs if k not in VARYING],
                     re.sub(rb"getetag>[^<]*<", b"", content)))
    connection.close()
    wire.close()
    return seen


def test_apaches_answers_read_as_http_client_reads_them(apache: Apache) -> None:  # noqa: F811
    """Chunked listings, a Content-Length answer, refusals and errors, on one connection."""
    http = DavHttp(apache.url, USER, PASSWORD, 2, "")
    http.session.request("MKCOL", http.url("dossier", folder=True), timeout=10)
    for index in range(60):  # a listing long enough for several chunks
        http.session.put(http.url(f"dossier/fichier {index:02}.txt"), data=b"x" * index,
                         timeout=10)
    http.close()
    xml = {"Content-Type": "application/xml"}
    asked = [
        ("PROPFIND", "/dav/dossier/", {"Depth": "1", **xml}, PLAIN_BODY.encode()),
        ("PROPFIND", "/dav/dossier/", {"Depth": "0", **xml}, PLAIN_BODY.encode()),
        ("PROPFIND", "/dav/", {"Depth": "infinity", **xml}, PLAIN_BODY.encode()),
        ("PROPFIND", "/dav/absent/", {"Depth": "1"}, b""),
        ("OPTIONS", "/dav/", {}, b""),
        ("GET", "/dav/dossier/fichier%2005.txt", {}, b""),
        ("HEAD", "/dav/dossier/fichier%2005.txt", {}, b""),
        ("PROPFIND", "/dav/", {"Depth": "1", "Authorization": "Basic bm9ib2R5Ong="}, b""),
        ("PROPFIND", "/dav/dossier/", {"Depth": "1", "Connection": "close"}, b""),
    ]
    ours, theirs = _read("wire", apache.port, asked), _read("http.client", apache.port, asked)
    assert ours == theirs
    assert [answer[0] for answer in ours] == [207, 207, 403, 404, 200, 200, 200, 401, 207]
    headers = dict(ours[0][2])
    assert headers["Transfer-Encoding"] == "chunked"  # what mod_dav streams a listing as
    assert ours[0][3].count(b"<D:response") == 61
    assert ours[5][3] == b"x" * 5 and ours[6][3] == b""


def test_many_propfinds_reuse_one_connection(apache: Apache) -> None:  # noqa: F811
    http = DavHttp(apache.url, USER, PASSWORD, 2, "")
    http.session.put(http.url("un.txt"), data=b"1", timeout=10)
    apache.requests_made()  # Apache logs a request after answering it: the fixture's too
    url = http.url("", folder=True)
    ports = set()
    for _attempt in range(50):
        assert [r.path for r in propfind(http, url, "1", "/", body=PLAIN_BODY)] == ["",
                                                                                  "un.txt"]
        ports.add(http._light_path()._wire().sock.getsockname()[1])  # type: ignore[union-attr]
    http.close()
    assert len(ports) == 1
    made = 0
    for _wait in range(100):  # Apache logs a request just after answering it
        made += apache.requests_made()["PROPFIND"]
        if made >= 50:
            break
        time.sleep(0.02)
    assert made == 50


class _Scripted:
    """A loopback server answering each request with the next of `answers` (bytes sent as
    they are; None: nothing, until the client closes); after an answer marked `close`, it
    closes the connection."""

    def __init__(self, answers: list[tuple[bytes | None, bool]],
                 tls: ssl.SSLContext | None = None) -> None:
        self.answers = list(answers)
        self.tls = tls
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/dav/"

    def _serve(self) -> None:
        while self.answers:
            client, _address = self.server.accept()
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            self.connections += 1
            with client, client.makefile("rb") as reader:
                while self.answers and reader.readline():
                    length = 0
                    while (header := reader.readline()) not in (b"\r\n", b""):
                        if header.lower().startswith(b"content-length:"):
                            length = int(header.split(b":")[1])
                    reader.read(length)
                    answer, close = self.answers.pop(0)
                    if answer is None:  # silent until the client gives up
                        reader.read()
                        break
                    client.sendall(answer)
                    if close:
                        break
            self.closed.set()


def _listed(server: _Scripted, stream: bool = False) -> tuple[int, bytes]:
    http = DavHttp(server.url, USER, PASSWORD, 2, "")
    answer = http.request("PROPFIND", server.url, "/", headers={"Depth": "1"},
                          data=PLAIN_BODY, stream=stream)
    return answer.status_code, answer.raw.read() if stream else answer.content


def test_chunk_extensions_trailers_and_a_body_ending_with_the_connection() -> None:
    server = _Scripted([
        (b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5;name=value\r\nhello\r\n6 ; other\r\n world\r\n0;last\r\n"
         b"X-Trailer: yes\r\nX-Other: no\r\n\r\n", False),
        (b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 4\r\n\r\nfour", False),
        (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", True),
        (b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         False),
    ])
    http = DavHttp(server.url, USER, PASSWORD, 2, "")
    bodies = []
    for stream in (False, True, False, True):
        answer = http.request("PROPFIND", server.url, "/", headers={"Depth": "1"},
                              data=PLAIN_BODY, stream=stream)
        bodies.append((answer.status_code, answer.raw.read() if stream else answer.content))
        if stream:
            assert answer.raw.read() == b""
    http.close()
    assert bodies == [(207, b"hello world"), (207, b"four"), (200, b"until the end"),
                      (207, b"abc")]
    assert server.connections == 2  # kept alive but for the answer ending with the connection


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    listing = b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 2\r\n\r\nok"
    server = _Scripted([(listing, True), (listing, False)])
    http = DavHttp(server.url, USER, PASSWORD, 2, "")
    first = http.request("PROPFIND", server.url, "/", data=PLAIN_BODY).content
    assert server.closed.wait(5)  # the server closed the kept-alive connection
    time.sleep(0.05)
    second = http.request("PROPFIND", server.url, "/", data=PLAIN_BODY).content
    http.close()
    assert (first, second, server.connections) == (b"ok", b"ok", 2)


BROKEN = {
    "a header line too long": b"HTTP/1.1 207 Multi-Status\r\nX-Big: " + b"y" * 70000 + b"\r\n\r\n",
    "too many headers": b"HTTP/1.1 207 Multi-Status\r\n" + b"X: y\r\n" * 101 + b"\r\n",
    "a status line too long": b"HTTP/1.1 207 " + b"y" * 70000 + b"\r\n\r\n",
    "not a status line": b"HTTX/1.1 207 Multi-Status\r\n\r\n",
    "a status out of range": b"HTTP/1.1 2070 Multi-Status\r\n\r\n",
    "an unknown protocol": b"HTTP/2.0 207 Multi-Status\r\n\r\n",
    "no answer at all": b"",
    "a cut chunk": b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    "a bad chunk size": b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "a cut body": b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 10\r\n\r\nabc",
    "a chunk size too long": (b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n"
                              + b"0" * 70000 + b"\r\n"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_answer_is_the_error_http_client_gives(case: str) -> None:
    """The same `TransientError`, in the same words (naming `http.client`'s exception), as
    the same answer read through `http.client` gives."""
    said = []
    for way in ("wire", "http.client"):
        server = _Scripted([(BROKEN[case], True)])
        http = DavHttp(server.url, USER, PASSWORD, 2, "")
        light = http._light_path()
        assert light is not None
        with pytest.raises(TransientError) as raised:
            if way == "wire":
                light.answer("PROPFIND", server.url, "/", PLAIN_BODY.encode(), None, (), False)
            else:
                light._answer_through_http_client(
                    "PROPFIND", server.url, "/", PLAIN_BODY.encode(),
                    dict(light.headers), (), False)
        said.append(str(raised.value))
        http.close()
    assert said[0] == said[1]


def test_an_odd_header_block_reads_as_http_client_reads_it() -> None:
    """A folded line, repeated names, a bare LF: the `email` parser's reading, as before."""
    odd = (b"HTTP/1.1 207 Multi-Status\r\nX-Folded: first\r\n  second\r\nDAV: 1\r\n"
           b"dav: 2\nContent-Length: 2\r\n\r\nok")
    seen = []
    for way in ("wire", "http.client"):
        server = _Scripted([(odd, False)])
        http = DavHttp(server.url, USER, PASSWORD, 2, "")
        light = http._light_path()
        assert light is not None
        if way == "wire":
            answer = light.answer("PROPFIND", server.url, "/", b"", None, (), False)
        else:
            answer = light._answer_through_http_client("PROPFIND", server.url, "/", b"",
                                                       dict(light.headers), (), False)
        assert answer is not None
        seen.append((answer.headers.items(), answer.headers.get_all("dav"), answer.content))
        http.close()
    assert seen[0] == seen[1]
    assert seen[0][1] == ["1", "2"] and seen[0][2] == b"ok"


def test_a_server_that_does_not_answer_in_time_is_the_same_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain http connections are timed by the kernel (`SO_RCVTIMEO`), not by polls: a server
    that stays silent still ends in the `TimeoutError` `http.client`'s connection gives."""
    from connectors.dav import keepalive, wire

    monkeypatch.setattr(wire, "TIMEOUT", (5, 1))
    monkeypatch.setattr(keepalive, "TIMEOUT", (5, 1))
    said = []
    for way in ("wire", "http.client"):
        server = _Scripted([(None, False)])  # reads the request, says nothing
        http = DavHttp(server.url, USER, PASSWORD, 2, "")
        light = http._light_path()
        assert light is not None
        with pytest.raises(TransientError) as raised:
            if way == "wire":
                light.answer("PROPFIND", server.url, "/", b"", None, (), False)
            else:
                light._answer_through_http_client("PROPFIND", server.url, "/", b"",
                                                  dict(light.headers), (), False)
        said.append(str(raised.value))
        http.close()
    assert said[0] == said[1] and "(TimeoutError)" in said[0]


def test_a_listing_cut_while_streamed_is_a_transient_error() -> None:
    server = _Scripted([(BROKEN["a cut chunk"], True)])
    with pytest.raises(TransientError, match="IncompleteRead"):
        _listed(server, stream=True)


def test_nextclouds_statuses_are_the_errors_requests_gives(
        nextcloud_server: NextcloudServer) -> None:
    """Each error status of a PROPFIND: the same error class and words through the lean
    path as through `requests`; a listing reads the same."""
    nextcloud = nextcloud_server
    described = nextcloud.describe()
    base = nextcloud.dav_url() + "/"
    lean = DavHttp(base, described["user"], described["password"], 2, "help")
    heavy = DavHttp(base, described["user"], described["password"], 2, "help")
    heavy._light = None  # no lean path: every request through `requests`
    lean.session.request("MKCOL", lean.url("Dossier", folder=True), timeout=10)
    lean.session.put(lean.url("Dossier/note.txt"), data=b"note", timeout=10)
    listed = [sorted((r.path, r.fingerprint.size, r.file_id is not None)
                     for r in propfind(dav, dav.url("", folder=True), "infinity", "/"))
              for dav in (lean, heavy)]
    assert listed[0] == listed[1] and ("Dossier/note.txt", 4, True) in listed[0]
    expected = {401: FatalError, 423: LockedError, 429: TransientError, 500: TransientError,
                503: TransientError,
                507: InsufficientStorageError}
    for status, kind in expected.items():
        said = []
        for dav in (lean, heavy):
            nextcloud.inject(status, "/remote.php/dav/files/", method="PROPFIND", times=1,
                             retry_after=3)
            with pytest.raises(kind) as raised:
                list(propfind(dav, dav.url("", folder=True), "1", "/"))
            said.append((type(raised.value), str(raised.value),
                         getattr(raised.value, "retry_after", None)))
        assert said[0] == said[1], status
    assert isinstance(lean._light_path(), KeepAliveUploads)
    lean.close()
    heavy.close()


def test_an_https_server_is_listed_over_tls(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS still works (`ssl` is imported only for an https server): the certificate checked
    against the bundle `requests` would use (REQUESTS_CA_BUNDLE here), or not checked when the
    plan says so; one connection for both answers."""
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", certificate], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))
    listing = (b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\n<ok/\r\n1\r\n>\r\n0\r\n\r\n")
    for verify in (True, False):
        server = _Scripted([(listing, False), (listing, False)], tls=context)
        http = DavHttp(server.url, USER, PASSWORD, 2, "", verify_tls=verify)
        bodies = [http.request("PROPFIND", server.url, "/", headers={"Depth": "1"},
                               data=PLAIN_BODY).content for _time in range(2)]
        http.close()
        assert bodies == [b"<ok/>", b"<ok/>"] and server.connections == 1
