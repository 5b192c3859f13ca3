"""The `migrate` command: parse, call `migrate.api`, render, exit. Nothing else lives here.

Exit codes: 0 success; 1 error (one plain message; the traceback only with --debug); 2 usage
error, or pending changes with `plan --detailed-exitcode`; 3 finished with items failed, in
conflict or stale; 130 stopped with Ctrl-C.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import click

from migrate import __version__, api, registry, render
from migrate import report as reports
from migrate.cli_help import TranslatedGroup
from migrate.errors import MigrateError
from migrate.i18n import _, number, set_language
from migrate.options import describe_options
from migrate.plan import CORE_STEP_OPTIONS
from migrate.progress import QuietProgress, TextProgress
from migrate.references import Redactor

STATE_DIR = click.option("--state-dir", type=click.Path(path_type=Path),
                         help="Where the journal lives (default: .migrate/ beside the plan).")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
PLAN_FILE = click.argument("plan_file", metavar="PLAN", type=click.Path(path_type=Path))
#: `plan` and `apply` take several plans (one per client: clients/*/plan.yaml).
PLAN_FILES = click.argument("plan_files", metavar="PLAN...", nargs=-1, required=True,
                            type=click.Path(path_type=Path))
PARALLEL = click.option("--parallel", "-p", type=click.IntRange(1, 64), default=2,
                        show_default=True, help="With several plans: clients run at once.")
LOG_JSON = click.option("--log-json", type=click.Path(path_type=Path),
                        help="Append one JSON object per event (item, run start/end) to FILE.")


class Output:
    """Everything printed passes the redactor, so a secret can never reach the screen."""

    def __init__(self, debug: bool) -> None:
        self.redactor = Redactor()
        self.debug = debug

    def echo(self, text: str, err: bool = False) -> None:
        click.echo(self.redactor(text), err=err)

    def json(self, data: Any) -> None:
        self.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def page(self, text: str) -> None:
        """Long text goes through a pager on a terminal, straight out otherwise."""
        text = self.redactor(text)
        height = shutil.get_terminal_size().lines
        if sys.stdout.isatty() and text.count("\n") > height - 2:
            click.echo_via_pager(text + "\n")
        else:
            click.echo(text)


class PlainError(click.ClickException):
    """A message for the user, shown as it is (no 'Error:' prefix), with its own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


class MigrateGroup(TranslatedGroup):
    """The one boundary where errors become one plain, redacted message and an exit code."""

    def invoke(self, context: click.Context) -> Any:
        try:
            return super().invoke(context)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except MigrateError as error:
            raise self._plain(context, str(error), error.exit_code) from None
        except KeyboardInterrupt:
            raise PlainError(_("Stopped. Run the same command again to continue."), 130) from None
        except Exception as error:  # the last line of defence: one message, no traceback
            message = _("Unexpected error: {error}. Run again with --debug for details, and "
                        "please report it.").format(error=f"{type(error).__name__}: {error}")
            raise self._plain(context, message, 1) from None

    @staticmethod
    def _plain(context: click.Context, message: str, exit_code: int) -> PlainError:
        out = context.find_object(Output)
        redact = out.redactor if out else Redactor()
        if out and out.debug:
            click.echo(redact(traceback.format_exc()), err=True)
        return PlainError(redact(message), exit_code)


@click.group(cls=MigrateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrate")
@click.option("--debug", is_flag=True, help="Show full details (tracebacks) when something fails.")
@click.option("--lang", help="Language of messages (e.g. fr, en); default from LANG.")
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
    out.echo(_("{plan} is valid: {n} connections, {m} steps.").format(
        plan=plan_file, n=len(result.plan.connections), m=len(result.plan.steps)))


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
        from migrate import cli_many, clients

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
@click.pass_obj
def apply(out: Output, plan_files: tuple[Path, ...], step: str | None, yes: bool,
          jobs: int | None, mark_seen: bool, parallel: int, per_host: int | None,
          log_json: Path | None, scheduled: bool, state_dir: Path | None, as_json: bool) -> None:
    """Carry out a plan file, or exactly a plan saved with 'migrate plan -o'.

    With several plans (clients/*/plan.yaml), clients run side by side, sharing each server's
    limit; one client's failure never stops the others; a table sums them up and the exit code
    is the worst outcome (1 error, then 3 incomplete, then 0).
    """
    if len(plan_files) > 1 or log_json:
        from migrate import cli_many, clients

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
@click.pass_obj
def status(out: Output, plan_file: Path, state_dir: Path | None, as_json: bool) -> None:
    """Counts by state for each step, the last run, and who holds the lock."""
    answer = api.status(plan_file, state_dir)
    out.json(answer) if as_json else out.echo(render.status_text(answer))


@cli.command()
@PLAN_FILE
@click.option("--format", "fmt", type=click.Choice(sorted(reports.FORMATS)), default="md",
              show_default=True)
@click.option("-o", "--out", "output", type=click.Path(path_type=Path),
              help="Write the report to this file instead of the screen.")
@STATE_DIR
@AS_JSON
@click.pass_obj
def report(out: Output, plan_file: Path, fmt: str, output: Path | None,
           state_dir: Path | None, as_json: bool) -> None:
    """What was done, renamed, skipped, in conflict or failed, with reasons."""
    loaded, journal = api.open_journal_for_report(plan_file, state_dir)
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


@cli.group(invoke_without_command=True)
@AS_JSON
@click.pass_context
def connectors(context: click.Context, as_json: bool) -> None:
    """List the connection types this installation knows."""
    if context.invoked_subcommand:
        return
    out: Output = context.obj
    rows = []
    for name in registry.names():
        connector = registry.get(name)
        rows.append({"type": name, "summary": _(connector.summary),
                     "source": list(connector.source_actions),
                     "target": list(connector.target_actions)})
    if as_json:
        out.json(rows)
        return
    for row in rows:
        roles = ", ".join(f"{role}: {'/'.join(row[role])}" for role in ("source", "target")
                          if row[role])
        out.echo(f"{row['type']:<22} {row['summary']}  [{roles}]")


@connectors.command("show")
@click.argument("type_name", metavar="TYPE")
@AS_JSON
@click.pass_obj
def connectors_show(out: Output, type_name: str, as_json: bool) -> None:
    """The options of one connection type."""
    connector = registry.get(type_name)
    data = {"type": connector.name, "summary": _(connector.summary),
            "options": describe_options(connector.options),
            "step_options": describe_options(connector.source_step_options.merged(
                connector.target_step_options)),
            "common_step_options": describe_options(CORE_STEP_OPTIONS)}
    if as_json:
        out.json(data)
        return
    out.echo(f"{connector.name}: {data['summary']}")
    for title, rows in ((_("Connection options"), data["options"]),
                        (_("Step options (under 'with:')"), data["step_options"]),
                        (_("Options every step accepts (under 'with:')"),
                         data["common_step_options"])):
        if rows:
            out.echo(f"\n{title}:")
        for row in rows:
            flags = [_("required")] if row["required"] else []
            if row["default"] is not None:
                flags.append(_("default: {d}").format(d=row["default"]))
            if row["secret"]:
                flags.append(_("secret: use ${env:…} or ${file:…}"))
            out.echo(f"  {row['name']} ({row['type']}{'; ' if flags else ''}{'; '.join(flags)})")
            if row["help"]:
                out.echo(f"      {row['help']}")


@cli.command()
@click.option("-o", "--out", "output", type=click.Path(path_type=Path),
              help="Write to this file (e.g. plans/schema.json).")
@AS_JSON
@click.pass_obj
def schema(out: Output, output: Path | None, as_json: bool) -> None:
    """Print the JSON Schema of plan files, for editors (it is JSON; --json is accepted)."""
    from migrate.schema import plan_schema

    text = json.dumps(plan_schema(), ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        if as_json:
            out.json({"written": str(output)})
    else:
        out.echo(text.rstrip("\n"))


@cli.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path),
              default=Path("transhumance-sandbox"), show_default=True,
              help="Where the servers keep their data.")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Fill the servers with the demo's sample data.")
@click.option("--once", is_flag=True, help="Print the servers' details, then stop them.")
@click.option("--only", multiple=True, help="Start only this server (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="Accepted for uniformity: the servers' details are always JSON.")
@click.pass_obj
def sandbox(out: Output, folder: Path, seed: bool, once: bool, only: tuple[str, ...],
            as_json: bool) -> None:
    """Start local stand-ins for every service and print their URLs and credentials as JSON.

    They listen on this computer only (127.0.0.1); stop them with Ctrl-C.
    """
    from migrate.sandbox import servers

    unknown = sorted(set(only) - set(servers.available()))
    if unknown:
        raise click.UsageError(_("unknown sandbox server(s): {names}; known: {known}").format(
            names=", ".join(unknown), known=", ".join(sorted(servers.available()))))
    with servers.running(folder, list(only) or None) as running:
        if seed:
            for server in running.values():
                server.seed_demo()
        # Sandbox credentials are throwaway values made for this run: printing them is the point.
        click.echo(json.dumps({name: server.describe() for name, server in running.items()},
                              ensure_ascii=False, indent=2))
        if once:
            return
        click.echo(_("Sandbox running; press Ctrl-C to stop."), err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo(_("Sandbox stopped."), err=True)


@cli.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path),
              default=Path("transhumance-demo"), show_default=True,
              help="Where the demo writes its plan, data, journal and report.")
@AS_JSON
@click.pass_obj
def demo(out: Output, folder: Path, as_json: bool) -> None:
    """Run the demo plan end to end against the sandbox: validate, plan, apply, report."""
    from migrate import demo as demos

    if as_json:
        result = demos.run(folder.resolve(), lambda text: None, QuietProgress())
        out.json({"folder": str(result.folder), "report_html": str(result.report_html),
                  "report_md": str(result.report_md), "exit_code": result.exit_code})
    else:
        result = demos.run(folder.resolve(), out.echo, TextProgress())
        out.echo(_("Done. The report is at {html} (and {md}).").format(html=result.report_html,
                                                                      md=result.report_md))
    sys.exit(result.exit_code)


@cli.command()
@PLAN_FILE
@click.argument("connection")
@AS_JSON
@click.pass_obj
def login(out: Output, plan_file: Path, connection: str, as_json: bool) -> None:
    """Sign in to a connection's service (e.g. a volunteer's Google account) and keep access."""
    from migrate.login import login as sign_in

    # With --json the conversation goes to stderr and stdout holds only the result.
    stored = sign_in(plan_file, connection, out.redactor,
                     lambda question: click.prompt(question, err=as_json),
                     lambda text: out.echo(text, err=as_json))
    if as_json:
        out.json({"connection": connection, "stored": str(stored)})


@cli.command()
@click.argument("plan_files", metavar="PLAN...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--step", help="Only this step (e.g. posts); every step by default.")
@click.option("--every", default="15m", show_default=True, help="How often: 15m, 2h, 1d.")
@click.option("--with", "kind", type=click.Choice(["cron", "systemd"]), default="cron",
              show_default=True, help="Cron, or a systemd user timer.")
@click.option("--install", is_flag=True, help="Install it instead of printing it.")
@click.option("--crontab-file", type=click.Path(path_type=Path),
              help="Write this file instead of your crontab (for testing, or /etc/cron.d).")
@click.option("--systemd-dir", type=click.Path(path_type=Path),
              help="Write the unit files here instead of ~/.config/systemd/user.")
@click.option("--env-file", type=click.Path(path_type=Path),
              help="A file of NAME=value lines (tokens) to load before each run.")
@STATE_DIR
@AS_JSON
@click.pass_obj
def schedule(out: Output, plan_files: tuple[Path, ...], step: str | None, every: str, kind: str,
             install: bool, crontab_file: Path | None, systemd_dir: Path | None,
             env_file: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """Run plans regularly (cross-posting, agencies' clients): print or install a crontab line
    or a systemd timer for each plan given."""
    from migrate import schedule as schedules

    # Each client gets its own entry: its own lock and journal, so one slow client never
    # delays another's run. All plans are checked before anything is installed.
    from migrate.clients import state_dir_for

    planned = [schedules.build(path, step, every,
                               state_dir_for(path, state_dir, len(plan_files) > 1), env_file)
               for path in plan_files]
    documents = []
    for one in planned:
        lines = schedules.run(one, kind, install, crontab_file, systemd_dir)
        documents.append({"plan": str(one.plan), "step": one.step, "with": kind,
                          "every_minutes": one.minutes, "command": one.shell(),
                          "cron_line": one.cron_line(), "systemd_units": one.systemd_units(),
                          "log": str(one.log), "installed": install, "messages": lines})
        if not as_json:
            for line in lines:
                out.echo(line)
    if as_json:
        out.json(documents[0] if len(documents) == 1 else documents)


@cli.command()
@click.option("--answers", type=click.Path(path_type=Path),
              help="A YAML file of answers (keys as in docs/agencies.md); asks for the rest.")
@click.option("--clients-dir", type=click.Path(path_type=Path), default=Path("clients"),
              show_default=True, help="Where client folders are made.")
@click.option("--force", is_flag=True, help="Write the plan again if it already exists.")
@AS_JSON
@click.pass_obj
def init(out: Output, answers: Path | None, clients_dir: Path, force: bool,
         as_json: bool) -> None:
    """Make a client's folder and commented plan by answering a few questions.

    Never asks for a password: the plan refers to environment variables, listed at the end.
    """
    from migrate import scaffold

    def ask(question: scaffold.Question) -> str:
        kind = click.Choice(question.choices) if question.choices else None
        return str(click.prompt(_(question.text), default=question.default or None, type=kind,
                                err=as_json))

    given = scaffold.read_answers(answers) if answers else {}
    interactive = answers is None or sys.stdin.isatty()
    made = scaffold.write(scaffold.gather(given, ask if interactive else None), clients_dir,
                          force)
    if as_json:
        out.json(made.to_json())
        return
    out.echo(_("Wrote {plan}.").format(plan=made.plan))
    out.echo(_("Before running it, set these variables (never in the plan):"))
    for name, what in made.variables.items():
        out.echo(f"  export {name}=…   # {what}")
    out.echo(_("Then: migrate validate {plan} && migrate plan {plan}").format(plan=made.plan))


def _with_events(settings: Any, events: Any) -> Any:
    from dataclasses import replace

    return replace(settings, events=events)


def main() -> None:
    """The console entry point."""
    cli.main(prog_name="migrate")
