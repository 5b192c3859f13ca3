"""The fleet's side of the command line: `migrate worker`, and `--database` for `apply`,
`status` and `report` (migrate/cli/__init__.py hands over here; without `--database` nothing of this
runs, nor is DBOS imported)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from migrate.cli.help import TranslatedCommand
from migrate.cli.output import AS_JSON, Output
from migrate.errors import MigrateError
from migrate.i18n import _, ngettext

DATABASE = click.option(
    "--database", metavar="URL", envvar="MIGRATE_DATABASE",
    help="Run on a fleet of workers sharing this PostgreSQL database "
         "(postgresql://user@host/db; or MIGRATE_DATABASE). Without it, everything runs here.")


def _hide_password(out: Output, database: str) -> None:
    """The URL's password, masked in whatever is printed (never the whole URL: its pieces are
    ordinary words)."""
    from urllib.parse import urlsplit

    with contextlib.suppress(ValueError):
        password = urlsplit(database).password
        if password:
            out.redactor.add(password)


def _needs_fleet() -> None:
    try:
        import dbos  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        raise MigrateError(_("the fleet mode needs the 'fleet' extra: pip install "
                             "'transhumance[fleet]'")) from None


@click.command(cls=TranslatedCommand)
@click.option("--database", metavar="URL", envvar="MIGRATE_DATABASE", required=True,
              help="The fleet's PostgreSQL database (postgresql://user@host/db).")
@click.option("--threads", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Batches this worker runs at once (each host's limit holds for the fleet).")
@AS_JSON
@click.pass_obj
def worker(out: Output, database: str, threads: int, as_json: bool) -> None:
    """Run one worker of a fleet: it takes plans, steps and batches from the database's queues
    until stopped (SIGTERM or Ctrl-C); another worker finishes what it leaves."""
    _needs_fleet()
    from migrate.fleet import worker as running

    _hide_password(out, database)

    def ready(executor_id: str) -> None:
        out.echo(_("Worker {id} ready ({threads} writes at most at once on this machine)."
                   ).format(id=executor_id, threads=threads), err=True)
        if as_json:  # one line a supervisor can read: {"worker": …, "ready": true}
            out.echo(json.dumps({"worker": executor_id, "threads": threads, "ready": True}))

    running.run(database, threads, ready)


def apply(out: Output, plans: Sequence[Path], database: str, yes: bool, cancel: bool,
          step: str | None, per_host: int | None, as_json: bool) -> None:
    _needs_fleet()
    from migrate.fleet import client

    _hide_password(out, database)
    if cancel:
        found = client.cancel(database, plans)
        for plan, n in found.items():
            out.echo(ngettext("{plan}: {n} workflow cancelled; writes under way finish, the "
                              "rest waits for the next apply.",
                              "{plan}: {n} workflows cancelled; writes under way finish, the "
                              "rest waits for the next apply.", n).format(plan=plan, n=n)
                     if n else _("{plan}: nothing running.").format(plan=plan))
        return
    if not yes:
        raise click.UsageError(_("nothing was done: with --database, review with 'migrate "
                                 "plan' first, then add --yes to submit the plans"))
    options: dict[str, Any] = {"step": step, "per_host": per_host}
    submitted = client.submit(database, plans, options)
    if not as_json:
        out.echo(ngettext("Submitted {n} plan to the fleet; following it (Ctrl-C stops "
                          "following, not the work).",
                          "Submitted {n} plans to the fleet; following them (Ctrl-C stops "
                          "following, not the work).", len(submitted)).format(n=len(submitted)),
                 err=True)
    try:
        results = client.follow(database, submitted,
                                (lambda _text: None) if as_json
                                else (lambda text: out.echo(text, err=True)))
    except KeyboardInterrupt:
        out.echo(_("Stopped following; the fleet goes on. 'migrate apply --database … --cancel "
                   "PLAN' stops it; 'migrate status --database … PLAN' shows where it is."),
                 err=True)
        sys.exit(130)
    code = max((int(r.get("exit_code", 1)) for r in results.values()), default=0)
    if code == 3 and any(int(r.get("exit_code", 1)) == 1 for r in results.values()):
        code = 1
    if as_json:
        out.json({"clients": [{"plan": str(p), **r} for p, r in results.items()],
                  "exit_code": code})
    else:
        for plan, result in results.items():
            out.echo(client.result_text(plan, result))
    sys.exit(code)


def status(out: Output, plan_file: Path, database: str) -> dict[str, Any]:
    _needs_fleet()
    from migrate import api
    from migrate.fleet import client
    from migrate.plan.plan_file import load_plan

    _hide_password(out, database)
    loaded = load_plan(plan_file)
    answer: dict[str, Any] = {"plan": str(loaded.path), "organisation": loaded.organisation,
                              "journal": _without_password(database), "steps": {}, "last_run": None,
                              "last_scheduled_run": None, "lock": None}
    journal = client.open_journal(database, plan_file)
    return answer if journal is None else api.status_of(loaded, journal, answer)


def _without_password(database: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(database)
    if parts.password:
        host = parts.netloc.rsplit("@", 1)[-1]
        return parts._replace(netloc=f"{parts.username}:********@{host}").geturl()
    return database


def report_journal(out: Output, plan_file: Path, database: str) -> tuple[Any, Any]:
    _needs_fleet()
    from migrate.fleet import client
    from migrate.plan.plan_file import load_plan

    _hide_password(out, database)
    journal = client.open_journal(database, plan_file)
    if journal is None:
        raise MigrateError(_("nothing has been applied for this plan on this fleet yet; run "
                             "'migrate apply --database …' first"))
    return load_plan(plan_file), journal
