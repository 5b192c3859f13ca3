"""Promises to newcomers: the README's commands are the ones CI runs, and lint is clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Try it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("migrate demo")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def _tracked_python_files() -> list[str]:
    """Committed files only: work in progress in a shared tree is its author's business."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        return ["migrate", "connectors", "tests"]
    return [line for line in listed.stdout.splitlines() if (ROOT / line).exists()]


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", *_tracked_python_files()], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_default_run_leaves_the_slow_trials_to_ci() -> None:
    """The README's command skips the long trials (marked `slow`); .ci/run runs them next, and
    an empty selection (pytest's exit 5) is not a failure there."""
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = options["tool"]["pytest"]["ini_options"]
    assert "-m 'not slow'" in pytest_options["addopts"]
    assert any(marker.startswith("slow:") for marker in pytest_options["markers"])
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    readme_line = next(i for i, line in enumerate(ci) if line in _readme_commands())
    slow_line = next(i for i, line in enumerate(ci) if "pytest -m slow" in line)
    assert readme_line < slow_line
    assert any('"$status" -eq 5' in line for line in ci[slow_line:])
    marked = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                             "-m", "slow",
                             "tests/test_crash_safety.py", "tests/test_wheel.py"], cwd=ROOT,
                            capture_output=True, text=True)
    assert "test_random_kills_lose_nothing" in marked.stdout
    assert "test_the_wheel_runs_the_demo" in marked.stdout
