"""Two refusals that are about one item, not the server: a person's lock and a file too large.

- 423 on a file a person locked (Nextcloud's files_lock app): retrying for seconds is useless,
  the lock lasts until they release it. The lock owner is in the file's PROPFIND answer; the
  item is left for a later run (`SkipItem`: not recorded as done, so the next run plans it
  again) with who holds it. A 423 without an owner is another request writing the same file,
  worth retrying.
- 507 for a file larger than the space left, while smaller files still fit (Nextcloud checks
  `OC-Total-Length` on the first chunk): that file is skipped with both figures. Below 4096
  bytes free (what Nextcloud's QuotaPlugin needs for a folder) the account is full: the step
  stops, with one message.
"""

from __future__ import annotations

from connectors.dav.http import DavHttp, human_bytes
from connectors.dav.listing import LOCK_BODY, propfind, read_quota
from migrate.errors import SkipItem
from migrate.i18n import _
from migrate.model import SourceItem

#: QuotaPlugin::onCreateCollection counts a folder as 4096 bytes: below that, nothing fits.
FOLDER_BYTES = 4096


def held_lock(http: DavHttp, path: str, what: str) -> SkipItem | None:
    """The skip to raise when a person holds a lock on `path`, else None."""
    found = next(iter(propfind(http, http.url(path), "0", path, body=LOCK_BODY)), None)
    if found is None or not found.locked_by:
        return None
    return SkipItem(_("{path} is locked on the server by {who}: it is left for a later run "
                      "(ask them to unlock it, then run 'migrate apply' again)").format(
                          path=what, who=found.locked_by))


def does_not_fit(http: DavHttp, item: SourceItem) -> SkipItem | None:
    """The skip to raise when `item` alone is larger than the space left, else None."""
    _used, free = read_quota(http)
    reason = too_large(item, free)
    return SkipItem(reason) if reason else None


def too_large(item: SourceItem, free: int | None) -> str | None:
    """Why `item` alone cannot fit in `free` bytes, or None. Known from the listing's quota,
    so the plan says it (docs/decisions/0621); what many files fill together only the server
    can tell, at apply."""
    size = item.fingerprint.size
    if size is None or free is None or not FOLDER_BYTES <= free < size:
        return None
    return _("{path} ({size}) does not fit in the space left on the account ({free} "
             "free); free some space or ask the administrator to raise the quota, "
             "then run 'migrate apply' again").format(
                 path=item.path, size=human_bytes(size), free=human_bytes(free))
