"""Mastodon's per-family rate limits, which mastodon-mock 0.6.1 lacks: statuses and media.

Real Mastodon has, besides its 300 requests per 5 minutes per account (rack-attack, which
mastodon-mock emulates), two narrower throttles:

- **statuses**: 300 created per 3 hours per account (`RateLimiter` family `statuses`); the
  answer to `POST /api/v1/statuses` carries *this* bucket in its `X-RateLimit-*` headers
  (`override_rate_limit_headers :create, family: :statuses`), and going over answers 429.
- **media**: 30 uploads per 30 minutes (rack-attack `throttle_media` on `POST /api/v1/media` and
  `/api/v2/media`); being the most limited throttle on those paths, it is the one reported.

Windows are aligned on the epoch (reset = now + period − now mod period) and `X-RateLimit-Reset`
is an ISO 8601 time with microseconds, as Mastodon writes them. `Family` keeps one counter per
window; the layer rewrites the three headers of every matching answer and refuses with 429
`{"error": "Too many requests"}` once a bucket is spent. Statuses count when created (2xx);
media count on every attempt, as rack-attack does. See docs/decisions/0312.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

STATUS_PATHS = ("/api/v1/statuses",)
MEDIA_PATHS = ("/api/v1/media", "/api/v2/media")


@dataclass
class Family:
    """One fixed-window bucket: `limit` per `period` seconds."""

    limit: int
    period: int
    counts: dict[int, int] = field(default_factory=dict)

    def window(self, now: float) -> int:
        return int(now) // self.period

    def used(self, now: float) -> int:
        return self.counts.get(self.window(now), 0)

    def record(self, now: float) -> None:
        key = self.window(now)
        self.counts = {key: self.counts.get(key, 0) + 1}  # older windows are over

    def headers(self, now: float) -> list[tuple[bytes, bytes]]:
        reset = dt.datetime.fromtimestamp((self.window(now) + 1) * self.period, dt.UTC)
        remaining = max(0, self.limit - self.used(now))
        return [(b"x-ratelimit-limit", str(self.limit).encode()),
                (b"x-ratelimit-remaining", str(remaining).encode()),
                (b"x-ratelimit-reset", reset.isoformat(timespec="microseconds")
                 .replace("+00:00", "Z").encode())]


class FamilyLimits:
    """ASGI layer enforcing and reporting the `statuses` and `media` families."""

    def __init__(self, app: Any, statuses: Family | None, media: Family | None) -> None:
        self.app, self.statuses, self.media = app, statuses, media

    def _family(self, scope: dict[str, Any]) -> tuple[Family | None, bool]:
        """The bucket of this request, and whether it counts only when it succeeds."""
        if scope["method"] != "POST":
            return None, False
        if scope["path"] in STATUS_PATHS:
            return self.statuses, True
        if scope["path"] in MEDIA_PATHS:
            return self.media, False
        return None, False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v1/_mock/reset":
            for family in (self.statuses, self.media):
                if family is not None:
                    family.counts.clear()
        family, on_success = (self._family(scope) if scope["type"] == "http"
                              else (None, False))
        if family is None:
            await self.app(scope, receive, send)
            return
        now = time.time()
        if family.used(now) >= family.limit:
            body = json.dumps({"error": "Too many requests"}).encode()
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()), *family.headers(now)]})
            await send({"type": "http.response.body", "body": body})
            return
        if not on_success:
            family.record(now)

        async def reported(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if on_success and 200 <= int(message["status"]) < 300:
                    family.record(now)
                kept = [(k, v) for k, v in message.get("headers", [])
                        if not k.lower().startswith(b"x-ratelimit-")]
                message = {**message, "headers": kept + family.headers(now)}
            await send(message)

        await self.app(scope, receive, reported)
