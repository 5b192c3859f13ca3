"""`migrate init` in a real terminal (a pseudo-terminal), as a French volunteer meets it: every
question in French under LANG=fr_FR.UTF-8 and with --lang fr; an address without its https://
is asked again, saying why, instead of being written into the plan."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from migrate import i18n
from migrate.cli.init import questions
from migrate.init_offer import Question

#: What a volunteer types, one answer per question asked (Takeout to Nextcloud, nothing else).
ANSWERS = ["Les Amis", "takeout", "", "cloud.amis.example", "https://cloud.amis.example",
           "amis", "", "none", "none"]


def _converse(arguments: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run `migrate` on a pseudo-terminal; answer each prompt (a line ending in ': ') in turn."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the real command, its terminal being the pseudo-terminal
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "migrate", *arguments],
                  {**os.environ, **env})
    said, answers, deadline = b"", list(ANSWERS), time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([terminal], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the child closed the terminal: it has finished
                    break
                if not chunk:
                    break
                said += chunk
            elif said.rstrip(b" ").endswith(b":") and answers:
                os.write(terminal, answers.pop(0).encode() + b"\r")
                said += b"\n"
    finally:
        _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, said.decode(errors="replace")[-3000:]
    return said.decode("utf-8", errors="replace").replace("\r", "")


def _french(text: str) -> str:
    try:
        i18n.set_language("fr")
        return i18n._(text)
    finally:
        i18n.set_language("en")


def _prompt_in_french(question: Question) -> str:
    try:
        i18n.set_language("fr")
        return question.prompt()
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(("arguments", "env"), [
    (["init"], {"LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}),
    (["--lang", "fr", "init"], {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": ""}),
], ids=["LANG", "--lang"])
def test_every_question_is_asked_in_french(tmp_path: Path, arguments: list[str],
                                          env: dict[str, str]) -> None:
    said = _converse(arguments, env, tmp_path)
    asked = [q for q in questions() if q.key in ("organisation", "documents", "takeout_path",
             "nextcloud_url", "nextcloud_user", "nextcloud_folder", "posts", "members")]
    for question in asked:
        assert _prompt_in_french(question) in said, question.key
        assert question.prompt() not in said, question.key  # the English is nowhere
    # The address typed without https:// is refused in French and asked again.
    assert "n'est pas une adresse web" in said
    assert said.count(_french("Address of the Nextcloud server")) == 2
    plan = (tmp_path / "clients" / "les-amis" / "plan.yaml").read_text(encoding="utf-8")
    assert '"https://cloud.amis.example"' in plan and '"cloud.amis.example"' not in plan
    assert "écrit" in said and "Wrote" not in said
