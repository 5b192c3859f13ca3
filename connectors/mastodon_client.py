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

from connectors.mastodon_pacing import FAMILY_OF, REQUESTS, Buckets
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _

T = TypeVar("T")

#: 422 answers that mean "try again in a moment", not "this post is wrong" (media processing).
NOT_READY = ("processing", "processed")


class MastodonClient:
    def __init__(self, url: str, token: str, timeout: float, max_wait: float = 300.0,
                 periods: dict[str, float] | None = None) -> None:
        from mastodon import Mastodon

        self.url = url.rstrip("/")
        self.api = Mastodon(access_token=token, api_base_url=self.url, request_timeout=timeout,
                            ratelimit_method="throw", version_check_mode="none")
        self.max_wait = max_wait
        self.buckets = Buckets()
        self.buckets.periods.update(periods or {})
        self.lock = threading.Lock()
        self.requests = 0
        self.rate_limited = 0
        self.waited = 0.0

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One API call, paced, with Mastodon.py's errors turned into ours."""
        from mastodon import errors

        family = FAMILY_OF.get(getattr(method, "__name__", ""), REQUESTS)
        with self.lock:
            self._pace(REQUESTS)
            if family != REQUESTS:
                self._pace(family)
            self.requests += 1
            # Only values this answer brings are filed: None marks "no header".
            self.api.ratelimit_remaining = None
        try:
            return method(*args, **kwargs)
        except errors.MastodonRatelimitError:
            self.rate_limited += 1
            raise TransientError(_("Mastodon asks to slow down (too many requests)"),
                                 retry_after=self._until_reset() or 30) from None
        except errors.MastodonUnauthorizedError:
            raise self._unauthorised() from None
        except errors.MastodonNetworkError as error:
            raise TransientError(_("no answer from {url} ({reason})").format(
                url=self.url, reason=type(error).__name__)) from None
        except errors.MastodonAPIError as error:
            raise self._translate(error) from None
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

    def _translate(self, error: Exception) -> Exception:
        status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
        message = str(error.args[3]) if len(error.args) > 3 and error.args[3] else ""
        if status == 403:
            return FatalError(_("{url} refuses this action with this access token (HTTP 403): "
                                "create a token with the 'read' and 'write' scopes").format(
                                    url=self.url))
        if status == 422 and any(word in message.lower() for word in NOT_READY):
            return TransientError(_("Mastodon is still processing a picture or video"),
                                  retry_after=2)
        if status == 422:
            return SkipItem(_("Mastodon refused this post: {reason}").format(reason=message))
        if status in (408, 423, 425) or status >= 500:
            return TransientError(_("{url} answered HTTP {code}").format(url=self.url,
                                                                       code=status))
        return SkipItem(_("{url} answered HTTP {code}: {reason}").format(
            url=self.url, code=status, reason=message))
