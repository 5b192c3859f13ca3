"""Drive API errors in Google's JSON shape, raised anywhere in the emulator and rendered once."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

#: HTTP status -> the canonical google.rpc status name Google puts in `error.status`.
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    416: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

#: Reasons Google reports under the `usageLimits` domain rather than `global`.
_USAGE_LIMIT_REASONS = {
    "userRateLimitExceeded",
    "rateLimitExceeded",
    "dailyLimitExceeded",
    "quotaExceeded",
    "downloadQuotaExceeded",
}

#: Default messages, as the live API words them, for reasons raised without an explicit message.
DEFAULT_MESSAGES = {
    "userRateLimitExceeded": "User rate limit exceeded.",
    "rateLimitExceeded": "Rate Limit Exceeded",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "quotaExceeded": "The download quota for this file has been exceeded.",
    "downloadQuotaExceeded": "The download quota for this file has been exceeded.",
    "authError": "Invalid Credentials",
    "backendError": "Backend Error",
    "internalError": "Internal Error",
    "notFound": "Not Found",
    "badRequest": "Bad Request",
    "invalid": "Invalid Value",
    "invalidParameter": "Invalid Value",
}


class DriveApiError(Exception):
    """An error answer: HTTP status, Google `reason`, message and optional location.

    `headers` carries extra response headers such as `Retry-After` or `WWW-Authenticate`.
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str | None = None,
        *,
        location: str | None = None,
        location_type: str = "parameter",
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        legacy_errors: bool = True,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message or DEFAULT_MESSAGES.get(reason, reason)
        self.location = location
        self.location_type = location_type
        self.headers = dict(headers or {})
        #: google.rpc details (ErrorInfo, Help…), as Google's newer front ends send them.
        self.details = list(details or [])
        self.legacy_errors = legacy_errors
        super().__init__(f"{status} {reason}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON document Google sends for this error."""
        detail: dict[str, Any] = {
            "message": self.message,
            "domain": "usageLimits" if self.reason in _USAGE_LIMIT_REASONS else "global",
            "reason": self.reason,
        }
        if self.location:
            detail["location"] = self.location
            detail["locationType"] = self.location_type
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.legacy_errors:
            error["errors"] = [detail]
        error["status"] = _STATUS_NAMES.get(self.status, "UNKNOWN")
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def to_response(self) -> Response:
        """A werkzeug response carrying the error body and headers."""
        response = Response(
            json.dumps(self.body(), indent=1),
            status=self.status,
            mimetype="application/json",
        )
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def not_found(file_id: str) -> DriveApiError:
    """The 404 Drive answers for an unknown id and for an item the caller may not see."""
    return DriveApiError(404, "notFound", f"File not found: {file_id}.", location="fileId")


def invalid_parameter(name: str, message: str | None = None) -> DriveApiError:
    """A 400 `invalid` pointing at one query parameter, as Drive reports bad values."""
    return DriveApiError(400, "invalid", message or "Invalid Value", location=name)


def quota_error(limit_per_minute: int | None = None, legacy_errors: bool = True) -> DriveApiError:
    """The per-user quota 403 as Google's current front end sends it: `status`
    PERMISSION_DENIED, a `google.rpc.ErrorInfo` with reason RATE_LIMIT_EXCEEDED and the quota's
    metadata in `details` (first, so the client's `error_details` is that list), and, unless
    `legacy_errors` is false, the legacy `errors[0].reason` rateLimitExceeded too."""
    value = str(limit_per_minute or 12000)
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": {
            "service": "drive.googleapis.com",
            "quota_metric": "drive.googleapis.com/default",
            "quota_limit": "defaultPerMinutePerUser",
            "quota_limit_value": value,
            "quota_location": "global",
            "consumer": "projects/000000000000",
        },
    }
    help_link = {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{"description": "Request a higher quota limit.",
                   "url": "https://cloud.google.com/docs/quotas/help/request_increase"}],
    }
    message = (
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of "
        "service 'drive.googleapis.com' for consumer 'project_number:000000000000'."
    )
    return DriveApiError(403, "rateLimitExceeded", message, details=[info, help_link],
                         legacy_errors=legacy_errors)
