"""Posts left for later runs, whoever finds the bucket spent, and however the run is cut up.

Two cases `MastodonTarget._make_room` does not see coming: a 429 answer (another client of
the account spent the bucket since the last answer we read, or a server that sends no
`X-RateLimit-*` headers) and a run split into batches, each on a target of its own (a fleet
opens one per batch: decision 0902). A 429 whose window ends later than `max_wait` leaves the
post, and every later one, for a later run, as a spent bucket seen in advance does: waiting
out its Retry-After (up to 5 minutes by the retry policy) would post past what the run may.
The deferral itself is carried from batch to batch (`run_state`, `resume_run`), so the last
batch's note counts every post the run left, as one process's note does.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from connectors.mastodon.client import RateLimited
from connectors.mastodon.pacing import STATUSES, Deferral
from connectors.mastodon.text import compose
from migrate.errors import Deferred
from migrate.item_meta import post_of

if TYPE_CHECKING:
    from connectors.mastodon import MastodonTarget

W = TypeVar("W", bound=Callable[..., Any])


def deferring(write: W) -> W:
    """`write`, with a 429 on a window longer than `max_wait` turned into a deferral."""

    @functools.wraps(write)
    def wrapper(self: MastodonTarget, change: Any, *args: Any) -> Any:
        try:
            return write(self, change, *args)
        except RateLimited as error:
            # The server's Retry-After, else the reset its answer's headers say (client.py).
            wait = error.retry_after or self.client.wait_for(error.family, 1)
            if wait <= self.client.max_wait:
                raise  # a short window: retried after it, as any transient error
            post = post_of(change.item)
            media = sum(1 for m in post.media[: self.limits.max_media] if m.get("path"))
            if not self.deferral.is_active:
                self.deferral.start(error.family if error.family != "requests" else STATUSES,
                                    time.time() + wait)
            self.deferral.add(len(compose(post, self.options, self.limits)), media)
            raise Deferred(self.deferral.reason, self.deferral.until) from None
    return wrapper  # type: ignore[return-value]


class CarriedDeferral:
    """The deferral of a run, handed from one opening of the target to the next."""

    deferral: Deferral

    def run_state(self) -> dict[str, Any]:
        return {"deferral": vars(self.deferral)} if self.deferral.is_active else {}

    def resume_run(self, state: dict[str, Any]) -> None:
        saved = state.get("deferral")
        if isinstance(saved, dict):
            self.deferral = Deferral(**saved)
