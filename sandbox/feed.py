"""A website's RSS feed on loopback, for `migrate demo` and `migrate sandbox`.

The `feed` connector takes a URL, so the demo needs a server rather than a file. It serves one
feed at `/feed.xml` with an ETag and answers a conditional GET with 304, like a real website.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Self

from werkzeug.wrappers import Request, Response

from sandbox.base import LocalServer, WSGIServerThread

EMPTY = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
         b"<title>Feed</title><link>https://example.org/</link></channel></rss>")


class FeedServer(LocalServer):
    """Serves `body` at `<url>`; `set_feed()` changes it (and its ETag)."""

    name = "feed"

    def __init__(self) -> None:
        self.body = EMPTY
        self._http = WSGIServerThread(self._app)
        self._started = False

    @classmethod
    def for_sandbox(cls, workdir: Path) -> Self:
        return cls()

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def set_feed(self, body: bytes) -> None:
        self.body = body

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path != "/feed.xml":
            return Response("not found", status=404)
        if request.headers.get("If-None-Match") == self.etag:
            return Response(status=304, headers={"ETag": self.etag})
        return Response(self.body, content_type="application/rss+xml; charset=utf-8",
                        headers={"ETag": self.etag})

    def start(self) -> None:
        if not self._started:
            self._http.start()
            # werkzeug prints every request; a demo's output should show only the migration.
            logging.getLogger("werkzeug").addFilter(self._quiet)
            self._started = True

    def stop(self) -> None:
        if self._started:
            logging.getLogger("werkzeug").removeFilter(self._quiet)
            self._http.stop()
            self._started = False

    def _quiet(self, record: logging.LogRecord) -> bool:
        return "/feed.xml" not in record.getMessage()

    @property
    def url(self) -> str:
        return f"{self._http.base_url}/feed.xml"

    def seed_demo(self) -> None:
        from sandbox.samples_social import demo_feed

        self.set_feed(demo_feed())

    def describe(self) -> dict[str, Any]:
        return {"url": self.url}
