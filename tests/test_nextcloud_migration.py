"""A local folder copied into the Nextcloud sandbox by the real `migrate` command, through the
faults a real server shows: each ends complete, or with a plain message and a clean resume —
never a lost or duplicated file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.nextcloud import NextcloudServer
from tests.helpers import make_tree, migrate

UPLOADS = "/remote.php/dav/uploads/"
FILES = "/remote.php/dav/files/"


def write_plan(folder: Path, server: NextcloudServer, extra: str = "",
               options: str = "") -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        "  here: {type: local, path: source}\n"
        f"  cloud: {{type: nextcloud, url: '{server.url}', user: alice, "
        f"password: '${{env:NC_PASSWORD}}'{options}}}\n"
        "steps:\n"
        "  - id: files\n"
        "    copy: {from: here, to: 'cloud:/Documents'}\n" + extra,
        encoding="utf-8",
    )
    return plan


def run(*args: object, server: NextcloudServer, password: str | None = None):
    env = {"NC_PASSWORD": password or server.describe()["password"]}
    return migrate(*args, env=env, timeout=240)


def on_server(server: NextcloudServer) -> dict[str, tuple[bytes, int]]:
    root = server.state.files_root("alice") / "Documents"
    return {p.relative_to(root).as_posix(): (p.read_bytes(), int(p.stat().st_mtime))
            for p in root.rglob("*") if p.is_file()}


def in_source(folder: Path) -> dict[str, tuple[bytes, int]]:
    root = folder / "source"
    return {p.relative_to(root).as_posix(): (p.read_bytes(), int(p.stat().st_mtime))
            for p in root.rglob("*") if p.is_file()}


def test_tree_copied_with_mtimes_then_nothing_to_do(nextcloud_server: NextcloudServer,
                                                    tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 60)
    plan = write_plan(tmp_path, nextcloud_server)
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert on_server(nextcloud_server) == in_source(tmp_path)
    again = run("plan", plan, "--detailed-exitcode", server=nextcloud_server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "60 unchanged" in again.stdout


def test_a_file_edited_on_nextcloud_is_a_conflict_not_overwritten(
        nextcloud_server: NextcloudServer, nextcloud_session, tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 5)
    plan = write_plan(tmp_path, nextcloud_server)
    assert run("apply", plan, "--yes", server=nextcloud_server).returncode == 0
    name = sorted(on_server(nextcloud_server))[0]
    url = f"{nextcloud_server.dav_url()}/Documents/{name}"
    nextcloud_session.put(url, data=b"edited on Nextcloud").raise_for_status()
    (tmp_path / "source" / name).write_bytes(b"edited at the source too")
    result = json.loads(run("plan", plan, "--json", server=nextcloud_server).stdout)
    assert result["summary"]["conflict"] == 1 and result["summary"]["unchanged"] == 4


@pytest.mark.parametrize("status", [429, 503, 423])
def test_busy_server_is_waited_for(nextcloud_server: NextcloudServer, tmp_path: Path,
                                   status: int) -> None:
    make_tree(tmp_path / "source", 12)
    plan = write_plan(tmp_path, nextcloud_server)
    nextcloud_server.inject(status, FILES, method="PUT", times=3, retry_after=1)
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not nextcloud_server.state.faults.list()  # all three fired
    assert on_server(nextcloud_server) == in_source(tmp_path)


def test_connection_reset_mid_chunk_is_resumed(nextcloud_server: NextcloudServer,
                                               tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "vidéo.bin").write_bytes(os.urandom(12 << 20))
    plan = write_plan(tmp_path, nextcloud_server,
                      options=", chunk_threshold_mb: 5, chunk_size_mb: 5")
    nextcloud_server.drop_connection(UPLOADS, after_bytes=2 << 20, times=2)
    applied = run("apply", plan, "--yes", server=nextcloud_server)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not nextcloud_server.state.faults.list()
    assert on_server(nextcloud_server) == in_source(tmp_path)
    assert not any(nextcloud_server.state.uploads_root("alice").iterdir())


def test_full_account_stops_with_figures_and_resumes(nextcloud_server: NextcloudServer,
                                                     tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 30, max_size=4000)
    plan = write_plan(tmp_path, nextcloud_server)
    nextcloud_server.set_quota("alice", 20_000)
    stopped = run("apply", plan, "--yes", "--jobs", "1", server=nextcloud_server)
    assert stopped.returncode != 0
    output = stopped.stdout + stopped.stderr
    assert "the Nextcloud account is full:" in output and "free" in output
    assert "Traceback" not in output
    nextcloud_server.set_quota("alice", None)
    resumed = run("apply", plan, "--yes", server=nextcloud_server)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert on_server(nextcloud_server) == in_source(tmp_path)


def test_revoked_app_password_says_how_to_make_a_new_one(nextcloud_server: NextcloudServer,
                                                         tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 5)
    plan = write_plan(tmp_path, nextcloud_server)
    old = nextcloud_server.describe()["password"]
    nextcloud_server.revoke_app_password("alice", old)
    refused = run("apply", plan, "--yes", server=nextcloud_server, password=old)
    assert refused.returncode != 0
    assert "Create a new app password" in refused.stdout + refused.stderr
    assert old not in refused.stdout + refused.stderr
    fresh = nextcloud_server.state.create_app_password("alice")
    resumed = run("apply", plan, "--yes", server=nextcloud_server, password=fresh)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert on_server(nextcloud_server) == in_source(tmp_path)


@pytest.mark.slow
def test_killed_during_a_chunked_upload_the_file_arrives_whole_once(
        nextcloud_server: NextcloudServer, tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    content = os.urandom(60 << 20)
    (tmp_path / "source" / "archives.zip").write_bytes(content)
    plan = write_plan(tmp_path, nextcloud_server,
                      options=", chunk_threshold_mb: 5, chunk_size_mb: 5")
    env = {**os.environ, "NC_PASSWORD": nextcloud_server.describe()["password"]}
    process = subprocess.Popen([sys.executable, "-m", "migrate", "apply", str(plan), "--yes"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uploads = nextcloud_server.state.uploads_root("alice")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        chunks = [p for p in uploads.rglob("*") if p.is_file()]
        if len(chunks) >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len([p for p in uploads.rglob("*") if p.is_file()]) >= 3
    assert not (nextcloud_server.state.files_root("alice") / "Documents/archives.zip").exists()
    resumed = run("apply", plan, "--yes", server=nextcloud_server)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    files = on_server(nextcloud_server)
    assert list(files) == ["archives.zip"]
    assert hashlib.sha256(files["archives.zip"][0]).digest() == hashlib.sha256(content).digest()
    assert not any(uploads.iterdir())


def test_busy_server_while_listing_is_waited_for(nextcloud_server: NextcloudServer,
                                                 tmp_path: Path) -> None:
    """The target's listing is retried by the one policy, as writes are (it used to stop the
    plan at the first 503)."""
    make_tree(tmp_path / "source", 3)
    plan = write_plan(tmp_path, nextcloud_server)
    nextcloud_server.inject(503, FILES, method="PROPFIND", times=1, retry_after=1)
    planned = run("plan", plan, "--json", server=nextcloud_server)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert not nextcloud_server.state.faults.list()  # it fired
    assert json.loads(planned.stdout)["summary"]["create"] == 3
