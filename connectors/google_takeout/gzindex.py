"""Random access into a gzip file, read once: the reading pass leaves checkpoints behind.

A `.tgz` part is one gzip stream; gzip cannot seek. Reading member N from the start for every
file costs the whole archive per file (200 files of 20 MB took 9 s, a 50 GB part never ends).
Instead every reader of this file shares two things (the technique of zlib's `zran.c`):

- checkpoints: every `span` bytes of output, a copy of the decompressor's state (about 40 KB:
  the 32 KB window and the inflate state) with the input and output positions, so a reader can
  start near any offset instead of at byte 0;
- idle cursors: a reader that stops at offset X is kept, so the next read at X or a little
  after it continues where the last one stopped. Reads in archive order are one pass in all.

Thread-safe: each cursor has its own file handle; the lock guards only the shared lists.
"""

from __future__ import annotations

import bisect
import io
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 256 * 1024  # compressed bytes read at a time
MAX_OUT = 1 << 20  # decompressed bytes produced at a time (bounds memory on 1000:1 data)
GZIP = 31  # zlib wbits: gzip header and trailer
#: At most this many checkpoints per file (each ~40 KB of memory), and never closer than this.
MAX_CHECKPOINTS = 512
MIN_SPAN = 16 * 1024 * 1024
#: Idle cursors kept per file: enough for a few writers reading in near archive order.
MAX_IDLE = 8
#: The last bytes a cursor skipped over are kept this long: writers that ask for neighbouring
#: files in a slightly different order than the archive's find them there instead of
#: restarting from a checkpoint.
BEHIND = 16 * 1024 * 1024


@dataclass
class _Checkpoint:
    out_pos: int
    in_pos: int
    state: zlib._Decompress  # type: ignore[name-defined]
    pending: bytes  # compressed bytes already read but not yet fed (a new gzip member)
    fed: bool


@dataclass
class Counters:
    """What reading cost, for benchmarks: bytes inflated and restarts from a checkpoint."""

    inflated: int = 0
    seeks: int = 0
    starts_from_zero: int = 0


@dataclass
class _Cursor:
    file: BinaryIO
    state: zlib._Decompress  # type: ignore[name-defined]
    in_pos: int = 0
    out_pos: int = 0
    pending: bytes = b""
    buffer: bytes = b""  # decompressed, not yet handed out (starts at out_pos)
    eof: bool = False
    fed: bool = False  # the current gzip member has started (its end is still to come)


class GzipRandomAccess:
    """Read any range of the decompressed stream of one gzip file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        size = path.stat().st_size
        self.span = max(MIN_SPAN, size // MAX_CHECKPOINTS)
        self._checkpoints: list[_Checkpoint] = []
        self._idle: list[_Cursor] = []
        self._lock = threading.Lock()
        self._behind: list[tuple[int, bytes]] = []  # (offset, bytes) skipped lately
        self.counters = Counters()

    def open_range(self, offset: int, size: int) -> RangeReader | io.BytesIO:
        """A stream of `size` bytes from `offset` of the decompressed data."""
        kept = self._kept(offset, size)
        if kept is not None:
            return io.BytesIO(kept)
        return RangeReader(self, self._cursor_at(offset), size)

    def _kept(self, offset: int, size: int) -> bytes | None:
        with self._lock:
            for start, data in self._behind:
                if start <= offset and offset + size <= start + len(data):
                    return data[offset - start:offset - start + size]
        return None

    def stream(self) -> RangeReader:
        """The whole decompressed stream from its start (for one listing pass)."""
        return RangeReader(self, self._cursor_at(0), None)

    def close(self) -> None:
        with self._lock:
            for cursor in self._idle:
                cursor.file.close()
            self._idle.clear()

    # -- cursors

    def _cursor_at(self, offset: int) -> _Cursor:
        with self._lock:
            best = None
            for cursor in self._idle:
                if cursor.out_pos <= offset and offset - cursor.out_pos < self.span and (
                        best is None or cursor.out_pos > best.out_pos):
                    best = cursor
            if best is not None:
                self._idle.remove(best)
            else:
                best = self._from_checkpoint(offset)
        self._skip(best, offset - best.out_pos)
        return best

    def _from_checkpoint(self, offset: int) -> _Cursor:
        index = bisect.bisect_right([c.out_pos for c in self._checkpoints], offset) - 1
        file = open(self.path, "rb")  # noqa: SIM115 - owned by the cursor, closed with it
        if index < 0:
            self.counters.starts_from_zero += 1
            return _Cursor(file, zlib.decompressobj(GZIP))
        self.counters.seeks += 1
        point = self._checkpoints[index]
        file.seek(point.in_pos)
        return _Cursor(file, point.state.copy(), point.in_pos, point.out_pos, point.pending,
                       fed=point.fed)

    def release(self, cursor: _Cursor) -> None:
        with self._lock:
            self._idle.append(cursor)
            if len(self._idle) > MAX_IDLE:
                self._idle.pop(0).file.close()

    # -- decompression

    def _skip(self, cursor: _Cursor, count: int) -> None:
        target, kept, total = cursor.out_pos + count, [], 0
        while cursor.out_pos < target:
            data = self._read(cursor, min(target - cursor.out_pos, MAX_OUT))
            if not data:
                raise EOFError(f"{self.path} ends before offset {target}")
            kept.append(data)
            total += len(data)
            while total - len(kept[0]) >= BEHIND:
                total -= len(kept.pop(0))
        if kept:
            joined = b"".join(kept)[-BEHIND:]
            with self._lock:
                self._behind.append((target - len(joined), joined))
                while sum(len(data) for _start, data in self._behind) > BEHIND:
                    self._behind.pop(0)

    def _read(self, cursor: _Cursor, limit: int) -> bytes:
        """Up to `limit` decompressed bytes at the cursor (b"" at the end)."""
        while not cursor.buffer and not cursor.eof:
            self._inflate(cursor)
        data, cursor.buffer = cursor.buffer[:limit], cursor.buffer[limit:]
        cursor.out_pos += len(data)
        return data

    def _inflate(self, cursor: _Cursor) -> None:
        state = cursor.state
        if state.unconsumed_tail:
            data = state.unconsumed_tail
        elif cursor.pending:
            data, cursor.pending = cursor.pending, b""
        else:
            data = cursor.file.read(CHUNK)
            cursor.in_pos += len(data)
            if not data:
                if cursor.fed or cursor.in_pos == 0:
                    # A gzip stream that stops without its trailer: the part is incomplete.
                    raise EOFError(f"{self.path} is truncated")
                cursor.eof = True
                return
        produced_from = cursor.out_pos + len(cursor.buffer)
        out = state.decompress(data, MAX_OUT)
        cursor.fed = True
        if state.eof:
            # Concatenated gzip members form one stream (gzip(1) reads them so).
            cursor.pending = state.unused_data + cursor.pending
            cursor.state, cursor.fed = zlib.decompressobj(GZIP), False
        cursor.buffer += out
        self.counters.inflated += len(out)
        self._maybe_checkpoint(cursor, produced_from + len(out))

    def _maybe_checkpoint(self, cursor: _Cursor, out_end: int) -> None:
        if cursor.state.unconsumed_tail:
            return  # the state is mid-input: not a point one can resume from with a seek
        with self._lock:
            # One checkpoint per span at most, wherever the cursor is (a read out of order
            # fills the gaps it goes through); none within the first span (byte 0 is one).
            positions = [c.out_pos for c in self._checkpoints]
            index = bisect.bisect_left(positions, out_end)
            before = positions[index - 1] if index > 0 else 0
            if out_end - before < self.span or (
                    index < len(positions) and positions[index] - out_end < self.span):
                return
            self._checkpoints.insert(index, _Checkpoint(out_end, cursor.in_pos,
                                                        cursor.state.copy(), cursor.pending,
                                                        cursor.fed))


class RangeReader(io.RawIOBase):
    """A read-only stream over part of the decompressed data; closing keeps its cursor."""

    def __init__(self, owner: GzipRandomAccess, cursor: _Cursor, size: int | None) -> None:
        self._owner, self._cursor, self._left = owner, cursor, size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._cursor is None:
            raise ValueError("read from a closed stream")
        wanted = None if size is None or size < 0 else size
        if self._left is not None:
            wanted = self._left if wanted is None else min(wanted, self._left)
        chunks = []
        while wanted is None or wanted > 0:
            data = self._owner._read(self._cursor, MAX_OUT if wanted is None else wanted)
            if not data:
                break
            chunks.append(data)
            if wanted is not None:
                wanted -= len(data)
        data = b"".join(chunks)
        if self._left is not None:
            self._left -= len(data)
            if wanted and not data:
                raise EOFError(f"{self._owner.path} ends inside a file")
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._cursor is not None:
            self._owner.release(self._cursor)
            self._cursor = None
        super().close()
