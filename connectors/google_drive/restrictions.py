"""Files the account may not download, told apart in the plan by the fields Drive gives.

`capabilities.canDownload` is Drive's verdict for this account (it counts every restriction);
the other fields only say why, so the skip reason names what the volunteer can ask for:
`copyRequiresWriterPermission` (the owner's "viewers and commenters can't download, print or
copy"), `downloadRestrictions.itemDownloadRestriction` (the owner's or a shared drive
manager's download restriction) and `effectiveDownloadRestrictionWithContext`, which adds the
shared drive's settings and the organisation's data-loss-prevention (DLP) rules.
"""

from __future__ import annotations

from typing import Any

from migrate.i18n import _


def restriction_of(entry: dict[str, Any]) -> str | None:
    """Why this account cannot download the file, or None when it can."""
    if (entry.get("capabilities") or {}).get("canDownload", True) is not False:
        return None
    restrictions = entry.get("downloadRestrictions") or {}
    own = restrictions.get("itemDownloadRestriction") or {}
    effective = restrictions.get("effectiveDownloadRestrictionWithContext") or {}
    if entry.get("copyRequiresWriterPermission"):
        why = _("its owner does not let viewers and commenters download, print or copy it")
    elif own.get("restrictedForReaders") or own.get("restrictedForWriters"):
        why = _("its owner restricted downloading it")
    elif effective.get("restrictedForReaders") or effective.get("restrictedForWriters"):
        why = _("a rule of the organisation (data loss prevention or the shared drive's "
                "settings) forbids downloading it")
    else:
        why = _("Google does not let this account download it")
    return _("cannot be copied: {why}; ask its owner for editor access or to lift the "
             "restriction, then plan again").format(why=why)
