"""Deterministic audiences for tests, benchmarks and `migrate demo`.

`seed_audience(server, members=5000, rng_seed=7)` builds one audience that holds every trap a
migration meets in a real association's Mailchimp account:

- every status (subscribed, unsubscribed, cleaned, pending, transactional, archived);
- FNAME/LNAME with French accents, an ADDRESS object (or "" when unknown), BIRTHDAY ("MM/DD"),
  a date (ADHESION, "YYYY-MM-DD"), a phone;
- tags, some with commas in their names, and some members with more tags than the inline limit
  (INLINE_TAG_LIMIT) so a client must call the member tags endpoint;
- interests in two categories, GDPR marketing permissions;
- consent evidence: some members with opt-in IP and time, imported ones without;
- addresses with upper-case letters (Mailchimp keeps the casing, its id is the MD5 of the
  lowercased form), IDN domains, and a few invalid-looking addresses that an old import let in.

Mailchimp cannot hold two members of one audience that differ only by case, so case-duplicates
are generated across audiences: a second audience ("Lettre d'information") repeats some
members of the first with another casing. A migration merging both into one listmonk instance
(which lowercases) must treat them as one person. See docs/decisions/0202.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.mailchimp.store import (
    INLINE_TAG_LIMIT,
    STATUSES,
    Audience,
    MailchimpStore,
    subscriber_hash,
)

FIRST_NAMES = ("Élodie", "Jérôme", "Loïc", "Anaïs", "François", "Hélène", "Zoé", "Gaël",
               "Maëlle", "Benoît", "Cécile", "Noémie", "Ségolène", "Thérèse", "Raphaël", "Inès",
               "Jean", "Marie", "Ahmed", "Nguyễn", "Chloé", "Léa", "Björn", "Agnès")
LAST_NAMES = ("Lefèvre", "Müller", "Dupré", "Barthélemy", "Garçon", "N'Diaye", "Crémieux",
              "Lemaître", "Pérez", "Sørensen", "Faure", "Giraud", "Le Bihan", "de La Tour",
              "Bouchard", "Ébrard", "Côté", "Martin", "Weiß", "Ollivier")
DOMAINS = ("exemple.fr", "courriel.example", "asso-lecentsept.example", "mail.example.org")
IDN_DOMAINS = ("café-associatif.fr", "müller-verein.de", "élan-solidaire.fr")
CITIES = (("Lyon", "69001"), ("Saint-Étienne", "42000"), ("Besançon", "25000"),
          ("Orléans", "45000"), ("Nîmes", "30000"))
INVALID_PATTERNS = ("jean..dupont{i}@exemple.fr", "contact{i}@asso", "marie{i}@exemple.fr.",
                    "benevole {i}@exemple.fr")
STATUS_WEIGHTS = (70, 12, 6, 5, 4, 3)
UNSUBSCRIBE_REASONS = ("N/A (Unsubscribed by admin)", "Je ne souhaite plus recevoir ces e-mails",
                       "Les e-mails sont trop fréquents", "")
EPOCH = datetime(2018, 1, 1, tzinfo=UTC)


@dataclass
class SeededAudience:
    """What was seeded, so tests can assert against the emulator's answers."""

    list_id: str
    second_list_id: str | None
    status_counts: dict[str, int]
    emails: list[str] = field(default_factory=list)
    heavy_tag_hashes: list[str] = field(default_factory=list)
    case_variants: list[tuple[str, str]] = field(default_factory=list)
    invalid_emails: list[str] = field(default_factory=list)
    archived_emails: list[str] = field(default_factory=list)


def seed_audience(server: Any, members: int = 5000, rng_seed: int = 7,
                  name: str = "Les Amis du Centsept", second_audience: bool = True,
                  documented: float = 0.6) -> SeededAudience:
    """Fill `server` (a MailchimpServer or a bare MailchimpStore) deterministically.

    `documented`: the share of members who signed up through a form, with the time and IP of
    their opt-in; the others were imported (no IP, so no documented consent)."""
    store: MailchimpStore = getattr(server, "store", server)
    rng = random.Random(rng_seed)
    with store.lock:
        audience = _declare_schema(store, name)
        tags = _tag_pool()
        seeded = SeededAudience(audience.id, None, dict.fromkeys(STATUSES, 0))
        for i in range(members):
            email = _email(rng, i)
            fields = _member_fields(rng, audience, i, tags, documented)
            store.add_member(audience, email, **fields)
            seeded.emails.append(email)
            seeded.status_counts[fields["status"]] += 1
            if fields["status"] == "archived":
                seeded.archived_emails.append(email)
            if len(fields["tags"]) > INLINE_TAG_LIMIT:
                seeded.heavy_tag_hashes.append(subscriber_hash(email))
            if i % 1000 == 7:
                seeded.invalid_emails.append(email)
        if second_audience:
            _seed_second(store, rng, seeded)
    return seeded


def _declare_schema(store: MailchimpStore, name: str) -> Audience:
    audience = store.add_audience(name)
    for tag, label, kind, options in (
        ("FNAME", "Prénom", "text", {}),
        ("LNAME", "Nom", "text", {}),
        ("ADDRESS", "Adresse", "address", {"default_country": 76}),
        ("PHONE", "Téléphone", "phone", {"phone_format": "none"}),
        ("BIRTHDAY", "Anniversaire", "birthday", {"date_format": "MM/DD"}),
        ("ADHESION", "Date d'adhésion", "date", {"date_format": "DD/MM/YYYY"}),
    ):
        store.add_merge_field(audience, tag, label, kind, options=options)
    topics = store.add_interest_category(audience, "Centres d'intérêt", "checkboxes")
    for interest in ("Ateliers", "Concerts", "Bénévolat", "Jardin partagé"):
        store.add_interest(audience, topics["id"], interest)
    rhythm = store.add_interest_category(audience, "Fréquence", "radio")
    for interest in ("Hebdomadaire", "Mensuelle"):
        store.add_interest(audience, rhythm["id"], interest)
    for text in ("E-mail", "Courrier postal", "Publicité personnalisée"):
        store.add_permission(audience, text)
    return audience


def _tag_pool() -> list[str]:
    named = ["Adhérent·e 2023", "Adhérent·e 2024", "Bénévoles, Festival", "AG 2024",
             "Donateur", "Presse, médias", "Conseil d'administration", "Atelier vélo"]
    return named + [f"Atelier n°{n}" for n in range(1, 81)]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _email(rng: random.Random, i: int) -> str:
    if i % 1000 == 7:
        return INVALID_PATTERNS[(i // 1000) % len(INVALID_PATTERNS)].format(i=i)
    local = f"{_ascii(rng.choice(FIRST_NAMES))}.{_ascii(rng.choice(LAST_NAMES))}{i}"
    domain = IDN_DOMAINS[i % 3] if i % 50 == 11 else rng.choice(DOMAINS)
    if i % 10 == 3:
        # Mailchimp keeps the casing typed at signup; identity is the lowercased address.
        local, domain = local.title(), domain.upper()
    return f"{local}@{domain}"


def _when(rng: random.Random) -> str:
    return (EPOCH + timedelta(seconds=rng.randrange(6 * 365 * 86400))).isoformat()


def _member_fields(rng: random.Random, audience: Audience, i: int, tags: list[str],
                   documented: float = 0.6) -> dict[str, Any]:
    status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    with_consent = rng.random() < documented
    signed_up = _when(rng) if with_consent else ""
    city, postcode = rng.choice(CITIES)
    tag_count = rng.choice((0, 0, 1, 2, 3, 5)) if i % 500 != 3 else 55 + i % 16
    interests = [x["id"] for group in audience.interests.values() for x in group]
    return {
        "status": status,
        "merge_fields": {
            "FNAME": rng.choice(FIRST_NAMES),
            "LNAME": rng.choice(LAST_NAMES),
            "ADDRESS": "" if rng.random() < 0.3 else {
                "addr1": f"{rng.randrange(1, 200)} rue de la République", "addr2": "",
                "city": city, "state": "", "zip": postcode, "country": "FR"},
            "PHONE": "" if rng.random() < 0.5 else f"+33 6 {rng.randrange(10**7, 10**8)}",
            "BIRTHDAY": "" if rng.random() < 0.4 else
            f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}",
            "ADHESION": "" if rng.random() < 0.2 else _when(rng)[:10],
        },
        "interests": {x: rng.random() < 0.3 for x in interests},
        "tags": rng.sample(tags, min(tag_count, len(tags))),
        "marketing_permissions": [
            {**p, "enabled": rng.random() < 0.7} for p in audience.permissions],
        "ip_signup": f"192.0.2.{rng.randrange(1, 255)}" if with_consent else "",
        "timestamp_signup": signed_up,
        "ip_opt": f"198.51.100.{rng.randrange(1, 255)}" if with_consent else "",
        "timestamp_opt": signed_up or _when(rng),
        "last_changed": _when(rng),
        "source": "Hosted Signup Form" if with_consent else "Import",
        "language": "fr" if rng.random() < 0.9 else "en",
        "vip": rng.random() < 0.02,
        "email_type": "text" if rng.random() < 0.05 else "html",
        "unsubscribe_reason": rng.choice(UNSUBSCRIBE_REASONS) if status == "unsubscribed" else "",
        "consents_to_one_to_one_messaging": rng.random() < 0.9,
    }


def _seed_second(store: MailchimpStore, rng: random.Random, seeded: SeededAudience) -> None:
    second = store.add_audience("Lettre d'information", double_optin=True)
    seeded.second_list_id = second.id
    for email in seeded.emails[5::50]:
        if email in seeded.invalid_emails:
            continue
        local, _, domain = email.partition("@")
        variant = f"{local.upper()}@{domain.lower()}"
        if variant == email:
            variant = f"{local.lower()}@{domain.upper()}"
        store.add_member(second, variant, status="subscribed", timestamp_opt=_when(rng))
        seeded.case_variants.append((email, variant))
    for i in range(50):
        store.add_member(second, f"lecteur{i}@{rng.choice(DOMAINS)}", status="subscribed")
