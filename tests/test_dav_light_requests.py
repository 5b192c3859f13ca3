"""A WebDAV re-run that writes nothing never loads `requests` (decision 0484), nor
`http.client`, `ssl` or `email` (decision 0490), nor the runner that writes and its
`concurrent.futures` (decision 0491).

PROPFIND and OPTIONS go over lean keep-alive connections (connectors/dav/wire.py); the
`requests.Session` is made only when something is written. These tests run against Debian's
Apache mod_dav (the fixture of test_webdav_apache.py) and read Apache's own access log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.dav import listing
from connectors.dav.http import DavHttp
from connectors.dav.keepalive import KeepAliveUploads
from connectors.dav.listing import propfind
from tests.helpers import make_tree
from tests.test_webdav_apache import PASSWORD, USER, Apache, _plan, _run, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")


def test_a_rerun_lists_without_loading_requests_and_writes_nothing(
        apache: Apache, tmp_path: Path) -> None:  # noqa: F811
    files = make_tree(tmp_path / "source", 40)
    plan = _plan(tmp_path, apache, None)
    _run("apply", plan, "--yes")
    apache.requests_made()

    probe = ("import sys, runpy\n"
             f"sys.argv = ['migrate', 'apply', {str(plan)!r}, '--yes', '--json']\n"
             "try:\n    runpy.run_module('migrate', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('loaded:', sorted(m for m in sys.modules\n"
             "                        if m in ('requests', 'urllib3', 'yaml', 'http.client',\n"
             "                                 'ssl', 'email', 'encodings.idna',\n"
             "                                 'concurrent.futures', 'logging',\n"
             "                                 'migrate.runner.executor')))")
    # The first re-run keeps the plan's parse beside the journal (migrate/plan/parsecache.py):
    # the next ones do not load PyYAML either.
    for run, expected in ((1, "loaded: ['yaml']"), (2, "loaded: []")):
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                timeout=120, cwd=tmp_path,
                                env={**os.environ, "DAV_PASSWORD": PASSWORD})
        *report, loaded = result.stdout.strip().splitlines()
        assert loaded == expected, (run, result.stdout + result.stderr)
        assert json.loads("\n".join(report))["counts"]["unchanged"] == len(files)
        made = apache.requests_made()
        assert set(made) == {"PROPFIND"}, made  # the listing only: no write, no probe


def test_a_listing_left_half_read_does_not_spoil_the_next_request(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A streamed PROPFIND answer abandoned in the middle leaves unread bytes on its
    connection: the next request on that thread must not read them as its own answer."""
    # Answers this small are read whole before the first resource: here they are streamed
    # in small blocks, as a large tree's answer is.
    monkeypatch.setattr(listing, "WHOLE", 0)
    monkeypatch.setattr(listing, "BLOCK", 512)
    http = DavHttp(apache.url, USER, PASSWORD, 2, "")
    for index in range(30):
        http.session.put(http.url(f"file-{index:02}.txt"), data=b"x" * index,
                         timeout=10).raise_for_status()
    url = http.url("", folder=True)
    everything = sorted(r.path for r in propfind(http, url, "1", "/"))
    assert len(everything) == 31  # the folder and its files

    half_read = propfind(http, url, "1", "/")
    next(half_read)  # the answer's body is mostly unread; the generator is kept, not closed
    again = sorted(r.path for r in propfind(http, url, "1", "/"))
    options = http.request("OPTIONS", url, "/")
    del half_read  # closing it late must not close the connection now in use
    after = sorted(r.path for r in propfind(http, url, "1", "/"))
    http.close()
    assert again == everything == after
    assert "1" in options.headers.get("DAV", "")


def test_a_proxy_in_the_environment_sends_everything_through_requests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`requests` honours proxies and `http.client` does not: a proxy named for the server
    turns the keep-alive path off; one that the server bypasses (`no_proxy`) does not."""
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    assert KeepAliveUploads.is_usable("http://127.0.0.1:8080/dav/")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert not KeepAliveUploads.is_usable("http://nas.example/dav/")
    monkeypatch.setenv("NO_PROXY", "nas.example")
    assert KeepAliveUploads.is_usable("http://nas.example/dav/")
