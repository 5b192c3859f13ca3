"""Property-based fuzzing of hostile input (issue 14): mutated plans and damaged inputs of every
source format, run through the real command in process (click's CliRunner).

Whatever the input, every run must:
- end with exit code 0, 1, 2 or 3, with no "Unexpected error" and no traceback;
- write no file outside the plan's targets and its state folder (a link inside the target
  leads to `outside/`, which must stay empty);
- show and store no secret: not in the output, the --log-json events, the saved plan, nor any
  file of the state folder.

The default run is bounded: 980 examples, about half a minute on one core. For a longer
campaign by hand:

    MIGRATE_FUZZ_SCALE=20 .venv/bin/python -m pytest -q tests/test_fuzz.py

multiplies every test's number of examples (the default, 1, is what CI runs).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connectors.facebook_export import FacebookExportConnector
from connectors.instagram_export import InstagramExportConnector
from connectors.linkedin_export import LinkedinExportConnector
from connectors.twitter_archive import TwitterArchiveConnector
from migrate.cli import cli
from migrate.connector import StepContext
from migrate.errors import MigrateError
from migrate.plan.plan_file import load_plan, resolve_connections
from migrate.plan.references import Redactor
from migrate.steps import _is_storable
from tests.fuzz_inputs import (
    ENVIRONMENT,
    SECRET_PIECES,
    archive_mutation,
    cli_seeds,
    json_mutation,
    plan_mutation,
    post_exports,
    text_mutation,
)

os.environ.update(ENVIRONMENT)  # for is_contained, which resolves the plan's references here
SCALE = max(1, int(os.environ.get("MIGRATE_FUZZ_SCALE", "1")))
SEEDS = cli_seeds(Path(tempfile.mkdtemp(prefix="fuzz-seeds-")))
SEED_BY_NAME = {seed.name: seed for seed in SEEDS}
POST_EXPORTS = post_exports(Path(tempfile.mkdtemp(prefix="fuzz-posts-")))
POST_CONNECTORS = {"twitter_archive": TwitterArchiveConnector,
                   "facebook_export": FacebookExportConnector,
                   "instagram_export": InstagramExportConnector,
                   "linkedin_export": LinkedinExportConnector}
#: Where a run may write: the targets' folders, the state folder, the saved plan, the events.
WRITABLE = ("dst", "out", ".migrate", "saved.json", "events.jsonl")


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder)


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], env=ENVIRONMENT)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args[0]} raised {result.exception!r}")
    assert result.exit_code in (0, 1, 2, 3), (args[0], result.exit_code, result.output)
    assert "Unexpected error" not in result.output, result.output
    assert "Traceback" not in result.output, result.output
    for piece in SECRET_PIECES:
        assert piece not in result.output, f"a secret in the output of {args[0]}"
    return result


def target_folders(plan: Path) -> set[str] | None:
    """The folders the plan's steps write to, relative to the workspace; None when one of its
    folders lies outside (a mutation that points a connection at `/etc` is the user's own
    choice, not an escape: such a plan is not applied)."""
    try:
        loaded = load_plan(plan)
        resolved = resolve_connections(loaded, Redactor(), loaded.steps)
    except MigrateError:
        return set()  # nothing will run
    root = plan.parent.resolve()
    targets = {step.target.connection for step in loaded.steps}
    found: set[str] = set()
    for name, options in resolved.items():
        for key in ("path", "banned_path"):
            value = options.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or "~" in value:
                return None
            where = (root / value).resolve()
            if where != root and root not in where.parents:
                return None
            if name in targets:
                found.add(where.relative_to(root).as_posix())
    return found


def files_outside_targets(folder: Path, targets: set[str] = frozenset()) -> set[str]:
    allowed = {*WRITABLE, *targets}
    found = set()
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir() or any(relative == a or relative.startswith(a.rstrip("/") + "/")
                                for a in allowed if a != "."):
            continue
        found.add(relative)
    return found


def secrets_stored(folder: Path) -> list[str]:
    leaks = []
    stored = [folder / "saved.json", folder / "events.jsonl",
              *(folder / ".migrate").rglob("*")]
    for path in stored:
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            leaks += [f"{path.name}: {piece}" for piece in SECRET_PIECES
                      if piece.encode() in data]
    return leaks


def run_everything(plan: Path) -> None:
    """validate, plan -o, apply (from the saved plan or the plan), status, report, repair."""
    folder = plan.parent
    targets = target_folders(plan)
    before = files_outside_targets(folder, targets or set())
    event(f"validate exit {invoke('validate', plan).exit_code}")
    invoke("plan", plan, "--json")
    if targets is not None:
        saved = invoke("plan", plan, "-o", folder / "saved.json")
        applied = invoke("apply", plan, "--yes", "--log-json", folder / "events.jsonl")
        event(f"apply exit {applied.exit_code}")
        if saved.exit_code == 0 and applied.exit_code in (0, 3):
            invoke("apply", folder / "saved.json")
        invoke("status", plan)
        invoke("report", plan, "--format", "json")
        invoke("repair", plan)
    assert files_outside_targets(folder, targets or set()) == before, \
        "a file was written outside the targets"
    assert not list((folder / "outside").iterdir()), "a link in the target was followed"
    assert not secrets_stored(folder), secrets_stored(folder)


@pytest.mark.parametrize("seed_name", sorted(SEED_BY_NAME))
@fuzz_settings(40)
@given(data=st.data())
def test_mutated_plans_never_crash_escape_or_leak(seed_name: str, data: st.DataObject) -> None:
    seed = SEED_BY_NAME[seed_name]
    mutated = data.draw(plan_mutation(seed.plan), label="plan")
    with workspace() as folder:
        run_everything(seed.write(folder, plan=mutated))


@pytest.mark.parametrize("seed_name", sorted(SEED_BY_NAME))
@fuzz_settings(40)
@given(data=st.data())
def test_damaged_inputs_never_crash_escape_or_leak(seed_name: str, data: st.DataObject) -> None:
    seed = SEED_BY_NAME[seed_name]
    files = dict(seed.files)
    files[seed.victim] = data.draw(archive_mutation(files[seed.victim]), label="input")
    with workspace() as folder:
        run_everything(seed.write(folder, files=files))


@pytest.mark.parametrize("seed_name", ["local", "mailchimp_export"])
@fuzz_settings(50)
@given(data=st.data())
def test_a_tampered_saved_plan_is_refused_or_applied_within_its_targets(
        seed_name: str, data: st.DataObject) -> None:
    seed = SEED_BY_NAME[seed_name]
    with workspace() as folder:
        plan = seed.write(folder)
        saved = folder / "saved.json"
        invoke("plan", plan, "-o", saved)
        # The same text in every example (Hypothesis replays draws against it).
        text = re.sub(r'"created": "[^"]*"', '"created": "2024-01-01T00:00:00+00:00"',
                      saved.read_text(encoding="utf-8"))
        mutated = data.draw(st.one_of(json_mutation(text), text_mutation(text)), label="saved")
        saved.write_text(mutated, encoding="utf-8", errors="surrogatepass")
        before = files_outside_targets(folder)
        invoke("apply", saved)
        invoke("status", plan)
        assert files_outside_targets(folder) == before, "a file was written outside the targets"
        assert not list((folder / "outside").iterdir()), "a link in the target was followed"


@pytest.mark.parametrize("source_type", sorted(POST_CONNECTORS))
@fuzz_settings(120)
@given(data=st.data())
def test_damaged_post_exports_give_items_or_a_plain_error(source_type: str,
                                                         data: st.DataObject) -> None:
    damaged = data.draw(archive_mutation(POST_EXPORTS[source_type]), label="archive")
    with workspace() as folder:
        (folder / "export.zip").write_bytes(damaged)
        connector = POST_CONNECTORS[source_type]({"path": "export.zip"}, folder)
        context = StepContext("posts", "mirror", {}, "plan", folder)
        try:
            source = connector.open_source("", context)
            try:
                for item in source.list_items().items:
                    if not _is_storable(item) or item.skip_reason:
                        continue
                    for medium in item.data.media or []:
                        if medium.get("path"):
                            try:
                                with source.open(item.__class__(medium["path"],
                                                                medium["path"])) as stream:
                                    stream.read()
                            except MigrateError:
                                pass  # that one item is skipped or failed, with its reason
            finally:
                source.close()
        except MigrateError as error:
            assert str(error)
