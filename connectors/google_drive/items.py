"""From the rebuilt tree to the step's items: exports, link files, shortcuts, skips, sharing.

Folders follow `connectors/local/`: a folder with something copied inside is created with its
first file, so only folders with nothing copied inside become FOLDER items — an empty (or
all-skipped) folder would otherwise be lost, and listing every folder would double the plan.
One addition: a folder shared with someone is an item too, carrying its permissions, so the
target can share the folder rather than each file in it — and so is each top-level folder of a
shared drive, carrying the drive's memberships, which deeper items carry marked `inherited`
(group-folder placement reads them there; file shares are made once, at the top).

Decided here, in the plan, rather than failing at apply: files the account may not download
(`capabilities.canDownload` false: the owner's "no download or copy for viewers", Drive's
download restrictions, an organisation's data-loss-prevention rule) are skipped with the
reason; files others shared with the account are skipped, one line per shared folder or file
with what it holds, unless `shared_with_me` is on.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from connectors.google_drive import formats
from connectors.google_drive.levels import add_levels
from connectors.google_drive.listing import (
    SHARED_WITH_ME,
    DriveListing,
    fingerprint_of,
    folder_item,
    permissions_of,
)
from connectors.google_drive.restrictions import restriction_of
from migrate.i18n import _, ngettext
from migrate.item_meta import FileMeta
from migrate.model import Fingerprint, ItemKind, SourceItem

OPEN_URL = "https://drive.google.com/open?id={id}"


def build_items(listing: DriveListing) -> list[SourceItem]:
    """Every item of the step's scope, parents' paths before children's, sorted by path."""
    scoped = listing.in_scope()
    items = _not_shared_with_me(listing, scoped)
    for file_id, path in scoped.items():
        entry = listing.files[file_id]
        if entry["mimeType"] != formats.FOLDER:
            items.append(_item(listing, file_id, path, entry, scoped))
    if listing.scope.fetch_permissions:
        listing.fetch_shared_drive_permissions(
            [i.meta["content_id"] for i in items if not i.skip_reason
             and listing.files.get(i.key, {}).get("driveId")]
            + [f for f in scoped if _is_drive_top_folder(listing, f)])
    folders_with_content = {"/".join(i.path.split("/")[:n]) for i in items if not i.skip_reason
                            for n in range(1, i.path.count("/") + 1)}
    items += [folder_item(file_id, path, listing.files[file_id])
              for file_id, path in scoped.items()
              if listing.files[file_id]["mimeType"] == formats.FOLDER
              and (path not in folders_with_content or _is_shared(listing.files[file_id])
                   or (_is_drive_top_folder(listing, file_id)
                       and file_id in listing.drive_grants))]
    # What targets read of each item (sharing, levels), filled in by the passes below; built
    # directly (dataclasses.replace costs twice as much, per item of 100,000s).
    items = [SourceItem(i.key, i.path, i.kind, i.fingerprint, i.meta, i.skip_reason, FileMeta())
             for i in items]
    _add_sharing(listing, items)
    for item in items:  # a shared drive's organizers may acknowledge abuse, like owners
        if item.meta.get("how") == "media" and listing.files.get(
                item.meta["content_id"], {}).get("driveId") in listing.managed_drives:
            item.meta["may_acknowledge_abuse"] = True
    _rank_duplicates(listing, items)
    add_levels(listing, items)
    return sorted(items, key=lambda i: (i.path, i.key))


def _not_shared_with_me(listing: DriveListing, scoped: dict[str, str]) -> list[SourceItem]:
    """With `shared_with_me` off, take what others shared with the account out of `scoped`
    and return one skipped item per shared folder or file, saying what it holds."""
    if listing.scope.shared_with_me or listing.scope.location.strip("/").startswith(
            SHARED_WITH_ME):
        return []
    shared = [f for f in scoped if (listing.path_of(f) or "").startswith(SHARED_WITH_ME + "/")]
    tops: dict[str, list[str]] = defaultdict(list)
    for file_id in shared:
        top = "/".join((listing.path_of(file_id) or "").split("/")[:2])
        tops[top].append(file_id)
        del scoped[file_id]
    skipped = []
    for top, ids in tops.items():
        head = next(f for f in ids if listing.path_of(f) == top)
        entry, inside = listing.files[head], len(ids) - 1
        reason = ngettext(
            "shared with this account by someone else ({count} item inside); not copied: "
            "add 'shared_with_me: true' to the step's 'with:' to copy it",
            "shared with this account by someone else ({count} items inside); not copied: "
            "add 'shared_with_me: true' to the step's 'with:' to copy it", inside).format(
                count=inside)
        kind = ItemKind.FOLDER if entry["mimeType"] == formats.FOLDER else ItemKind.FILE
        skipped.append(SourceItem(head, top, kind, fingerprint_of(entry, True), _meta(entry),
                                  skip_reason=reason))
    return skipped


def _is_drive_top_folder(listing: DriveListing, file_id: str) -> bool:
    entry = listing.files.get(file_id, {})
    return bool(entry.get("driveId")) and entry.get("mimeType") == formats.FOLDER and \
        (entry.get("parents") or [None])[0] == entry.get("driveId")


def _is_shared(entry: dict[str, Any]) -> bool:
    """A folder shared with someone: an item of its own, so its sharing can be recreated."""
    return any(grant.get("role") != "owner" for grant in entry.get("permissions") or [])


def _meta(entry: dict[str, Any], **more: Any) -> dict[str, Any]:
    meta = {"name": entry["name"], "parents": entry.get("parents", []),
            "mime": entry["mimeType"], "content_id": entry["id"]}
    meta.update(more)
    return meta


def _item(listing: DriveListing, file_id: str, path: str, entry: dict[str, Any],
          scoped: dict[str, str]) -> SourceItem:
    if entry["mimeType"] == formats.SHORTCUT:
        return _shortcut(listing, file_id, path, entry, scoped)
    return _content_item(listing.scope.google_docs, listing.scope.unsupported, file_id, path,
                         entry, entry)


def _content_item(choice: str, unsupported: str, key: str, path: str, entry: dict[str, Any],
                  content: dict[str, Any]) -> SourceItem:
    """An item named after `entry` whose bytes are those of `content` (itself, or the target
    of a followed shortcut)."""
    mime = content["mimeType"]
    restricted = restriction_of(content)
    if restricted:
        return SourceItem(key, path, ItemKind.FILE,
                          fingerprint_of(content, formats.is_google_type(mime)),
                          _meta(entry), skip_reason=restricted)
    if not formats.is_google_type(mime):
        may_acknowledge = bool(content.get("ownedByMe"))
        return SourceItem(key, path, ItemKind.FILE, fingerprint_of(content, exported=False),
                          _meta(entry, how="media", content_id=content["id"],
                                **({"may_acknowledge_abuse": True} if may_acknowledge else {})))
    export = formats.export_for(mime, choice)
    if export is not None:
        export_mime, extension = export
        named = path if path.lower().endswith(extension) else path + extension
        how = "operation" if mime in formats.DOWNLOAD_OPERATION else "export"
        return SourceItem(key, named, ItemKind.FILE, fingerprint_of(content, exported=True),
                          _meta(entry, how=how, content_id=content["id"],
                                export_mime=export_mime,
                                export_link=formats.export_link(content, export_mime)))
    if unsupported == "link":
        return _link_item(key, path, entry, content)
    return SourceItem(key, path, ItemKind.FILE, fingerprint_of(content, exported=True),
                      _meta(entry), skip_reason=formats.skip_reason_for(mime))


def _link_item(key: str, path: str, entry: dict[str, Any], target: dict[str, Any]) -> SourceItem:
    url = target.get("webViewLink") or OPEN_URL.format(id=target["id"])
    data = formats.link_file(url)
    return SourceItem(key, path + ".url", ItemKind.FILE,
                      Fingerprint(size=len(data), mtime=fingerprint_of(entry, True).mtime,
                                  etag="link:" + url),
                      _meta(entry, how="link", url=url))


def _shortcut(listing: DriveListing, file_id: str, path: str, entry: dict[str, Any],
              scoped: dict[str, str]) -> SourceItem:
    """Shortcuts never copy a file twice: followed only when their target is out of scope."""
    details = entry.get("shortcutDetails") or {}
    target_id = details.get("targetId", "")
    target = listing.files.get(target_id)
    mode = listing.scope.shortcuts
    skipped = SourceItem(file_id, path, ItemKind.FILE, fingerprint_of(entry, True), _meta(entry))

    def skip(reason: str) -> SourceItem:
        return SourceItem(skipped.key, path, ItemKind.FILE, skipped.fingerprint, skipped.meta,
                          skip_reason=reason)

    if mode == "skip":
        return skip(_("a shortcut; shortcuts are not copied (shortcuts: skip)"))
    if target is None:
        return skip(_("a shortcut to a file that no longer exists or is not shared with this "
                      "account"))
    if mode == "link":
        return _link_item(file_id, path, entry, target)
    if target_id in scoped:
        return skip(_("a shortcut to '{path}', which is copied already").format(
            path=scoped[target_id]))
    if target["mimeType"] == formats.FOLDER:
        return skip(_("a shortcut to a folder outside what is copied ('{path}'); add a step "
                      "for that folder, or use shortcuts: link").format(
                          path=listing.path_of(target_id) or target["name"]))
    suffix = Path(target["name"]).suffix
    if suffix and not path.lower().endswith(suffix.lower()):
        path += suffix  # a shortcut named "Charte" to "Charte.pdf" keeps the file's type
    return _content_item(listing.scope.google_docs, listing.scope.unsupported, file_id, path,
                         entry, target)


def _add_sharing(listing: DriveListing, items: list[SourceItem]) -> None:
    """Inline permissions where Drive gives them; permissions.list for shared-drive items
    (fetched by build_items); what could not be read is said in `sharing_unread`."""
    if not listing.scope.fetch_permissions:
        return

    def grants_of(file_id: str) -> list[dict[str, Any]]:
        entry = listing.files.get(file_id, {})
        found = listing.drive_grants.get(file_id) if entry.get("driveId") \
            else entry.get("permissions")
        return permissions_of(found or [])

    shared_folders = {i.key for i in items if i.kind is ItemKind.FOLDER}
    for item in items:
        if item.skip_reason:
            continue
        entry = listing.files.get(item.key, {})
        grants = grants_of(item.key)
        parent = (entry.get("parents") or [None])[0]
        if parent in shared_folders:
            # Drive lists a folder's grants on each file inside; the folder's share covers them.
            # Drive memberships stay on every item: the target places items by them (0430).
            inherited = grants_of(parent)
            grants = [g for g in grants if g not in inherited or g.get("space_member")]
        if entry.get("driveId") and parent != entry.get("driveId"):
            # Below the drive's top level, its memberships are the top items' shares already.
            grants = [{**g, "inherited": True} if g.get("space_member") else g for g in grants]
        assert item.data is not None
        if grants:
            item.data.permissions = grants  # type: ignore[assignment]
        if item.key in listing.unread_sharing:
            item.data.sharing_unread = listing.unread_sharing[item.key]


def _rank_duplicates(listing: DriveListing, items: list[SourceItem]) -> None:
    """Several Drive items with one path: each gets `same_name_rank` (0 = oldest, then by id),
    so a target can rename the others deterministically and stably across runs."""
    by_path: dict[str, list[SourceItem]] = defaultdict(list)
    for item in items:
        by_path[item.path].append(item)
    for group in by_path.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda i: (listing.files.get(i.key, {}).get("createdTime", ""), i.key))
        for rank, item in enumerate(group):
            assert item.data is not None
            item.data.same_name_rank = rank
