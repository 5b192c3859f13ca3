"""One retry policy (migrate/retry.py): the runner's writes and the connectors' listing pages
wait by the same rules, and Retry-After is read by one parser."""

from __future__ import annotations

import email.utils
from pathlib import Path

import pytest

from connectors.mailchimp import MailchimpConnector
from migrate.connector import StepContext
from migrate.errors import TransientError
from migrate.retry import DEFAULT, RetryPolicy, parse_retry_after
from sandbox.mailchimp import MailchimpServer

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0),
    (" 7 ", 7.0),
    ("1.5", 1.5),
    ("0", 0.0),
    (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
    (email.utils.formatdate(NOW - 90, usegmt=True), 0.0),  # already past: at once
    ("-5", None),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_is_seconds_or_an_http_date(value: str | None,
                                                seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_the_server_s_delay_is_kept_and_a_too_long_one_is_left_to_a_later_run() -> None:
    policy = RetryPolicy(attempts=3, initial_wait=1.0, max_wait=4.0, max_retry_after=60.0)
    assert policy.delay(TransientError("busy", retry_after=30), 1) == 30.0
    too_long = TransientError("busy", retry_after=3600)
    with pytest.raises(TransientError) as raised:
        policy.delay(too_long, 1)
    assert raised.value is too_long
    assert 4.0 <= policy.delay(TransientError("busy"), 10) <= 5.0  # backoff, capped


def test_a_call_is_retried_until_the_policy_s_attempts_run_out() -> None:
    policy = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.0)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("busy", retry_after=0)
        return "done"

    assert policy.call(flaky) == "done" and len(calls) == 3
    calls.clear()

    def always_busy() -> str:
        calls.append(1)
        raise TransientError("busy", retry_after=0)

    with pytest.raises(TransientError):
        RetryPolicy(attempts=2).call(always_busy)
    assert len(calls) == 2


def test_a_listing_page_waits_by_the_same_rules_as_writes(mailchimp: MailchimpServer) -> None:
    """Mailchimp asking for an hour's pause: the listing stops, to be run again later (the
    runner's rule for writes); it used to wait 30 s, whatever the server asked, and go on."""
    mailchimp.control.add_fault(status=429, path="/3.0/lists/", times=1,
                                retry_after=int(DEFAULT.max_retry_after) * 12)
    connector = MailchimpConnector({"api_key": mailchimp.api_key, "url": mailchimp.url},
                                   Path("."))
    source = connector.open_source("Les Amis du Centsept",
                                   StepContext("s", "export", {}, "p", Path(".")))
    with pytest.raises(TransientError) as raised:
        list(source.list_items().items)
    assert raised.value.retry_after == DEFAULT.max_retry_after * 12
