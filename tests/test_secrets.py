"""A secret's value never appears in plan output, --json, a saved plan, the journal or a report."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import make_tree
from tests.helpers import migrate_process as migrate

SECRET = "Zk7Q9xT2-tres-secret"


def test_secret_value_never_leaves_the_program(tmp_path: Path) -> None:
    # Real processes: everything one writes (its logging too) is what is searched.
    # The secret is the target folder's name, resolved from the environment: it is in the
    # connection's resolved options, so any leak of those would show it.
    make_tree(tmp_path / "source", 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "token.txt").write_text(SECRET + "\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nconnections:\n"
        "  here: {type: local, path: source}\n"
        '  there: {type: local, path: "${env:TARGET_SECRET}"}\n'
        '  other: {type: local, path: "sub/${file:token.txt}"}\n'
        "steps:\n"
        "  - id: files\n    copy: {from: here, to: there}\n"
        "  - id: again\n    copy: {from: here, to: other}\n", encoding="utf-8")
    env = {"TARGET_SECRET": str(tmp_path / SECRET)}
    outputs = [
        migrate("validate", plan, env=env),
        migrate("plan", plan, env=env),
        migrate("plan", plan, "--json", "-o", tmp_path / "saved.json", env=env),
        migrate("apply", plan, "--yes", env=env),
        migrate("apply", tmp_path / "saved.json", env=env),
        migrate("status", plan, "--json", env=env),
        migrate("report", plan, "--format", "html", "-o", tmp_path / "report.html", env=env),
        migrate("report", plan, "--json", env=env),
    ]
    # An error that names the secret (a missing source folder) shows it masked, even in --debug.
    failing = tmp_path / "failing.yaml"
    failing.write_text(plan.read_text().replace("path: source", 'path: "${env:TARGET_SECRET}"'))
    outputs.append(migrate("--debug", "plan", failing, env={"TARGET_SECRET": SECRET + "/x"}))
    assert (tmp_path / SECRET).is_dir() and (tmp_path / "sub" / SECRET).is_dir()  # it was used
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr, result.args
    error = outputs[-1]
    assert error.returncode == 1 and "********" in error.stderr
    for stored in [tmp_path / "saved.json", tmp_path / "report.html",
                   *(tmp_path / ".migrate").iterdir()]:
        assert SECRET.encode() not in stored.read_bytes(), stored
