"""Request bodies read straight from a source stream: bounded, hashed on the way, never whole
in memory. requests sends a file-like body with `len()` with a Content-Length, block by block."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from migrate.errors import TransientError
from migrate.i18n import _

BLOCK = 1 << 20


class Hasher:
    """SHA-256 of everything that passed, across several bodies (the chunks of one file)."""

    def __init__(self, enabled: bool = True) -> None:
        self.digest = hashlib.sha256() if enabled else None
        self.size = 0

    def update(self, data: bytes) -> None:
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)

    def checksum(self) -> str | None:
        """`sha256:…` as a `Fingerprint` holds it."""
        return None if self.digest is None else "sha256:" + self.digest.hexdigest()

    def header(self) -> str | None:
        """`SHA256:…` as Nextcloud's `OC-Checksum` wants it."""
        return None if self.digest is None else "SHA256:" + self.digest.hexdigest()


class BoundedBody:
    """Exactly `length` bytes of `stream` as a request body; a short stream means the source
    changed while being copied, which is worth another try."""

    def __init__(self, stream: BinaryIO, length: int, hasher: Hasher, what: str) -> None:
        self.stream, self.left, self.hasher, self.what = stream, length, hasher, what
        self.length = length

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        want = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(want)
        if not data:
            raise TransientError(_("{what} became shorter while it was being copied; it will "
                                   "be copied again").format(what=self.what))
        self.left -= len(data)
        self.hasher.update(data)
        return data


def skip(stream: BinaryIO, length: int, hasher: Hasher, what: str) -> None:
    """Read past `length` bytes already on the server, hashing them (the checksum covers all)."""
    body = BoundedBody(stream, length, hasher, what)
    while body.read(BLOCK):
        pass


def unbounded(stream: BinaryIO, hasher: Hasher, limit: int | None = None) -> Iterator[bytes]:
    """Blocks of a stream of unknown length (sent with chunked transfer encoding)."""
    left = limit
    while left is None or left > 0:
        data = stream.read(BLOCK if left is None else min(BLOCK, left))
        if not data:
            return
        hasher.update(data)
        if left is not None:
            left -= len(data)
        yield data


def is_exhausted(stream: BinaryIO) -> bool:
    """Whether a stream has nothing more (used once its announced size was sent)."""
    return not stream.read(1)
