"""Installed the way people install a command-line tool — a built wheel in a fresh virtualenv,
not an editable checkout — `migrate demo` works from an empty folder: the wheel carries the
demo plan, the plan schema and the catalogues (they once stayed behind in the clone)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # builds and installs a package: a minute or more


def _run(*command: str | Path, cwd: Path | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess[str]:
    # The user's environment without this test run's virtualenv on PATH.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["LANG"], env["LC_ALL"] = "C.UTF-8", ""
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                            text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result


def test_the_wheel_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    built = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", built, ROOT)
    wheel = next(built.glob("transhumance-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for needed in ("migrate/plans/examples/demo.yaml", "migrate/plans/schema.json",
                   "migrate/locale/fr/LC_MESSAGES/transhumance.mo"):
        assert needed in names, needed
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--prefer-binary", wheel)
    empty = tmp_path / "empty"
    empty.mkdir()
    demo = _run(venv / "bin" / "migrate", "demo", cwd=empty)
    assert "The report is at" in demo.stdout
    assert (empty / "transhumance-demo" / "report.html").exists()
    assert (empty / "transhumance-demo" / "schema.json").exists()
    assert "$schema=schema.json" in (empty / "transhumance-demo" / "demo.yaml").read_text("utf-8")
    french = _run(venv / "bin" / "migrate", "--lang", "fr", "status",
                  "transhumance-demo/demo.yaml", cwd=empty)
    assert "Étape" in french.stdout or "étape" in french.stdout, french.stdout
