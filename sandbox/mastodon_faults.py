"""Faults that fire *after* mastodon-mock carried a request out: the in-doubt cases (0303).

`AfterFaults` runs a matching request to completion, then answers an error, cuts the answer
short, or never answers (the client is killed meanwhile); it also counts the requests served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import Counter
from typing import Any

AFTER_FAULTS = "/_transhumance/after_faults"
REQUESTS = "/_transhumance/requests"


class AfterFaults:
    """ASGI layer: run a matching request to completion, then answer an error or cut it short.

    Control plane at `/_transhumance/after_faults`: POST a rule `{method, path, count, skip,
    effect: "status"|"drop"|"hold", status}` (`skip`: matching requests let through first;
    "hold": never answered), GET the rules, DELETE them all. `POST /api/v1/_mock/reset` clears
    them too.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: list[dict[str, Any]] = []
        #: (method, route, status) → count, for benchmarks that count requests server-side.
        self.served: Counter[tuple[str, str, int]] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == AFTER_FAULTS:
            await self._control(scope, receive, send)
            return
        if scope["path"] == REQUESTS:
            await self._requests(scope, send)
            return
        if not scope["path"].startswith(("/_transhumance", "/api/v1/_mock")):
            send = self._counting(scope, send)
        if scope["path"] == "/api/v1/_mock/reset":
            self.rules.clear()
        rule = self._take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return

        async def discard(message: dict[str, Any]) -> None:
            del message

        await self.app(scope, receive, discard)
        if rule["effect"] == "hold":
            # Never answer; end when the client (killed meanwhile) has gone away.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3600):
                    while (await receive())["type"] != "http.disconnect":
                        pass
            return
        if rule["effect"] == "drop":
            # Promise more bytes than are sent; the server then closes the connection.
            await _send(send, 200, b'{"id":', declared_length=4096)
        else:
            status = int(rule.get("status", 500))
            await _send(
                send, status, json.dumps({"error": "An unexpected error occurred"}).encode()
            )

    def _counting(self, scope: dict[str, Any], send: Any) -> Any:
        route = re.sub(r"/\d+(?=/|$)", "/{id}", scope["path"])

        async def counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.served[(scope["method"], route, int(message["status"]))] += 1
            await send(message)

        return counted

    async def _requests(self, scope: dict[str, Any], send: Any) -> None:
        if scope["method"] == "DELETE":
            self.served.clear()
        by_status: Counter[str] = Counter()
        by_route: Counter[str] = Counter()
        for (method, route, status), count in self.served.items():
            by_status[str(status)] += count
            by_route[f"{method} {route}"] += count
        body = {"total": sum(self.served.values()), "by_status": by_status,
                "by_route": by_route}
        await _send(send, 200, json.dumps(body).encode())

    def _take(self, method: str, path: str) -> dict[str, Any] | None:
        for rule in self.rules:
            if rule["method"] == method and rule["path"] == path:
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    return None
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    async def _control(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST":
            rule = json.loads(body)
            rule["method"] = str(rule.get("method", "POST")).upper()
            rule["count"] = int(rule.get("count", 1))
            rule["skip"] = int(rule.get("skip", 0))
            self.rules.append(rule)
        elif scope["method"] == "DELETE":
            self.rules.clear()
        await _send(send, 200, json.dumps(self.rules).encode())


async def _send(send: Any, status: int, body: bytes, declared_length: int | None = None) -> None:
    length = str(declared_length if declared_length is not None else len(body)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", length)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
