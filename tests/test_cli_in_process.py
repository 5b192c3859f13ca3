"""The command run in a program's own process (click's CliRunner, a script) leaves that
process as it found it: its language, its environment, its signal handlers.

tests/helpers.migrate() relies on it: most tests run the command in-process."""

from __future__ import annotations

import gettext
import json
import os
import signal
from pathlib import Path

import pytest

from migrate import i18n
from migrate.i18n import _
from sandbox import servers
from tests.helpers import make_tree, migrate, write_plan

FRENCH = {"LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def _language_state() -> tuple[str, str | None, str, str]:
    return (i18n.language(), os.environ.get("LANGUAGE"), gettext.textdomain(),
            _("Nothing was done."))


def test_a_french_run_leaves_the_callers_language_as_it_was(tmp_path: Path) -> None:
    make_tree(tmp_path / "source", 3)
    plan = write_plan(tmp_path)
    before = _language_state()
    assert before[0] == "en" and before[3] == "Nothing was done."
    by_option = migrate("--lang", "fr", "plan", plan)
    assert by_option.returncode == 0 and "Plan" in by_option.stdout
    assert "à créer" in by_option.stdout  # it did speak French
    assert _language_state() == before
    by_environment = migrate("plan", plan, env=FRENCH)
    assert "à créer" in by_environment.stdout
    assert _language_state() == before
    # A usage error is shown in French too (after the command has ended), then put back.
    wrong = migrate("--lang", "fr", "plan", "--no-such-option")
    assert wrong.returncode == 2 and "Option inconnue" in wrong.stderr, wrong.stderr
    assert "Erreur" in wrong.stderr and "Essayez" in wrong.stderr
    assert _language_state() == before
    assert "to create" in migrate("plan", plan).stdout


def test_the_sandbox_gives_back_the_callers_sigterm_handler(tmp_path: Path) -> None:
    def callers_own(_signal: int, _frame: object) -> None:
        raise AssertionError("not called")

    previous = signal.signal(signal.SIGTERM, callers_own)
    try:
        result = migrate("sandbox", "--once", "--no-seed", "--only", "listmonk",
                         "--dir", tmp_path / "sandbox")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["listmonk"]["url"].startswith("http://127.0.0.1:")
        assert signal.getsignal(signal.SIGTERM) is callers_own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_demo_servers_variables_last_as_long_as_the_servers(tmp_path: Path) -> None:
    """The demo sets TRANSHUMANCE_SANDBOX_… for its plan's ${env:…}; once its servers are
    stopped those name closed ports, and are gone from the environment."""
    with servers.running(tmp_path, ["listmonk"]) as running, servers.exported(running):
        url = os.environ["TRANSHUMANCE_SANDBOX_LISTMONK_URL"]
        assert url == running["listmonk"].url
    assert not [name for name in os.environ if name.startswith("TRANSHUMANCE_SANDBOX_")]


def test_servers_start_side_by_side_and_a_failed_start_leaves_none_running() -> None:
    """The sandbox starts its servers at once (each in a thread); when one cannot start, the
    error comes up and every server that did start is stopped, none left listening."""
    import contextlib
    import threading

    from sandbox.base import LocalServer, WSGIServerThread

    both_starting = threading.Barrier(2, timeout=30)  # passes only if the starts overlap

    class Answering(LocalServer):
        def __init__(self) -> None:
            self.http = WSGIServerThread(lambda environ, reply: [])

        def start(self) -> None:
            both_starting.wait()
            self.http.start()

        def stop(self) -> None:
            self.http.stop()

        @property
        def url(self) -> str:
            return self.http.base_url

    class Refusing(Answering):
        def start(self) -> None:
            both_starting.wait()
            raise OSError("port taken")

    chosen = {"answering": Answering(), "refusing": Refusing()}
    with pytest.raises(OSError, match="port taken"), contextlib.ExitStack() as stack:
        servers.start_side_by_side(chosen, stack)
    assert chosen["answering"].http._server is None  # stopped, its port released
