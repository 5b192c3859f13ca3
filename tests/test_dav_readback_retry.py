"""A read-back retried after a failed PROPFIND still reads every version it awaited.

Apache's PUT answer has no ETag, so the `webdav` target learns the versions it wrote by listing
their folders afterwards (`DavTarget.settle`, connectors/dav/readback.py), and the runner
retries a read-back that failed (a 503 from a front web server, a dropped connection). The
retry used to find nothing left to read: the paths were taken off the waiting list by the
failed attempt, so those files were journaled DONE with their size alone, and the next plan
called each of them "changed on the target since the last migration" (a conflict; a needless
re-upload under `overwrite: always`). Apache stands behind the sandbox's fault proxy here, as a
real NAS stands behind nginx, which answers the read-back's first PROPFIND with a 503.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from sandbox.fault_proxy import FaultProxy
from tests.test_webdav_apache import PASSWORD, USER, Apache, _plan, _run, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")

FOLDERS = ("a", "b")


def _source(root: Path) -> dict[str, bytes]:
    files = {f"{folder}/fiche-{index}.txt": f"{folder} {index}\n".encode() * (index + 1)
             for folder in FOLDERS for index in range(6)}
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return files


def _journaled(tmp_path: Path) -> dict[str, tuple[str, int, float | None, str | None]]:
    journal = next(tmp_path.rglob("plan.journal.sqlite"))
    with sqlite3.connect(journal) as db:
        return {row[0]: row[1:] for row in db.execute(
            "SELECT target_name, state, tgt_size, tgt_mtime, tgt_etag FROM items "
            "WHERE kind = 'file'")}


def _etags_on_server(server: Apache) -> dict[str, str]:
    """The ETag Apache gives each file now (a HEAD per file: what a fresh read would say)."""
    data = server.dir / "data" / "Archives"
    return {path.relative_to(data).as_posix(): requests.head(
                server.url + "Archives/" + path.relative_to(data).as_posix(),
                auth=(USER, PASSWORD), timeout=10).headers["ETag"]
            for path in data.rglob("*") if path.is_file()}


@pytest.mark.parametrize("fault", [{"status": 503, "retry_after": 1}, {"status": 502}],
                         ids=["503-retry-after", "502"])
def test_a_retried_read_back_journals_the_versions_it_reads(
        apache: Apache, tmp_path: Path, fault: dict) -> None:  # noqa: F811
    files = _source(tmp_path / "source")
    with FaultProxy(apache.url) as proxy:
        plan = _plan(tmp_path, SimpleNamespace(url=proxy.url), None)  # type: ignore[arg-type]
        # The first PROPFIND into "b" is the read-back's (the step's listing finds no
        # "Archives" yet): it fails once, after "a" may have been read in the same attempt.
        proxy.control.add_fault(method="PROPFIND", path="/dav/Archives/b", times=1, **fault)
        applied = _run("apply", plan, "--yes", "--jobs", "2")
        assert applied["counts"]["done"] == len(files)

        journaled = _journaled(tmp_path)
        etags = _etags_on_server(apache)
        assert set(journaled) == set(files)  # names under the step's folder
        lacking = sorted(name for name, (state, _size, _mtime, etag) in journaled.items()
                         if state != "done" or not etag)
        assert lacking == []  # each DONE row has the version read back, not its size alone
        assert {name: row[3].strip('"') for name, row in journaled.items()} == {
            path: etag.strip('"') for path, etag in etags.items()}
        assert all(row[1] == len(files[name])
                   and row[2] is not None for name, row in journaled.items())
        assert proxy.control.requests.get("PROPFIND /dav/Archives/b/", 0) >= 2  # it was retried

        # The next run compares against that version: nothing changed, nothing written.
        assert _run("plan", plan)["summary"]["unchanged"] == len(files)
        proxy.control.reset_counts()
        again = _run("apply", plan, "--yes")
        assert again["counts"].get("done", 0) == 0
        assert not [route for route in proxy.control.requests
                    if route.split()[0] in ("PUT", "MOVE", "MKCOL", "DELETE")]
