"""The `webdav` target against Apache httpd's mod_dav, a server whose PUT answer carries no ETag.

There the target cannot learn the version it wrote from the upload itself; it reads the versions
back in bulk (`Target.settle`: one PROPFIND per folder, not one per file). These tests prove,
by counting the requests in Apache's own access log, that no file costs more than its PUT, and
that the versions journaled are real ones: a file edited on the server afterwards is a conflict,
the others stay unchanged. Skipped where Debian's apache2 is not installed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from connectors.dav.listing import PLAIN_BODY, PROPFIND_BODY, QUOTA_BODY
from tests.helpers import make_tree, migrate, migrate_popen

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
USER, PASSWORD = "asso", "mot-de-passe-essai"
CONFIG = """ServerRoot "{dir}"
Listen 127.0.0.1:{port}
PidFile "{dir}/httpd.pid"
ErrorLog "{dir}/error.log"
LogFormat "%m %>s %{{Content-Length}}i %U" counting
CustomLog "{dir}/access.log" counting
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authn_file_module {m}/mod_authn_file.so
LoadModule auth_basic_module {m}/mod_auth_basic.so
LoadModule dav_module {m}/mod_dav.so
LoadModule dav_fs_module {m}/mod_dav_fs.so
LoadModule alias_module {m}/mod_alias.so
{user}
ServerName localhost
DavLockDB "{dir}/lock/DavLock"
KeepAliveTimeout 30
Alias /dav "{dir}/data"
<Directory "{dir}/data">
  Dav On
  AuthType Basic
  AuthName dav
  AuthUserFile "{dir}/htpasswd"
  Require valid-user
</Directory>
"""

pytestmark = pytest.mark.skipif(not Path(APACHE).exists() or not MODULES.is_dir(),
                                reason="Debian's apache2 is not installed")


@dataclass
class Apache:
    dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dav/"

    def statuses(self) -> Counter[tuple[str, str]]:
        """(method, status) -> count, from the access log, since the last call."""
        log = self.dir / "access.log"
        counts = Counter(tuple(line.split()[:2]) for line in log.read_text().splitlines()
                         if line)
        log.write_text("")
        return counts  # type: ignore[return-value]

    def body_lengths(self, method: str) -> Counter[int]:
        """Length of the request body -> count, for `method`, since the last call."""
        log = self.dir / "access.log"
        counts = Counter(int(line.split()[2]) for line in log.read_text().splitlines()
                         if line.split()[:1] == [method])
        log.write_text("")
        return counts

    def requests_made(self) -> Counter[str]:
        """Method -> count, from the access log, since the last call."""
        log = self.dir / "access.log"
        counts = Counter(line.split()[0] for line in log.read_text().splitlines() if line)
        log.write_text("")
        return counts


@pytest.fixture
def apache() -> Iterator[Apache]:
    # Not under pytest's tmp_path: its parents are private (0700), and Apache runs as www-data.
    folder = Path(tempfile.mkdtemp(prefix="apache-dav-"))
    (folder / "data").mkdir(parents=True)
    (folder / "lock").mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    digest = subprocess.run(["openssl", "passwd", "-apr1", PASSWORD], capture_output=True,
                            text=True, check=True).stdout.strip()
    (folder / "htpasswd").write_text(f"{USER}:{digest}\n")
    is_root = os.geteuid() == 0
    if is_root:  # Apache drops to www-data, which must write the data and traverse the rest
        folder.chmod(0o755)
        subprocess.run(["chown", "-R", "www-data:www-data", folder / "data", folder / "lock"],
                       check=True)
    (folder / "httpd.conf").write_text(CONFIG.format(
        dir=folder, port=port, m=MODULES,
        user="User www-data\nGroup www-data" if is_root else ""))
    (folder / "access.log").write_text("")
    subprocess.run([APACHE, "-f", folder / "httpd.conf", "-k", "start"], check=True)
    server = Apache(folder, port)
    try:
        for _attempt in range(50):
            try:
                requests.request("PROPFIND", server.url, auth=(USER, PASSWORD), timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        server.requests_made()
        yield server
    finally:
        subprocess.run([APACHE, "-f", folder / "httpd.conf", "-k", "stop"], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _plan(folder: Path, server: Apache, temporary_names: bool | None) -> Path:
    plan = folder / "plan.yaml"
    option = "" if temporary_names is None else f", temporary_names: {str(temporary_names).lower()}"
    plan.write_text(
        "version: 1\norganisation: Association des Essais\nconnections:\n"
        "  here: {type: local, path: source}\n"
        f"  nas: {{type: webdav, url: '{server.url}', user: {USER}, "
        f"password: '${{env:DAV_PASSWORD}}'{option}}}\n"
        "steps:\n  - id: files\n    copy: {from: here, to: 'nas:/Archives'}\n",
        encoding="utf-8")
    return plan


def _run(*args: object) -> dict:
    result = migrate(*args, "--json", env={"DAV_PASSWORD": PASSWORD}, timeout=240)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("temporary_names", [None, False, True],
                         ids=["default", "no-temporary-names", "temporary-names"])
def test_one_put_per_file_and_edits_on_the_server_are_conflicts(
        apache: Apache, tmp_path: Path, temporary_names: bool | None) -> None:
    files = make_tree(tmp_path / "source", 80)
    folders = {path.rpartition("/")[0] for path in files}
    plan = _plan(tmp_path, apache, temporary_names)
    _run("apply", plan, "--yes", "--jobs", "4")

    made = apache.requests_made()
    data = apache.dir / "data" / "Archives"
    assert {p.relative_to(data).as_posix(): p.read_bytes()
            for p in data.rglob("*") if p.is_file()} == files
    assert made["PUT"] == len(files)
    # By default the server is asked once (OPTIONS): mod_dav_fs writes every PUT to a
    # temporary file of its own and renames it, so ours would only add a MOVE per file.
    assert made["MOVE"] == (len(files) if temporary_names else 0)
    assert made["OPTIONS"] == (1 if temporary_names is None else 0)
    # The step's listing, then the read-back: about one PROPFIND per folder (a folder is read
    # again only when one of its uploads outlasts the read-back's short wait), never per file.
    assert made["PROPFIND"] <= 1 + 2 * len(folders) < len(files)

    edited = sorted(files)[1]
    requests.put(apache.url + "Archives/" + edited, data=b"changed on the NAS",
                 auth=(USER, PASSWORD), timeout=10).raise_for_status()
    summary = _run("plan", plan)["summary"]
    assert summary["conflict"] == 1 and summary["unchanged"] == len(files) - 1


def test_a_rerun_does_not_ask_again_for_what_the_server_refused(
        apache: Apache, tmp_path: Path) -> None:
    """Apache refuses `PROPFIND Depth: infinity` (403): asked once, remembered beside the
    journal, so a re-run lists folder by folder straight away and probes nothing."""
    make_tree(tmp_path / "source", 30)
    plan = _plan(tmp_path, apache, None)
    _run("apply", plan, "--yes")
    assert apache.statuses()[("OPTIONS", "200")] == 1
    _run("plan", plan)
    assert apache.statuses()[("PROPFIND", "403")] == 1  # the tree exists now: refused once

    summary = _run("plan", plan)["summary"]
    again = apache.statuses()
    assert summary["unchanged"] == 30
    assert again[("PROPFIND", "403")] == 0 and again[("OPTIONS", "200")] == 0
    assert sum(again.values()) == again[("PROPFIND", "207")]  # the listing, nothing else


def test_a_rerun_asks_apache_only_for_the_properties_it_has(
        apache: Apache, tmp_path: Path) -> None:
    """Apache has none of ownCloud's properties (file ids, checksums), and answers each with a
    `404` block per file after a look-up per file: the first whole listing finds none, which
    is remembered beside the journal, and the next ones ask only for the `DAV:` properties.
    A file edited or removed on the server is found as before."""
    files = make_tree(tmp_path / "source", 30)
    plan = _plan(tmp_path, apache, None)
    _run("apply", plan, "--yes")
    apache.requests_made()
    assert _run("plan", plan)["summary"]["unchanged"] == 30
    # The listing's; the account's quota is read too (its line may be logged late).
    assert set(apache.body_lengths("PROPFIND")) - {len(QUOTA_BODY)} == {len(PROPFIND_BODY)}
    remembered = json.loads(next(tmp_path.rglob("dav-servers.json")).read_text())
    assert [p["owncloud_props"] for p in remembered.values()] == [False]

    edited, removed = sorted(files)[:2]
    requests.put(apache.url + "Archives/" + edited, data=b"changed on the NAS",
                 auth=(USER, PASSWORD), timeout=10).raise_for_status()
    (apache.dir / "data" / "Archives" / removed).unlink()
    apache.requests_made()
    summary = _run("plan", plan)["summary"]
    assert set(apache.body_lengths("PROPFIND")) - {len(QUOTA_BODY)} == {len(PLAIN_BODY)}
    assert (summary["conflict"], summary["create"], summary["unchanged"]) == (1, 1, 28)


@pytest.mark.slow  # a kill trial: `pytest -m slow`, which .ci/run runs after the rest
@pytest.mark.parametrize(("seed", "count", "sizes", "folders", "thresholds"), [
    # Streamed, not one send.
    (16, 40, (300_000, 3_000_000), 4, (5, 15, 28)),
    # Small: in memory, leaving in one send with their headers, answers read without
    # http.client's own parser (decision 0498).
    (498, 400, (1024, 64 * 1024), 8, (40, 150, 300)),
], ids=["streamed", "small"])
def test_a_kill_during_uploads_never_leaves_a_partial_file_under_its_name(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
        count: int, sizes: tuple[int, int], folders: int, thresholds: tuple[int, ...]) -> None:
    """With the default (no temporary name of ours on Apache), a SIGKILL in the middle of
    uploads leaves every file present under its final name whole — Apache's own temporary
    file gives that — and the next run completes the copy, sending only what was missing and
    leaving no temporary file of Apache's or ours."""
    rng = random.Random(seed)
    source = tmp_path / "source"
    files = {}
    for index in range(count):
        data = rng.randbytes(rng.randint(*sizes))
        path = source / f"dossier {index % folders}" / f"pièce-{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[path.relative_to(source).as_posix()] = data
    plan = _plan(tmp_path, apache, None)
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    data_dir = apache.dir / "data" / "Archives"
    cut_mid_copy = 0
    for threshold in thresholds:
        process = migrate_popen("apply", plan, "--yes", "--jobs", "4")
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if data_dir.exists() and sum(1 for _p in data_dir.rglob("*.bin")) >= threshold:
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        present = {p.relative_to(data_dir).as_posix(): p.read_bytes()
                   for p in data_dir.rglob("*.bin")}
        cut_mid_copy += 0 < len(present) < len(files)
        partial = [name for name, data in present.items() if data != files[name]]
        assert partial == [], f"partial files under their final names: {partial[:3]}"
    assert cut_mid_copy >= 2
    apache.requests_made()
    _run("apply", plan, "--yes")
    puts = apache.requests_made()["PUT"]
    arrived = {p.relative_to(data_dir).as_posix(): p.read_bytes()
               for p in data_dir.rglob("*") if p.is_file()}
    assert arrived == files  # no temporary file of Apache's or ours left beside them
    assert puts <= len(files) - len(present)  # what was already whole is not sent again
    assert _run("plan", plan)["summary"]["unchanged"] == len(files)
