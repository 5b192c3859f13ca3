"""Damaged and hostile zip archives, made byte by byte: what issue 14's triggers look like."""

from __future__ import annotations

import io
import struct
import zipfile

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"


def zip_of(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _patch_headers(data: bytes, local_offset: int, central_offset: int, value: bytes) -> bytes:
    """Overwrite the same field in every local and central header (all entries)."""
    out = bytearray(data)
    for signature, offset in ((LOCAL, local_offset), (CENTRAL, central_offset)):
        start = 0
        while (found := out.find(signature, start)) >= 0:
            out[found + offset: found + offset + len(value)] = value
            start = found + 4
    return bytes(out)


def with_compression_method(data: bytes, method: int) -> bytes:
    """Every entry claims compression `method` (93 = Zstandard, unknown to Python 3.11)."""
    return _patch_headers(data, 8, 10, struct.pack("<H", method))


def encrypted(data: bytes) -> bytes:
    """Every entry flagged as encrypted (general purpose bit 0)."""
    return _patch_headers(data, 6, 8, struct.pack("<H", 0x0001))


def with_name_bytes(data: bytes, old: bytes, new: bytes) -> bytes:
    """Entry names rewritten byte for byte (same length), flagged as UTF-8 (bit 11)."""
    assert len(old) == len(new)
    return _patch_headers(data, 6, 8, struct.pack("<H", 0x0800)).replace(old, new)


def flipped_bit(data: bytes, entry_index: int = 0) -> bytes:
    """One bit flipped in the middle of one entry's compressed data."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.infolist()[entry_index]
    local = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[local + 26: local + 30])
    start = local + 30 + name_length + extra_length
    middle = start + max(info.compress_size // 2, 0)
    out = bytearray(data)
    out[middle] ^= 0x10
    return bytes(out)


def bomb(name: str, size: int = 64 << 20, prefix: bytes = b"") -> bytes:
    """One entry of `size` bytes that deflates a thousand times or more."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as entry:
        entry.write(prefix)
        block = b"\0" * (1 << 20)
        for _ in range(size // len(block)):
            entry.write(block)
    return buffer.getvalue()
