"""Servers that speak Mastodon's API without being Mastodon, played by mastodon-mock.

`DialectRules` is an ASGI layer in front of mastodon-mock that makes it answer as each server
does where it matters to an import (read from each server's code; docs/decisions/0320):

- **mastodon** (4.x): as mastodon-mock, plus a refused attachment type answered 422,
  `Idempotency-Key` ignored on scheduled statuses (issue #30039), and Mastodon's
  scheduled-status limits (25 per day, 300 in all: `ScheduledStatus::DAILY_LIMIT`,
  `TOTAL_LIMIT`, answered 422 by `ScheduledStatusValidator`).
- **mastodon35**: Mastodon 3.5, no `/api/v2/instance` (404); the v1 document says the limits.
- **gotosocial** (0.18): its version and `source_url`; `Idempotency-Key` ignored; no
  `/api/v1/scheduled_statuses` (404), a future `scheduled_at` refused (501); 5,000 characters
  and 6 attachments.
- **akkoma**: `2.7.2 (compatible; Akkoma 3.13.2)`; no v2 instance document (404), limits in v1
  as `max_toot_chars`, `upload_limit`, `max_media_attachments`; scheduled limits as Mastodon's;
  `language` null in statuses.
- **takahe** (0.11): `takahe/0.11.0`; `/api/v1/instance/` and `/api/v2/instance/` (trailing
  slash, as Mastodon.py asks) answered 404; `Idempotency-Key` and `scheduled_at` ignored (the
  status is published at once); no scheduled statuses (404); images only (`video_size_limit: 0`),
  anything else answered 500; attachments in no fixed order; `language` null.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.parse
from typing import Any

from sandbox.mastodon_schedule import (
    _answer,
    _read,
    _replay,
    _rewritten,
    _scheduled_at,
)

DIALECTS = ("mastodon", "mastodon35", "gotosocial", "akkoma", "takahe")
IGNORES_IDEMPOTENCY = frozenset({"gotosocial", "takahe"})
NO_SCHEDULED = frozenset({"gotosocial", "takahe"})
NULL_LANGUAGE = frozenset({"akkoma", "takahe"})
#: Mastodon's (and Pleroma's `ScheduledActivity`) limits per account.
DAILY_LIMIT, TOTAL_LIMIT = 25, 300
#: Mastodon's `scheduled_statuses.over_daily_limit` / `over_total_limit` (config/locales/en.yml).
OVER_DAILY = ("Validation failed: You have exceeded the limit of 25 scheduled posts for that "
              "day")
OVER_TOTAL = "Validation failed: You have exceeded the limit of 300 scheduled posts"
IMAGES = ["image/apng", "image/avif", "image/gif", "image/jpeg", "image/png", "image/webp"]
MEDIA_PATHS = ("/api/v1/media", "/api/v2/media")


#: (characters, attachments) each dialect allows by default, where not Mastodon's 500 and 4.
STATUS_LIMITS = {"gotosocial": (5000, 6), "akkoma": (5000, 4)}


def configure(dialect: str) -> None:
    """Set mastodon-mock's own status limits to the dialect's (in the server's process, before
    its app is built): it refuses longer statuses as the real server does."""
    from mastodon_mock.routers import statuses

    characters, attachments = STATUS_LIMITS.get(dialect, (500, 4))
    statuses.MAX_STATUS_CHARACTERS = characters  # type: ignore[attr-defined]
    statuses.MAX_MEDIA_ATTACHMENTS = attachments  # type: ignore[attr-defined]


def instance_document(dialect: str, original: dict[str, Any], v2: bool) -> dict[str, Any]:
    """mastodon-mock's instance document as `dialect` writes it."""
    config = json.loads(json.dumps(original.get("configuration") or {}))
    if dialect == "gotosocial":
        config.setdefault("statuses", {}).update(max_characters=5000, max_media_attachments=6)
        return {**original, "version": "0.18.3+git-c0ffee", "configuration": config,
                "source_url": "https://codeberg.org/superseriousbusiness/gotosocial"}
    if dialect == "akkoma":
        document = {k: v for k, v in original.items() if k != "configuration"}
        return {**document, "version": "2.7.2 (compatible; Akkoma 3.13.2)",
                "max_toot_chars": 5000, "upload_limit": 16_000_000,
                "max_media_attachments": 4, "description_limit": 5000}
    if dialect == "takahe":
        media = {"supported_mime_types": IMAGES, "image_size_limit": 10 * 1024 ** 2,
                 "image_matrix_limit": 2000 * 2000}
        if v2:
            media.update(video_size_limit=0, video_frame_rate_limit=60)
        config.update(statuses={"max_characters": 500, "max_media_attachments": 4,
                                "characters_reserved_per_url": 23}, media_attachments=media)
        return {**original, "version": "takahe/0.11.0", "configuration": config,
                "source_url": "https://github.com/jointakahe/takahe"}
    if dialect == "mastodon35":
        return {**original, "version": "3.5.19"}
    return original


class DialectRules:
    """ASGI layer: mastodon-mock answering as `dialect` does (see the module docstring)."""

    def __init__(self, app: Any, fastapi_app: Any, dialect: str = "mastodon") -> None:
        self.app, self.fastapi_app, self.dialect = app, fastapi_app, dialect
        self.random = random.Random(7)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.dialect not in DIALECTS:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        missing = self._missing(method, path)
        if missing:
            await _answer(send, 404, {"error": "Record not found"}) if missing == "json" else \
                await _plain(send, 404)
            return
        if method == "GET" and path in ("/api/v1/instance", "/api/v2/instance"):
            v2 = path.endswith("v2/instance")
            await self.app(scope, receive, _rewritten(
                send, lambda doc: instance_document(self.dialect, doc, v2)))
            return
        if method == "POST" and path in MEDIA_PATHS:
            await self._media(scope, receive, send)
            return
        if method == "POST" and path == "/api/v1/statuses":
            await self._status(scope, receive, send)
            return
        if method == "GET" and path.startswith(("/api/v1/accounts/", "/api/v1/statuses")):
            await self.app(scope, receive, _rewritten(send, self._as_read))
            return
        await self.app(scope, receive, send)

    def _missing(self, method: str, path: str) -> str | None:
        """Endpoints this server lacks: "json" or "plain" 404, else None."""
        if method != "GET":
            return None
        if self.dialect == "takahe" and path in ("/api/v1/instance/", "/api/v2/instance/"):
            return "plain"  # Django's own 404 page, no JSON error
        if self.dialect in ("akkoma", "mastodon35") and path.rstrip("/") == "/api/v2/instance":
            return "json"
        if self.dialect in NO_SCHEDULED and path.startswith("/api/v1/scheduled_statuses"):
            return "plain" if self.dialect == "takahe" else "json"
        return None

    async def _status(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await _read(receive)
        when = _scheduled_at(scope, body)
        now = dt.datetime.now(dt.UTC)
        # Mastodon ignores the key of a scheduled status too (mastodon/mastodon#30039).
        if self.dialect in IGNORES_IDEMPOTENCY or (when is not None and when > now):
            scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers") or []
                                          if k.lower() != b"idempotency-key"]}
        if when is not None and when > now:
            if self.dialect == "takahe":
                body = _without(scope, body, "scheduled_at")  # ignored: published at once
            elif self.dialect == "gotosocial":
                await _answer(send, 501, {"error": "Not Implemented: scheduled statuses are "
                                                   "not yet supported"})
                return
            elif when >= now + dt.timedelta(minutes=5):
                refused = self._over_limits(when)
                if refused:
                    await _answer(send, 422, {"error": refused})
                    return
        await self.app(scope, _replay(body), _rewritten(send, self._as_read))

    def _over_limits(self, when: dt.datetime) -> str | None:
        from mastodon_mock.db.models import ScheduledStatus
        from sqlalchemy import func, select

        day = dt.datetime.combine(when.date(), dt.time(), tzinfo=None)
        with self.fastapi_app.state.session_factory() as session:
            total = session.scalar(select(func.count()).select_from(ScheduledStatus)) or 0
            that_day = session.scalar(select(func.count()).select_from(ScheduledStatus).where(
                ScheduledStatus.scheduled_at >= day,
                ScheduledStatus.scheduled_at < day + dt.timedelta(days=1))) or 0
        if total >= TOTAL_LIMIT:
            return OVER_TOTAL
        if that_day >= DAILY_LIMIT:
            return OVER_DAILY
        return None

    async def _media(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await _read(receive)
        kind = _upload_type(body)
        accepted = IMAGES if self.dialect == "takahe" else [*IMAGES, "video/mp4", "video/webm"]
        if kind and kind not in accepted:
            if self.dialect == "takahe":  # its image resizer fails on anything else
                await _answer(send, 500, {"error": "Internal Server Error"})
            else:
                await _answer(send, 422, {"error": "Validation failed: File content type is "
                                                   "invalid, File is invalid"})
            return
        await self.app(scope, _replay(body), send)

    def _as_read(self, answer: Any) -> Any:
        """Statuses as this server returns them: language null, attachments unordered."""
        statuses = answer if isinstance(answer, list) else [answer]
        for status in statuses:
            if not isinstance(status, dict) or "content" not in status:
                continue
            if self.dialect in NULL_LANGUAGE:
                status["language"] = None
            if self.dialect == "takahe" and status.get("media_attachments"):
                self.random.shuffle(status["media_attachments"])
        return answer


def _without(scope: dict[str, Any], body: bytes, name: str) -> bytes:
    kind = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
    if "json" in kind:
        data = json.loads(body or b"{}") or {}
        data.pop(name, None)
        return json.dumps(data).encode()
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
             if k != name]
    return urllib.parse.urlencode(pairs).encode()


def _upload_type(body: bytes) -> str | None:
    """The Content-Type of the `file` part of a multipart upload."""
    head = body[:2000].decode("latin-1")
    marker = head.find('name="file"')
    if marker < 0:
        return None
    line = head[marker:].split("\r\n\r\n", 1)[0]
    for part in line.split("\r\n"):
        if part.lower().startswith("content-type:"):
            return part.split(":", 1)[1].strip().lower()
    return None


async def _plain(send: Any, status: int) -> None:
    body = b"<h1>Not Found</h1>"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
