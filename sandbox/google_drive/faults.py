"""Failures on demand: injected errors, dropped downloads, rate and daily limits, and counters."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import DriveApiError, quota_error

#: The reason Drive gives for each status when a fault is injected without one.
DEFAULT_REASONS = {
    401: "authError",
    403: "userRateLimitExceeded",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
}

_fault_ids = itertools.count(1)


@dataclass
class Fault:
    """One injected failure, consumed by the next `count` matching requests (-1 = forever).

    kind "error" answers `status`/`reason` (with `Retry-After` if `retry_after` is set);
    `style` "errorinfo" answers the per-user quota 403 in Google's current form (ErrorInfo
    RATE_LIMIT_EXCEEDED in `details`, see errors.quota_error), "errorinfo_only" the same
    without the legacy `errors` list; kind "drop" sends `after_bytes` of a download's body then
    closes the connection.
    `path_prefix` is matched against the API path ("/files", "/files/ID", "/changes"…).
    """

    status: int = 503
    reason: str | None = None
    message: str | None = None
    retry_after: float | None = None
    count: int = 1
    path_prefix: str = ""
    kind: str = "error"
    after_bytes: int = 1024
    style: str = "legacy"
    id: int = field(default_factory=lambda: next(_fault_ids))

    def to_error(self) -> DriveApiError:
        if self.style in ("errorinfo", "errorinfo_only"):
            return quota_error(legacy_errors=self.style == "errorinfo")
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(int(self.retry_after))
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        location = ("Authorization", "header") if self.status == 401 else (None, "parameter")
        return DriveApiError(
            self.status,
            self.reason or DEFAULT_REASONS.get(self.status, "backendError"),
            self.message,
            location=location[0],
            location_type=location[1],
            headers=headers,
        )


class Faults:
    """Pending faults plus the optional per-user and daily quotas, shared by all requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self.queries_per_100_seconds: int | None = None
        self.daily_limit: int | None = None
        #: Drive's per-minute per-user quota, as a bucket of `quota_burst` requests refilled
        #: at queries_per_minute/60 a second; spent, it answers the ErrorInfo-form 403.
        self.queries_per_minute: int | None = None
        self.quota_burst = 5
        self._buckets: dict[str, tuple[float, float]] = {}
        self._recent: dict[str, deque[float]] = {}
        self._daily_used = 0

    def inject(self, **options: Any) -> Fault:
        """Queue a fault; options are `Fault` fields (status, reason, retry_after, count…)."""
        fault = Fault(**options)
        if fault.kind not in ("error", "drop"):
            raise ValueError("kind must be 'error' or 'drop'")
        with self._lock:
            self._pending.append(fault)
        return fault

    def drop_connection(
        self, path_prefix: str = "", after_bytes: int = 1024, count: int = 1
    ) -> Fault:
        """Make the next download (alt=media, export, exportLink) stop after `after_bytes`."""
        return self.inject(
            kind="drop", path_prefix=path_prefix, after_bytes=after_bytes, count=count
        )

    def clear(self) -> None:
        """Forget pending faults and switch quotas off."""
        with self._lock:
            self._pending.clear()
            self._recent.clear()
            self._buckets.clear()
            self._daily_used = 0
        self.queries_per_minute = None
        self.queries_per_100_seconds = None
        self.daily_limit = None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._pending]

    def take(self, path: str, is_download: bool) -> Fault | None:
        """The first fault matching this request, consumed once; drops only match downloads."""
        with self._lock:
            for fault in self._pending:
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.kind == "drop" and not is_download:
                    continue
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                return fault
        return None

    def check_quotas(self, principal: str) -> None:
        """Raise the error Drive gives when a per-user or daily quota is spent."""
        with self._lock:
            if self.daily_limit is not None:
                self._daily_used += 1
                if self._daily_used > self.daily_limit:
                    raise DriveApiError(403, "dailyLimitExceeded")
            if self.queries_per_minute is not None:
                self._take_token(principal, self.queries_per_minute)
            if self.queries_per_100_seconds is None:
                return
            now = time.monotonic()
            window = self._recent.setdefault(principal, deque())
            while window and window[0] <= now - 100:
                window.popleft()
            if len(window) >= self.queries_per_100_seconds:
                raise DriveApiError(403, "userRateLimitExceeded")
            window.append(now)


    def _take_token(self, principal: str, per_minute: int) -> None:
        now = time.monotonic()
        tokens, last = self._buckets.get(principal, (float(self.quota_burst), now))
        tokens = min(float(self.quota_burst), tokens + (now - last) * per_minute / 60)
        if tokens < 1:
            self._buckets[principal] = (tokens, now)
            raise quota_error(per_minute)
        self._buckets[principal] = (tokens - 1, now)


class RequestCounter:
    """Requests seen, in total, per endpoint ("files.list", "files.get_media"…) and per status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.by_endpoint[endpoint] += 1
            self.by_status[status] += 1

    def reset(self) -> None:
        with self._lock:
            self.by_endpoint.clear()
            self.by_status.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.by_endpoint.values()),
                "by_endpoint": dict(self.by_endpoint),
                "by_status": {str(k): v for k, v in self.by_status.items()},
            }
