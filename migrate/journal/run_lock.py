"""The run lock: one `migrate apply` at a time per plan, kept in the journal's `lock` table.

The holder writes a heartbeat every few seconds on a connection of its own. A holder that died
on this host is detected at once (its pid is gone); one on another host (a shared folder) once
its heartbeat is older than LOCK_EXPIRY_SECONDS.
"""

from __future__ import annotations

import datetime
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from migrate.errors import LockedError
from migrate.i18n import _, date_time

HEARTBEAT_SECONDS = 5.0
LOCK_EXPIRY_SECONDS = 60.0



@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    command: str
    started: float
    heartbeat: float

    def describe(self) -> str:
        age = max(0, int(time.time() - self.heartbeat))
        started = date_time(datetime.datetime.fromtimestamp(self.started), seconds=True)
        return _("process {pid} on {host}, started {started}, last seen {age} s ago").format(
            pid=self.pid, host=self.host, started=started, age=age)


class RunLock:
    """Taken and released by the journal's owner; `holder()` tells who has it."""

    def __init__(self, db: sqlite3.Connection, connect: Callable[[], sqlite3.Connection],
                 transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]) -> None:
        self.db, self._connect, self.transaction = db, connect, transaction
        self._token: str | None = None
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()

    def acquire(self, command: str, token: str | None = None) -> None:
        """Take the run lock or raise LockedError naming its holder. A dead holder's lock on
        this host is taken over at once; another host's after LOCK_EXPIRY_SECONDS of silence.

        `token` names the holder: a fleet's plan workflow, recovered on another worker, takes
        its own lock over at once (migrate/fleet/workflows.py)."""
        now, host = time.time(), socket.gethostname()
        token = token or uuid.uuid4().hex
        with self.transaction() as db:
            holder = self.holder()
            held = db.execute("SELECT token FROM lock WHERE id = 1").fetchone()
            if holder is not None and (held is None or held[0] != token) \
                    and _is_alive(holder, host, now):
                raise LockedError(
                    _("another 'migrate apply' is already running on this plan ({holder}). "
                      "Wait for it to finish, or stop it, then try again.").format(
                        holder=holder.describe()))
            db.execute("INSERT OR REPLACE INTO lock VALUES (1, ?, ?, ?, ?, ?, ?)",
                       (token, os.getpid(), host, command, now, now))
        self._token = token
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="journal-heartbeat",
                                           daemon=True)
        self._heartbeat.start()

    def holder(self) -> LockHolder | None:
        row = self.db.execute(
            "SELECT pid, host, command, started, heartbeat FROM lock WHERE id = 1").fetchone()
        return LockHolder(*row) if row else None

    def _beat(self) -> None:
        # Its own connection, opened at the first beat: a run shorter than one beat (a re-run
        # with nothing to do) never pays for opening a second one.
        db: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                db = db or self._connect()
                db.execute("UPDATE lock SET heartbeat = ? WHERE id = 1 AND token = ?",
                           (time.time(), self._token))
        finally:
            if db is not None:
                db.close()

    def release(self) -> None:
        if self._token is None:
            return
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        self.db.execute("DELETE FROM lock WHERE token = ?", (self._token,))
        self._token = None


def _is_alive(holder: LockHolder, host: str, now: float) -> bool:
    if holder.host == host:
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A reused pid would keep a dead lock alive forever; the heartbeat tells them apart.
        return now - holder.heartbeat < LOCK_EXPIRY_SECONDS
    return now - holder.heartbeat < LOCK_EXPIRY_SECONDS
