"""Binary file contents: small ones held as bytes, big ones generated on demand.

A seeded drive can hold thousands of files and a few large ones without holding their bytes:
`GeneratedContent` derives every byte from a seed, so a range read or a checksum costs time
proportional to what is read, and nothing stays in memory between requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Size of the slices a response streams, so large downloads never sit whole in memory.
CHUNK_SIZE = 256 * 1024


@dataclass
class Content:
    """What every content kind offers: its size, checksums and range reads."""

    size: int = 0
    _md5: str | None = field(default=None, init=False, repr=False)
    _sha256: str | None = field(default=None, init=False, repr=False)

    def iter_range(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes from `start` to `end` (exclusive; None = to the end) in chunks."""
        raise NotImplementedError

    def read(self) -> bytes:
        """The whole content; only for small files and tests."""
        return b"".join(self.iter_range())

    @property
    def md5(self) -> str:
        """Hex MD5 of the content, computed once, as Drive reports `md5Checksum`."""
        if self._md5 is None:
            self._compute_checksums()
        assert self._md5 is not None
        return self._md5

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the content, as Drive reports `sha256Checksum`."""
        if self._sha256 is None:
            self._compute_checksums()
        assert self._sha256 is not None
        return self._sha256

    def _compute_checksums(self) -> None:
        md5, sha256 = hashlib.md5(), hashlib.sha256()
        for chunk in self.iter_range():
            md5.update(chunk)
            sha256.update(chunk)
        self._md5, self._sha256 = md5.hexdigest(), sha256.hexdigest()


@dataclass
class BytesContent(Content):
    """Content held in memory, for small files and files a test wrote byte by byte."""

    data: bytes = b""

    def __post_init__(self) -> None:
        self.size = len(self.data)

    def iter_range(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        stop = self.size if end is None else min(end, self.size)
        for offset in range(start, stop, CHUNK_SIZE):
            yield self.data[offset : min(offset + CHUNK_SIZE, stop)]


@dataclass
class GeneratedContent(Content):
    """Deterministic content of any size: a header naming the seed, then a repeated text block.

    Two seeds give different bytes (and checksums); the same seed always gives the same bytes.
    """

    seed: str = ""

    def _block(self, limit: int) -> bytes:
        # Built per read, never stored: 20,000 seeded files must not hold 64 KB each.
        header = f"Transhumance sample content {self.seed}\n".encode()
        line = f"Contenu de démonstration pour {self.seed} — ligne de remplissage.\n".encode()
        repeats = max(1, min(limit, 64 * 1024) // len(line) + 1)
        return header + line * repeats

    def iter_range(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        stop = self.size if end is None else min(end, self.size)
        block = self._block(stop)
        position = start
        while position < stop:
            inner = position % len(block)
            piece = block[inner : inner + min(CHUNK_SIZE, stop - position)]
            position += len(piece)
            yield piece
