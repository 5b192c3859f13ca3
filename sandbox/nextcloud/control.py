"""The `/_sandbox/` control plane: faults, quotas, app passwords, settings and request counts.

JSON in, JSON out, no authentication (loopback only). Every call has a Python equivalent on
`NextcloudServer`/`SandboxState`, for tests running in the same process.

    GET    /_sandbox/requests                      -> {"PUT": 12, "PROPFIND": 1, ...}
    DELETE /_sandbox/requests                      -> reset the counters
    GET    /_sandbox/faults                        -> armed faults
    POST   /_sandbox/faults  {"status": 503|429|423|401|507|0, "path": "/remote.php/...",
                              "method": "PUT", "times": 1, "retry_after": 5,
                              "after_bytes": 1000}  (status 0 = drop the connection)
    DELETE /_sandbox/faults[/<id>]                 -> disarm all (or one)
    PUT    /_sandbox/users/<user>/quota {"bytes": N|null}
    POST   /_sandbox/users/<user>/app-passwords    -> {"app_password": "..."}
    DELETE /_sandbox/users/<user>/app-passwords/<token>
    PUT    /_sandbox/settings {"windows_compatible_filenames": true}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sandbox.nextcloud.faults import Fault
from sandbox.nextcloud.responses import status_line
from sandbox.nextcloud.state import SandboxState


def _reply(start_response: Any, status: int, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status_line(status), headers)
    return [body]


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    return json.loads(raw) if raw else {}


def handle_control(
    state: SandboxState, environ: dict[str, Any], start_response: Any, route: str
) -> Iterable[bytes]:
    """Answer one control-plane request (`route` follows `/_sandbox/`)."""
    method = environ["REQUEST_METHOD"]
    parts = [p for p in route.split("/") if p]
    try:
        payload = _route(state, method, parts, _body(environ))
    except (KeyError, ValueError, TypeError) as error:
        return _reply(start_response, 400, {"error": str(error)})
    if payload is None:
        return _reply(start_response, 404, {"error": f"no control route {method} {route}"})
    return _reply(start_response, 200, payload)


def _route(state: SandboxState, method: str, parts: list[str], body: dict[str, Any]) -> Any:
    match method, parts:
        case "GET", ["requests"]:
            return state.request_counts()
        case "DELETE", ["requests"]:
            state.reset_request_counts()
            return {}
        case "GET", ["faults"]:
            return [fault.to_dict() for fault in state.faults.list()]
        case "POST", ["faults"]:
            allowed = {"status", "path", "method", "times", "retry_after", "after_bytes"}
            return state.faults.add(
                Fault(**{k: v for k, v in body.items() if k in allowed})
            ).to_dict()
        case "DELETE", ["faults"]:
            state.faults.clear()
            return {}
        case "DELETE", ["faults", fault_id]:
            state.faults.remove(int(fault_id))
            return {}
        case "PUT", ["users", user, "quota"]:
            state.set_quota(user, body.get("bytes"))
            return {"user": user, "quota": body.get("bytes")}
        case "POST", ["users", user, "app-passwords"]:
            return {"app_password": state.create_app_password(user)}
        case "DELETE", ["users", user, "app-passwords", token]:
            state.revoke_app_password(user, token)
            return {}
        case "PUT", ["settings"]:
            if "windows_compatible_filenames" in body:
                state.rules.windows_compatible = bool(body["windows_compatible_filenames"])
            return {"windows_compatible_filenames": state.rules.windows_compatible}
    return None
