"""What counts as proof that a person asked to be mailed: one vocabulary for every source and
target, and the rules that tell a documented opt-in from an import.

Consent keys in a member's `MemberMeta.consent` (migrate/member_meta.py `Consent`,
docs/decisions/0530):

- `optin_time`, `optin_ip`: when and from where the person signed up (Mailchimp's export
  columns OPTIN_TIME/OPTIN_IP; its API calls them `timestamp_signup`/`ip_signup`);
- `confirm_time`, `confirm_ip`: when and from where they confirmed (export CONFIRM_TIME/
  CONFIRM_IP; API `timestamp_opt`/`ip_opt`);
- `permissions` (labels granted), `permissions_refused` (labels not granted) and
  `email_permission` (`granted` / `refused`) for GDPR marketing permissions;
- `source`, `unsubscribe_reason`, `unsubscribe_time`, `cleaned_time`, `cleaned_reason`.

A time with an address proves an opt-in only when the address is a real public one: Mailchimp
writes 127.0.0.1 for bulk imports, an integration writes its own server's private address, and
published exports show CONFIRM_IP holding a timestamp. Those are imports, not opt-ins.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

EVIDENCE_PAIRS = (("confirm_time", "confirm_ip"), ("optin_time", "optin_ip"))
#: What a subscribed member's evidence amounts to (the reconciliation counts each).
DOCUMENTED, NO_PERMISSION, IMPORT_ADDRESS, UNDOCUMENTED = (
    "documented", "no_email_permission", "import_address", "undocumented")
GRANTED, REFUSED = "granted", "refused"
#: Words naming the e-mail permission among an audience's GDPR permissions (the label is
#: editable: Mailchimp's default is "Email"; French audiences write "E-mail" or "Courriel").
EMAIL_WORDS = ("email", "e-mail", "courriel", "mél")
#: Addresses that are no one's own connection (RFC 1918, RFC 6598, RFC 4193, loopback,
#: link-local, unspecified, multicast). The documentation ranges (192.0.2.0/24…) are left out
#: on purpose: Python counts them as private, but they stand for public addresses in examples.
NOT_A_PERSON = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32",
    "::1/128", "::/128", "fc00::/7", "fe80::/10", "ff00::/8"))


def address_problem(value: Any) -> str | None:
    """Why an opt-in IP address proves nothing ('malformed', 'loopback', 'private'), or None."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return "malformed"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if any(address in network for network in NOT_A_PERSON if network.version == address.version):
        return "private"
    return None


def instant(value: Any) -> str | None:
    """A time as ISO 8601 in UTC (`2021-03-04T10:00:00+00:00`), whatever the source wrote
    (`2021-03-04 10:00:00` in an export, with an offset in the API); None when unreadable."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # Mailchimp's exports are in UTC
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def is_email_permission(label: str) -> bool:
    words = label.casefold()
    return any(word in words for word in EMAIL_WORDS)


def permission_consent(permissions: Iterable[tuple[str, bool]]) -> dict[str, Any]:
    """Consent keys for GDPR marketing permissions given as (label, granted) pairs."""
    pairs = [(str(label).strip(), bool(on)) for label, on in permissions if str(label).strip()]
    if not pairs:
        return {}
    consent: dict[str, Any] = {"permissions": [label for label, on in pairs if on],
                               "permissions_refused": [label for label, on in pairs if not on]}
    email = [on for label, on in pairs if is_email_permission(label)]
    if email:
        consent["email_permission"] = GRANTED if any(email) else REFUSED
    return consent


def evidence_class(consent: Mapping[str, Any]) -> str:
    """DOCUMENTED when a time and a real address of sign-up or confirmation exist and the
    e-mail permission (when the audience asks for one) was granted; otherwise why not."""
    if consent.get("email_permission") == REFUSED:
        return NO_PERMISSION
    found = UNDOCUMENTED
    for time_key, ip_key in EVIDENCE_PAIRS:
        if consent.get(time_key) and consent.get(ip_key):
            # The time is taken as written (a spreadsheet may write it its own way); the
            # address is what tells an import from a person.
            if address_problem(consent[ip_key]) is None:
                return DOCUMENTED
            found = IMPORT_ADDRESS
    return found


def has_optin_evidence(consent: Mapping[str, Any]) -> bool:
    """Whether a member's consent is documented: only then may a target mark the subscription
    as already confirmed."""
    return evidence_class(consent) == DOCUMENTED


def documented_at(consent: Mapping[str, Any]) -> str | None:
    """The latest documented opt-in time (UTC ISO), for the core's archived rule."""
    if not has_optin_evidence(consent):
        return None
    times = [instant(consent.get(t)) for t, ip in EVIDENCE_PAIRS
             if consent.get(t) and consent.get(ip) and address_problem(consent[ip]) is None]
    return max((t for t in times if t), default=None)
