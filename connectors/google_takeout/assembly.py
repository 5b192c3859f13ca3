"""From one export's entries to source items: placed, described, or skipped with a reason.

Pure (no I/O): the entries were read by `members.py`, the Drive folder found by `layout.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.google_takeout.index import drive_listing
from connectors.google_takeout.layout import Layout
from connectors.google_takeout.members import Member
from connectors.google_takeout.metadata import (
    COMMENTS,
    EXPORT_FILES,
    INFO,
    Info,
    Matched,
    match_metadata,
    parse_info,
)
from migrate.i18n import _
from migrate.item_meta import FileMeta
from migrate.model import Fingerprint, ItemKind, SourceItem


@dataclass(frozen=True)
class Options:
    location: str = ""
    trash: bool = False
    drive_folder: str | None = None


class Assembly:
    """Turns one export's members into source items (pure: no I/O)."""

    def __init__(self, layout: Layout, members: list[Member], options: Options) -> None:
        self.layout, self.options = layout, options
        self.location = options.location.strip("/")
        self.members = members
        self.drive = [m for m in members if m.name.startswith(layout.drive + "/")]
        self._by_name: dict[str, list[Member]] = {}
        for member in self.drive:
            self._by_name.setdefault(member.name, []).append(member)
        self.described = False  # whether the export carries Drive metadata files
        self.matched = self._match()

    def _match(self) -> Matched:
        candidates: dict[str, Info | None] = {}
        for member in self.drive:
            if not member.is_folder and INFO.match(member.name.rsplit("/", 1)[-1]):
                info = parse_info(member.content)
                if info is not None:
                    candidates[member.name] = info
        # Comments files come with the metadata files (Workspace exports, shared drives'):
        # in a personal Takeout a "-comments.html" is the user's own file.
        self.described = described = self.layout.workspace or bool(candidates)
        comments, entries = [], []
        for member in self.drive:
            if member.name in candidates:
                continue
            if described and not member.is_folder and COMMENTS.match(
                    member.name.rsplit("/", 1)[-1]):
                comments.append(member.name)
            else:
                entries.append(member.name)
        # Zips rarely hold folder entries: a folder's info is matched to the folder its files
        # imply.
        entries += {name.rsplit("/", n)[0] for name in entries for n in range(1, name.count("/"))}
        return match_metadata(entries, candidates, comments)

    def items(self) -> list[SourceItem]:
        files: dict[str, SourceItem] = {}
        folders: dict[str, Member] = {}
        skipped: list[SourceItem] = []
        for member in self.drive:
            placed = self.layout.place(member.name, member.is_folder)
            if placed.path is None:
                continue
            path = self._relative(placed.path)
            if path is None or member.name in self.matched.consumed:
                continue  # outside the step's folder, or metadata already read into its item
            reason = self._skip_reason(member, placed.in_trash, placed.at_drive_root)
            if member.is_folder:
                if reason is None:
                    folders[path] = member
                continue
            item = self._file(member, path, reason)
            if reason is not None:
                skipped.append(item)
            elif path in files and files[path].fingerprint == item.fingerprint:
                continue  # the same file in two parts (never seen, harmless)
            elif path in files:
                skipped.append(item)  # listed twice: the diff reports the conflict
            else:
                files[path] = item
        implied = {"/".join(p.split("/")[:n]) for p in files for n in range(1, p.count("/") + 1)}
        result = list(files.values()) + skipped + self._missing(set(files))
        result += [self._folder(member.name, path) for path, member in folders.items()
                   if path not in implied]
        # A folder with its own Drive information (its sharing) is an item even when its files
        # imply it: the target shares the folder once rather than each file.
        result += [self._folder(name, path) for name, path in self._described_folders()
                   if path in implied and path not in folders]
        return result

    def _described_folders(self) -> list[tuple[str, str]]:
        """(name in the export, path in the copy) of the folders an info file describes."""
        found = []
        for name in self.matched.infos:
            if any(m.name == name and not m.is_folder for m in self._by_name.get(name, [])):
                continue
            placed = self.layout.place(name, is_folder=True)
            path = self._relative(placed.path) if placed.path else None
            if path is not None and not placed.in_trash:
                found.append((name, path))
        return found

    def _skip_reason(self, member: Member, in_trash: bool, at_root: bool) -> str | None:
        if in_trash and not self.options.trash:
            return _("in the Drive trash; not copied unless the step says 'trash: true'")
        base = member.name.rsplit("/", 1)[-1]
        if member.name in self.matched.orphans:
            return _("Drive information about '{title}', whose file is not in the export; "
                     "nothing to copy").format(title=self.matched.orphans[member.name])
        if member.name in self.matched.comments:
            return _("the comments of '{name}' as Google exported them; Nextcloud keeps no "
                     "comments from Drive, so they are not copied").format(
                         name=self.matched.comments[member.name].rsplit("/", 1)[-1])
        if at_root and ((EXPORT_FILES.match(base) and self.described)
                        or base == "Shared Drive Metadata.json"):
            return _("Google's description of the export ({name}), not a Drive file; not "
                     "copied").format(name=base)
        return None

    def _file(self, member: Member, path: str, reason: str | None) -> SourceItem:
        info = self.matched.infos.get(member.name)
        checksum = f"crc32:{member.crc32:08x}" if member.crc32 is not None else None
        mtime = info.mtime if info and info.mtime is not None else member.mtime
        meta: dict[str, object] = {"archive": str(member.archive), "member": member.stored_as}
        if member.offset is not None:
            meta["offset"] = member.offset
        if info is not None:
            meta["owners"] = list(info.owners)
        data = FileMeta(permissions=list(info.permissions)) if info is not None else None
        return SourceItem(path, path, ItemKind.FILE, Fingerprint(member.size, mtime, checksum),
                          meta, skip_reason=reason, data=data)

    def _folder(self, name: str, path: str) -> SourceItem:
        info = self.matched.infos.get(name)
        if info is None:
            return SourceItem(path + "/", path, ItemKind.FOLDER)
        return SourceItem(path + "/", path, ItemKind.FOLDER, meta={"owners": list(info.owners)},
                          data=FileMeta(permissions=list(info.permissions)))

    def _missing(self, present: set[str]) -> list[SourceItem]:
        """Files the export's archive_browser.html lists but no part holds."""
        pages = [m.content for m in self.members if m.name == "archive_browser.html"]
        if not pages or not pages[0]:
            return []
        listed = drive_listing(pages[0].decode("utf-8", "replace"), self.layout.drive)
        if not listed:
            return []
        # The page's names are trimmed (a name may end with a space in the archive).
        have = {_trimmed(m.name) for m in self.members}
        pairs = {tuple(name.rsplit("/", 2)[-2:]) for name in have}
        missing = []
        for name in sorted(listed):
            if _trimmed(name) in have or tuple(_trimmed(name).rsplit("/", 2)[-2:]) in pairs:
                continue  # present (maybe listed with a shorter folder name than it has)
            placed = self.layout.place(name, is_folder=False)
            path = self._relative(placed.path) if placed.path else None
            if path is None or path in present or (placed.in_trash and not self.options.trash):
                continue
            base = name.rsplit("/", 1)[-1]
            if INFO.match(base) or COMMENTS.match(base):
                continue
            missing.append(SourceItem(path, path, ItemKind.FILE, skip_reason=_(
                "not in the archive: Google lists it in archive_browser.html, but none of the "
                "export's parts holds it (Google could not export it, or a part is missing)")))
        return missing

    def _relative(self, path: str) -> str | None:
        path = path.strip("/")
        if not self.location:
            return path or None
        if path.startswith(self.location + "/"):
            return path[len(self.location) + 1:]
        return None


def _trimmed(name: str) -> str:
    return "/".join(part.strip() for part in name.split("/"))
