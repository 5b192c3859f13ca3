"""Scheduled statuses as Mastodon and GoToSocial treat them, where mastodon-mock 0.6.1 differs.

mastodon-mock stores a status whose `scheduled_at` is more than 5 minutes ahead (answering a
ScheduledStatus `{id, scheduled_at, params}`, listed by `GET /api/v1/scheduled_statuses`, its
`params.text` the status text) and publishes one whose `scheduled_at` is in the past at once —
both as Mastodon does (`PostStatusService#scheduled_in_the_past?`). It differs in two places:

- **Mastodon** refuses a `scheduled_at` less than 5 minutes ahead with 422
  (`ScheduledStatusValidator`, "too soon"); mastodon-mock publishes it at once.
- **GoToSocial** (v0.18+, `software="gotosocial"`) reports itself in `/api/v2/instance`
  (`version`, `source_url`) and *backfills* a status whose `scheduled_at` is in the past: it is
  created at once, dated `scheduled_at` (docs: user_guide/importing_posts).

`ScheduleRules` is the thin ASGI layer adding those two behaviours in front of mastodon-mock.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

#: Mastodon's minimum lead time for a scheduled status.
MINIMUM_LEAD = dt.timedelta(minutes=5)
TOO_SOON = "Validation failed: Scheduled at The scheduled date must be in the future"
GOTOSOCIAL_VERSION = "0.18.3+git-c0ffee"
GOTOSOCIAL_SOURCE = "https://codeberg.org/superseriousbusiness/gotosocial"
INSTANCE = ("/api/v2/instance", "/api/v1/instance")


class ScheduleRules:
    """ASGI layer: Mastodon's 5-minute rule, or GoToSocial's identity and backfilling."""

    def __init__(self, app: Any, fastapi_app: Any, software: str = "mastodon") -> None:
        self.app, self.fastapi_app, self.software = app, fastapi_app, software

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/")
        if self.software == "gotosocial" and scope["method"] == "GET" and path in INSTANCE:
            await self.app(scope, receive, _rewritten(send, _as_gotosocial))
            return
        if scope["method"] != "POST" or scope["path"] != "/api/v1/statuses":
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        when = _scheduled_at(scope, body)
        replay = _replay(body)
        now = dt.datetime.now(dt.UTC)
        if when is None:
            await self.app(scope, replay, send)
        elif self.software != "gotosocial" and now <= when < now + MINIMUM_LEAD:
            await _answer(send, 422, {"error": TOO_SOON})
        elif self.software == "gotosocial" and when <= now:
            await self.app(scope, replay, _rewritten(send, lambda s: self._backdate(s, when)))
        else:
            await self.app(scope, replay, send)

    def _backdate(self, status: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
        """Date the status just created `when`, in the database and in the answer."""
        from mastodon_mock.db.models import Status

        if "id" not in status or "content" not in status:
            return status  # an error answer
        with self.fastapi_app.state.session_factory() as session:
            row = session.get(Status, int(status["id"]))
            if row is not None:
                row.created_at = when
                session.commit()
        return {**status, "created_at": when.isoformat()}


def _as_gotosocial(instance: dict[str, Any]) -> dict[str, Any]:
    return {**instance, "version": GOTOSOCIAL_VERSION, "source_url": GOTOSOCIAL_SOURCE}


def _scheduled_at(scope: dict[str, Any], body: bytes) -> dt.datetime | None:
    headers = dict(scope.get("headers") or [])
    kind = headers.get(b"content-type", b"").decode("latin-1")
    value: Any = None
    if "json" in kind:
        value = (json.loads(body or b"{}") or {}).get("scheduled_at")
    elif "urlencoded" in kind:
        value = (urllib.parse.parse_qs(body.decode()).get("scheduled_at") or [None])[0]
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


async def _read(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _rewritten(send: Any, change: Any) -> Any:
    """A `send` that buffers a JSON answer, passes it through `change`, and sends it whole."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def rewritten(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if 200 <= int(start["status"]) < 300:
            body = json.dumps(change(json.loads(body))).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return rewritten


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
