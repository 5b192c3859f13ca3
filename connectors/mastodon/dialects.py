"""The servers speaking Mastodon's API, and what each says and does differently (dialects).

Learnt from each server's own code and docs (docs/decisions/0320):

- **Mastodon** 3.5 → 4.x: `/api/v2/instance` (4.0+; 3.5 has only v1) with `configuration`
  (limits, `supported_mime_types`, `video_size_limit`); version `4.3.2`; honours
  `Idempotency-Key` for an hour (not on scheduled statuses); scheduled statuses (25 a day, 300
  in all per account); attachments in the order of `media_ids`.
- **GoToSocial**: version `0.18.3+git-…`, `source_url` on codeberg/github; ignores
  `Idempotency-Key` (issue #2723); no `/api/v1/scheduled_statuses` before 0.20 (404); counts
  links as written; default 5,000 characters and 6 attachments.
- **Akkoma / Pleroma**: version `2.7.2 (compatible; Akkoma 3.13.2)`; older releases have no
  `/api/v2/instance` (404) and give their limits in v1 as `max_toot_chars`, `upload_limit`,
  `max_media_attachments`; honour `Idempotency-Key`; scheduled statuses with Mastodon's 25/300
  (`Pleroma.ScheduledActivity`); `language` comes back null.
- **Takahē** 0.11: version `takahe/0.11.0`; answers `/api/v1/instance` and `/api/v2/instance`
  only *without* a trailing slash (Mastodon.py 2.3 adds one); ignores `Idempotency-Key` and
  `scheduled_at` (the status is published at once); no scheduled statuses (404); images only
  (`video_size_limit: 0`, image types in `supported_mime_types`, anything else answered 500);
  attachments in no fixed order; `language` null.

Where keys are ignored, the read-back by origin marker is the only guard against a post twice:
`MastodonTarget` then re-reads the account after every answer it did not get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from connectors.mastodon.text import Limits

MASTODON, GOTOSOCIAL, AKKOMA, PLEROMA, TAKAHE = (
    "Mastodon", "GoToSocial", "Akkoma", "Pleroma", "Takahē")
#: Software that does not honour `Idempotency-Key` on `POST /api/v1/statuses`.
IGNORES_IDEMPOTENCY = frozenset({GOTOSOCIAL, TAKAHE})
COMPATIBLE = re.compile(r"\(compatible;\s*(\w+)\s+([^)\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Dialect:
    """What the instance document says of the server, and what it is known to do."""

    software: str
    version: str
    limits: Limits = field(default_factory=Limits)
    #: MIME types the server accepts for attachments; empty when it does not say.
    mime_types: frozenset[str] = frozenset()

    @property
    def honours_idempotency(self) -> bool:
        return self.software not in IGNORES_IDEMPOTENCY

    def refusal(self, mime: str, size: int | None = None) -> str | None:
        """Why this server will not take an attachment of this type and size, or None."""
        from migrate.i18n import _

        is_video = mime.startswith(("video/", "audio/"))
        if is_video and self.limits.video_size_limit <= 0:
            return _("this server takes no videos")
        if self.mime_types and mime not in self.mime_types:
            return _("this server does not take {type} files").format(type=mime)
        limit = self.limits.video_size_limit if is_video else self.limits.image_size_limit
        if size is not None and size > limit:
            return _("too large for this server ({size} MB, at most {limit} MB)").format(
                size=round(size / 1e6, 1), limit=round(limit / 1e6, 1))
        return None


def software_of(instance: dict[str, Any]) -> tuple[str, str]:
    """(software, its own version) from the instance document's `version` and `source_url`."""
    version = str(instance.get("version") or "")
    source = str(instance.get("source_url") or "").lower()
    if version.lower().startswith("takahe/") or "takahe" in source:
        return TAKAHE, version.split("/", 1)[-1]
    compatible = COMPATIBLE.search(version)
    if compatible:
        name = compatible.group(1).lower()
        software = {"akkoma": AKKOMA, "pleroma": PLEROMA}.get(name, compatible.group(1))
        return software, compatible.group(2)
    if "gotosocial" in source or re.fullmatch(r"0\.\d+\.\d+(\+.*)?", version):
        return GOTOSOCIAL, version
    return MASTODON, version


def read_dialect(instance: dict[str, Any]) -> Dialect:
    """The dialect from `/api/v2/instance` (or, where it is missing, `/api/v1/instance`)."""
    software, version = software_of(instance)
    configuration = instance.get("configuration") or {}
    statuses = configuration.get("statuses") or {}
    media = configuration.get("media_attachments") or {}
    default = Limits()
    upload = _number(instance.get("upload_limit"))  # Pleroma/Akkoma's v1 document

    def pick(*values: Any, fallback: int) -> int:
        for value in values:
            number = _number(value)
            if number is not None:
                return number
        return fallback

    video = pick(media.get("video_size_limit"), upload,
                 fallback=0 if software == TAKAHE else default.video_size_limit)
    limits = Limits(
        max_characters=pick(statuses.get("max_characters"), instance.get("max_toot_chars"),
                            fallback=default.max_characters) or default.max_characters,
        characters_per_url=pick(statuses.get("characters_reserved_per_url"),
                                fallback=default.characters_per_url) or 1,
        max_media=pick(statuses.get("max_media_attachments"),
                       instance.get("max_media_attachments"), fallback=default.max_media)
        or default.max_media,
        image_size_limit=pick(media.get("image_size_limit"), upload,
                              fallback=default.image_size_limit) or default.image_size_limit,
        video_size_limit=video,
        description_limit=pick(media.get("description_limit"),
                               instance.get("description_limit"),
                               fallback=default.description_limit) or default.description_limit)
    types = frozenset(str(t).lower() for t in media.get("supported_mime_types") or [])
    return Dialect(software, version, limits, types)


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
