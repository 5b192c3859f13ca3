"""In-memory audiences of the Mailchimp emulator, and how members are rendered as JSON.

Members are kept as plain dicts in insertion order (that is the order the API pages them in);
rendering adds the derived fields (`id`, `tags_count`, truncated `tags`, `_links`) on the way out
so that 50,000 members stay cheap to hold and to seed.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")

#: Mailchimp documents the inline `tags` array of a member as "up to 50 tags"; the rest are only
#: visible through `GET /lists/{id}/members/{hash}/tags`.
INLINE_TAG_LIMIT = 50


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lowercased address (it does not strip or normalise)."""
    return hashlib.md5(email.lower().encode("utf-8")).hexdigest()


def now_iso() -> str:
    """Timestamps as Mailchimp writes them: second precision with an explicit +00:00."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class Audience:
    """One Mailchimp list ("audience") with its schema and members."""

    id: str
    web_id: int
    name: str
    double_optin: bool = False
    date_created: str = field(default_factory=now_iso)
    merge_fields: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    interests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: How long `stats` stay as first computed. Mailchimp caches an audience's counts and
    #: refreshes them minutes after a change ("stats may take a few minutes to update");
    #: 0 makes them live.
    stats_ttl: float = 300.0
    _stats_cache: tuple[float, dict[str, Any]] | None = None

    def stats(self) -> dict[str, Any]:
        """The audience's own counts, as `GET /lists/{id}` reports them under `stats`:
        cached for `stats_ttl` seconds, so a recent change does not show yet."""
        now = time.monotonic()
        if self._stats_cache is None or now - self._stats_cache[0] >= self.stats_ttl:
            self._stats_cache = (now, self._live_stats())
        return dict(self._stats_cache[1])

    def _live_stats(self) -> dict[str, Any]:
        counts = {status: 0 for status in STATUSES}
        for member in self.members.values():
            counts[member["status"]] += 1
        return {
            "member_count": counts["subscribed"],
            "total_contacts": len(self.members),
            "unsubscribe_count": counts["unsubscribed"],
            "cleaned_count": counts["cleaned"],
            "member_count_since_send": counts["subscribed"],
            "unsubscribe_count_since_send": counts["unsubscribed"],
            "cleaned_count_since_send": counts["cleaned"],
            "campaign_count": 0,
            "campaign_last_sent": "",
            "merge_field_count": len(self.merge_fields),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": 0,
            "click_rate": 0,
            "last_sub_date": "",
            "last_unsub_date": "",
        }


class MailchimpStore:
    """Every audience of one emulated account, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.audiences: dict[str, Audience] = {}
        self._ids = itertools.count(1)

    def _next_hex(self, length: int) -> str:
        return hashlib.sha1(str(next(self._ids)).encode()).hexdigest()[:length]

    def add_audience(self, name: str, double_optin: bool = False) -> Audience:
        """Create an audience; its id is a 10-hex string like Mailchimp's."""
        with self.lock:
            audience = Audience(
                id=self._next_hex(10), web_id=next(self._ids), name=name, double_optin=double_optin
            )
            self.audiences[audience.id] = audience
            return audience

    def add_merge_field(
        self, audience: Audience, tag: str, name: str, type_: str, **extra: Any
    ) -> dict[str, Any]:
        """Declare a merge field (text, number, address, phone, date, birthday, ...)."""
        merge_field = {
            "merge_id": len(audience.merge_fields) + 1,
            "tag": tag,
            "name": name,
            "type": type_,
            "required": extra.pop("required", False),
            "default_value": "",
            "public": True,
            "display_order": len(audience.merge_fields) + 2,
            "options": extra.pop("options", {}),
            "help_text": "",
            "list_id": audience.id,
        }
        merge_field.update(extra)
        audience.merge_fields.append(merge_field)
        return merge_field

    def add_interest_category(self, audience: Audience, title: str, type_: str) -> dict[str, Any]:
        """Declare a group of interests (checkboxes, radio, dropdown, hidden)."""
        category = {
            "list_id": audience.id,
            "id": self._next_hex(10),
            "title": title,
            "display_order": len(audience.categories),
            "type": type_,
        }
        audience.categories.append(category)
        audience.interests[category["id"]] = []
        return category

    def add_interest(self, audience: Audience, category_id: str, name: str) -> dict[str, Any]:
        """Add one interest to a category; its `subscriber_count` is computed when listed."""
        interest = {
            "category_id": category_id,
            "list_id": audience.id,
            "id": self._next_hex(10),
            "name": name,
            "display_order": len(audience.interests[category_id]),
        }
        audience.interests[category_id].append(interest)
        return interest

    def add_permission(self, audience: Audience, text: str) -> dict[str, Any]:
        """Declare a GDPR marketing permission of the audience."""
        permission = {"marketing_permission_id": self._next_hex(10), "text": text}
        audience.permissions.append(permission)
        return permission

    def add_member(self, audience: Audience, email: str, **fields: Any) -> dict[str, Any]:
        """Store a member; the casing of `email` is kept, identity is the lowercased form.

        Raises ValueError when an address differing only by case already exists, as Mailchimp
        answers "Member Exists" in that case.
        """
        key = subscriber_hash(email)
        with self.lock:
            if key in audience.members:
                raise ValueError(f"{email} is already a list member")
            member = new_member(audience, email, self._next_hex(10), **fields)
            audience.members[key] = member
            return member


def new_member(audience: Audience, email: str, unique_id: str, **fields: Any) -> dict[str, Any]:
    """The stored form of a member with Mailchimp's defaults for every field not given."""
    tags = fields.pop("tags", [])
    member: dict[str, Any] = {
        "email_address": email,
        "unique_email_id": unique_id,
        "contact_id": hashlib.md5(unique_id.encode()).hexdigest(),
        "full_name": "",
        "web_id": int(unique_id[:7], 16),
        "email_type": "html",
        "status": "subscribed",
        "consents_to_one_to_one_messaging": True,
        "unsubscribe_reason": "",
        "merge_fields": {mf["tag"]: "" for mf in audience.merge_fields},
        "interests": {i["id"]: False for group in audience.interests.values() for i in group},
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": "",
        "timestamp_opt": "",
        "member_rating": 2,
        "last_changed": now_iso(),
        "language": "",
        "vip": False,
        "email_client": "",
        "location": {"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0,
                     "country_code": "", "timezone": "", "region": ""},
        "marketing_permissions": [
            {**p, "enabled": False} for p in audience.permissions
        ],
        "source": "API - Generic",
        "list_id": audience.id,
    }
    for key, value in fields.items():
        if isinstance(member.get(key), dict) and isinstance(value, dict) and key != "location":
            member[key] = {**member[key], **value}
        else:
            member[key] = value
    member["full_name"] = member["full_name"] or _full_name(member["merge_fields"])
    audience.tags[subscriber_hash(email)] = [
        {"id": zlib.crc32(name.encode()) % 10**6, "name": name,
         "date_added": member["last_changed"]}
        for name in tags
    ]
    return member


def _full_name(merge_fields: dict[str, Any]) -> str:
    return " ".join(str(merge_fields.get(t) or "") for t in ("FNAME", "LNAME")).strip()


def render_member(audience: Audience, key: str, member: dict[str, Any]) -> dict[str, Any]:
    """The JSON of one member; the inline `tags` stops at INLINE_TAG_LIMIT, `tags_count` not."""
    tags = audience.tags.get(key, [])
    return {
        "id": key,
        **member,
        "tags_count": len(tags),
        "tags": [{"id": t["id"], "name": t["name"]} for t in tags[:INLINE_TAG_LIMIT]],
        "_links": [{"rel": "self", "href": f"/3.0/lists/{audience.id}/members/{key}",
                    "method": "GET"}],
    }


def render_audience(audience: Audience) -> dict[str, Any]:
    """The JSON of one audience, with its live `stats`."""
    return {
        "id": audience.id,
        "web_id": audience.web_id,
        "name": audience.name,
        "contact": {"company": audience.name, "address1": "", "address2": "", "city": "",
                    "state": "", "zip": "", "country": "FR", "phone": ""},
        "permission_reminder": "Vous recevez ce courriel car vous êtes adhérent·e.",
        "use_archive_bar": True,
        "campaign_defaults": {"from_name": audience.name, "from_email": "contact@example.org",
                              "subject": "", "language": "fr"},
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": audience.date_created,
        "list_rating": 0,
        "email_type_option": False,
        "subscribe_url_short": f"http://eepurl.example/{audience.id}",
        "subscribe_url_long": f"https://list-manage.example/subscribe?id={audience.id}",
        "beamer_address": "",
        "visibility": "prv",
        "double_optin": audience.double_optin,
        "has_welcome": False,
        "marketing_permissions": bool(audience.permissions),
        "modules": [],
        "stats": audience.stats(),
        "_links": [{"rel": "self", "href": f"/3.0/lists/{audience.id}", "method": "GET"}],
    }
