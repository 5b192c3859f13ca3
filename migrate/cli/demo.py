"""`migrate demo`: the whole main job, end to end, against the sandbox and sample data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from migrate import api
from migrate.cli import render
from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.journal import Journal, journal_path
from migrate.model import SUMMARY_KEYS
from migrate.plan.references import Redactor
from migrate.plan.schema import plan_schema
from migrate.report import FORMATS, collect
from migrate.runner.progress import Progress
from sandbox import servers
from sandbox.demo_data import write_demo_data

#: `migrate/plans` is the repository's plans/ (a link in a clone, a copy in the wheel).
EXAMPLES = Path(__file__).resolve().parent.parent / "plans" / "examples"
MARKER = ".transhumance-demo"


@dataclass
class DemoResult:
    folder: Path
    report_html: Path
    report_md: Path
    exit_code: int
    #: step → the dry run's counts and what the apply did, to show they agree.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def prepare(folder: Path) -> Path:
    """A fresh demo folder with the demo plan and its sample data; return the plan's path."""
    source = EXAMPLES / "demo.yaml"
    if not source.exists():
        raise MigrateError(_("the demo plan {path} is missing: this installation of "
                             "Transhumance is incomplete; install it again").format(path=source))
    if folder.exists():
        if not (folder / MARKER).exists():
            raise MigrateError(_("{path} exists and was not made by 'migrate demo'; choose another "
                                 "folder with --dir").format(path=folder))
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by migrate demo; safe to delete\n")
    # The schema beside the plan, so an editor completes and checks it in the demo folder too.
    (folder / "schema.json").write_text(json.dumps(plan_schema(), ensure_ascii=False, indent=2)
                                        + "\n", encoding="utf-8")
    (folder / "demo.yaml").write_text(source.read_text(encoding="utf-8").replace(
        "$schema=../schema.json", "$schema=schema.json"), encoding="utf-8")
    write_demo_data(folder / "data")
    return folder / "demo.yaml"


def run(folder: Path, say: Callable[[str], None], progress: Progress) -> DemoResult:
    """Validate, plan, apply and report the demo plan with every sandbox server running."""
    plan_path = prepare(folder)
    redactor = Redactor()
    needed = servers.needed_by(plan_path.read_text(encoding="utf-8"))
    with servers.running(folder / "sandbox", needed) as running, servers.exported(running):
        for server in running.values():
            server.seed_demo()
        if running:
            say(_("Sandbox servers started: {names}").format(names=", ".join(sorted(running))))
        say(_("1/4 Checking the plan {path}").format(path=plan_path))
        api.validate(plan_path, redactor)
        say(_("2/4 Dry run (nothing is changed yet):"))
        planned = api.plan(plan_path, redactor)
        say(render.plan_text(planned))
        say(_("3/4 Applying the plan"))
        result = api.apply(plan_path, redactor, confirm=lambda shown: True, progress=progress)
        say(render.apply_text(result))
    say(_("4/4 Writing the report"))
    journal = Journal(journal_path(plan_path, None))
    try:
        data = collect(result.plan, journal, redactor)
    finally:
        journal.close()
    html, markdown = folder / "report.html", folder / "report.md"
    html.write_text(redactor(FORMATS["html"](data)), encoding="utf-8")
    markdown.write_text(redactor(FORMATS["md"](data)), encoding="utf-8")
    return DemoResult(folder, html, markdown, result.exit_code, _counts(planned, result))


def _counts(planned: api.PlanResult, applied: api.ApplyResult) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for step in planned.steps:
        plan = planned.changes.summary(step)
        again = applied.changes.summary(step)
        outcome = applied.outcomes.get(step)
        counts[step] = {
            **{f"plan_{action}": plan[action] for action in SUMMARY_KEYS},
            **{f"apply_{action}": again[action] for action in SUMMARY_KEYS},
            "done": outcome.done if outcome else 0,
            "failed": outcome.failed if outcome else 0,
            "refused_when_written": outcome.skipped if outcome else 0}
    return counts
