"""Saved plans: the reviewed change set, written by `plan -o` and applied as it is.

A saved plan holds the changes and each item's precondition, the plan file's path and digest —
never a connection's options, so never a secret.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError, StaleError
from migrate.i18n import _
from migrate.model import Change, ChangeSet
from migrate.plan import Plan, load_plan

FORMAT = "transhumance-saved-plan"


@dataclass
class SavedPlan:
    plan: Plan
    changes: ChangeSet
    steps: list[str]


def is_saved_plan(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        with open(path, encoding="utf-8") as stream:
            return FORMAT in stream.read(200)
    except OSError:
        return False


def write(path: Path, plan: Plan, changes: ChangeSet, steps: list[str]) -> None:
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "plan_file": os.path.relpath(plan.path.resolve(), path.resolve().parent),
        "plan_digest": plan.digest,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "steps": steps,
        "summary": changes.summary(),
        "changes": [change.to_json() for change in changes.changes],
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def read(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MigrateError(_("cannot read the saved plan {path}: {reason}").format(
            path=path, reason=error)) from None
    if document.get("format") != FORMAT or document.get("version") != 1:
        raise MigrateError(_("{path} is not a saved plan made by 'migrate plan -o'").format(
            path=path))
    plan = load_plan(path.parent / document["plan_file"])
    if plan.digest != document["plan_digest"]:
        raise StaleError(_("the plan file {plan} changed after {saved} was made; run "
                           "'migrate plan -o' again and review it").format(plan=plan.path,
                                                                           saved=path))
    changes = ChangeSet([Change.from_json(c) for c in document["changes"]])
    return SavedPlan(plan, changes, list(document["steps"]))
