"""`migrate worker --database URL`: one DBOS executor of the fleet.

DBOS, self-hosted without its Conductor service, recovers on start only the workflows of its
own executor id; a worker that dies for good leaves its workflows PENDING until someone asks
DBOS to recover them (docs.dbos.dev, "Workflow Recovery", distributed setting). So every worker
writes a heartbeat in `transhumance_workers`, and every worker looks for dead ones: gone from
this machine (its process no longer exists) or silent for WORKER_EXPIRY_SECONDS elsewhere. The
first to delete a dead worker's row recovers its workflows (`DBOS._recover_pending_workflows`,
which re-enqueues them, so any live worker runs each one once). Decision 0900.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from dbos import DBOS, DBOSConfig

from migrate.fleet import workflows

LOG = logging.getLogger("transhumance.fleet")
HEARTBEAT_SECONDS = 1.0
WORKER_EXPIRY_SECONDS = 30.0

WORKERS_TABLE = """
CREATE TABLE IF NOT EXISTS transhumance_workers (
    executor_id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL,
    started DOUBLE PRECISION NOT NULL, heartbeat DOUBLE PRECISION NOT NULL)
"""


def configure(database: str, executor_id: str, threads: int) -> None:
    """DBOS for this process: the fleet's database, one application version, this worker's id,
    and the queues (a plan queue; write queues by cap, partitioned by host)."""
    config: DBOSConfig = {
        "name": workflows.APP_NAME,
        "system_database_url": database,
        "application_version": workflows.APP_VERSION,
        "executor_id": executor_id,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    workflows.WORKER.database = database


def register_queues(threads: int) -> None:
    DBOS.register_queue(workflows.PLANS_QUEUE, worker_concurrency=max(1, threads),
                        polling_interval_sec=0.5, on_conflict="always_update")
    for cap in workflows.CAPS:
        DBOS.register_queue(workflows.writes_queue(cap), partition_concurrency=cap,
                            worker_concurrency=max(1, threads), polling_interval_sec=0.2,
                            on_conflict="always_update")


class Watch:
    """This worker's heartbeat, and the recovery of workers that stopped beating."""

    def __init__(self, database: str, executor_id: str) -> None:
        self.database, self.executor_id = database, executor_id
        self.stop = threading.Event()
        self.host, self.pid = socket.gethostname(), os.getpid()
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(7472616)")
            try:
                conn.execute(WORKERS_TABLE)
            finally:
                conn.execute("SELECT pg_advisory_unlock(7472616)")
            now = time.time()
            conn.execute("INSERT INTO transhumance_workers VALUES (%s, %s, %s, %s, %s)",
                         (executor_id, self.host, self.pid, now, now))
        self.thread = threading.Thread(target=self._run, name="fleet-watch", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self.stop.wait(HEARTBEAT_SECONDS):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.database, autocommit=True)
                conn.execute("UPDATE transhumance_workers SET heartbeat = %s "
                             "WHERE executor_id = %s", (time.time(), self.executor_id))
                self._dead(conn)
            except Exception:  # the database restarting, a network cut: beat again later
                LOG.warning("fleet heartbeat or recovery failed; trying again", exc_info=True)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                    conn = None
        if conn is not None:
            conn.close()

    def _dead(self, conn: psycopg.Connection[Any]) -> list[str]:
        """Dead workers, each recovered *before* its row is deleted: a sweeper killed between
        the two leaves the row for another (DBOS's recovery re-enqueues with a predicate on
        the dead executor: done twice, the second finds nothing)."""
        now, found = time.time(), []
        rows = conn.execute("SELECT executor_id, host, pid, heartbeat FROM transhumance_workers "
                            "WHERE executor_id <> %s", (self.executor_id,)).fetchall()
        for executor_id, host, pid, heartbeat in rows:
            gone = host == self.host and not _process_exists(int(pid))
            if gone or now - heartbeat > WORKER_EXPIRY_SECONDS:
                DBOS._recover_pending_workflows([executor_id])
                conn.execute("DELETE FROM transhumance_workers WHERE executor_id = %s",
                             (executor_id,))
                found.append(executor_id)
        return found

    def close(self) -> None:
        """Stopped on purpose: marked silent, so another worker recovers at once whatever this
        one leaves unfinished."""
        self.stop.set()
        self.thread.join(timeout=5)
        with contextlib.suppress(psycopg.Error), \
                psycopg.connect(self.database, autocommit=True) as conn:
            conn.execute("UPDATE transhumance_workers SET heartbeat = 0 WHERE executor_id = %s",
                         (self.executor_id,))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(database: str, threads: int, ready: Callable[[str], None]) -> None:
    """Run until SIGTERM or Ctrl-C: workflows in flight are left to DBOS's recovery."""
    logging.getLogger("dbos").setLevel(logging.WARNING)
    executor_id = workflows.worker_identity()
    configure(database, executor_id, threads)
    # Known to the others before DBOS starts dequeuing: a worker killed while still starting
    # may already hold workflows, and only its row lets another recover them.
    watch = Watch(database, executor_id)
    DBOS.launch()
    register_queues(threads)  # kept in the database: launched first
    watch.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stopped.set())
    ready(executor_id)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        DBOS.destroy(destroy_registry=False)
        watch.close()
