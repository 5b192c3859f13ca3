"""Mastodon.py behind one call site: pacing to the published limits, errors translated.

Mastodon.py's own "pace" mode is not used: it fails when the server gives no reset time, after
the last request of a window, and it knows one bucket only. Here every call goes through
`MastodonClient.call`, which files the `X-RateLimit-*` values of each answer under the bucket
they describe (requests, statuses, media: `mastodon_pacing.py`) and sleeps until a bucket's
window resets when only its reserve is left — so a long import runs at the limits without
meeting a 429. The target asks `wait_for` before a post and leaves the post for a later run
when the wait is longer than `max_wait`; a requests wait that long stops the step.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.mastodon.pacing import FAMILY_OF, REQUESTS, Buckets
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _

T = TypeVar("T")

#: 422 answers that mean "try again in a moment", not "this post is wrong" (media processing).
NOT_READY = ("processing", "processed")


class RateLimited(TransientError):
    """A 429: the bucket of `family` is spent (its answer's headers say until when)."""

    def __init__(self, message: str, retry_after: float | None, family: str) -> None:
        super().__init__(message, retry_after)
        self.family = family


class MastodonClient:
    def __init__(self, url: str, token: str, timeout: float, max_wait: float = 300.0,
                 periods: dict[str, float] | None = None) -> None:
        from mastodon import Mastodon

        self.url = url.rstrip("/")
        # A version given here stops Mastodon.py from probing `/api/v1/instance/` itself (with
        # a trailing slash some servers answer 404, then recursing on its version check, and
        # failing on versions such as `takahe/0.11.0`): see docs/decisions/0320.
        self.api = Mastodon(access_token=token, api_base_url=self.url, request_timeout=timeout,
                            ratelimit_method="throw", version_check_mode="none",
                            mastodon_version="4.0.0")
        self.timeout = timeout
        self.max_wait = max_wait
        self.buckets = Buckets()
        self.buckets.periods.update(periods or {})
        self.lock = threading.Lock()
        self.requests = 0
        self.rate_limited = 0
        self.waited = 0.0
        # Mastodon.py drops an error answer's headers: keep its Retry-After (a proxy in front
        # of the server says it with a 503; some servers with a 429) for the error we raise.
        self._answer = threading.local()
        self.api.session.hooks["response"].append(self._remember_retry_after)

    def _remember_retry_after(self, response: Any, *args: Any, **kwargs: Any) -> None:
        value = response.headers.get("Retry-After", "")
        self._answer.retry_after = float(value) if value.isdigit() else None

    def _retry_after(self) -> float | None:
        return getattr(self._answer, "retry_after", None)

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One API call, paced, with Mastodon.py's errors turned into ours."""
        from mastodon import errors

        name = getattr(method, "__name__", "")
        family = FAMILY_OF.get(name, REQUESTS)
        with self.lock:
            self._pace(REQUESTS)
            if family != REQUESTS:
                self._pace(family)
            self.requests += 1
            # Only values this answer brings are filed: None marks "no header".
            self.api.ratelimit_remaining = None
            self._answer.retry_after = None
        try:
            return method(*args, **kwargs)
        except errors.MastodonRatelimitError:
            self.rate_limited += 1
            raise RateLimited(_("Mastodon asks to slow down (too many requests)"),
                              retry_after=self._retry_after() or self._until_reset() or 30,
                              family=family) from None
        except errors.MastodonUnauthorizedError:
            raise self._unauthorised() from None
        except errors.MastodonNetworkError as error:
            raise TransientError(_("no answer from {url} ({reason})").format(
                url=self.url, reason=type(error).__name__)) from None
        except errors.MastodonAPIError as error:
            endpoint = (f"{args[0]} {args[1]}" if name == "direct"
                        else f"POST {args[0]}" if name == "media_post" and args
                        else ENDPOINTS.get(name, name))
            raise self._translate(error, endpoint) from None
        finally:
            remaining = self.api.ratelimit_remaining
            self.buckets.observe(family, self.api.ratelimit_limit, remaining,
                                 self.api.ratelimit_reset if remaining is not None else None)

    def call_if_found(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Like `call`, but None when the server answers 404 (e.g. an endpoint it lacks: older
        GoToSocial has no scheduled statuses)."""
        from mastodon import errors

        def guarded(*inner_args: Any, **inner_kwargs: Any) -> T | None:
            try:
                return method(*inner_args, **inner_kwargs)
            except errors.MastodonNotFoundError:
                return None

        guarded.__name__ = getattr(method, "__name__", "guarded")
        return self.call(guarded, *args, **kwargs)

    def wait_for(self, family: str, count: int = 1) -> float:
        """Seconds before `count` calls of `family` fit in its window (0: they fit now)."""
        return self.buckets.wait_for(family, count)

    def sleep_for(self, family: str, wait: float) -> None:
        """Wait for `family`'s window to reset (the caller checked `wait` is short enough)."""
        self.waited += wait
        time.sleep(wait)
        self.buckets.after_wait(family)

    def _pace(self, family: str) -> None:
        """Sleep until the bucket's window resets when only its reserve is left in it."""
        wait = self.buckets.wait_for(family)
        if wait <= 0:
            return
        if wait > self.max_wait:
            reset = dt.datetime.now() + dt.timedelta(seconds=wait)
            raise FatalError(_("Mastodon's limit of requests for this account is reached until "
                               "{time}; what is done is saved: run the same apply again after "
                               "that time to continue").format(time=reset.strftime("%H:%M")))
        self.sleep_for(family, wait)

    def _until_reset(self) -> float:
        reset = self.api.ratelimit_reset
        if not reset:
            return 0.0
        # Servers round the reset time down to the second: one more second is always safe.
        return max(0.0, float(reset) - time.time() + 1.0)

    def _unauthorised(self) -> FatalError:
        return FatalError(_(
            "{url} refused the access token (it was revoked or has expired). Create a new one: "
            "on your Mastodon account open Preferences → Development → New application, tick "
            "'read' and 'write', save, copy 'Your access token' and put it where the plan's "
            "token comes from (for example the MASTODON_TOKEN environment variable)").format(
                url=self.url))

    def _translate(self, error: Exception, endpoint: str) -> Exception:
        status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
        message = str(error.args[3]) if len(error.args) > 3 and error.args[3] else ""
        if status == 404 and endpoint.startswith("GET "):
            return EndpointMissing(_(
                "{url} answered HTTP 404 (not found) to {endpoint}: this server does not offer "
                "that part of Mastodon's API. Check that the connection's url is the server's "
                "own address (https://mastodon.example, nothing after it)").format(
                    url=self.url, endpoint=endpoint))
        if status == 403:
            return FatalError(_("{url} refuses this action with this access token (HTTP 403): "
                                "create a token with the 'read' and 'write' scopes").format(
                                    url=self.url))
        if status == 422 and any(word in message.lower() for word in NOT_READY):
            return TransientError(_("Mastodon is still processing a picture or video"),
                                  retry_after=2)
        if status in MEDIA_REFUSALS and endpoint.startswith("POST") and "/media" in endpoint:
            return MediaRefused(_("the server refused this attachment (HTTP {code}): "
                                  "{reason}").format(code=status, reason=message))
        if status == 422:
            return SkipItem(_("Mastodon refused this post: {reason}").format(reason=message))
        if status in (408, 423, 425) or status >= 500:
            return TransientError(_("{url} answered HTTP {code} to {endpoint}").format(
                url=self.url, code=status, endpoint=endpoint), retry_after=self._retry_after())
        return SkipItem(_("{url} answered HTTP {code} to {endpoint}: {reason}").format(
            url=self.url, code=status, endpoint=endpoint, reason=message))

    # -- endpoints called directly (Mastodon.py mis-serves them on some servers) -----------

    def instance(self) -> dict[str, Any]:
        """The instance document: `/api/v2/instance`, else `/api/v1/instance` (Mastodon 3.5,
        older Akkoma/Pleroma), both without the trailing slash Mastodon.py adds."""
        try:
            return dict(self.call(self.direct, "GET", "/api/v2/instance"))
        except EndpointMissing:
            pass  # Mastodon 3.5, older Akkoma/Pleroma: the older document says the same
        try:
            return dict(self.call(self.direct, "GET", "/api/v1/instance"))
        except EndpointMissing:
            raise FatalError(_(
                "{url} answered HTTP 404 (not found) to both GET /api/v2/instance and GET "
                "/api/v1/instance: no server speaking Mastodon's API (Mastodon, GoToSocial, "
                "Akkoma, Pleroma, Takahē) answers at this address. Check the connection's url: "
                "the server's own address, such as https://mastodon.example").format(
                    url=self.url)) from None

    def upload(self, data: bytes, mime: str, name: str, description: str | None) -> dict:
        """`POST /api/v2/media` (`/api/v1/media` where v2 is missing), paced as media."""
        files = {"file": (name, data, mime)}
        fields = {"description": description} if description else {}

        def media_post(path: str) -> dict:
            return self.direct("POST", path, files=files, data=fields)

        try:
            return dict(self.call(media_post, "/api/v2/media"))
        except _NotFoundPost:
            return dict(self.call(media_post, "/api/v1/media"))

    def direct(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request through Mastodon.py's session, raising Mastodon.py's errors and
        leaving its rate-limit attributes as its own calls do, so `call` treats it alike."""
        from mastodon import errors

        try:
            response = self.api.session.request(
                method, self.url + path, timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.api.access_token}"}, **kwargs)
        except Exception as error:  # requests' own errors: no answer
            raise errors.MastodonNetworkError(f"Could not complete request: {error}") from None
        self._note_rate_limit(response.headers)
        if response.ok:
            try:
                return response.json()
            except ValueError:
                raise errors.MastodonAPIError("Mastodon API returned error", response.status_code,
                                              response.reason, f"not JSON: {method} {path}"
                                              ) from None
        try:
            body = response.json()
            message = body.get("error") if isinstance(body, dict) else None
        except ValueError:
            message = None
        if response.status_code == 404 and method != "GET":
            raise _NotFoundPost("Mastodon API returned error", 404, response.reason, message)
        kind = {404: errors.MastodonNotFoundError, 401: errors.MastodonUnauthorizedError,
                429: errors.MastodonRatelimitError}.get(response.status_code,
                                                          errors.MastodonAPIError)
        if response.status_code >= 500:
            kind = errors.MastodonServerError
        raise kind("Mastodon API returned error", response.status_code, response.reason,
                   message or f"{method} {path}")

    def _note_rate_limit(self, headers: Any) -> None:
        if "X-RateLimit-Remaining" not in headers:
            return
        try:
            self.api.ratelimit_remaining = int(headers["X-RateLimit-Remaining"])
            self.api.ratelimit_limit = int(headers.get("X-RateLimit-Limit") or 0) or None
            reset = str(headers.get("X-RateLimit-Reset") or "")
            self.api.ratelimit_reset = (float(reset) if reset.isdigit() else
                                        dt.datetime.fromisoformat(reset.replace("Z", "+00:00"))
                                        .timestamp()) if reset else None
        except ValueError:
            self.api.ratelimit_remaining = None


#: What a server answers to an attachment it will not take: too large, of a type it refuses
#: (Mastodon's "File content type is invalid" is a 422).
MEDIA_REFUSALS = (413, 415, 422)


class MediaRefused(SkipItem):
    """The server refused one attachment: the post goes without it, with a link instead."""


class EndpointMissing(FatalError):
    """404 to a GET: the server has no such endpoint (or the url is not the server's)."""


class _NotFoundPost(Exception):
    """404 to a POST: the endpoint is missing (v2 media on older servers)."""


#: The endpoint each Mastodon.py method (or direct call) requests, to name it in messages.
ENDPOINTS = {
    "status_post": "POST /api/v1/statuses",
    "account_statuses": "GET /api/v1/accounts/:id/statuses",
    "account_verify_credentials": "GET /api/v1/accounts/verify_credentials",
    "scheduled_statuses": "GET /api/v1/scheduled_statuses",
    "media": "GET /api/v1/media/:id",
    "media_post": "POST /api/v2/media",
    "fetch_next": "GET (next page)",
}
