"""Emulator of the Mailchimp Marketing API v3 (the audience read endpoints a migration uses)."""

from migrate.sandbox.mailchimp.seed import SeededAudience, seed_audience
from migrate.sandbox.mailchimp.server import DEFAULT_API_KEY, MailchimpServer
from migrate.sandbox.mailchimp.store import INLINE_TAG_LIMIT, subscriber_hash

__all__ = [
    "DEFAULT_API_KEY",
    "INLINE_TAG_LIMIT",
    "MailchimpServer",
    "SeededAudience",
    "seed_audience",
    "subscriber_hash",
]
