"""A real Mailman 3 core on loopback, run from its own virtualenv.

Mailman pins libraries the project must not share (it breaks with SQLAlchemy 2.1), so it lives in
a venv built once under the cache directory (`$TRANSHUMANCE_CACHE`, else
`~/.cache/transhumance`) and reused by every later run. Warm it up front with
`python -m sandbox.mailman prepare`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

from migrate.errors import MigrateError
from sandbox.base import LocalServer

MAILMAN_VERSION = "3.3.10"
#: What goes into Mailman's own venv; SQLAlchemy 2.1 makes `GET /3.1/lists` answer 500.
MAILMAN_REQUIREMENTS = (f"mailman=={MAILMAN_VERSION}", "sqlalchemy<2.1")
#: Mailman's runners other than `rest`; none is needed to drive it over REST (see decision 0301).
OTHER_RUNNERS = (
    "archive", "bounces", "command", "in", "lmtp", "nntp", "out", "pipeline", "retry", "task",
    "virgin", "digest",
)  # fmt: skip
_COMPLETE_MARKER = ".transhumance-complete"

Progress = Callable[[str], None]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cache_root() -> Path:
    """Where sandbox tools are cached: `$TRANSHUMANCE_CACHE` or `~/.cache/transhumance`."""
    configured = os.environ.get("TRANSHUMANCE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "transhumance"


def venv_path() -> Path:
    """The directory of Mailman's virtualenv (it may not be built yet)."""
    return cache_root() / f"mailman-{MAILMAN_VERSION}"


def is_venv_ready() -> bool:
    """Whether Mailman's venv is fully built (a half-built one never carries the marker)."""
    return (venv_path() / _COMPLETE_MARKER).is_file()


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"mailman-{MAILMAN_VERSION}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(progress: Progress = _say) -> Path:
    """Return Mailman's venv, building it first if needed (about 25 s on 2 cores).

    Safe to call from several processes at once: one builds under a file lock, the others wait
    and reuse it. The venv is built in a temporary directory and renamed into place, so an
    interrupted build leaves nothing that looks usable. Raises `MigrateError` if pip fails.
    """
    final = venv_path()
    if is_venv_ready():
        return final
    with _build_lock(final.parent):
        if is_venv_ready():  # another process built it while we waited
            return final
        progress("Installing Mailman 3 for the sandbox (first time only, about a minute)…")
        started = time.monotonic()
        building = Path(tempfile.mkdtemp(prefix=f"{final.name}.building-", dir=final.parent))
        try:
            _build_venv(building)
            if final.exists():  # left by an older, interrupted layout: not marked complete
                shutil.rmtree(final)
            # Mailman runs its scripts as `python script`, so a moved venv keeps working.
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        progress(f"Mailman 3 installed in {time.monotonic() - started:.0f} s ({final}).")
    return final


def _build_venv(directory: Path) -> None:
    log = directory / "install.log"
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    command = [
        str(directory / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
        "--no-input", *MAILMAN_REQUIREMENTS,
    ]  # fmt: skip
    with open(log, "w") as output:
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise MigrateError(f"Could not install Mailman 3 (pip exited {result.returncode}):\n{tail}")
    (directory / _COMPLETE_MARKER).write_text(" ".join(MAILMAN_REQUIREMENTS) + "\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailmanServer(LocalServer):
    """Mailman 3 core (REST API 3.1, SQLite, no outgoing mail) on 127.0.0.1.

    `url` is the REST root, e.g. `http://127.0.0.1:8001/3.1`, for `mailmanclient.Client(url,
    admin_user, admin_password)`. Only the REST runner runs unless `all_runners` is true: a
    subscription, ban or list change is done synchronously by the REST runner, and starting the
    twelve others takes about 4 s more on two cores.
    """

    name = "mailman3"

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        admin_user: str = "restadmin",
        admin_password: str | None = None,
        all_runners: bool = False,
        startup_timeout: float = 60.0,
        progress: Progress = _say,
    ) -> None:
        self.admin_user = admin_user
        self.admin_password = admin_password or secrets.token_urlsafe(12)
        self._workdir = workdir
        self._all_runners = all_runners
        self._startup_timeout = startup_timeout
        self._progress = progress
        self._instance_dir: Path | None = None
        self._port: int | None = None
        self._process_group: int | None = None
        self._master: subprocess.Popen[bytes] | None = None

    @classmethod
    def for_sandbox(cls, workdir: Path) -> Self:
        return cls(workdir=workdir / "mailman3", admin_password="sandbox-password")

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("Mailman is not started")
        return f"http://127.0.0.1:{self._port}/3.1"

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "user": self.admin_user, "password": self.admin_password}

    @property
    def instance_dir(self) -> Path:
        """This instance's config, SQLite database and logs (`var/logs/mailman.log`)."""
        if self._instance_dir is None:
            raise RuntimeError("Mailman is not started")
        return self._instance_dir

    def start(self) -> None:
        if self._port is not None:
            return
        venv = ensure_venv(self._progress)
        if self._workdir is not None:
            self._workdir.mkdir(parents=True, exist_ok=True)
            self._instance_dir = self._workdir
        else:
            self._instance_dir = Path(tempfile.mkdtemp(prefix="transhumance-mailman-"))
        self._port = _free_port()
        config = self._write_config()
        self._start_master(venv, config)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._port is None or self._instance_dir is None:
            return
        group = self._process_group or self._read_master_group()
        # What `mailman stop` does (mailman/commands/cli_control.py, `kill_watcher`): SIGTERM to
        # the master, which stops its runners. Sent from here, without the 3 s a `mailman`
        # command takes to import Mailman just to send it; to the process we started, never to
        # a pid read from a file a killed run may have left.
        if self._master is not None and self._master.poll() is None:
            self._master.send_signal(signal.SIGTERM)
        if group is not None:
            _end_process_group(group)
        if self._workdir is None:
            shutil.rmtree(self._instance_dir, ignore_errors=True)
        if self._master is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._master.wait(timeout=5)  # reaped, not left a zombie
        self._port = None
        self._process_group = None
        self._master = None
        self._instance_dir = None

    def seed_demo(self) -> None:
        """The demo's mail domain (`example.org`); the migration creates its list."""
        self.create_domain("example.org")

    def create_domain(self, domain: str = "example.org") -> None:
        """Create a mail domain; nothing happens if it exists already."""
        try:
            self.request("POST", "/domains", {"mail_host": domain})
        except urllib.error.HTTPError as error:
            if error.code != 400:  # 400 "Duplicate email host"
                raise

    @property
    def database_path(self) -> Path:
        """Mailman's SQLite database (tests lock it to see how a client copes)."""
        assert self._instance_dir is not None
        return self._instance_dir / "var" / "data" / "mailman.db"

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        """Call the REST API as the admin user; return the decoded JSON body (None if empty)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        token = base64.b64encode(f"{self.admin_user}:{self.admin_password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    # -- process management ---------------------------------------------------------------

    def _write_config(self) -> Path:
        assert self._instance_dir is not None
        lines = [
            "[mailman]", "layout: here", "site_owner: postmaster@example.org", "",
            "[paths.here]", f"var_dir: {self._instance_dir / 'var'}", "",
            "[mta]", "incoming: mailman.mta.null.NullMTA", "",
            "[webservice]", "hostname: 127.0.0.1", f"port: {self._port}",
            f"admin_user: {self.admin_user}", f"admin_pass: {self.admin_password}", "",
        ]  # fmt: skip
        if not self._all_runners:
            for runner in OTHER_RUNNERS:
                lines += [f"[runner.{runner}]", "start: no", ""]
        path = self._instance_dir / "mailman.cfg"
        path.write_text("\n".join(lines))
        return path

    def _start_master(self, venv: Path, config: Path) -> None:
        """What `mailman start` does (mailman/commands/cli_control.py): the master watcher in a
        session of its own, in the var dir, told where that is. Started from here, without the
        3 s a `mailman` command takes to import Mailman just to start another process that
        imports it again. (Its other step, regenerating the MTA's aliases, does nothing with
        the NullMTA configured here; the root check is the `mailman` command's alone.)
        --force: a lock left by a killed run in a reused workdir is cleared if stale."""
        # Absolute paths: the master runs in the var dir, and a sandbox folder may be relative.
        var, config = (self.instance_dir / "var").resolve(), config.resolve()
        var.mkdir(parents=True, exist_ok=True)
        with open(config.parent / "mailman-start.log", "w") as output:
            self._master = subprocess.Popen(
                [str(venv / "bin" / "python"), str(venv / "bin" / "master"), "--force",
                 "-C", str(config)],
                cwd=var, env={**os.environ, "MAILMAN_VAR_DIR": str(var)},
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)
        self._process_group = self._master.pid  # a session leader leads its process group

    def _read_master_group(self) -> int | None:
        pid_file = self.instance_dir / "var" / "master.pid"
        try:
            return os.getpgid(int(pid_file.read_text().strip()))
        except (OSError, ValueError):
            return None

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._master is not None and self._master.poll() is not None:
                said = (self.instance_dir / "mailman-start.log").read_text(errors="replace")
                raise MigrateError(f"Mailman's master exited ({self._master.returncode}): "
                                   f"{said[-2000:]}")
            try:
                self.request("GET", "/system/versions")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        log = self.instance_dir / "var" / "logs" / "mailman.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        raise MigrateError(
            f"Mailman's REST API did not answer within {self._startup_timeout:.0f} s:\n{tail}"
        )


def _live_members(group: int) -> list[int]:
    """Processes of `group` that are not zombies (Linux `/proc`; elsewhere a signal probe)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the parenthesised command: state, ppid, pgrp, ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _end_process_group(group: int, grace: float = 10.0) -> None:
    """Wait for Mailman's master and runners (one process group) to exit; kill stragglers."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _live_members(group):
                return
            time.sleep(0.1)
        grace = 3.0


def main(argv: list[str] | None = None) -> int:
    """`python -m sandbox.mailman prepare`: build Mailman's venv now (for CI)."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.mailman")
    parser.add_argument("command", choices=["prepare"])
    parser.parse_args(argv)
    try:
        print(ensure_venv())
    except MigrateError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
