"""A Mastodon stand-in on loopback: `mastodon-mock` 0.6.1 in a child process, plus faults.

The child runs `python -m sandbox.mastodon serve`: mastodon-mock's own application with
an in-memory database, wrapped by small ASGI layers that add what mastodon-mock lacks: faults
that fire *after* the request was carried out (the status exists, the client sees a 500, a cut
connection or no answer: mastodon_faults.py), Mastodon's rate-limit families
(mastodon_limits.py), its scheduling rules (mastodon_schedule.py) and the other servers'
dialects (mastodon_dialects.py). mastodon-mock's own faults (`/api/v1/_mock/faults`) all fire
*before* the request reaches the API, so nothing is created. See docs/decisions/0302, 0303, 0320.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from sandbox.base import LocalServer
from sandbox.mastodon_dialects import DIALECTS, DialectRules, configure
from sandbox.mastodon_faults import AFTER_FAULTS, REQUESTS, AfterFaults
from sandbox.mastodon_limits import Family, FamilyLimits
from sandbox.mastodon_schedule import ScheduleRules

#: The token of mastodon-mock's seeded account `testuser`.
ACCESS_TOKEN = "mock_token"
#: What Mastodon answers when a status names media still being processed.
MEDIA_NOT_PROCESSED = (
    "Cannot attach files that have not finished processing. Try again in a moment!"
)
_AFTER_FAULTS = AFTER_FAULTS
_REQUESTS = REQUESTS


class MastodonServer(LocalServer):
    """mastodon-mock on 127.0.0.1, logged in as `testuser` with `ACCESS_TOKEN`.

    Rate limiting is off unless `rate_limit` is given (requests per `rate_limit_window` seconds
    per token; Mastodon's own default is 300 per 300 s). `status_limit` and `media_limit`
    (limit, seconds) add Mastodon's narrower families (300 per 10,800 s, 30 per 1,800 s). The
    fault helpers are thin wrappers over the HTTP control plane; every fault fires `count`
    times, then disappears. `software` is the dialect the server speaks (`DIALECTS`:
    mastodon, mastodon35, gotosocial, akkoma, takahe; mastodon_dialects.py); "gotosocial" also
    backdates statuses whose `scheduled_at` is in the past (mastodon_schedule.py).
    """

    name = "mastodon"

    def __init__(
        self,
        *,
        rate_limit: int | None = None,
        rate_limit_window: int = 300,
        status_limit: tuple[int, int] | None = None,
        media_limit: tuple[int, int] | None = None,
        software: str = "mastodon",
        startup_timeout: float = 30.0,
    ) -> None:
        self.access_token = ACCESS_TOKEN
        self.software = software
        self._rate_limit = rate_limit
        self._rate_limit_window = rate_limit_window
        #: (limit, seconds) of Mastodon's `statuses` and `media` families (mastodon_limits.py).
        self._families = {"status": status_limit, "media": media_limit}
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._logdir: Path | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("Mastodon mock is not started")
        return f"http://127.0.0.1:{self._port}"

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "token": self.access_token}

    def start(self) -> None:
        if self._process is not None:
            return
        self._logdir = Path(tempfile.mkdtemp(prefix="transhumance-mastodon-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        command = [
            sys.executable,
            "-m",
            "sandbox.mastodon",
            "serve",
            "--port",
            str(self._port),
            "--software",
            self.software,
        ]
        if self._rate_limit is not None:
            command += ["--rate-limit", str(self._rate_limit)]
            command += ["--rate-limit-window", str(self._rate_limit_window)]
        for family, limit in self._families.items():
            if limit is not None:
                command += [f"--{family}-limit", str(limit[0]), f"--{family}-window",
                            str(limit[1])]
        with open(self._logdir / "server.log", "wb") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=5)
        if self._logdir is not None:
            shutil.rmtree(self._logdir, ignore_errors=True)
        self._process = None
        self._port = None
        self._logdir = None

    def _wait_until_ready(self) -> None:
        assert self._process is not None and self._logdir is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                self.control("GET", "/api/v1/instance")
                return
            except OSError:
                time.sleep(0.05)
        log = (self._logdir / "server.log").read_text(errors="replace")[-2000:]
        raise MigrateError(
            f"mastodon-mock did not answer within {self._startup_timeout:.0f} s:\n{log}"
        )

    # -- control plane ---------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Send one JSON request (no token) and return the decoded answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        """Back to the seeded state: all statuses, media and faults gone."""
        self.control("POST", "/api/v1/_mock/reset")
        self.control("DELETE", _AFTER_FAULTS)

    def add_fault(
        self,
        effect: dict[str, Any],
        *,
        path: str | None = None,
        methods: list[str] | None = None,
        count: int | None = 1,
    ) -> str:
        """Add a mastodon-mock fault rule (fires before the API sees the request); return its id.

        `path` is exact or a glob (`/api/v1/statuses/*`); None matches every path. `count=None`
        keeps the rule until `clear_faults()`.
        """
        rule = {"match": {"methods": methods, "path": path}, "effect": effect, "count": count}
        return str(self.control("POST", "/api/v1/_mock/faults", rule)["id"])

    def faults(self) -> list[dict[str, Any]]:
        """Active rules with their remaining budgets, mastodon-mock's then ours."""
        return [*self.control("GET", "/api/v1/_mock/faults"), *self.control("GET", _AFTER_FAULTS)]

    def clear_faults(self) -> None:
        self.control("DELETE", "/api/v1/_mock/faults")
        self.control("DELETE", _AFTER_FAULTS)

    def fail_with(
        self, status: int, *, path: str = "/api/v1/statuses", method: str = "POST",
        error: str | None = None, headers: dict[str, str] | None = None, count: int | None = 1,
    ) -> str:  # fmt: skip
        """Answer `status` instead of carrying out the request (nothing is created)."""
        effect: dict[str, Any] = {"type": "status", "status": status, "headers": headers or {}}
        if error is not None:
            effect["body"] = {"error": error}
        return self.add_fault(effect, path=path, methods=[method], count=count)

    def rate_limit_exceeded(
        self, *, retry_after: int = 30, path: str | None = None, count: int | None = 1
    ) -> str:
        """Answer 429 with `Retry-After` and `X-RateLimit-*` (Remaining 0, Reset in 300 s)."""
        effect = {"type": "ratelimit", "headers": {"Retry-After": str(retry_after)}}
        return self.add_fault(effect, path=path, count=count)

    def unauthorized(self, *, path: str | None = None, count: int | None = 1) -> str:
        """Answer 401 as for a revoked token."""
        effect = {"type": "status", "status": 401, "body": {"error": "The access token is invalid"}}
        return self.add_fault(effect, path=path, count=count)

    def media_not_processed(self, *, count: int | None = 1) -> str:
        """Answer 422 to `POST /api/v1/statuses` as Mastodon does for unprocessed media."""
        return self.fail_with(422, error=MEDIA_NOT_PROCESSED, count=count)

    def requests(self) -> dict[str, Any]:
        """API requests served since the last `reset_requests()` (control calls excepted):
        `{"total": n, "by_status": {"429": n…}, "by_route": {"POST /api/v1/statuses": n…}}`."""
        return dict(self.control("GET", _REQUESTS))

    def reset_requests(self) -> None:
        self.control("DELETE", _REQUESTS)

    def fail_after(
        self, status: int = 500, *, path: str = "/api/v1/statuses", method: str = "POST",
        count: int = 1,
    ) -> None:  # fmt: skip
        """Carry the request out, then answer `status`: the in-doubt case."""
        self.control("POST", _AFTER_FAULTS, {"method": method, "path": path, "count": count,
                                              "effect": "status", "status": status})  # fmt: skip

    def drop_after(
        self, *, path: str = "/api/v1/statuses", method: str = "POST", count: int = 1,
        skip: int = 0,
    ) -> None:  # fmt: skip
        """Carry the request out, then cut the connection in the middle of the answer (after
        letting `skip` matching requests through untouched)."""
        self.control("POST", _AFTER_FAULTS, {"method": method, "path": path, "count": count,
                                              "effect": "drop", "skip": skip})  # fmt: skip

    def hold_after(self, *, skip: int = 0, path: str = "/api/v1/statuses",
                   method: str = "POST") -> None:
        """Carry out the (`skip`+1)-th matching request, then never answer it: the client is
        left waiting, the status exists — the moment to kill the client for an in-doubt trial."""
        self.control("POST", _AFTER_FAULTS, {"method": method, "path": path, "count": 1,
                                              "effect": "hold", "skip": skip})  # fmt: skip


def serve(port: int, rate_limit: int | None, rate_limit_window: int,
          families: dict[str, Family | None] | None = None, software: str = "mastodon") -> None:
    """Run mastodon-mock in this process (in-memory database) behind `AfterFaults`,
    `ScheduleRules` and, when given, Mastodon's `statuses`/`media` families."""
    import uvicorn
    from mastodon_mock.app import create_app
    from mastodon_mock.config import DatabaseConfig, MastodonMockConfig, RateLimitConfig

    config = MastodonMockConfig(
        domain=f"127.0.0.1:{port}",
        url_scheme="http",
        database=DatabaseConfig(path=":memory:"),
        ratelimit=RateLimitConfig(
            enabled=rate_limit is not None,
            limit=rate_limit or 300,
            window_seconds=rate_limit_window,
        ),
    )
    families = families or {}
    configure(software)
    mock = create_app(config)
    inner: Any = ScheduleRules(mock, mock, "gotosocial" if software == "gotosocial" else "mastodon")
    inner = DialectRules(inner, mock, software)
    if any(families.values()):
        inner = FamilyLimits(inner, families.get("status"), families.get("media"))
    app = AfterFaults(inner)
    uvicorn.run(app, host="127.0.0.1", port=port, server_header=False, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.mastodon")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="serve mastodon-mock with after-faults")
    serve_command.add_argument("--port", type=int, required=True)
    serve_command.add_argument("--rate-limit", type=int, default=None)
    serve_command.add_argument("--rate-limit-window", type=int, default=300)
    serve_command.add_argument("--software", choices=DIALECTS, default="mastodon")
    for family in ("status", "media"):
        serve_command.add_argument(f"--{family}-limit", type=int, default=None)
        serve_command.add_argument(f"--{family}-window", type=int, default=None)
    arguments = parser.parse_args(argv)
    periods = {"status": 10800, "media": 1800}  # Mastodon's own
    families = {family: Family(limit, getattr(arguments, f"{family}_window") or periods[family])
                if (limit := getattr(arguments, f"{family}_limit")) else None
                for family in ("status", "media")}
    serve(arguments.port, arguments.rate_limit, arguments.rate_limit_window, families,
          arguments.software)


if __name__ == "__main__":
    main()
