"""Mastodon's rate-limit buckets kept in the journal (`StepContext.state_store`, decision 0837):
what earlier runs and a fleet's other workers spent of the account's limits."""

from __future__ import annotations

from pathlib import Path

from connectors.mastodon.pacing import Buckets, merged, read_old_file
from migrate.journal.step_state import StepState

#: The step's state in the journal holding the rate-limit buckets (account -> buckets).
BUCKETS = "rate-limits"
#: Where versions before the journal-backed state kept them (read once, then removed).
OLD_LIMITS_FILE = "mastodon-rate-limits.json"


def read_buckets(buckets: Buckets, store: StepState | None, state_dir: Path | None,
                 account: str) -> None:
    """From the journal; an earlier version's state file is read once, into the journal."""
    if store is None:
        return
    old = state_dir / OLD_LIMITS_FILE if state_dir is not None else None
    if old is not None and old.exists() and store.writable:
        buckets.restore(read_old_file(old, account))
        share_buckets(buckets, store, account)
    else:
        buckets.restore((store.get(BUCKETS, {}) or {}).get(account))


def share_buckets(buckets: Buckets, store: StepState | None, account: str) -> None:
    """Merges this run's readings with the journal's in one transaction (another worker may be
    posting as this account), and keeps what the others spent too."""
    if store is None or not store.writable:
        return
    stored = store.update(BUCKETS, lambda old: merged(old, account, buckets), {})
    buckets.restore(stored.get(account))
