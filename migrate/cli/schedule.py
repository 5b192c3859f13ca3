"""`migrate schedule`: run a plan (or one of its steps) every few minutes, with cron or a systemd
timer; one entry per client when several plans are given.

The scheduled command is `<this installation's migrate> apply <plan> [--step <step>] --yes
--scheduled` (the run is recorded as scheduled, and `migrate status` shows the last one),
with absolute paths, appending its output to `<state dir>/<plan>-<step>.log`. `apply` is safe to
run that way: it is locked, idempotent, and prints one line when there is nothing new.

Printing is the default; `install` writes the crontab (through `crontab -`, or into a given file
for tests) or the unit files (into `~/.config/systemd/user`, or a given folder). An installed
line is tagged with a comment naming the plan and step, so installing again replaces it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.journal import journal_path
from migrate.plan.plan_file import Plan, load_plan

EVERY = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$", re.IGNORECASE)
USER_UNITS = Path("~/.config/systemd/user")


@dataclass(frozen=True)
class Schedule:
    """One plan (or one of its steps), every `minutes`, as a shell command."""

    plan: Path
    step: str | None
    minutes: int
    command: list[str]
    log: Path
    env_file: Path | None
    #: `${env:…}` variables the scheduled steps read that cron or systemd will not have.
    unset: tuple[str, ...] = ()

    def warnings(self) -> list[str]:
        """What would make the scheduled run fail where the one typed by hand works."""
        if not self.unset:
            return []
        names = ", ".join(self.unset)
        if self.env_file:
            return [_("warning: {file} does not set {names}, which the plan reads with "
                      "${{env:…}}: the scheduled run would fail without them").format(
                file=self.env_file, names=names)]
        return [_("warning: the plan reads {names} with ${{env:…}}, but a scheduled run starts "
                  "without your terminal's variables, so it would fail. Either put them in a "
                  "file of NAME=value lines readable only by you (chmod 600) and add --env-file "
                  "FILE, or store them in the keyring and write ${{keyring:service/user}} in the "
                  "plan instead.").format(names=names)]

    @property
    def slug(self) -> str:
        """A name for the unit files and the crontab tag: `transhumance-<plan>-<step>`."""
        # Clients' plans are all called plan.yaml: their folder tells them apart.
        name = self.plan.stem if self.plan.stem != "plan" else self.plan.parent.name
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "plan"
        return f"transhumance-{stem}-{re.sub(r'[^A-Za-z0-9_-]+', '-', self.step or 'all')}"

    @property
    def what(self) -> str:
        return (_("step {step} of {plan}").format(step=self.step, plan=self.plan.name)
                if self.step else _("every step of {plan}").format(plan=self.plan))

    @property
    def tag(self) -> str:
        return f"# {self.slug} ({self.plan})"

    def shell(self) -> str:
        """The command line with its log redirection, as /bin/sh runs it."""
        line = " ".join(shlex.quote(part) for part in self.command)
        line = f"{line} >> {shlex.quote(str(self.log))} 2>&1"
        if self.env_file:  # cron starts with an almost empty environment: load the secrets
            line = f"set -a && . {shlex.quote(str(self.env_file))} && set +a && {line}"
        return line

    def cron_line(self) -> str:
        # `%` ends the command in a crontab line unless escaped.
        return f"{cron_times(self.minutes)} {self.shell().replace('%', chr(92) + '%')} {self.tag}"

    def systemd_units(self) -> dict[str, str]:
        """`<slug>.service` and `<slug>.timer` for a systemd user instance."""
        environment = f"EnvironmentFile={self.env_file}\n" if self.env_file else ""
        service = (
            "[Unit]\n"
            f"Description=Transhumance: {self.what}\n\n"
            "[Service]\nType=oneshot\n" + environment +
            # systemd expands `%` specifiers: a literal one is written `%%`.
            f"ExecStart=/bin/sh -c {shlex.quote(self.shell()).replace('%', '%%')}\n")
        timer = (
            "[Unit]\n"
            f"Description=Run {self.what} every {self.minutes} min\n\n"
            "[Timer]\nOnBootSec=5min\n"
            f"OnUnitActiveSec={self.minutes}min\nAccuracySec=1min\n\n"
            "[Install]\nWantedBy=timers.target\n")
        return {f"{self.slug}.service": service, f"{self.slug}.timer": timer}


def parse_every(text: str) -> int:
    """"15m", "2h", "1d" → minutes. Cron can only repeat evenly within an hour or a day."""
    match = EVERY.match(text)
    if not match or int(match.group(1)) == 0:
        raise MigrateError(_("--every {text}: give a number of minutes, hours or days, such as "
                             "15m, 2h or 1d").format(text=text))
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"m": 1, "min": 1, "h": 60, "d": 1440}[unit]


def cron_times(minutes: int) -> str:
    """The five time fields for "every `minutes`", rounded to what cron can say."""
    if minutes < 60:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes < 1440:
        hours = max(1, minutes // 60)
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    return "30 3 * * *"  # once a day, at night


def migrate_command() -> list[str]:
    """This installation's `migrate`: the script beside the running Python (its venv)."""
    script = Path(sys.executable).with_name("migrate")
    if script.exists():
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "migrate"]


def build(plan_file: Path, step: str | None, every: str, state_dir: Path | None = None,
          env_file: Path | None = None) -> Schedule:
    """Check the plan and step (every step when None), and make the schedule (nothing is
    written)."""
    plan = load_plan(plan_file)
    if step is not None:
        plan.step(step)  # an unknown step is a plain error now rather than every 15 minutes
    path = plan.path.absolute()
    command = [*migrate_command(), "apply", str(path), *(["--step", step] if step else []),
               "--yes", "--scheduled"]
    if state_dir is not None:
        command += ["--state-dir", str(state_dir.absolute())]
    log = journal_path(path, state_dir.absolute() if state_dir else None).parent / (
        f"{path.stem}-{step or 'all'}.log")
    return Schedule(path, step, parse_every(every), command, log,
                    env_file.absolute() if env_file else None,
                    _unset_variables(plan, step, env_file))


ENV_REFERENCE = re.compile(r"\$\{env:([^}]+)\}")


def _unset_variables(plan: Plan, step: str | None, env_file: Path | None) -> tuple[str, ...]:
    """The `${env:…}` names the scheduled steps' connections read, less those the env file
    sets."""
    steps = [plan.step(step)] if step else plan.steps
    used = {endpoint.connection for spec in steps for endpoint in (spec.source, spec.target)}
    names: list[str] = []
    for name in sorted(used):
        for value in plan.connections[name].options.values():
            for found in ENV_REFERENCE.findall(str(value)):
                if found not in names:
                    names.append(found)
    if env_file is not None and env_file.exists():
        given = {line.split("=", 1)[0].removeprefix("export ").strip()
                 for line in env_file.read_text(encoding="utf-8").splitlines()
                 if "=" in line and not line.lstrip().startswith("#")}
        names = [name for name in names if name not in given]
    return tuple(names)


def install_cron(schedule: Schedule, crontab_file: Path | None = None) -> str:
    """Put the line in the user's crontab (or in `crontab_file`), replacing an older one."""
    if crontab_file is not None:
        current = crontab_file.read_text(encoding="utf-8") if crontab_file.exists() else ""
    else:
        if shutil.which("crontab") is None:
            raise MigrateError(_("cron is not installed here; use --with systemd, or install "
                                 "cron (apt install cron)"))
        listed = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
        current = listed.stdout if listed.returncode == 0 else ""  # 1: no crontab yet
    kept = [line for line in current.splitlines() if not line.endswith(schedule.tag)]
    text = "\n".join([*kept, schedule.cron_line()]) + "\n"
    schedule.log.parent.mkdir(parents=True, exist_ok=True)
    if crontab_file is not None:
        crontab_file.write_text(text, encoding="utf-8")
        return str(crontab_file)
    written = subprocess.run(["crontab", "-"], input=text, text=True, capture_output=True,
                             check=False)
    if written.returncode != 0:
        raise MigrateError(_("crontab refused the new line: {reason}").format(
            reason=written.stderr.strip()))
    return "crontab"


def install_systemd(schedule: Schedule, folder: Path | None = None) -> list[Path]:
    """Write the unit files; with the default folder, also enable and start the timer."""
    target = (folder or USER_UNITS).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    schedule.log.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schedule.systemd_units().items():
        (target / name).write_text(text, encoding="utf-8")
        written.append(target / name)
    if folder is None:
        for command in (["systemctl", "--user", "daemon-reload"],
                        ["systemctl", "--user", "enable", "--now", f"{schedule.slug}.timer"]):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise MigrateError(_("'{command}' failed: {reason}").format(
                    command=" ".join(command), reason=done.stderr.strip()))
    return written


def enable_hint(schedule: Schedule) -> str:
    return (f"systemctl --user daemon-reload && "
            f"systemctl --user enable --now {schedule.slug}.timer")


def run(schedule: Schedule, kind: str, install: bool, crontab_file: Path | None = None,
        systemd_dir: Path | None = None) -> list[str]:
    """What `migrate schedule` prints: the line or units, or what it installed and where."""
    schedule.log.parent.mkdir(parents=True, exist_ok=True)  # or the log redirection fails
    if kind == "cron":
        if not install:
            return [_("# Add this line with 'crontab -e' (or run again with --install):"),
                    schedule.cron_line()]
        where = install_cron(schedule, crontab_file)
        return [_("Installed in {where}:").format(where=where), schedule.cron_line(),
                _("Its output goes to {log}").format(log=schedule.log)]
    if not install:
        lines = []
        for name, text in schedule.systemd_units().items():
            lines += [f"# {USER_UNITS / name}", text]
        return [*lines, _("# Then: {hint}").format(hint=enable_hint(schedule))]
    written = install_systemd(schedule, systemd_dir)
    lines = [_("Wrote {path}").format(path=path) for path in written]
    if systemd_dir is not None:
        lines.append(_("To start it: {hint}").format(hint=enable_hint(schedule)))
    return [*lines, _("Its output goes to {log}").format(log=schedule.log)]
