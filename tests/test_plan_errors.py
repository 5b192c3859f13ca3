"""Bad plans: one line `file:line:col: what is wrong`, exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import migrate

GOOD = """version: 1
organisation: Asso
connections:
  here: {type: local, path: source}
  there: {type: local, path: target}
steps:
  - id: files
    copy: {from: here, to: there}
"""

CASES = [
    ("unknown key", GOOD.replace("copy: {from: here", "copy: {form: here"),
     "plan.yaml:8:12: unknown key 'form' in step 'files' — did you mean 'from'?"),
    ("unknown top key", GOOD.replace("organisation:", "organisaton:"),
     "plan.yaml:2:1: unknown key 'organisaton' at the top of the plan — did you mean "
     "'organisation'?"),
    ("wrong type", GOOD.replace("path: target}", "path: target, fsync: maybe}"),
     "plan.yaml:5:45: 'fsync': expected true or false"),
    ("missing connection", GOOD.replace("to: there", "to: thera"),
     "plan.yaml:8:28: unknown connection 'thera' — did you mean 'there'?"),
    ("unknown type", GOOD.replace("type: local, path: source", "type: nextclod, path: s"),
     "plan.yaml:4:16: unknown connection type 'nextclod'"),
    ("bad yaml", GOOD.replace("copy: {from: here, to: there}", "copy: {from: here, to: there"),
     "plan.yaml:9:1: this is not valid YAML"),
    ("missing secret", GOOD.replace("path: source", 'path: "${env:TRANSHUMANCE_NOT_SET}"'),
     "plan.yaml:4:29: the environment variable TRANSHUMANCE_NOT_SET is not set"),
    ("missing secret file", GOOD.replace("path: source", 'path: "${file:nope.txt}"'),
     "plan.yaml:4:29: cannot read the secret file"),
    ("undefined variable", GOOD.replace("path: source", 'path: "${var.dossier}"'),
     "plan.yaml:4:29: the variable 'dossier' is not defined"),
    ("wrong version", GOOD.replace("version: 1", "version: 2"),
     "plan.yaml:1:10: only 'version: 1' is understood"),
    ("bad option value", GOOD.replace("copy: {from: here, to: there}",
                                      "copy: {from: here, to: there}\n    with: {overwrite: yes}"),
     "plan.yaml:9:23: 'overwrite': expected one of: conflict, never, newer, always"),
    ("duplicate key", GOOD.replace("  there:", "  here: {type: local, path: x}\n  there:"),
     "plan.yaml:5:3: the key 'here' is given twice here"),
    ("duplicate step", GOOD + "  - id: files\n    copy: {from: here, to: there}\n",
     "plan.yaml:9:9: two steps are called 'files'"),
    ("two actions", GOOD.replace("    copy: {from: here, to: there}",
                                 "    copy: {from: here, to: there}\n    mirror: {from: here, "
                                 "to: there}"),
     "plan.yaml:7:5: step 'files' needs exactly one of: copy, mirror, export"),
    ("role not supported", GOOD.replace("copy:", "mirror:"),
     "plan.yaml:8:20: a 'local' connection cannot be the source of 'mirror'"),
]


@pytest.mark.parametrize(("text", "expected"), [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_bad_plan_gives_one_located_line(tmp_path: Path, command: str, text: str,
                                         expected: str) -> None:
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "source").mkdir()
    result = migrate(command, "plan.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_plan_file_is_a_usage_error(tmp_path: Path) -> None:
    """Exit 2, as the README says of usage errors, for every command taking a plan."""
    for command in ("validate", "plan", "apply", "status", "report", "schedule"):
        result = migrate(command, tmp_path / "nope.yaml")
        assert result.returncode == 2, (command, result.stderr)
        assert "the plan file" in result.stderr and "does not exist" in result.stderr
        assert "Traceback" not in result.stderr
    folder = migrate("plan", tmp_path)
    assert folder.returncode == 2 and "is a folder" in folder.stderr


def test_unknown_step_is_named(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "source").mkdir()
    result = migrate("plan", "plan.yaml", "--step", "fils", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown step 'fils' — did you mean 'files'?" in result.stderr


def test_a_step_needs_only_its_own_connections_secrets(tmp_path: Path) -> None:
    far = '  far: {type: local, path: "${env:TRANSHUMANCE_UNSET_DIR}"}\n'
    (tmp_path / "plan.yaml").write_text(
        GOOD.replace("connections:\n", "connections:\n" + far)
        + "  - id: other\n    copy: {from: here, to: far}\n", encoding="utf-8")
    (tmp_path / "source").mkdir()
    alone = migrate("plan", "plan.yaml", "--step", "files", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    everything = migrate("plan", "plan.yaml", cwd=tmp_path)
    assert everything.returncode == 1
    assert "TRANSHUMANCE_UNSET_DIR is not set" in everything.stderr
