"""Per-host write limits shared by every plan running in this process.

When an agency applies several clients' plans side by side, two clients on the same Nextcloud
must not together exceed what that server tolerates. `HostLimits` keeps one semaphore per host
(the target's `Capabilities.host`, else the host of the target connection's `url` option); the
runner holds it around each write attempt, never while waiting to retry.

    limits = HostLimits()                       # one per `migrate apply a.yaml b.yaml`
    gate = limits.gate("cloud.example.org", 8)  # the same semaphore for every client there
    with gate:
        target.write(...)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


class HostLimits:
    """A process-wide registry of semaphores keyed by host. Thread-safe."""

    def __init__(self, per_host: int | None = None) -> None:
        #: An explicit cap for every host (`--per-host N`); otherwise each host's first target
        #: decides (its `max_jobs`, else its `default_jobs`).
        self.per_host = per_host
        self._gates: dict[str, threading.BoundedSemaphore] = {}
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    def gate(self, host: str, wanted: int) -> threading.BoundedSemaphore:
        """The semaphore for `host`, created with `per_host` or `wanted` slots the first time."""
        with self._lock:
            if host not in self._gates:
                size = max(1, self.per_host or wanted)
                self._gates[host] = threading.BoundedSemaphore(size)
                self._sizes[host] = size
            return self._gates[host]

    def sizes(self) -> dict[str, int]:
        """host -> slots, for messages and tests."""
        with self._lock:
            return dict(self._sizes)


def host_of(capability_host: str | None, options: Mapping[str, Any]) -> str | None:
    """The host a target writes to: what its capabilities say, else its connection's `url`.

    Targets without a network address (a local folder) have none and are not limited here."""
    if capability_host:
        return capability_host.lower()
    url = options.get("url")
    if isinstance(url, str) and "://" in url:
        parts = urlsplit(url)
        if parts.hostname:
            host = parts.hostname.lower()
            return f"{host}:{parts.port}" if parts.port else host
    return None
