"""What every command shares: the redacting output, the plain error, the common options."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from migrate.i18n import _
from migrate.plan.references import Redactor
from migrate.printable import for_terminal

STATE_DIR = click.option("--state-dir", type=click.Path(path_type=Path),
                         help="Where the journal lives (default: .migrate/ beside the plan).")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


class PlanPath(click.ParamType):
    """A plan file that must exist: a missing one is a usage error (exit 2), said in the
    user's language before anything else happens (click's own wording is fixed at import)."""

    name = "plan"

    def convert(self, value: Any, param: click.Parameter | None,
                context: click.Context | None) -> Path:
        path = Path(value)
        if not path.exists():
            self.fail(_("the plan file {path} does not exist").format(path=path), param,
                      context)
        if path.is_dir():
            self.fail(_("{path} is a folder; give the plan file in it (e.g. {path}/plan.yaml)")
                      .format(path=path), param, context)
        return path


PLAN_FILE = click.argument("plan_file", metavar="PLAN", type=PlanPath())
#: `plan` and `apply` take several plans (one per client: clients/*/plan.yaml).
PLAN_FILES = click.argument("plan_files", metavar="PLAN...", nargs=-1, required=True,
                            type=PlanPath())
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
        click.echo(for_terminal(self.redactor(text)), err=err)

    def json(self, data: Any) -> None:
        self.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def page(self, text: str) -> None:
        """Long text goes through a pager on a terminal, straight out otherwise."""
        text = for_terminal(self.redactor(text))
        import shutil  # only a long page needs it (about 2 ms of every start)

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
        click.echo(for_terminal(self.message), err=True)
