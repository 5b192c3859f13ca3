"""What a plan's steps can be checked for without contacting any service: a source folder on
this computer exists, and a target folder does not lie inside its source folder (each run
would copy the copies again). Connectors say which locations are folders on this computer
(`Connector.local_folder`); the core knows no connector by name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from migrate import registry
from migrate.errors import PlanError
from migrate.i18n import _
from migrate.plan.plan_file import Endpoint, Plan, StepSpec


def check_steps(plan: Plan, config: dict[str, dict[str, Any]],
                steps: Iterable[StepSpec] | None = None) -> None:
    """Raise `PlanError` (with the step's file:line) for the first step that cannot work."""
    chosen = list(plan.steps if steps is None else steps)
    for index, spec in enumerate(plan.steps):
        if spec not in chosen:
            continue
        source = _folder(plan, config, spec.source)
        target = _folder(plan, config, spec.target)
        where = plan.positions.of_value(("steps", index, spec.action, "from"))
        if source is not None and not source.is_dir():
            raise PlanError(_("step '{step}': the source folder {path} does not exist (or is "
                              "not a folder)").format(step=spec.id, path=source), where)
        if source is not None and target is not None and (
                target == source or source in target.parents):
            where = plan.positions.of_value(("steps", index, spec.action, "to"))
            raise PlanError(_("step '{step}': the target folder {target} is inside the source "
                              "folder {source}, so each run would copy the copies again; choose "
                              "a target outside it").format(step=spec.id, target=target,
                                                            source=source), where)


def _folder(plan: Plan, config: dict[str, dict[str, Any]], endpoint: Endpoint) -> Path | None:
    spec = plan.connections.get(endpoint.connection)
    if spec is None or endpoint.connection not in config:
        return None
    connector = registry.get(spec.type)(config[endpoint.connection], plan.base_dir)
    folder = connector.local_folder(endpoint.location)
    return folder.expanduser().resolve() if folder is not None else None
