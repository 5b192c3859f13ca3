"""Find and run the installed local stand-in servers (`sandbox` entry points)."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sandbox.base import LocalServer

GROUP = "migrate.sandbox"
#: Loggers of the libraries the stand-ins are built on (one line per HTTP request).
SERVER_LOGGERS = ("werkzeug", "wsgidav", "cheroot")


def available() -> dict[str, Any]:
    """Server classes by name, imported on demand."""
    return {entry.name: entry for entry in entry_points(group=GROUP)}


@contextmanager
def running(workdir: Path, names: list[str] | None = None) -> Iterator[dict[str, LocalServer]]:
    """Start the named servers (all installed ones by default); stop them all on exit.

    What the servers log goes to `workdir/servers.log`, never to the user's terminal: request
    lines would cut through the progress bar and bury the migration's own messages.
    """
    found = available()
    with ExitStack() as stack:
        stack.enter_context(_logging_to(workdir / "servers.log"))
        chosen = {name: found[name].load().for_sandbox(workdir / name)
                  for name in sorted(names if names is not None else found)}
        start_side_by_side(chosen, stack)
        yield chosen


def start_side_by_side(chosen: dict[str, LocalServer], stack: ExitStack) -> None:
    """Start every server at once, each in a thread: Mailman's and Mastodon's own processes
    take seconds to come up, and waited for one after the other those seconds added up (every
    demo, every sandbox). Each server that started is stopped when `stack` closes, even when
    another failed or an interrupt came while they started."""
    failed: dict[str, BaseException] = {}

    def start(name: str, server: LocalServer) -> None:
        try:
            server.start()
        except BaseException as error:  # raised again below, in the caller
            failed[name] = error

    threads = [threading.Thread(target=start, args=pair, name=f"start:{pair[0]}", daemon=True)
               for pair in chosen.items()]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        for thread in threads:  # an interrupt too waits for the starts, to stop what started
            thread.join()
        for name, server in chosen.items():
            if name not in failed:
                stack.callback(server.stop)
    for error in failed.values():
        raise error


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    saved = {}
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.propagate)
        # With a handler of its own, werkzeug adds no coloured stderr handler.
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        yield
    finally:
        for name, (level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
        handler.close()


def needed_by(plan_text: str) -> list[str]:
    """The servers a plan refers to through `${env:TRANSHUMANCE_SANDBOX_<NAME>_…}`."""
    return [name for name in available()
            if f"TRANSHUMANCE_SANDBOX_{_variable(name)}_" in plan_text]


def _variable(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper())


def environment(servers: dict[str, LocalServer]) -> dict[str, str]:
    """`TRANSHUMANCE_SANDBOX_<NAME>_<FIELD>` for each server's description, for demo plans."""
    variables = {}
    for name, server in servers.items():
        for field, value in server.describe().items():
            if isinstance(value, str | int | float):
                key = _variable(f"TRANSHUMANCE_SANDBOX_{name}_{field}")
                variables[key] = str(value)
    return variables


@contextmanager
def exported(servers: dict[str, LocalServer]) -> Iterator[None]:
    """The servers' variables in this process's environment while they run, for the plan's
    `${env:…}`; removed afterwards (they name ports that are closed by then)."""
    variables = environment(servers)
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
