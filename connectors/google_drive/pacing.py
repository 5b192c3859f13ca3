"""Every request to Drive goes through one `Pacer`: quota answers are waited out here, never
turned into skipped files or an aborted listing.

Google's usage-limits guide: a per-minute per-user quota answers 403 `userRateLimitExceeded`
(or 429 `rateLimitExceeded`); today's front end says it with a `google.rpc.ErrorInfo` whose
reason is RATE_LIMIT_EXCEEDED and whose metadata carry `quota_limit_value`. The advice is
truncated exponential backoff with jitter: wait 1 s + random ms, 2 s + random ms, 4 s… up to a
maximum backoff (32 or 64 s), then keep retrying at that maximum for a while. rclone's drive
backend (`shouldRetry`, its pacer) does the same and then keeps a gap between calls.

So the pacer (1) retries a quota answer with that backoff, or the delay the answer gives
(`Retry-After`, `RetryInfo`), and (2) from the first quota answer on, spaces every request of
the connection by 60 s / `quota_limit_value` (or halves the pace when Google does not say the
limit), so the rest of the run stays under the quota instead of running into it again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from connectors.google_drive.errors import QuotaAnswer, quota_answer
from migrate.errors import TransientError
from migrate.i18n import _

T = TypeVar("T")

#: Google's guide: 1 s, 2 s, 4 s… (+ up to 1 s of jitter), never more than 64 s apart.
FIRST_BACKOFF, MAXIMUM_BACKOFF = 1.0, 64.0
#: How many quota answers in a row one request waits out (about 10 minutes at the maximum).
MAX_QUOTA_WAITS = 14
#: Without a stated limit, each quota answer widens the gap between requests this much, and
#: each answered request narrows it back by a quarter (rclone's pacer decays the same way),
#: so a burst of quota answers does not slow the rest of a long run for good.
SLOWER, FASTER = 2.0, 0.75


class Pacer:
    """Spacing and quota retries shared by every thread of one Drive connection."""

    def __init__(self, first_backoff: float = FIRST_BACKOFF,
                 maximum_backoff: float = MAXIMUM_BACKOFF) -> None:
        self.first_backoff, self.maximum_backoff = first_backoff, maximum_backoff
        self.interval = 0.0  # seconds between two requests; 0 until Google says "too fast"
        self.floor = 0.0  # the gap the stated quota needs; the interval never goes below it
        self.quota_answers = 0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        """Block until this request's slot (no wait at all until a quota answer came)."""
        with self._lock:
            if not self.interval:
                return
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)

    def learn(self, answer: QuotaAnswer) -> None:
        """Slow down to the quota Google stated, or to half the pace when it did not."""
        with self._lock:
            self.quota_answers += 1
            if answer.limit_per_minute:
                self.floor = max(self.floor, 60.0 / answer.limit_per_minute)
                wanted = self.floor
            else:
                wanted = max(self.interval * SLOWER, 0.05)
            self.interval = max(self.interval, wanted)

    def answered(self) -> None:
        """A request went through: ease the gap back towards what the quota needs."""
        if self.interval <= self.floor:
            return
        with self._lock:
            eased = self.interval * FASTER
            self.interval = eased if eased > max(self.floor, 0.01) else self.floor

    def backoff(self, attempt: int, answer: QuotaAnswer) -> float:
        """Seconds to wait before retry number `attempt` (1, 2, …)."""
        if answer.retry_after is not None:
            return answer.retry_after
        delay = min(self.first_backoff * 2 ** (attempt - 1), self.maximum_backoff)
        return delay + random.uniform(0, min(1.0, self.first_backoff))

    def call(self, request: Callable[[], T], what: str) -> T:
        """Run `request` in its turn, waiting out quota answers; other errors pass through."""
        attempt = 0
        while True:
            self.wait_turn()
            try:
                result = request()
            except Exception as error:
                answer = quota_answer(error)
                if answer is None:
                    raise
                attempt += 1
                if attempt > MAX_QUOTA_WAITS:
                    raise TransientError(_("Google still asks us to slow down for {what} after "
                                           "{n} waits; it will be tried again").format(
                                               what=what, n=MAX_QUOTA_WAITS)) from error
                self.learn(answer)
                time.sleep(self.backoff(attempt, answer))
                continue
            self.answered()
            return result
