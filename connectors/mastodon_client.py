"""Mastodon.py behind one call site: pacing to the published limits, errors translated.

Mastodon.py's own "pace" mode is not used: it fails when the server gives no reset time and
after the last request of a window. Here every call goes through `MastodonClient.call`, which
reads the `X-RateLimit-Remaining`/`-Reset` values Mastodon.py keeps, and sleeps until the
window resets when only a small reserve is left — so a long import runs at the limit without
meeting a 429. A wait longer than `max_wait` stops the step with the time to come back.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _

T = TypeVar("T")

#: Requests left unused in each window, for the association's other apps using the account.
RESERVE = 2
#: 422 answers that mean "try again in a moment", not "this post is wrong" (media processing).
NOT_READY = ("processing", "processed")


class MastodonClient:
    def __init__(self, url: str, token: str, timeout: float, max_wait: float = 300.0) -> None:
        from mastodon import Mastodon

        self.url = url.rstrip("/")
        self.api = Mastodon(access_token=token, api_base_url=self.url, request_timeout=timeout,
                            ratelimit_method="throw", version_check_mode="none")
        self.max_wait = max_wait
        self.lock = threading.Lock()
        self.requests = 0
        self.rate_limited = 0
        self.waited = 0.0

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One API call, paced, with Mastodon.py's errors turned into ours."""
        from mastodon import errors

        with self.lock:
            self._pace()
            self.requests += 1
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

    def _pace(self) -> None:
        """Sleep until the window resets when only the reserve is left in it."""
        remaining = self.api.ratelimit_remaining
        if remaining is None or remaining > RESERVE or self.api.ratelimit_lastcall is None:
            return
        wait = self._until_reset()
        if wait <= 0:
            return
        if wait > self.max_wait:
            reset = dt.datetime.now() + dt.timedelta(seconds=wait)
            raise FatalError(_("Mastodon's limit of requests for this account is reached until "
                               "{time}; what is done is saved: run the same apply again after "
                               "that time to continue").format(time=reset.strftime("%H:%M")))
        self.waited += wait
        time.sleep(wait)
        # The window is over: Mastodon.py's count is stale until the next answer.
        self.api.ratelimit_remaining = self.api.ratelimit_limit or 300

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
