"""Fault controls for a real server that has none (Mailman's core): a reverse proxy on loopback
that forwards every request unchanged, unless a fault armed on its control plane answers first —
as the web server in front of a real installation (nginx, a load balancer) answers 503 with
`Retry-After` during a restart, or 429 when it rate-limits.

    with FaultProxy(mailman.url) as proxy:       # proxy.url stands for mailman.url
        proxy.control.add_fault(503, times=-1, retry_after=5)

The control plane is the emulators' (`sandbox/mailchimp/control.py`): `/_emulator/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from werkzeug.wrappers import Request, Response

from sandbox.base import WSGIServerThread
from sandbox.mailchimp.control import CONTROL_PREFIX, ControlPlane, fault_response

#: Hop-by-hop headers (RFC 9110 §7.6.1) and those the WSGI server sets itself.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length", "content-encoding",
              "host"}


class FaultProxy:
    """Forwards `http://127.0.0.1:<port>/<path>` to `upstream`'s origin, same path."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.control = ControlPlane()
        self.session = requests.Session()
        self._thread = WSGIServerThread(self)

    @property
    def url(self) -> str:
        """The upstream URL, through the proxy."""
        return self._thread.base_url + self.path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)(environ, start_response)
        self.control.count(request.method, request.path)
        fault = self.control.take_fault(request.method, request.path)
        if fault is not None:
            return fault_response(fault, _error)(environ, start_response)
        answer = self.session.request(
            request.method, self.origin + request.full_path.rstrip("?"),
            data=request.get_data(), allow_redirects=False, timeout=60,
            headers={k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP})
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(answer.content, status=answer.status_code,
                        headers=headers)(environ, start_response)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self.session.close()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _error(status: int) -> Response:
    """What a front web server answers: a short JSON error document."""
    titles = {401: "401 Unauthorized", 429: "429 Too Many Requests",
              503: "503 Service Unavailable"}
    body = {"title": titles.get(status, str(status)), "description": "fault injected"}
    return Response(json.dumps(body), status=status, mimetype="application/json")
