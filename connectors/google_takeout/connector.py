"""`google_takeout`: the Drive part of Google Takeout archives, read in place.

Takeout splits an export into `takeout-<date>-001.zip`, `-002.zip`… (or `.tgz`); this source
reads them where they are — the zip central directories, or each tgz in one streaming pass —
so nothing is extracted to disk. Extracted folders work too (`Takeout/`, and `Takeout 2/`,
`Takeout 3/`… as macOS's Archive Utility names the later parts; `takeout-…-001/Takeout/`… as
Windows unpacks them). Pointing at any part finds the others of its export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connectors.google_takeout.assembly import Options
from connectors.google_takeout.layout import DRIVE_PRODUCTS, MY_DRIVE
from connectors.google_takeout.offer import OFFER
from connectors.google_takeout.parts import (
    EXTRACTED,
    Part,
    check_complete,
    extracted_roots,
    group_exports,
    mixed_exports_error,
    part_candidates,
    prefer_archives,
)
from connectors.google_takeout.source import GoogleTakeoutSource
from migrate.connector import Connector, StepContext
from migrate.errors import FatalError
from migrate.i18n import _
from migrate.options import option


@dataclass(frozen=True, kw_only=True)
class GoogleTakeoutOptions:
    path: str = option(
        required=True,
        help="One Takeout archive (the other parts of its export are found beside it), "
             "a folder holding one export's archives, or an extracted Takeout folder.")
    drive_folder: str | None = option(
        help="The Drive folder inside Takeout/, when the export's language names it in "
             "a way the connector does not know (e.g. 'Drive' or 'Drive/Mon Drive').")


@dataclass(frozen=True, kw_only=True)
class GoogleTakeoutStepOptions:
    trash: bool = option(
        "boolean", default=False,
        help="Also copy the Drive trash of a Google Workspace export (into 'Trash/'). "
             "Off by default: deleted files stay deleted.")


class GoogleTakeoutConnector(Connector):
    name = "google_takeout"
    init_offers = (OFFER,)
    summary = "Google Takeout archives of a Drive (zip or tgz, several parts), read in place."
    Options = GoogleTakeoutOptions
    config: GoogleTakeoutOptions
    SourceStepOptions = GoogleTakeoutStepOptions
    label = "Google Takeout"
    source_actions = ("copy",)

    def open_source(self, location: str, step: StepContext) -> GoogleTakeoutSource:
        path = (self.base_dir / self.config.path).expanduser()
        step_options: GoogleTakeoutStepOptions = self.source_options(step)
        options = Options(location.strip("/"), step_options.trash,
                          self.config.drive_folder or None)
        return GoogleTakeoutSource(parts_for(path), options)


def parts_for(path: Path) -> list[Path]:
    """The archives (or extracted folders) one export is made of, in part order."""
    if path.is_dir() and path.name == "Takeout" and Part.parse(path.parent) is not None:
        path = path.parent  # the Takeout/ folder of one unpacked part: its export, all of it
    if path.is_dir() and EXTRACTED.match(path.name) and len(extracted_roots(path.parent)) > 1:
        return extracted_roots(path.parent)  # Takeout/ beside Takeout 2/…: the later parts
    part = Part.parse(path) if path.exists() else None
    if part is not None:
        exports, _others = group_exports(part_candidates(path.parent))
        export = next(e for e in exports if any(p.path == path for p in e.parts))
        check_complete(export)
        return export.roots
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FatalError(_("there is no Takeout archive or folder at {path}").format(path=path))
    return _parts_in_folder(path)


def _parts_in_folder(path: Path) -> list[Path]:
    roots = extracted_roots(path)
    archives = part_candidates(path)
    if roots and archives:
        raise FatalError(_(
            "{path} holds both Takeout archives and extracted Takeout folders; give the path "
            "of one archive, or of a folder holding only the extracted folders").format(
                path=path))
    if roots:
        return roots
    if _is_takeout_folder(path):
        return [path]
    if not archives:
        below = _exports_below(path)
        if below:
            # A Workspace Data Export lays exports out per account: <email>/takeout-<time>/…
            raise FatalError(_(
                "{path} holds no Takeout archive or folder itself, but these folders inside it "
                "do: {found}. Give the path of one of them (one export per step)").format(
                    path=path, found=", ".join(str(p) for p in below[:5])))
        raise FatalError(_("{path} holds no Takeout archive (takeout-….zip or .tgz) and no "
                           "Takeout folder").format(path=path))
    exports, others = group_exports(archives)
    exports = prefer_archives(exports)
    if len(exports) + len(others) > 1:
        if others:
            raise FatalError(_(
                "{path} holds archives that are not all parts of one Takeout export ({names}); "
                "give the path of the archive to migrate").format(
                    path=path, names=", ".join(p.name for p in others)))
        raise mixed_exports_error(path, exports)
    if others:
        return others
    check_complete(exports[0])
    return exports[0].roots


def _is_takeout_folder(path: Path) -> bool:
    """A folder that is itself an extracted `Takeout` (renamed, or given directly)."""
    known = {n.casefold() for n in DRIVE_PRODUCTS + MY_DRIVE}
    return any(child.is_dir() and child.name.casefold() in known for child in path.iterdir())


def _exports_below(path: Path, depth: int = 2) -> list[Path]:
    """Folders under `path` (two levels at most) that hold an export."""
    found: list[Path] = []
    for child in sorted(p for p in path.iterdir() if p.is_dir()):
        if extracted_roots(child) or part_candidates(child):
            found.append(child)
        elif depth > 1:
            found += _exports_below(child, depth - 1)
    return found
