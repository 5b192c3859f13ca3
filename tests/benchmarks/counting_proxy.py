"""A loopback HTTP proxy that counts requests, for services with no control plane (Mailman)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.total_requests = 0
        #: "METHOD /path/shape" → [requests, seconds the upstream took]: where the time goes.
        self.timings: dict[str, list[float]] = {}
        #: Every request's "METHOD /path/shape status", in the order answered.
        self.sequence: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset_counts(self) -> None:
        with self._lock:
            self.total_requests = 0
            self.timings = {}
            self.sequence = []

    def timing_lines(self) -> list[str]:
        """One line per kind of request, slowest total first."""
        with self._lock:
            rows = sorted(self.timings.items(), key=lambda kv: -kv[1][1])
        return [f"{shape:60} {int(n):6} req  {total:8.2f} s  {1000 * total / n:7.1f} ms each"
                for shape, (n, total) in rows]

    def start(self) -> CountingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                with proxy._lock:
                    proxy.total_requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(proxy.upstream.hostname,
                                                      proxy.upstream.port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                started = time.perf_counter()
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                took = time.perf_counter() - started
                shape = f"{self.command} {_shape(self.path)} {answer.status}"
                with proxy._lock:
                    kept = proxy.timings.setdefault(shape, [0, 0.0])
                    kept[0] += 1
                    kept[1] += took
                    proxy.sequence.append(shape)
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _shape(path: str) -> str:
    """A path with its addresses, list ids and tokens replaced, so alike requests group."""
    path = path.split("?", 1)[0]
    path = re.sub(r"[^/]*(@|%40)[^/]*", "<address>", path)
    path = re.sub(r"/[0-9a-f]{16,}", "/<token>", path)
    return re.sub(r"/[\w-]+\.example\.org", "/<list>", path)
