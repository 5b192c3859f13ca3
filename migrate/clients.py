"""Several clients' plans in one command: `migrate plan|apply clients/*/plan.yaml --parallel N`.

Each plan is one client (organisation) with its own journal, run lock and secrets. Clients run
side by side in threads (the work is network-bound, and threads let every client share one
`HostLimits`, so two clients on one Nextcloud never exceed its limit together). A client's
failure — a bad plan, a missing secret, a refused password, an unreachable server — is caught
and reported in its row; the others go on.

Secrets: every client has its own `Redactor` (its messages, journal and events mask its own
secrets), and each is included in the command's combined redactor, so every line of the
combined output — table, JSON, event log — masks every client's secrets.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate import api
from migrate.errors import Interrupted, MigrateError
from migrate.i18n import _, number
from migrate.model import Action
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.runner.events import ClientEvents, EventLog
from migrate.runner.hosts import HostLimits
from migrate.runner.progress import QuietProgress

#: Worst first: an error, then items left undone, then (plan) changes pending.
SEVERITY = {130: 4, 1: 3, 3: 2, 2: 1, 0: 0}


@dataclass
class ClientOutcome:
    """One client's row in the final table."""

    plan: Path
    #: The client's folder name (`clients/<client>/plan.yaml`): a stable id for dashboards.
    client: str
    organisation: str | None = None
    exit_code: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    #: The plain reason when the client failed or finished incomplete; redacted.
    reason: str | None = None

    @property
    def status(self) -> str:
        return {0: "ok", 2: "pending", 3: "incomplete", 130: "stopped"}.get(self.exit_code,
                                                                           "error")

    def to_json(self) -> dict[str, Any]:
        return {"client": self.client, "organisation": self.organisation,
                "plan": str(self.plan), "status": self.status,
                "exit_code": self.exit_code, "counts": self.counts,
                "duration_seconds": round(self.duration, 3), "reason": self.reason}


def worst_exit_code(outcomes: Sequence[ClientOutcome]) -> int:
    """130 if any client was stopped, else 1 if any failed outright, else 3 if any finished with
    items failed, in conflict, stale or not started, else 2 if any has changes pending (plan
    with --detailed-exitcode), else 0."""
    codes = [o.exit_code if o.exit_code in SEVERITY else 1 for o in outcomes]
    return max(codes, key=lambda code: SEVERITY[code], default=0)


@dataclass(frozen=True)
class ManySettings:
    """How several plans run: side by side, sharing host limits and one event log."""

    parallel: int = 2
    state_dir: Path | None = None
    step: str | None = None
    jobs: int | None = None
    per_host: int | None = None
    debug: bool = False
    scheduled: bool = False
    events: EventLog | None = None
    mark_seen: bool = False
    #: Called with each finished client, for a progress line.
    on_finish: Callable[[ClientOutcome], None] | None = None


def unique_plans(paths: Sequence[Path]) -> list[Path]:
    """The plans once each, in the order given (a shell glob and a name may overlap)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def state_dir_for(plan: Path, state_dir: Path | None, several: bool) -> Path | None:
    """With several plans and --state-dir, each client gets its own folder under it, so that
    clients/a/plan.yaml and clients/b/plan.yaml never share a journal."""
    if state_dir is None or not several:
        return state_dir
    return state_dir / plan.resolve().parent.name


def plan_many(paths: Sequence[Path], combined: Redactor,
              settings: ManySettings) -> list[tuple[ClientOutcome, api.PlanResult | None]]:
    """The dry run of every plan, side by side; one client's error never stops the others."""

    def one(path: Path) -> tuple[ClientOutcome, api.PlanResult | None]:
        redactor = _client_redactor(combined)
        outcome, events = _start(path, settings)
        try:
            result = api.plan(path, redactor, step=settings.step,
                              state_dir=state_dir_for(path, settings.state_dir, len(paths) > 1))
        except Exception as error:  # one client's failure never stops the others
            return _failed(outcome, error, redactor, events, settings), None
        outcome.organisation = result.plan.organisation
        outcome.counts = result.changes.summary()
        outcome.exit_code = 2 if result.changes.has_pending() else 0
        if events:
            for action, name in ((Action.CREATE, "planned"), (Action.UPDATE, "planned"),
                                 (Action.CONFLICT, "conflict"), (Action.SKIP, "skipped")):
                events.items(name, [c for c in result.changes.changes if c.action is action])
        return _finish(outcome, events, settings), result

    return _side_by_side(paths, one, settings.parallel)


def apply_many(paths: Sequence[Path], combined: Redactor,
               settings: ManySettings) -> list[ClientOutcome]:
    """Apply every plan (already confirmed), side by side, with per-host limits shared."""
    hosts = HostLimits(settings.per_host)
    stop = threading.Event()

    def one(path: Path) -> ClientOutcome:
        redactor = _client_redactor(combined)
        outcome, events = _start(path, settings)
        try:
            if stop.is_set():  # Ctrl-C came before this client's turn: it does not start
                raise Interrupted(_("not started: the run was stopped"))
            result = apply_one(path, redactor, settings, hosts, events, len(paths) > 1, stop)
        except Exception as error:  # one client's failure never stops the others
            return _failed(outcome, error, redactor, events, settings)
        outcome.organisation = result.plan.organisation
        outcome.counts = result.counts()
        outcome.exit_code = result.exit_code
        outcome.reason = incomplete_reason(result)
        return _finish(outcome, events, settings)

    return _side_by_side(paths, one, settings.parallel, stop)


def apply_one(path: Path, redactor: Redactor, settings: ManySettings,
              hosts: HostLimits | None = None,
              events: ClientEvents | None = None, several: bool = True,
              stop: threading.Event | None = None) -> api.ApplyResult:
    return api.apply(path, redactor, lambda _result: True, step=settings.step,
                     state_dir=state_dir_for(path, settings.state_dir, several),
                     jobs=settings.jobs, progress=QuietProgress(), debug=settings.debug,
                     mark_seen=settings.mark_seen, hosts=hosts, events=events,
                     scheduled=settings.scheduled, stop=stop)


def incomplete_reason(result: api.ApplyResult) -> str | None:
    """Why a finished run is not complete, in one plain line (the first fatal error wins)."""
    for step_id, outcome in result.outcomes.items():
        if outcome.fatal:
            return _("step '{id}' stopped: {why}").format(id=step_id, why=outcome.fatal)
    counts = result.counts()
    for key, message in (("failed", _("{n} items failed")), ("conflict", _("{n} conflicts")),
                         ("stale", _("{n} stale items")),
                         ("not_started", _("{n} items not started"))):
        if counts.get(key):
            return message.format(n=counts[key])
    return None


def _client_redactor(combined: Redactor) -> Redactor:
    redactor = Redactor()
    combined.include(redactor)
    return redactor


def _start(path: Path, settings: ManySettings) -> tuple[ClientOutcome, ClientEvents | None]:
    outcome = ClientOutcome(path, path.resolve().parent.name, duration=time.monotonic())
    events = settings.events.for_client(outcome.client, str(path)) if settings.events else None
    if events:
        events.run("run_start")
    return outcome, events


def _finish(outcome: ClientOutcome, events: ClientEvents | None,
            settings: ManySettings) -> ClientOutcome:
    outcome.duration = time.monotonic() - outcome.duration
    if events:
        events.run("run_end", organisation=outcome.organisation, status=outcome.status,
                   exit_code=outcome.exit_code, counts=outcome.counts,
                   duration_seconds=round(outcome.duration, 3), reason=outcome.reason)
    if settings.on_finish:
        settings.on_finish(outcome)
    return outcome


def _failed(outcome: ClientOutcome, error: Exception, redactor: Redactor,
            events: ClientEvents | None, settings: ManySettings) -> ClientOutcome:
    if isinstance(error, MigrateError):
        outcome.exit_code = 130 if isinstance(error, Interrupted) else error.exit_code
        reason = str(error)
    else:
        outcome.exit_code = 1
        reason = _("unexpected error: {error}").format(error=f"{type(error).__name__}: {error}")
        if settings.debug:
            reason += "\n" + "".join(traceback.format_exception(error))
    outcome.reason = redactor(reason)
    # The plan may be fine and a service the problem: name the client as it names itself.
    with contextlib.suppress(MigrateError):
        outcome.organisation = load_plan(outcome.plan).organisation
    return _finish(outcome, events, settings)


def _side_by_side(paths: Sequence[Path], one: Callable[[Path], Any], parallel: int,
                  stop: threading.Event | None = None) -> list[Any]:
    """Run `one` per plan in threads. Ctrl-C reaches only this (main) thread: it sets `stop`,
    every client stops as it would on Ctrl-C, and their outcomes still make the table."""
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="client") as pool:
        futures = [pool.submit(one, path) for path in paths]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            if stop is None:
                raise
            stop.set()
            return [future.result() for future in futures]


def table_text(outcomes: Sequence[ClientOutcome], planning: bool = False) -> str:
    """The final table, one row per client, then each failed client's plain reason."""
    if planning:
        keys = ("create", "update", "unchanged", "skip", "conflict")
        titles = (_("create"), _("update"), _("unchanged"), _("skipped"), _("conflicts"))
    else:
        keys = ("done", "skipped", "conflict", "failed")
        titles = (_("done"), _("skipped"), _("conflicts"), _("failed"))
    header = [_("client"), *titles, _("duration"), _("result")]
    rows = [[o.organisation or o.client, *(number(o.counts.get(k, 0)) if o.counts else "-"
                                           for k in keys),
             _("{s} s").format(s=number(o.duration, 1)), _(o.status)] for o in outcomes]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                       for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for outcome in outcomes:
        if outcome.reason:
            lines.append(_("{client} ({plan}): {reason}").format(
                client=outcome.organisation or outcome.client, plan=outcome.plan,
                reason=outcome.reason))
    return "\n".join(lines)
