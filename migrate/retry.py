"""The one retry policy: every call to a service that may answer "not now" — a write, a group
of writes, a settle, a listing page — is retried by these rules, and Retry-After is read by
the one parser here.

The rules: retry `TransientError` only; wait what the server asked (`retry_after`, from its
Retry-After or its own words) when it asked, else exponential backoff with jitter; a wait
longer than `max_retry_after` is not waited for in-process — the error goes up, and a later
run picks the item up. Tenacity does the looping (design card: dlt does the same).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from migrate.errors import TransientError

if TYPE_CHECKING:
    from tenacity import RetryCallState, Retrying

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, and how long between them."""

    attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    #: A Retry-After longer than this is not waited for in-process; the item fails as transient
    #: and a later run picks it up.
    max_retry_after: float = 300.0

    def delay(self, error: BaseException | None, attempt: int) -> float:
        """How long to wait after failed attempt number `attempt`: what the server asked for,
        else exponential backoff with jitter. Raises `error` when the server asked for longer
        than `max_retry_after`."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                raise error  # type: ignore[misc]  # too long to wait here: let a later run do it
            return float(retry_after)
        import random  # on a failure only, as `email.utils` below: a re-run needs neither

        backoff = min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))
        return backoff + random.uniform(0, self.initial_wait)

    def retrying(self, attempts_made: int = 0,
                 sleep: Callable[[float], object] | None = None) -> Retrying:
        """Tenacity's loop for these rules; `attempts_made` are attempts already made (and
        failed) before it begins, counted in the limit and in the backoff. `sleep` waits
        between attempts (`time.sleep` unless given: a listing in a thread of its own waits
        on an event, so that it can be stopped meanwhile)."""
        # Imported on the first retry only: tenacity costs 0.04 s to import, a tenth of a
        # re-run that writes nothing.
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.delay(error, state.attempt_number + attempts_made)

        waits = {} if sleep is None else {"sleep": sleep}
        return Retrying(retry=retry_if_exception_type(TransientError),
                        stop=stop_after_attempt(max(1, self.attempts - attempts_made)),
                        wait=wait, reraise=True, **waits)

    def call(self, function: Callable[[], T],
             sleep: Callable[[float], object] | None = None) -> T:
        """`function()`, retried by these rules: for a read the runner does not make itself
        (a listing page: retried alone, the pages before it are kept)."""
        try:
            return function()  # the usual case, without loading tenacity
        except TransientError as error:
            if self.attempts <= 1:
                raise
            (sleep or time.sleep)(self.delay(error, 1))
        return self.retrying(attempts_made=1, sleep=sleep)(function)


#: The policy of calls made outside a run's own (listings, before the runner starts).
DEFAULT = RetryPolicy()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: a number of seconds or an HTTP date
    (RFC 9110 §10.2.3); None when absent or unreadable. A date in the past is 0."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    import email.utils  # a date here is rare; `email` costs a start 3-4 ms to import

    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
