"""What the member targets that write files (csv, vcard, mailpoet) share.

A target writes into a folder (the connection's `path`), its files named after the list in the
location (`csv:Lettre` → `Lettre.csv`). A write stages one row in the journal
(connectors/mailing/filestage.py);
the files are rebuilt whole from the staged rows, atomically, when the step closes or before the
target reads them back. `list_entries` reads the files themselves, so a re-run writes nothing,
and a file deleted or left stale by a crash is simply written again; a member in the files with
no staged row is not counted as held (the next publish would drop it), so it is written again.

Member states, as every file target shows them: `confirmed` (subscribed, opt-in documented),
`unconfirmed` (pending, or subscribed without evidence: to be asked again) and `blocked`
(suppressed: never in a file of people to mail).
"""

from __future__ import annotations

import re
import threading
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from connectors.mailing.filestage import MemberStage, StagedMember, replace_file, sync_folder
from connectors.mailing.members import is_documented, is_suppressed
from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.consent import MEMBER_CHECKSUM, SUPPRESSED_CHECKSUM, address_hash
from migrate.errors import FatalError, SkipItem
from migrate.i18n import _
from migrate.member_meta import member_of
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import option

CONFIRMED, UNCONFIRMED, BLOCKED = "confirmed", "unconfirmed", "blocked"
HASHED = "sha256:"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass(frozen=True, kw_only=True)
class FolderOptions:
    """The options of a target writing member files for an importer."""

    path: str = option(required=True,
                       help="The folder the files are written to, relative to the plan. "
                            "The files are named after the list in the step's 'to:'.")


def member_state(item: SourceItem) -> str:
    """What a file target shows for a member: consent decides, never the plan."""
    if is_suppressed(item):
        return BLOCKED
    if is_documented(item):
        return CONFIRMED
    return UNCONFIRMED


def member_record(item: SourceItem) -> dict[str, Any]:
    """Everything the files may show of one member (never for a suppressed one in clear,
    unless the target blocks people by address)."""
    member = member_of(item)
    return {"key": item.key, "email": (member.email or item.key).strip(),
            "name": member.name, "status": member.status,
            "source_status": member.source_status, "state": member_state(item),
            "fields": member.fields, "tags": list(member.tags),
            "consent": member.consent, "language": member.language,
            "vip": member.vip, "last_changed": member.last_changed,
            "reason": member.suppressed_because or member.status}


def list_file_stem(location: str) -> str:
    """The list's name as a file name: the location without characters files cannot have."""
    name = _UNSAFE.sub("-", location.strip().strip("/")).strip(". ")
    if not name:
        raise FatalError(_("name the list after the connection, e.g. 'csv:Lettre'"))
    return name


class FileMemberTarget(Target):
    """Stages writes, publishes whole files, reads its own files back. Subclasses render and
    parse their format."""

    # One file, one writer: parallel writes would only wait on each other. Rows are staged
    # in groups: one journal transaction for many members, not one each.
    capabilities = Capabilities(default_jobs=1, max_jobs=1, batch_size=500)
    #: True when a blocked person must appear by address to be blocked (MailPoet's
    #: unsubscribed import); otherwise only the hash of the address is kept anywhere.
    keeps_blocked_address: ClassVar[bool] = False

    def __init__(self, folder: Path, stem: str, stage: MemberStage) -> None:
        self.folder, self.stem, self.stage = folder, stem, stage
        self._dirty = False
        self._lock = threading.Lock()

    # -- formats --------------------------------------------------------------------------

    @abstractmethod
    def render(self, rows: Sequence[StagedMember]) -> list[tuple[str, bytes]]:
        """Every file's name and content. Files that list people to mail come first: a crash
        between two renames then leaves someone missing, never someone suppressed mailable."""

    @abstractmethod
    def read_back(self) -> list[tuple[str, str]]:
        """(name as `name_for` gives it, state) of everyone in the files now."""

    def owns(self, filename: str) -> bool:
        """Whether a file of the folder is one this target writes (old ones are removed)."""
        return False

    # -- the contract ---------------------------------------------------------------------

    def name_for(self, item: SourceItem) -> TargetName:
        # A row the destination's importer would drop is said in the plan, not left in a file.
        refusal = self.refusal(item)
        if is_suppressed(item) and not self.keeps_blocked_address:
            return TargetName(HASHED + address_hash(item.key), refusal=refusal)
        return TargetName(item.key, refusal=refusal)

    def refusal(self, item: SourceItem) -> str | None:
        """Why the service these files are for would refuse this member on import (None: it
        takes it); a saved plan made before a rule still never writes it."""
        return None

    def list_entries(self) -> list[TargetEntry]:
        if self._dirty:
            self.publish()
        found = self.read_back()
        if not found:
            return []
        # The files are a rendering of the staged rows: someone in them with no row (a journal
        # lost or rebuilt by `repair`, a file written by hand) would vanish at the next publish,
        # so they are not held: the diff writes them again, and they get their row back.
        versions = self.stage.fingerprints()
        return [_entry(name, state, versions[_hash_of(name)]) for name, state in found
                if _hash_of(name) in versions]

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        (result,) = self.write_batch([change], source, [idempotency_key])
        if isinstance(result, Exception):
            raise result
        return result

    def write_batch(self, changes: Sequence[Change], source: Source,
                    keys: Sequence[str]) -> list[TargetEntry | Exception]:
        """Stage the rows of every change the files can take, in one transaction."""
        results: list[TargetEntry | Exception] = []
        rows: list[StagedMember] = []
        for change, idempotency_key in zip(changes, keys, strict=True):
            item = change.item
            refused = self.refusal(item)
            if refused:
                results.append(SkipItem(refused))
                continue
            state = member_state(item)
            keep = state != BLOCKED or self.keeps_blocked_address
            rows.append(StagedMember(address_hash(item.key), state, item.fingerprint.etag,
                                     idempotency_key, member_record(item) if keep else None))
            results.append(_entry(self.name_for(item).name, state, item.fingerprint.etag))
        if rows:
            self.stage.put(rows)
            self._dirty = True
        return results

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        item = change.item
        staged = self.stage.get(address_hash(item.key))
        state = member_state(item)
        if staged is None or staged.fp != item.fingerprint.etag or staged.state != state:
            return None  # a staged row is one transaction: nothing partial to clean up
        self._dirty = True  # the files may not show it yet: publish when the step closes
        return _entry(self.name_for(item).name, state, staged.fp)

    def publish(self) -> None:
        """Rebuild every file from the staged rows (each one atomically), drop obsolete ones."""
        with self._lock:
            files = self.render(self.stage.all())
            self.folder.mkdir(parents=True, exist_ok=True)
            # Obsolete files first (a file of an old tag set may still list someone now
            # suppressed), then the new ones in the order `render` gives.
            written = {name for name, _data in files}
            for old in self.folder.iterdir():
                if old.name not in written and self.owns(old.name):
                    old.unlink()
            for name, data in files:
                replace_file(self.folder / name, data)
            sync_folder(self.folder)
            self._dirty = False

    def close(self) -> None:
        try:
            if self._dirty:
                self.publish()
        finally:
            self.stage.close()


def _hash_of(name: str) -> str:
    return name[len(HASHED):] if name.startswith(HASHED) else address_hash(name)


def _entry(name: str, state: str, version: str | None) -> TargetEntry:
    checksum = SUPPRESSED_CHECKSUM if state == BLOCKED else MEMBER_CHECKSUM
    return TargetEntry(name, ItemKind.MEMBER,
                       Fingerprint(etag=f"{version or 'foreign'}|{state}", checksum=checksum),
                       {"state": state})


def open_file_target(cls: type[FileMemberTarget], connector: Connector, location: str,
                     step: StepContext, **extra: Any) -> Any:
    """Open one of the file targets: the folder from `path`, staging in the journal (and an
    earlier version's staging file, where it kept it, moved there)."""
    folder = Path(connector.config.path).expanduser()
    folder = folder if folder.is_absolute() else connector.base_dir / folder
    stem = list_file_stem(location)
    state_dir = step.state_dir or folder / ".transhumance"
    stage = MemberStage(step.state_store,
                        state_dir / f"{step.step_id}.{connector.name}-{stem}-staging.sqlite")
    return cls(folder, stem, stage, **extra)


def first_and_last(person: dict[str, Any]) -> tuple[str, str]:
    """A first and last name: the merge fields that hold them (API or export), else the name
    split at its first space."""
    fields = person.get("fields") or {}
    first = fields.get("FNAME") or fields.get("First Name")
    last = fields.get("LNAME") or fields.get("Last Name")
    if first or last:
        return str(first or ""), str(last or "")
    given, _space, family = str(person.get("name") or "").partition(" ")
    return given, family
