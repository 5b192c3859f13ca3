"""The HTTP control plane under /_emulator/, for tests and tools outside this process.

POST   /_emulator/faults      {status, reason, message, retry_after, count, path_prefix, kind,
                               after_bytes} -> 201 with the fault
DELETE /_emulator/faults      clear faults and quotas
GET    /_emulator/faults      pending faults
POST   /_emulator/quotas      {queries_per_100_seconds, queries_per_minute, daily_limit}
                              (null switches off)
GET    /_emulator/stats       request counts {total, by_endpoint, by_status} (alias: requests)
DELETE /_emulator/stats       reset the counts (alias: requests)

`times` is accepted for `count`, and `requests` for `stats`, to match the Mailchimp and listmonk
emulators' control plane (docs/decisions/0200).
POST   /_emulator/auth        {required: bool, token_lifetime: seconds}
POST   /_emulator/auth/expire expire every issued access token
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from .app import DriveApp


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def control_plane(app: DriveApp, request: Request, path: str) -> Response:
    """Answer one control-plane request; 400 on a malformed body, 404 on unknown paths."""
    body = request.get_json(silent=True) or {}
    route = (request.method, path.rstrip("/").replace("requests", "stats"))
    if "times" in body:
        body["count"] = body.pop("times")
    try:
        if route == ("POST", "faults"):
            return _json(dataclasses.asdict(app.faults.inject(**body)), 201)
        if route == ("DELETE", "faults"):
            app.faults.clear()
            return _json({"cleared": True})
        if route == ("GET", "faults"):
            return _json(app.faults.pending())
        if route == ("POST", "quotas"):
            app.faults.queries_per_100_seconds = body.get("queries_per_100_seconds")
            app.faults.daily_limit = body.get("daily_limit")
            app.faults.queries_per_minute = body.get("queries_per_minute")
            return _json(body)
        if route == ("GET", "stats"):
            return _json(app.requests.snapshot())
        if route == ("DELETE", "stats"):
            app.requests.reset()
            return _json({"reset": True})
        if route == ("POST", "auth"):
            app.auth.required = bool(body.get("required", app.auth.required))
            app.auth.token_lifetime = int(body.get("token_lifetime", app.auth.token_lifetime))
            return _json({"required": app.auth.required, "token_lifetime": app.auth.token_lifetime})
        if route == ("POST", "auth/expire"):
            app.auth.expire_all()
            return _json({"expired": True})
    except (TypeError, ValueError) as error:
        return _json({"error": str(error)}, 400)
    return _json({"error": f"unknown control path {request.method} {path}"}, 404)
