"""The bodies of `migrate plan` and `migrate apply` for several plans (or `--log-json`).

`migrate/cli/` keeps the one-plan path exactly as it was and hands over here when it is given
several plans: each is one client, run side by side (`migrate/clients.py`), then one table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import click

from migrate import clients
from migrate.cli import render
from migrate.i18n import _
from migrate.plan.references import Redactor
from migrate.runner.events import EventLog


class Out(Protocol):
    redactor: Redactor
    debug: bool

    def echo(self, text: str, err: bool = False) -> None: ...

    def json(self, data: Any) -> None: ...

    def page(self, text: str) -> None: ...


@contextmanager
def event_log(path: Path | None, redactor: Redactor) -> Iterator[EventLog | None]:
    """The `--log-json` stream, closed (flushed) whatever happens."""
    if path is None:
        yield None
        return
    log = EventLog(path, redactor)
    try:
        yield log
    finally:
        log.close()


def plan(out: Out, plans: Sequence[Path], settings: clients.ManySettings,
         detailed_exitcode: bool, as_json: bool) -> None:
    """Every client's dry run, then the table; exits with the worst outcome."""
    results = clients.plan_many(clients.unique_plans(plans), out.redactor, settings)
    outcomes = [outcome for outcome, _result in results]
    if as_json:
        out.json({"clients": [{**o.to_json(), "plan_result": render.plan_json(r) if r else None}
                              for o, r in results],
                  "exit_code": _plan_exit(outcomes, detailed_exitcode)})
    else:
        for outcome, result in results:
            if result is not None:
                out.echo(_("== {client} ({plan}) ==").format(
                    client=outcome.organisation, plan=outcome.plan))
                out.echo(render.plan_text(result) + "\n")
        out.echo(clients.table_text(outcomes, planning=True))
    sys.exit(_plan_exit(outcomes, detailed_exitcode))


def _plan_exit(outcomes: Sequence[clients.ClientOutcome], detailed_exitcode: bool) -> int:
    code = clients.worst_exit_code(outcomes)
    return code if detailed_exitcode or code != 2 else 0


def apply(out: Out, plans: Sequence[Path], settings: clients.ManySettings, yes: bool,
          as_json: bool) -> None:
    """Ask once for every client (or --yes), apply them side by side, print the table."""
    plans = clients.unique_plans(plans)
    if not yes and not _confirmed(out, plans, settings):
        out.echo(_("Nothing was done."))
        return
    if not as_json:
        out.echo(_("Applying {n} plans, {p} at a time…").format(n=len(plans),
                                                               p=settings.parallel), err=True)

        def finished(outcome: clients.ClientOutcome) -> None:
            out.echo(_("{client}: {status} in {seconds:.1f} s").format(
                client=outcome.organisation or outcome.client, status=_(outcome.status),
                seconds=outcome.duration), err=True)

        settings = _with(settings, on_finish=finished)
    outcomes = clients.apply_many(plans, out.redactor, settings)
    code = clients.worst_exit_code(outcomes)
    if as_json:
        out.json({"clients": [o.to_json() for o in outcomes], "exit_code": code})
    else:
        out.echo(clients.table_text(outcomes))
    sys.exit(code)


def _confirmed(out: Out, plans: Sequence[Path], settings: clients.ManySettings) -> bool:
    """Several plans: show every client's plan and the table, and ask once."""
    if not sys.stdin.isatty():
        raise click.UsageError(_("nothing was done: add --yes to apply without a question "
                                 "(no terminal to ask on)"))
    results = clients.plan_many(plans, out.redactor, _with(settings, events=None))
    for outcome, result in results:
        if result is not None:
            out.page(_("== {client} ({plan}) ==").format(client=outcome.organisation,
                                                        plan=outcome.plan))
            out.page(render.plan_text(result) + "\n")
    out.echo(clients.table_text([o for o, _r in results], planning=True))
    return click.confirm(_("Apply these changes for every client listed?"), default=False)


def _with(settings: clients.ManySettings, **changes: Any) -> clients.ManySettings:
    from dataclasses import replace

    return replace(settings, **changes)
