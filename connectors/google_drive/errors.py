"""Drive answers translated into the core's error kinds, at the connector's edge.

Decisions are taken on the HTTP status and Google's reasons — the legacy `errors[].reason` and
the `google.rpc.ErrorInfo` reasons of `details` (both forms are in use today; the client's
`error_details` holds only one of them) — never on message text. The client is built with
`num_retries=0`, so every retry is visible: quota answers are waited out by the connection's
pacer (pacing.py), other transient answers by the runner (downloads) or `with_retries`
(listing requests).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from connectors.google_drive.auth import testing_expiry_hint
from migrate import retry
from migrate.errors import ConnectorError, FatalError, SkipItem, TransientError
from migrate.i18n import _, os_reason
from migrate.retry import parse_retry_after

T = TypeVar("T")

#: Quota answers: the legacy `errors[0].reason`s, and the `google.rpc.ErrorInfo` reason.
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
DAILY_LIMIT_REASONS = {"dailyLimitExceeded", "quotaExceeded"}
#: Per-file download quota: Drive lifts it after up to 24 hours; a later run picks the file up.
DOWNLOAD_QUOTA_SECONDS = 3600.0
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def _error_body(error: Exception) -> dict[str, Any]:
    try:
        body = json.loads(getattr(error, "content", b"") or b"{}")
    except (ValueError, TypeError):
        return {}
    found = body.get("error") if isinstance(body, dict) else None
    return found if isinstance(found, dict) else {}


def reasons_of(error: Exception) -> list[str]:
    """Every `reason` Google gave: the legacy `errors[].reason` and those of the
    `google.rpc.ErrorInfo` entries of `details`. Read from the body itself: the client's
    `error_details` holds only one of the two lists (`details` when both are present)."""
    body = _error_body(error)
    found = [str(e.get("reason", "")) for e in body.get("errors") or [] if isinstance(e, dict)]
    found += [str(d.get("reason", "")) for d in body.get("details") or []
              if isinstance(d, dict) and d.get("@type") == ERROR_INFO]
    details = getattr(error, "error_details", None)
    if isinstance(details, list):
        found += [str(d.get("reason", "")) for d in details if isinstance(d, dict)]
    return [reason for reason in dict.fromkeys(found) if reason]


@dataclass(frozen=True)
class QuotaAnswer:
    """A "too many requests" answer: the per-minute limit it states, the delay it asks."""

    limit_per_minute: int | None = None
    retry_after: float | None = None


def quota_answer(error: Exception) -> QuotaAnswer | None:
    """The quota answer in `error` (429, or 403 with a rate-limit reason), else None."""
    status = int(getattr(error, "status_code", 0) or 0)
    if status not in (403, 429) or (status == 403 and
                                    not RATE_LIMIT_REASONS & set(reasons_of(error))):
        return None
    limit = None
    retry_after = _retry_after(error)
    for detail in _error_body(error).get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == ERROR_INFO:
            metadata = detail.get("metadata") or {}
            value = str(metadata.get("quota_limit_value", ""))
            per_minute = "minute" in str(metadata.get("quota_limit", "")).lower() or \
                "minute" in str(_error_body(error).get("message", "")).lower()
            if value.isdigit() and int(value) > 0 and per_minute:
                limit = int(value)
        elif detail.get("@type") == RETRY_INFO and retry_after is None:
            retry_after = _seconds(str(detail.get("retryDelay", "")))
    return QuotaAnswer(limit, retry_after)


def _seconds(duration: str) -> float | None:
    """A protobuf Duration as JSON ("30s", "1.5s")."""
    try:
        return float(duration.removesuffix("s")) if duration.endswith("s") else None
    except ValueError:
        return None


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "resp", None)  # httplib2's: header names in lower case
    return parse_retry_after(response.get("retry-after") if response is not None else None)


def login_hint(connection: str | None) -> str:
    return _("log in again with: migrate login PLAN {connection}, or check the service-account "
             "key and its domain-wide delegation").format(connection=connection or "CONNECTION")


def translate(error: Exception, what: str, connection: str | None = None) -> ConnectorError:
    """The core error for an exception raised while talking to Drive about `what`."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError

    if isinstance(error, HttpError):
        return _translate_http(error, what, connection)
    if isinstance(error, RefreshError):
        detail = str(error.args[0]) if error.args else ""
        answer = error.args[1] if len(error.args) > 1 else None
        if isinstance(answer, dict) and answer.get("error") == "invalid_grant":
            return FatalError(_("Google refused the credentials ({detail}); {hint}; {testing}")
                              .format(detail=detail, hint=login_hint(connection),
                                      testing=testing_expiry_hint(connection)))
        return FatalError(_("Google refused the credentials ({detail}); {hint}").format(
            detail=detail, hint=login_hint(connection)))
    if isinstance(error, http.client.IncompleteRead | http.client.HTTPException | TransportError
                  | socket.timeout | ConnectionError):
        return TransientError(_("the connection to Google dropped while reading {what}").format(
            what=what))
    if isinstance(error, OSError):
        return TransientError(_("network error while reading {what}: {reason}").format(
            what=what, reason=os_reason(error)))
    raise error


def _translate_http(error: Exception, what: str, connection: str | None) -> ConnectorError:
    status = int(getattr(error, "status_code", 0) or error.resp.status)  # type: ignore[attr-defined]
    reasons = reasons_of(error)
    reason = next(iter(reasons), "")
    if status == 401:
        return FatalError(_("Google no longer accepts our access (401); {hint}").format(
            hint=login_hint(connection)))
    if status == 403 and {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"} & set(
            reasons):
        return FatalError(_("the sign-in does not include access to Google Drive (it was "
                            "unticked on Google's consent page); run 'migrate login PLAN "
                            "{connection}' again and tick \"See and download all your Google "
                            "Drive files\"").format(connection=connection or "CONNECTION"))
    answer = quota_answer(error)
    if answer is not None:
        return TransientError(_("Google asks us to slow down ({reason})").format(
            reason=reason or status), retry_after=answer.retry_after)
    if DAILY_LIMIT_REASONS & set(reasons):
        return FatalError(_("Google's daily limit for this account is reached; run apply again "
                            "tomorrow — nothing is lost"))
    if "downloadQuotaExceeded" in reasons:
        return TransientError(_("{what} was downloaded too often today; Google lifts this within "
                                "24 hours and a later run will copy it").format(what=what),
                              retry_after=DOWNLOAD_QUOTA_SECONDS)
    if status >= 500:
        return TransientError(_("Google had a temporary problem ({status}) with {what}").format(
            status=status, what=what), retry_after=_retry_after(error))
    if status == 404:
        return SkipItem(_("{what} is no longer on Google Drive (or no longer shared with this "
                          "account)").format(what=what))
    if status == 403:
        return SkipItem(_("Google refuses to give {what} ({reason})").format(
            what=what, reason=reason or status))
    return ConnectorError(_("Google answered {status} ({reason}) for {what}").format(
        status=status, reason=reason or "?", what=what))


def export_needs_link(error: Exception) -> bool:
    """files.export refuses documents over 10 MB (403 exportSizeLimitExceeded), answers 500 to
    some large PDF exports and 503 when a big spreadsheet times out; exportLinks still work."""
    status = getattr(error, "status_code", None)
    if status == 403:
        return "exportSizeLimitExceeded" in reasons_of(error)
    return status in (500, 503)


def is_abusive_file(error: Exception) -> bool:
    """alt=media refuses files Google flagged as malware or spam without acknowledgeAbuse."""
    return getattr(error, "status_code", None) == 403 and \
        "cannotDownloadAbusiveFile" in reasons_of(error)


def abuse_reason(item: Any, acknowledge: bool) -> str:
    """Why an abuse-flagged file is not copied, and what would copy it."""
    if acknowledge:
        return _("Google flagged this file as malware or spam; only its owner (or a shared "
                 "drive's manager) may download it anyway, and this account is neither")
    if item.meta.get("may_acknowledge_abuse"):
        return _("Google flagged this file as malware or spam; as its owner you may copy it "
                 "anyway with 'acknowledge_abuse: true' in the step's 'with:' (check it first)")
    return _("Google flagged this file as malware or spam; only its owner may download it")


def with_retries(call: Callable[[], T], what: str, connection: str | None) -> T:
    """Run one listing request, translated, retried by the one policy (migrate/retry.py)."""
    def attempt() -> T:
        try:
            return call()
        except Exception as error:  # translated: anything unknown is re-raised by translate
            raise translate(error, what, connection) from error

    return retry.DEFAULT.call(attempt)
