"""Emulator of the Mailchimp Marketing API v3 (the audience read endpoints a migration uses)."""

from sandbox.mailchimp.seed import SeededAudience, seed_audience
from sandbox.mailchimp.server import DEFAULT_API_KEY, MailchimpServer
from sandbox.mailchimp.store import INLINE_TAG_LIMIT, subscriber_hash

__all__ = [
    "DEFAULT_API_KEY",
    "INLINE_TAG_LIMIT",
    "MailchimpServer",
    "SeededAudience",
    "seed_audience",
    "subscriber_hash",
]
