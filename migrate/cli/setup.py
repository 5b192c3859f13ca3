"""The commands around a migration rather than in it: what connectors exist, the plan schema,
the sandbox and demo, signing in, scheduling and making a client's plan. `migrate/cli/__init__.py`
registers them; like it, they only parse, call the library, print and exit."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from migrate.cli.help import TranslatedCommand, TranslatedGroup
from migrate.cli.lazy import LazyModule
from migrate.cli.output import AS_JSON, PLAN_FILE, PLAN_FILES, STATE_DIR, Output
from migrate.i18n import _
from migrate.options import describe_options
from migrate.runner.progress import QuietProgress, TextProgress

registry: Any = LazyModule("migrate.registry")  # reads every package's metadata: on first use


def _core_step_options() -> Any:
    from migrate.plan.plan_file import CORE_STEP_OPTIONS  # the plan reader (YAML) only when needed

    return CORE_STEP_OPTIONS


@click.group(cls=TranslatedGroup, invoke_without_command=True)
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
        roles = ", ".join(_("{label}: {n}").format(label=_(role), n="/".join(
            _(action) for action in row[role])) for role in ("source", "target") if row[role])
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
            "common_step_options": describe_options(_core_step_options())}
    if as_json:
        out.json(data)
        return
    out.echo(_("{label}:").format(label=connector.name) + " " + data["summary"])
    for title, rows in ((_("Connection options"), data["options"]),
                        (_("Step options (under 'with:')"), data["step_options"]),
                        (_("Options every step accepts (under 'with:')"),
                         data["common_step_options"])):
        if rows:
            out.echo("\n" + _("{label}:").format(label=title))
        for row in rows:
            flags = [_("required")] if row["required"] else []
            if row["default"] is not None:
                flags.append(_("default: {d}").format(d=_as_yaml(row["default"])))
            if row["secret"]:
                flags.append(_("secret: use ${env:…} or ${file:…}"))
            out.echo(f"  {row['name']} ({row['type']}{'; ' if flags else ''}{'; '.join(flags)})")
            if row["help"]:
                out.echo(f"      {row['help']}")


@click.command(cls=TranslatedCommand)
@click.option("-o", "--out", "output", type=click.Path(path_type=Path),
              help="Write to this file (e.g. plans/schema.json).")
@AS_JSON
@click.pass_obj
def schema(out: Output, output: Path | None, as_json: bool) -> None:
    """Print the JSON Schema of plan files, for editors (it is JSON; --json is accepted)."""
    from migrate.plan.schema import plan_schema

    text = json.dumps(plan_schema(), ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        if as_json:
            out.json({"written": str(output)})
    else:
        out.echo(text.rstrip("\n"))


@click.command(cls=TranslatedCommand,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--dir", "folder", type=click.Path(path_type=Path),
              default=Path("transhumance-sandbox"), show_default=True,
              help="Where the servers keep their data.")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Fill the servers with the demo's sample data.")
@click.option("--once", is_flag=True, help="Print the servers' details, then stop them.")
@click.option("--only", multiple=True, help="Start only this server (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="Accepted for uniformity: the servers' details are always JSON.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def sandbox(out: Output, folder: Path, seed: bool, once: bool, only: tuple[str, ...],
            as_json: bool, command: tuple[str, ...]) -> None:
    """Start local stand-ins for every service and print their URLs and credentials as JSON.

    They listen on this computer only (127.0.0.1); stop them with Ctrl-C. Given a COMMAND
    (after --), run it with the servers' TRANSHUMANCE_SANDBOX_… variables set, then stop them:
    migrate sandbox -- migrate plan transhumance-demo/demo.yaml
    """
    from sandbox import servers

    unknown = sorted(set(only) - set(servers.available()))
    if unknown:
        raise click.UsageError(_("unknown sandbox server(s): {names}; known: {known}").format(
            names=", ".join(unknown), known=", ".join(sorted(servers.available()))))
    # `kill`, `systemctl stop`, `docker stop` send SIGTERM: stop the servers as Ctrl-C does,
    # or Mailman's own processes would outlive us.
    previous = signal.signal(signal.SIGTERM, _stop_as_with_ctrl_c)
    try:
        _serve(folder, only, seed, once, command)
    finally:  # the caller's own handler again (a program running the command in-process)
        signal.signal(signal.SIGTERM, previous)


def _serve(folder: Path, only: tuple[str, ...], seed: bool, once: bool,
           command: tuple[str, ...]) -> None:
    from sandbox import servers

    with servers.running(folder, list(only) or None) as running:
        if seed:
            for server in running.values():
                server.seed_demo()
        if command:
            sys.exit(_run_with_sandbox(command, servers.environment(running)))
        # From the first line out, a supervisor may stop us (SIGTERM is Ctrl-C here): a stop
        # that lands while the details are still being written is a stop all the same.
        try:
            # Sandbox credentials are throwaway values made for this run: printing them is the
            # point.
            click.echo(json.dumps({name: server.describe() for name, server in running.items()},
                                  ensure_ascii=False, indent=2))
            if once:
                return
            click.echo(_("Sandbox running; press Ctrl-C to stop."), err=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo(_("Sandbox stopped."), err=True)


def _run_with_sandbox(command: tuple[str, ...], variables: dict[str, str]) -> int:
    """Run one command (a `migrate …`, a shell) with the sandbox's variables; its exit code."""
    import os
    import subprocess

    # `migrate` is this very installation, even when its folder is not on PATH.
    argv = [sys.executable, "-m", "migrate", *command[1:]] if command[0] == "migrate" \
        else list(command)
    try:
        return subprocess.run(argv, env={**os.environ, **variables},
                              check=False).returncode
    except FileNotFoundError:
        raise click.UsageError(_("no such command: {command}").format(command=command[0])) from None
    except KeyboardInterrupt:
        return 130


@click.command(cls=TranslatedCommand)
@click.option("--dir", "folder", type=click.Path(path_type=Path),
              default=Path("transhumance-demo"), show_default=True,
              help="Where the demo writes its plan, data, journal and report.")
@AS_JSON
@click.pass_obj
def demo(out: Output, folder: Path, as_json: bool) -> None:
    """Run the demo plan end to end against the sandbox: validate, plan, apply, report."""
    from migrate.cli import demo as demos

    if as_json:
        result = demos.run(folder.resolve(), lambda text: None, QuietProgress())
        out.json({"folder": str(result.folder), "report_html": str(result.report_html),
                  "report_md": str(result.report_md), "exit_code": result.exit_code,
                  "steps": result.counts})
    else:
        result = demos.run(folder.resolve(), out.echo, TextProgress())
        out.echo(_("Done. The report is at {html} (and {md}).").format(html=result.report_html,
                                                                      md=result.report_md))
        out.echo(_("To replay or explore the demo plan, run each command inside the sandbox "
                   "(it starts the stand-in servers, then stops them):\n"
                   "  {sandbox} -- migrate plan {plan}\n"
                   "  {sandbox} -- migrate status {plan}\n"
                   "or open a shell inside it (type exit to stop the servers):\n"
                   "  {sandbox} -- $SHELL").format(
            sandbox=f"migrate sandbox --dir {_shell_word(folder / 'sandbox')}",
            plan=_shell_word(folder / "demo.yaml")))
    sys.exit(result.exit_code)


@click.command(cls=TranslatedCommand)
@PLAN_FILE
@click.argument("connection")
@AS_JSON
@click.pass_obj
def login(out: Output, plan_file: Path, connection: str, as_json: bool) -> None:
    """Sign in to a connection's service (e.g. a volunteer's Google account) and keep access.

    For Google: while the OAuth client's consent screen is in "Testing", Google expires the
    sign-in after 7 days (runs then stop with "invalid_grant"); publish the app ("In
    production") in the Google Cloud console to keep it, or sign in again.
    """
    from migrate.cli.login import login as sign_in

    # With --json the conversation goes to stderr and stdout holds only the result.
    stored = sign_in(plan_file, connection, out.redactor,
                     lambda question: click.prompt(question, err=as_json),
                     lambda text: out.echo(text, err=as_json))
    if as_json:
        out.json({"connection": connection, "stored": str(stored)})


@click.command(cls=TranslatedCommand)
@PLAN_FILES
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
    from migrate.cli import schedule as schedules

    # Each client gets its own entry: its own lock and journal, so one slow client never
    # delays another's run. All plans are checked before anything is installed.
    from migrate.clients import state_dir_for

    planned = [schedules.build(path, step, every,
                               state_dir_for(path, state_dir, len(plan_files) > 1), env_file)
               for path in plan_files]
    documents = []
    for one in planned:
        for warning in one.warnings():
            out.echo(warning, err=True)
        lines = schedules.run(one, kind, install, crontab_file, systemd_dir)
        documents.append({"plan": str(one.plan), "step": one.step, "with": kind,
                          "every_minutes": one.minutes, "command": one.shell(),
                          "cron_line": one.cron_line(), "systemd_units": one.systemd_units(),
                          "log": str(one.log), "installed": install, "messages": lines,
                          "warnings": one.warnings()})
        if not as_json:
            for line in lines:
                out.echo(line)
    if as_json:
        out.json(documents[0] if len(documents) == 1 else documents)


@click.command(cls=TranslatedCommand)
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
    from migrate.cli import init as scaffold

    def ask(question: scaffold.Question) -> str:
        kind = click.Choice(question.choices) if question.choices else None

        def checked(value: str) -> str:  # asked again, saying why, until it can be right
            value = kind.convert(value, None, None) if kind else value
            problem = question.problem(str(value).strip())
            if problem:
                raise click.UsageError(problem)
            return str(value)

        return str(click.prompt(question.prompt(), default=question.default or None,
                                type=kind, value_proc=checked, err=as_json))

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


def _as_yaml(value: object) -> str:
    """A default as it is written in a plan: `true`, `{}`, `[]`, not Python's `True`."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=1000).strip().removesuffix("...").strip()


def _shell_word(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def _stop_as_with_ctrl_c(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


COMMANDS = (connectors, schema, sandbox, demo, login, schedule, init)
