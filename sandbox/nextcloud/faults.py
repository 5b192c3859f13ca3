"""Faults a test switches on to see how a client copes: 423, 429, 503, dropped uploads.

Each fault matches requests by URL path prefix (and optionally method) and fires a limited
number of times or until cleared. 401 and 507 are not faults here but state: revoke an app
password (`SandboxState.revoke_app_password`) or lower a quota (`SandboxState.set_quota`).
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

#: Statuses a fault may answer with; anything else would not look like Nextcloud.
STATUSES = {401, 423, 429, 500, 502, 503, 504, 507}
#: A "status" of 0 means: cut the connection once `after_bytes` of the body have been read.
DROP = 0
#: A "status" of -1: change the first byte of the body on its way in (a faulty proxy or disk);
#: the server stores it and answers as usual, since Nextcloud checks no checksum.
CORRUPT = -1


@dataclass
class Fault:
    """One armed fault. `times=None` fires until cleared."""

    status: int
    path: str = "/"
    method: str | None = None
    times: int | None = 1
    retry_after: int | None = None
    after_bytes: int = 0
    id: int = 0

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and path.startswith(self.path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultSet:
    """The armed faults of one server; safe to change while requests are being served."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        """Arm `fault` and return it with its id (for `remove`)."""
        if fault.status not in (DROP, CORRUPT) and fault.status not in STATUSES:
            raise ValueError(f"unsupported fault status {fault.status}")
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fault_id]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault matching this request and count it as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


class ConnectionDropped(Exception):
    """Raised inside a handler after the client's connection was cut on purpose."""


class DroppingInput:
    """A `wsgi.input` that cuts the TCP connection once `limit` bytes have been read.

    `cut` closes the socket under the client (RST-like), which is what a proxy timeout or a
    crashed PHP worker looks like to an uploader.
    """

    def __init__(self, stream: Any, limit: int, cut: Callable[[], None]) -> None:
        self._stream = stream
        self._left = limit
        self._cut = cut

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            self._cut()
            raise ConnectionDropped("connection dropped by fault injection")
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(want)
        self._left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size if size and size > 0 else 8192)


class CorruptingInput:
    """A `wsgi.input` whose first byte arrives changed."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._done = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data and not self._done:
            self._done = True
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size if size and size > 0 else 8192)


def cut_socket(sock: socket.socket | None) -> Callable[[], None]:
    """A callable that aborts `sock`: SO_LINGER 0 makes close() send a TCP reset."""

    def cut() -> None:
        if sock is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    return cut
