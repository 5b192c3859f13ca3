"""Fault injection, latency and request counting shared by the HTTP emulators.

Both the Mailchimp and the listmonk emulators use this module; it lives here rather than beside
`base.py` because `base.py` belongs to the sandbox contract (see docs/decisions/0200).

Tests drive it from Python (`server.control.add_fault(...)`) or over HTTP under `/_emulator/`:

    GET    /_emulator/requests   -> {"total": n, "by_route": {"GET /3.0/lists": n, ...}}
    DELETE /_emulator/requests   -> reset the counters
    POST   /_emulator/faults     <- {"status": 503, "method": "GET", "path": "/3.0/lists",
                                     "times": 1, "body": "json" | "empty", "retry_after": 5}
    DELETE /_emulator/faults     -> clear every pending fault
    PUT    /_emulator/latency    <- {"seconds": 0.2}  (every API request sleeps first)
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

CONTROL_PREFIX = "/_emulator/"


@dataclass
class Fault:
    """One injected failure: the next `times` matching requests answer `status`.

    `body="empty"` sends no body at all (Mailchimp's edge really answers a bare 403 this way);
    `body="json"` lets the emulator render its own error document. `times=-1` never runs out.
    """

    status: int
    method: str | None = None
    path: str | None = None
    times: int = 1
    body: str = "json"
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to a request (path is a prefix match)."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or path.startswith(self.path)


class ControlPlane:
    """Thread-safe fault queue, artificial latency and per-route request counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._counts: Counter[str] = Counter()
        self.latency: float = 0.0

    def add_fault(self, status: int, **options: Any) -> Fault:
        """Queue a fault; options are the fields of `Fault` (method, path, times, body...)."""
        fault = Fault(status=status, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Consume and return the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def count(self, method: str, route: str) -> None:
        """Record one API request under its route pattern (not its concrete path)."""
        with self._lock:
            self._counts[f"{method} {route}"] += 1

    @property
    def requests(self) -> dict[str, int]:
        """Requests per "METHOD route" since the last reset."""
        with self._lock:
            return dict(self._counts)

    @property
    def total_requests(self) -> int:
        """Every API request since the last reset (control-plane calls are not counted)."""
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        """Zero the request counters, e.g. between two phases of a benchmark."""
        with self._lock:
            self._counts.clear()

    def pause(self) -> None:
        """Sleep for the configured latency; used to make concurrent requests overlap."""
        if self.latency > 0:
            time.sleep(self.latency)

    def handle(self, request: Request) -> Response:
        """Serve one `/_emulator/...` request (no authentication: loopback test hook)."""
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        payload = request.get_json(silent=True) or {}
        if action == "requests" and request.method == "GET":
            return _json({"total": self.total_requests, "by_route": self.requests})
        if action == "requests" and request.method == "DELETE":
            self.reset_counts()
            return _json({"ok": True})
        if action == "faults" and request.method == "POST":
            fault = self.add_fault(**payload)
            return _json({"ok": True, "fault": fault.__dict__}, status=201)
        if action == "faults" and request.method == "DELETE":
            self.clear_faults()
            return _json({"ok": True})
        if action == "latency" and request.method == "PUT":
            self.latency = float(payload.get("seconds", 0))
            return _json({"ok": True, "seconds": self.latency})
        return _json({"error": f"unknown control action {request.method} {action}"}, status=404)


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, mimetype="application/json")


def fault_response(fault: Fault, render: Callable[[int], Response]) -> Response:
    """Turn a fault into a response: empty body, or the emulator's own error document."""
    if fault.body == "empty":
        response = Response(b"", status=fault.status)
        response.headers.pop("Content-Type", None)
    else:
        response = render(fault.status)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


class EmulatorApp:
    """What the emulators' WSGI applications share: the control plane under CONTROL_PREFIX;
    for an API request, the route, its count, an injected fault, then the app's `handle`.
    Each app says how its service renders an error (`error`)."""

    urls: Map
    control: ControlPlane

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)(environ, start_response)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            rule, args = self.urls.bind_to_environ(request.environ).match(return_rule=True)
        except HTTPException as error:
            return self.error(error.code or 404, error.description)
        self.control.count(request.method, rule.rule)
        fault = self.control.take_fault(request.method, request.path)
        if fault is not None:
            return fault_response(fault, lambda status: self.error(status, None))
        return self.handle(request, rule, args)

    def error(self, status: int, detail: str | None) -> Response:
        """The service's own error document."""
        raise NotImplementedError

    def handle(self, request: Request, rule: Rule, args: dict[str, Any]) -> Response:
        """Authenticate and run the endpoint (counting and faults are done)."""
        raise NotImplementedError
