"""`migrate apply|status|report --database URL`: submit plans to the fleet and follow them.

The submitting machine resolves no secret and writes nothing: it enqueues one plan workflow
per plan (through DBOS's client, which needs only the database) and reads progress from the
plans' journals in the same database. Ctrl-C stops following, never the work; `--cancel`
cancels the plan's workflows (writes under way finish; the rest is left for a later apply).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from migrate.fleet import workflows
from migrate.fleet.store import PgJournal, journal_exists, schema_name
from migrate.i18n import _, ngettext, number
from migrate.plan.plan_file import load_plan

ACTIVE = ["PENDING", "ENQUEUED"]
POLL_SECONDS = 0.5


def _client(database: str) -> Any:
    import psycopg
    from dbos import DBOSClient

    try:
        with psycopg.connect(database, autocommit=True, connect_timeout=10) as conn:
            ready = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = "
                                 "'dbos' AND table_name = 'workflow_status'").fetchone()
    except psycopg.Error as error:
        raise MigrateError(_("cannot reach the fleet's database: {reason}").format(
            reason=str(error).strip().splitlines()[0] if str(error).strip() else
            type(error).__name__)) from None
    if not ready:
        raise MigrateError(_(
            "no worker has ever used this database: start 'migrate worker --database …' on "
            "at least one machine first (it creates the fleet's tables), then apply again"))
    return DBOSClient(system_database_url=database)


def _prefix(plan_path: Path) -> str:
    return f"transhumance:{schema_name(workflows.journal_key(plan_path))}:"


def _active(client: Any, plan_path: Path) -> list[Any]:
    return list(client.list_workflows(workflow_id_prefix=_prefix(plan_path), status=ACTIVE,
                                      name=workflows.PLAN_WORKFLOW, load_input=False,
                                      load_output=False))


def submit(database: str, plans: Sequence[Path], options: dict[str, Any]) -> dict[Path, str]:
    """One plan workflow per plan; a plan already running is followed, not submitted again."""
    for plan in plans:
        load_plan(plan)  # a plan with errors is refused here, with its file:line
    client = _client(database)
    try:
        submitted = {}
        for plan in plans:
            running = _active(client, plan)
            if running:
                submitted[plan] = running[0].workflow_id
                continue
            workflow_id = _prefix(plan) + uuid.uuid4().hex
            client.enqueue({"queue_name": workflows.PLANS_QUEUE,
                            "workflow_name": workflows.PLAN_WORKFLOW,
                            "workflow_id": workflow_id, "app_version": workflows.APP_VERSION},
                           str(plan.resolve()), options)
            submitted[plan] = workflow_id
        return submitted
    finally:
        client.destroy()


def follow(database: str, submitted: dict[Path, str],
           echo: Callable[[str], None]) -> dict[Path, dict[str, Any]]:
    """Wait for every plan's workflow; a line each time a plan's counts move."""
    client = _client(database)
    results: dict[Path, dict[str, Any]] = {}
    shown: dict[Path, str] = {}
    try:
        while len(results) < len(submitted):
            for plan, workflow_id in submitted.items():
                if plan in results:
                    continue
                status = client.retrieve_workflow(workflow_id).get_status()
                if status.status == "SUCCESS":
                    results[plan] = status.output
                elif status.status in ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
                    results[plan] = {"outcome": status.status.lower(), "exit_code": 1,
                                     "message": _("the fleet stopped this plan ({status})")
                                     .format(status=status.status.lower())}
                else:
                    line = _progress(database, plan)
                    if line and line != shown.get(plan):
                        shown[plan] = line
                        echo(line)
            if len(results) < len(submitted):
                time.sleep(POLL_SECONDS)
        return results
    finally:
        client.destroy()


def _progress(database: str, plan: Path) -> str:
    if not journal_exists(database, workflows.journal_key(plan)):
        return ""
    journal = workflows.open_journal(database, plan)
    try:
        counts: dict[str, int] = {}
        for states in journal.counts().values():
            for state, n in states.items():
                counts[state] = counts.get(state, 0) + n
    finally:
        journal.db.close()
    return _("{plan}: {done} done, {intent} being written, {failed} failed").format(
        plan=plan.name, done=number(counts.get("done", 0)),
        intent=number(counts.get("intent", 0)), failed=number(counts.get("failed", 0)))


def cancel(database: str, plans: Sequence[Path]) -> dict[Path, int]:
    """Cancel every running workflow of these plans, children included."""
    client = _client(database)
    try:
        found = {}
        for plan in plans:
            running = _active(client, plan)
            for workflow in running:
                client.cancel_workflow(workflow.workflow_id, cancel_children=True)
            found[plan] = len(running)
        return found
    finally:
        client.destroy()


def open_journal(database: str, plan_file: Path) -> PgJournal | None:
    """The plan's journal in the fleet's database, or None if nothing was applied yet."""
    load_plan(plan_file)
    if not journal_exists(database, workflows.journal_key(plan_file)):
        return None
    return workflows.open_journal(database, plan_file)


def result_text(plan: Path, result: dict[str, Any]) -> str:
    """The end of a plan's run in `apply`'s own words (the same messages, the same order)."""
    from migrate.model import summary_line
    from migrate.printable import one_line

    heading = _("== {client} ({plan}) ==").format(client=plan.parent.name, plan=plan)
    if "counts" not in result:
        return "\n".join([heading, _("{plan}: {message}").format(
            plan=plan.name, message=result.get("message", ""))])
    counts = {key: int(result["counts"].get(key, 0)) for key in (
        "done", "failed", "conflict", "skipped", "stale", "unchanged", "not_started")}
    lines = [heading, summary_line(result["summary"])]
    lines += [_("  failed: {path} — {why}").format(path=one_line(path), why=one_line(why))
              for path, why in result.get("failures", [])[:LINES_PER_KIND]]
    lines += [_("Step '{id}': {note}").format(id=note["step"], note=note["note"])
              for note in result.get("notes") or []]
    lines.append(ngettext("Applied: {done} done, {failed} failed, {conflict} conflict, "
                          "{skipped} skipped, {stale} stale, {unchanged} unchanged.",
                          "Applied: {done} done, {failed} failed, {conflict} conflicts, "
                          "{skipped} skipped, {stale} stale, {unchanged} unchanged.",
                          counts["conflict"]).format(
        **{k: number(v) for k, v in counts.items()}))
    return "\n".join(lines)


#: As `migrate.cli.render`: the first failures of a kind, not thousands of lines.
LINES_PER_KIND = 25
