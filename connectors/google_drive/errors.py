"""Drive answers translated into the core's error kinds, at the connector's edge.

Decisions are taken on the HTTP status and Google's `reason` (`error_details[0]["reason"]`),
never on message text. The client is built with `num_retries=0`, so every retry is visible: the
runner's (tenacity) for writes, `with_retries` here for listing requests.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from migrate.errors import ConnectorError, FatalError, SkipItem, TransientError
from migrate.i18n import _

T = TypeVar("T")

RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded"}
DAILY_LIMIT_REASONS = {"dailyLimitExceeded", "quotaExceeded"}
#: Per-file download quota: Drive lifts it after up to 24 hours; a later run picks the file up.
DOWNLOAD_QUOTA_SECONDS = 3600.0


def reason_of(error: Exception) -> str:
    """Google's `reason` for an HttpError ("" when the body carries none)."""
    details = getattr(error, "error_details", None)
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    try:  # error_details is filled only for some shapes; the body always has errors[0].reason
        body = json.loads(getattr(error, "content", b"") or b"{}")
        return str(body["error"]["errors"][0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "resp", None)
    value = response.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


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
        return FatalError(_("Google refused the credentials ({detail}); {hint}").format(
            detail=error.args[0] if error.args else "", hint=login_hint(connection)))
    if isinstance(error, http.client.IncompleteRead | http.client.HTTPException | TransportError
                  | socket.timeout | ConnectionError):
        return TransientError(_("the connection to Google dropped while reading {what}").format(
            what=what))
    if isinstance(error, OSError):
        return TransientError(_("network error while reading {what}: {reason}").format(
            what=what, reason=error.strerror or error))
    raise error


def _translate_http(error: Exception, what: str, connection: str | None) -> ConnectorError:
    status = int(getattr(error, "status_code", 0) or error.resp.status)  # type: ignore[attr-defined]
    reason = reason_of(error)
    if status == 401:
        return FatalError(_("Google no longer accepts our access (401); {hint}").format(
            hint=login_hint(connection)))
    if status == 429 or reason in RATE_LIMIT_REASONS:
        return TransientError(_("Google asks us to slow down ({reason})").format(
            reason=reason or status), retry_after=_retry_after(error))
    if reason in DAILY_LIMIT_REASONS:
        return FatalError(_("Google's daily limit for this account is reached; run apply again "
                            "tomorrow — nothing is lost"))
    if reason == "downloadQuotaExceeded":
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


def is_export_too_large(error: Exception) -> bool:
    """files.export refuses documents over 10 MB; their exportLinks still work."""
    return getattr(error, "status_code", None) == 403 and reason_of(error) == \
        "exportSizeLimitExceeded"


def with_retries(call: Callable[[], T], what: str, connection: str | None,
                 attempts: int = 5) -> T:
    """Run one listing request, retrying transient answers (honouring Retry-After).

    Listing happens before the runner starts, so its retries are ours, done the same way."""
    def attempt() -> T:
        try:
            return call()
        except Exception as error:  # translated: anything unknown is re-raised by translate
            raise translate(error, what, connection) from error

    def wait(state) -> float:  # type: ignore[no-untyped-def]
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            if retry_after > 300:
                raise error  # type: ignore[misc]
            return float(retry_after)
        return wait_exponential_jitter(initial=1, max=30)(state)

    retrying = Retrying(retry=retry_if_exception_type(TransientError),
                        stop=stop_after_attempt(attempts), wait=wait, reraise=True)
    return retrying(attempt)
