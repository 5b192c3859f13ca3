"""Worker processes of a fleet for the tests and the benchmark: `migrate worker --database`,
started, killed (SIGKILL) and stopped as an operator's systemd would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg


class Fleet:
    def __init__(self, database: str, logs: Path, env: dict[str, str] | None = None,
                 threads: int = 4) -> None:
        self.database, self.logs, self.threads = database, logs, threads
        self.env = {**os.environ, **(env or {})}
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started = 0
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, count: int = 1, wait: bool = True) -> None:
        """`count` more workers, each ready (queues registered) when this returns, unless
        `wait` is False."""
        new = []
        for _ in range(count):
            self.started += 1
            log = self.logs / f"worker-{self.started}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "migrate", "worker", "--database", self.database,
                 "--threads", str(self.threads)], stdout=subprocess.DEVNULL,
                stderr=log.open("wb"), env=self.env, stdin=subprocess.DEVNULL)
            new.append((process, log))
        for process, log in new:
            if not wait:
                self.workers.append(process)
                continue
            deadline = time.monotonic() + 90
            while b"ready" not in log.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"worker did not start: {log.read_text()}")
                time.sleep(0.1)
            self.workers.append(process)

    def kill(self, index: int) -> int:
        """SIGKILL one worker (no goodbye); its pid."""
        process = self.workers.pop(index)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        return process.pid

    def stop(self) -> None:
        for process in self.workers:
            process.terminate()
        for process in self.workers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.workers = []

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def database_text(database: str) -> str:
    """Every row of every table of the database, as text: to show what it never holds."""
    found = []
    with psycopg.connect(database, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE "
            "table_schema NOT IN ('pg_catalog', 'information_schema') AND "
            "table_type = 'BASE TABLE'").fetchall()
        for schema, table in tables:
            rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
            found.extend(row[0] for row in rows)
    return "\n".join(found)
