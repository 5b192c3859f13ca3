"""`FolderReadback` (connectors/dav/readback.py): a folder is listed once for the files that
finished before the listing was asked for, and listed again for any file finished after it; a
read-back that fails leaves its files awaited for the runner's retry."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.dav.listing import Resource
from connectors.dav.readback import FolderReadback
from migrate.model import Fingerprint


def _resource(name: str, etag: str) -> Resource:
    return Resource(name, False, Fingerprint(size=1, etag=etag), None)


class Server:
    """Folder listings as a server would answer them now; counts the reads."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, str]] = {}
        self.reads: list[str] = []

    def put(self, readback: FolderReadback, folder: str, name: str, etag: str) -> None:
        readback.started(folder)
        self.files.setdefault(folder, {})[name] = etag
        readback.unsettled(f"{folder}/{name}")
        readback.ended(folder)

    def read(self, folder: str) -> dict[str, Resource]:
        self.reads.append(folder)
        return {name: _resource(name, etag) for name, etag in self.files[folder].items()}


def test_files_finished_before_a_listing_are_taken_from_it() -> None:
    readback, server = FolderReadback(), Server()
    for index in range(4):
        server.put(readback, "a", f"f{index}", f"v{index}")
    first = readback.versions(readback.awaited(["a/f0", "a/f1"]), server.read)
    second = readback.versions(readback.awaited(["a/f2", "a/f3"]), server.read)
    assert server.reads == ["a"]
    assert {path: r.fingerprint.etag for path, r in {**first, **second}.items()} == {
        "a/f0": "v0", "a/f1": "v1", "a/f2": "v2", "a/f3": "v3"}


def test_a_file_finished_after_the_listing_makes_a_new_read() -> None:
    readback, server = FolderReadback(), Server()
    server.put(readback, "a", "f0", "v0")
    readback.versions(readback.awaited(["a/f0"]), server.read)
    server.put(readback, "a", "f1", "v1")
    server.files["a"]["f0"] = "edited later"  # never taken for f0 again: it was settled
    found = readback.versions(readback.awaited(["a/f1", "a/f0"]), server.read)
    assert server.reads == ["a", "a"]
    assert {path: r.fingerprint.etag for path, r in found.items()} == {"a/f1": "v1"}


def test_a_read_waits_for_uploads_in_flight_into_its_folder() -> None:
    readback, server = FolderReadback(), Server()
    server.put(readback, "a", "f0", "v0")
    readback.started("a")  # a second upload into "a" is under way

    def finish() -> None:
        time.sleep(0.1)
        server.files["a"]["f1"] = "v1"
        readback.unsettled("a/f1")
        readback.ended("a")

    threading.Thread(target=finish).start()
    readback.versions(readback.awaited(["a/f0"]), server.read)
    found = readback.versions(readback.awaited(["a/f1"]), server.read)
    assert server.reads == ["a"] and found["a/f1"].fingerprint.etag == "v1"


def test_a_read_back_that_fails_leaves_its_files_awaited_for_the_retry() -> None:
    readback, server = FolderReadback(), Server()
    for folder in ("a", "b"):
        for index in range(2):
            server.put(readback, folder, f"f{index}", f"{folder}{index}")
    paths = ["a/f0", "a/f1", "b/f0", "b/f1"]

    def failing(folder: str) -> dict[str, Resource]:
        if folder == "b":
            raise ConnectionError("the server dropped the connection")
        return server.read(folder)

    with pytest.raises(ConnectionError):
        readback.versions(readback.awaited(paths), failing)
    # The retry still awaits all four, takes "a" from the listing read before the failure
    # (its files finished before it was asked for) and reads "b" alone.
    found = readback.versions(readback.awaited(paths), server.read)
    assert server.reads == ["a", "b"]
    assert {path: r.fingerprint.etag for path, r in found.items()} == {
        "a/f0": "a0", "a/f1": "a1", "b/f0": "b0", "b/f1": "b1"}
    assert readback.awaited(paths) == {}  # settled now: not read again
