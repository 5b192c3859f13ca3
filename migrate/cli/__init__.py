"""The `migrate` command: parse, call `migrate.api`, render, exit. Nothing else lives here.

Exit codes: 0 success; 1 error (one plain message; the traceback only with --debug); 2 usage
error, or pending changes with `plan --detailed-exitcode`; 3 finished with items failed, in
conflict or stale; 130 stopped with Ctrl-C.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from migrate import __version__
from migrate.cli import setup as cli_setup
from migrate.cli.help import TranslatedGroup
from migrate.cli.lazy import LazyModule
from migrate.cli.output import (
    AS_JSON,
    LOG_JSON,
    PARALLEL,
    PLAN_FILE,
    PLAN_FILES,
    STATE_DIR,
    Output,
    PlainError,
)
from migrate.errors import MigrateError
from migrate.fleet import cli as fleet_cli
from migrate.i18n import _, language_kept, ngettext, number, set_language
from migrate.plan.references import Redactor
from migrate.printable import shorten
from migrate.runner.progress import QuietProgress, TextProgress

# Loaded on first use, so `migrate --version` and `--help` start fast.
api: Any = LazyModule("migrate.api")
render: Any = LazyModule("migrate.cli.render")
reports: Any = LazyModule("migrate.report")
#: `migrate.report.FORMATS`' names (tests/test_cli.py checks they agree).
REPORT_FORMATS = ("html", "json", "md")


class MigrateGroup(TranslatedGroup):
    """The one boundary where errors become one plain, redacted message and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # The language a run chose ends with it (errors are shown before), so the command can
        # be run again in the same process (tests, scripts) in another language.
        with language_kept():
            return super().main(*args, **kwargs)

    def invoke(self, context: click.Context) -> Any:
        try:
            return super().invoke(context)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except MigrateError as error:
            raise self._plain(context, str(error), error.exit_code) from None
        except KeyboardInterrupt:
            raise PlainError(_("Stopped. Run the same command again to continue."), 130) from None
        except BrokenPipeError:  # `migrate plan … | head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush does not fail again
            raise click.exceptions.Exit(141) from None  # 128 + SIGPIPE, as the shell reports
        except sqlite3.DatabaseError as error:  # the journal, mid-run: its file said no
            message = _("the journal could not be read or written ({reason}); if it is "
                        "damaged, 'migrate repair PLAN' rebuilds it from what the targets "
                        "hold").format(reason=error)
            raise self._plain(context, message, 1) from None
        except OSError as error:  # the disk or the system said no: the user can act on it
            raise self._plain(context, _os_message(error), 1) from None
        except Exception as error:  # the last line of defence: one message, no traceback
            message = _("Unexpected error: {error}. Run again with --debug for details, and "
                        "please report it.").format(error=f"{type(error).__name__}: {error}")
            raise self._plain(context, message, 1) from None

    @staticmethod
    def _plain(context: click.Context, message: str, exit_code: int) -> PlainError:
        out = context.find_object(Output)
        redact = out.redactor if out else Redactor()
        if out and out.debug:
            import traceback  # only for --debug: about 1 ms of every start otherwise

            click.echo(redact(traceback.format_exc()), err=True)
        return PlainError(redact(message), exit_code)


def _os_message(error: OSError) -> str:
    """A refusal from the system (name too long, permission, disk full) as one plain line."""
    reason = error.strerror or str(error) or type(error).__name__
    if error.filename is None:
        return _("the system refused an operation: {reason}").format(reason=reason)
    return _("cannot use {path}: {reason}").format(path=shorten(os.fsdecode(error.filename)),
                                                   reason=reason)


@click.group(cls=MigrateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrate")
@click.option("--debug", is_flag=True, help="Show full details (tracebacks) when something fails.")
@click.option("--lang", metavar="fr|en",
              help="Language of messages (e.g. fr, en); default from LANG.")
@click.pass_context
def cli(context: click.Context, debug: bool, lang: str | None) -> None:
    """Move an association's documents, posts and subscribers to free software.

    Write a plan (YAML), check it with 'migrate plan', then run it with 'migrate apply'.
    """
    set_language(lang)
    context.obj = Output(debug)


@cli.command()
@PLAN_FILE
@AS_JSON
@click.pass_obj
def validate(out: Output, plan_file: Path, as_json: bool) -> None:
    """Check a plan file and its references without contacting any service."""
    result = api.validate(plan_file, out.redactor)
    if as_json:
        out.json({"valid": True, "plan": str(plan_file), "warnings": result.warnings,
                  "steps": [s.id for s in result.plan.steps]})
        return
    for warning in result.warnings:
        out.echo(_("warning: {w}").format(w=warning), err=True)
    connections, steps = len(result.plan.connections), len(result.plan.steps)
    out.echo(_("{plan} is valid: {connections}, {steps}.").format(
        plan=plan_file,
        connections=ngettext("{n} connection", "{n} connections", connections).format(
            n=number(connections)),
        steps=ngettext("{n} step", "{n} steps", steps).format(n=number(steps))))


@cli.command()
@PLAN_FILES
@click.option("--step", help="Only this step.")
@click.option("-o", "--out", "output", type=click.Path(path_type=Path),
              help="Save the change set to apply exactly it later: migrate apply SAVED.json")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.")
@click.option("--all", "show_all", is_flag=True, help="List every item, unchanged ones too.")
@PARALLEL
@LOG_JSON
@STATE_DIR
@AS_JSON
@click.pass_obj
def plan(out: Output, plan_files: tuple[Path, ...], step: str | None, output: Path | None,
         detailed_exitcode: bool, show_all: bool, parallel: int, log_json: Path | None,
         state_dir: Path | None, as_json: bool) -> None:
    """Dry run: show what would be created, updated, skipped or in conflict, and why.

    With several plans (clients/*/plan.yaml), each client is planned side by side and a table
    sums them up.
    """
    if len(plan_files) > 1 or log_json:
        if output:
            raise click.UsageError(_("-o saves one plan: give one plan file with it"))
        from migrate import clients
        from migrate.cli import many as cli_many

        settings = clients.ManySettings(parallel, state_dir, step, debug=out.debug)
        with cli_many.event_log(log_json, out.redactor) as events:
            cli_many.plan(out, plan_files, _with_events(settings, events), detailed_exitcode,
                          as_json)
    plan_file = plan_files[0]
    result = api.plan(plan_file, out.redactor, step=step, state_dir=state_dir, output=output)
    if as_json:
        out.json(render.plan_json(result))
    else:
        out.page(render.plan_text(result, show_all))
        if output:
            out.echo(_("Saved to {path}; apply it with: migrate apply {path}").format(path=output))
    if detailed_exitcode and result.changes.has_pending():
        sys.exit(2)


@cli.command()
@PLAN_FILES
@click.option("--step", help="Only this step.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64),
              help="Items written at once (default: what suits the target).")
@click.option("--mark-seen", is_flag=True,
              help="Record what is new as already seen and write nothing (e.g. before switching "
                   "cross-posting on, so old entries are never posted).")
@PARALLEL
@click.option("--per-host", type=click.IntRange(1, 64),
              help="With several plans: writes at once to one server, all clients together "
                   "(default: what suits that server).")
@LOG_JSON
@click.option("--scheduled", is_flag=True,
              help="Record this run as a scheduled one (cron, systemd), for 'migrate status'.")
@STATE_DIR
@AS_JSON
@fleet_cli.DATABASE
@click.option("--cancel", is_flag=True, help="With --database: stop these plans on the fleet.")
@click.pass_obj
def apply(out: Output, plan_files: tuple[Path, ...], step: str | None, yes: bool,
          jobs: int | None, mark_seen: bool, parallel: int, per_host: int | None,
          log_json: Path | None, scheduled: bool, state_dir: Path | None, as_json: bool,
          database: str | None, cancel: bool) -> None:
    """Carry out a plan file, or exactly a plan saved with 'migrate plan -o'.

    With several plans (clients/*/plan.yaml), clients run side by side, sharing each server's
    limit; one client's failure never stops the others; a table sums them up and the exit code
    is the worst outcome (1 error, then 3 incomplete, then 0).
    """
    if database:
        fleet_cli.apply(out, plan_files, database, yes, cancel, step, per_host, as_json)
        return
    if len(plan_files) > 1 or log_json:
        from migrate import clients
        from migrate.cli import many as cli_many

        settings = clients.ManySettings(parallel, state_dir, step, jobs, per_host, out.debug,
                                        scheduled, mark_seen=mark_seen)
        with cli_many.event_log(log_json, out.redactor) as events:
            cli_many.apply(out, plan_files, _with_events(settings, events), yes, as_json)
        return
    plan_file = plan_files[0]

    def confirm(result: api.PlanResult) -> bool:
        if not as_json:
            out.page(render.plan_text(result))
        if yes:
            return True
        if not sys.stdin.isatty():
            raise click.UsageError(_("nothing was done: add --yes to apply without a question "
                                     "(no terminal to ask on)"))
        return click.confirm(_("Apply these changes?"), default=False)

    progress = QuietProgress() if as_json else TextProgress()
    result = api.apply(plan_file, out.redactor, confirm, step=step, state_dir=state_dir,
                       jobs=jobs, progress=progress, debug=out.debug, mark_seen=mark_seen,
                       scheduled=scheduled)
    if not result.confirmed:
        out.echo(_("Nothing was done."))
        return
    if as_json:
        out.json(render.apply_json(result))
    else:
        summary = result.changes.summary()
        if not result.changes.has_pending() and not result.stale and not summary["conflict"]:
            # Quiet for cron: one line when there is nothing new.
            out.echo(_("Nothing to do: {unchanged} unchanged, {skip} skipped.").format(
                **{k: number(v) for k, v in summary.items()}))
            sys.exit(result.exit_code)
        if not result.changes.has_pending() and not result.stale:
            out.echo(render.plan_text(api.PlanResult(result.plan, result.changes, result.steps)))
        out.echo(render.apply_text(result))
    sys.exit(result.exit_code)


@cli.command()
@PLAN_FILE
@STATE_DIR
@AS_JSON
@fleet_cli.DATABASE
@click.pass_obj
def status(out: Output, plan_file: Path, state_dir: Path | None, as_json: bool,
           database: str | None) -> None:
    """Counts by state for each step, the last run, and who holds the lock."""
    answer = (fleet_cli.status(out, plan_file, database) if database
              else api.status(plan_file, state_dir))
    out.json(answer) if as_json else out.echo(render.status_text(answer))


@cli.command()
@PLAN_FILE
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="md",
              show_default=True)
@click.option("-o", "--out", "output", type=click.Path(path_type=Path),
              help="Write the report to this file instead of the screen.")
@STATE_DIR
@AS_JSON
@fleet_cli.DATABASE
@click.pass_obj
def report(out: Output, plan_file: Path, fmt: str, output: Path | None,
           state_dir: Path | None, as_json: bool, database: str | None) -> None:
    """What was done, renamed, skipped, in conflict or failed, with reasons."""
    loaded, journal = (fleet_cli.report_journal(out, plan_file, database) if database
                       else api.open_journal_for_report(plan_file, state_dir))
    try:
        data = reports.collect(loaded, journal, out.redactor)
    finally:
        journal.close()
    text = reports.FORMATS["json" if as_json else fmt](data)
    if output:
        output.write_text(out.redactor(text), encoding="utf-8")
        out.echo(_("Report written to {path}").format(path=output), err=True)
    else:
        out.echo(text.rstrip("\n"))


@cli.command()
@PLAN_FILE
@click.option("--force", is_flag=True, help="Rebuild the journal even if it is not damaged.")
@STATE_DIR
@AS_JSON
@click.pass_obj
def repair(out: Output, plan_file: Path, force: bool, state_dir: Path | None,
           as_json: bool) -> None:
    """Rebuild a damaged journal from what the targets hold; nothing is sent again.

    The damaged journal is kept beside the new one under a dated name.
    """
    from migrate.journal import repair as repairing

    result = repairing.repair(plan_file, out.redactor, state_dir, force)
    if as_json:
        out.json({"journal": str(result.journal), "kept": [str(p) for p in result.kept],
                  "adopted": result.adopted, "left_for_apply": result.left})
        return
    for kept in result.kept:
        out.echo(_("Damaged journal kept as {path}").format(path=kept))
    for step, count in result.adopted.items():
        out.echo(_("Step '{id}': {n} already on the target, recorded as done; {m} left for the "
                   "next apply.").format(id=step, n=number(count),
                                         m=number(result.left.get(step, 0))))
    out.echo(_("Journal rebuilt: {path}").format(path=result.journal))


def _with_events(settings: Any, events: Any) -> Any:
    from dataclasses import replace

    return replace(settings, events=events)


for _command in cli_setup.COMMANDS:
    cli.add_command(_command)
cli.add_command(fleet_cli.worker)


def main() -> None:
    """The console entry point."""
    try:
        cli.main(prog_name="migrate")
    finally:
        # The process ends here: the interpreter's last collections would walk every object
        # it made once more (a few % of a short run's CPU) to free what exiting frees anyway.
        gc.freeze()
