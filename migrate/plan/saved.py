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

from migrate.consent import address_hash
from migrate.errors import MigrateError, StaleError
from migrate.i18n import _
from migrate.member_meta import member_of
from migrate.model import Change, ChangeSet, ItemKind
from migrate.plan.plan_file import Plan, load_plan
from migrate.printable import is_text
from migrate.private import write_private

FORMAT = "transhumance-saved-plan"
HIDDEN_PREFIX = "sha256:"


@dataclass
class SavedPlan:
    plan: Plan
    changes: ChangeSet
    steps: list[str]


def is_saved_plan(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        with open(path, "rb") as stream:  # bytes: a damaged file is still told apart
            return FORMAT.encode() in stream.read(200)
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
        "changes": [_private(change) for change in changes.changes],
    }
    write_private(path, json.dumps(document, ensure_ascii=False, indent=1))


def _private(change: Change) -> dict[str, Any]:
    """A change as saved; a suppressed member (unsubscribed, cleaned) only by its address's
    hash: the file may be mailed for review, and these people asked to be left alone. `apply`
    finds the member again by that hash (see `is_hidden`)."""
    data = change.to_json()
    if change.item.kind is not ItemKind.MEMBER or not member_of(change.item).is_suppressed():
        return data
    hidden = HIDDEN_PREFIX + address_hash(change.item.key)
    kept = {key: value for key, value in (data["data"] or {}).items()
            if key in ("status", "suppressed", "suppressed_because")}
    data.update(source_key=hidden, source_path=hidden, target_path=hidden, meta={}, data=kept)
    return data


def _checked(change: Change) -> Change:
    """A change read back has the types it was written with (the file may have been edited by
    hand): TypeError otherwise, which `read` reports as a damaged saved plan."""
    item = change.item
    texts = (change.step, item.key, item.path, change.target_name, change.reason)
    optional = (item.skip_reason, change.rename_reason)
    if not all(isinstance(t, str) and is_text(t) for t in texts) or not all(
            t is None or isinstance(t, str) for t in optional):
        raise TypeError("text expected")
    if not isinstance(item.meta, dict) or not all(isinstance(n, str) for n in change.notes):
        raise TypeError("meta or notes")
    for fingerprint in (item.fingerprint, change.expected_target):
        if fingerprint is None:
            continue
        if not (fingerprint.size is None or type(fingerprint.size) is int) or not (
                fingerprint.mtime is None or type(fingerprint.mtime) in (int, float)) or not all(
                v is None or isinstance(v, str) for v in (fingerprint.checksum, fingerprint.etag)):
            raise TypeError("fingerprint")
    return change


def is_hidden(key: str) -> bool:
    """Whether a saved change names its member by hash only (see `_private`)."""
    return key.startswith(HIDDEN_PREFIX)


def read(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise MigrateError(_("cannot read the saved plan {path}: {reason}").format(
            path=path, reason=error)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get(
            "version") != 1:
        raise MigrateError(_("{path} is not a saved plan made by 'migrate plan -o'").format(
            path=path))
    plan = load_plan(path.parent / str(document.get("plan_file")))
    if plan.digest != document.get("plan_digest"):
        raise StaleError(_("the plan file {plan} changed after {saved} was made; run "
                           "'migrate plan -o' again and review it").format(plan=plan.path,
                                                                           saved=path))
    try:
        changes = ChangeSet([_checked(Change.from_json(c)) for c in document["changes"]])
        steps = [str(step) for step in document["steps"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise MigrateError(_("the saved plan {path} is damaged (a change in it cannot be read); "
                             "run 'migrate plan -o' again").format(path=path)) from None
    return SavedPlan(plan, changes, steps)
