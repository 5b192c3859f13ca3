"""Find and run the installed local stand-in servers (`sandbox` entry points)."""

from __future__ import annotations

import logging
import os
import re
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
        started: dict[str, LocalServer] = {}
        for name in sorted(names if names is not None else found):
            server_class = found[name].load()
            server = server_class.for_sandbox(workdir / name)
            stack.enter_context(server)
            started[name] = server
        yield started


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
