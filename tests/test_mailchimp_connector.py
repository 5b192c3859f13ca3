"""The `mailchimp` source against the Mailchimp emulator, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.mailchimp import MailchimpConnector
from migrate.connector import StepContext
from migrate.consent import ALL, address_key
from migrate.errors import FatalError
from sandbox.mailchimp import MailchimpServer, SeededAudience
from tests.conformance.source_suite import SourceSuite

AUDIENCE = "Les Amis du Centsept"


def open_source(server: MailchimpServer, audience: str = AUDIENCE, key: str | None = None,
                pending: str = "unconfirmed"):  # type: ignore[no-untyped-def]
    connector = MailchimpConnector({"api_key": key or server.api_key, "url": server.url},
                                   Path("."))
    return connector.open_source(audience, StepContext("s", "export", {"pending": pending},
                                                       "p", Path(".")))


class TestMailchimpSource(SourceSuite):
    connector = "mailchimp"

    @pytest.fixture
    def source(self, mailchimp: MailchimpServer):  # type: ignore[no-untyped-def]
        return open_source(mailchimp)

    @pytest.fixture
    def expected(self, mailchimp_audience: SeededAudience) -> dict:
        return {address_key(e): None for e in mailchimp_audience.emails
                if e not in mailchimp_audience.invalid_emails}


def test_every_status_archived_too_counted_from_the_members_listed(
        mailchimp: MailchimpServer, mailchimp_audience: SeededAudience) -> None:
    listing = open_source(mailchimp).list_items()
    items = list(listing.items)
    assert len(items) == len(mailchimp_audience.emails)
    seen = {s: 0 for s in mailchimp_audience.status_counts}
    for item in items:
        seen[item.data.source_status] += 1
    assert seen == mailchimp_audience.status_counts
    assert listing.tally is not None
    assert listing.tally.totals == mailchimp_audience.status_counts
    assert ALL not in listing.tally.totals  # Mailchimp's cached stats are information only
    stats = next(n for n in listing.tally.notes if "Mailchimp's own counts" in n)
    assert f"{mailchimp_audience.status_counts['unsubscribed']} unsubscribed" in stats


def test_full_tags_beyond_the_inline_fifty(mailchimp: MailchimpServer,
                                           mailchimp_audience: SeededAudience) -> None:
    items = list(open_source(mailchimp).list_items().items)
    heavy = [i for i in items if len(i.data.tags) > 50]
    assert len(heavy) == len(mailchimp_audience.heavy_tag_hashes)
    routes = mailchimp.control.requests
    # 2,500 members less the archived, 1,000 a page; then the archived, asked for apart.
    assert routes.get("GET /3.0/lists/<list_id>/members", 0) == 4


def test_accents_merge_fields_and_consent_are_kept(mailchimp: MailchimpServer) -> None:
    items = [i for i in open_source(mailchimp).list_items().items if not i.skip_reason]
    assert any("é" in i.data.name or "ë" in i.data.name for i in items)
    assert any(isinstance(i.data.fields.get("ADDRESS"), dict) for i in items)
    assert any(i.data.consent.get("optin_ip") for i in items)
    assert any(i.data.consent.get("email_permission") == "refused" for i in items)
    assert any(i.data.vip for i in items) and all(i.data.last_changed for i in items)
    assert any("," in tag for i in items for tag in i.data.tags)


def test_invalid_addresses_are_reported_with_their_row(mailchimp: MailchimpServer,
                                                       mailchimp_audience: SeededAudience) -> None:
    skipped = [i for i in open_source(mailchimp).list_items().items
               if i.key.startswith("invalid:")]
    assert len(skipped) == len(mailchimp_audience.invalid_emails)
    assert all("member " in (i.skip_reason or "") for i in skipped)


def test_pending_can_be_dropped(mailchimp: MailchimpServer) -> None:
    items = open_source(mailchimp, pending="drop").list_items().items
    pending = [i for i in items if i.data.source_status == "pending"]
    assert pending and all(i.skip_reason for i in pending)


@pytest.mark.parametrize("body", ["empty", "json"])
def test_throttling_is_waited_out(mailchimp: MailchimpServer, body: str) -> None:
    status = 403 if body == "empty" else 429
    # Twice in a row for the 429 (its Retry-After: 0 costs nothing); once for the bare 403,
    # which our client waits 2 s for each time: the second one would prove nothing the 429's
    # second answer does not, on the same retry loop.
    mailchimp.control.add_fault(status=status, path="/3.0/lists/", times=1 if status == 403 else 2,
                                body=body, retry_after=0 if status == 429 else None)
    items = list(open_source(mailchimp).list_items().items)
    assert len(items) > 2000


def test_a_refused_key_stops_the_step(mailchimp: MailchimpServer) -> None:
    with pytest.raises(FatalError, match="API key"):
        open_source(mailchimp, key="ffffffffffffffffffffffffffffffff-us1").list_items()


def test_an_unknown_audience_names_the_ones_there(mailchimp: MailchimpServer) -> None:
    with pytest.raises(FatalError, match="Lettre d'information"):
        open_source(mailchimp, audience="Inconnue").list_items()


def test_a_recent_change_hidden_by_cached_stats_still_adds_up() -> None:
    import requests

    from migrate.consent import apply_consent

    with MailchimpServer() as server:
        audience = server.store.add_audience("Lettre")
        server.store.add_member(audience, "un@exemple.fr", status="subscribed")
        requests.get(f"{server.url}/lists/{audience.id}", auth=("x", server.api_key),
                     timeout=10)  # Mailchimp computes the counts, then keeps them a while
        server.store.add_member(audience, "deux@exemple.fr", status="unsubscribed")
        listing = open_source(server, audience="Lettre").list_items()
    items = list(listing.items)
    assert len(items) == 2
    result = apply_consent({"s": (items, listing.tally)}, {})
    assert not result.problems()
    assert result.reconciliations["s"].rows["unsubscribed"]["source"] == 1
    assert any("0 unsubscribed" in n and "for information" in n
               for n in result.reconciliations["s"].notes)


@pytest.mark.parametrize("key", ["0123456789abcdef0123456789abcdef", "secret-", "abc-us1.evil"])
def test_a_key_without_its_datacenter_is_refused_without_showing_it(key: str) -> None:
    connector = MailchimpConnector({"api_key": key}, Path("."))
    with pytest.raises(FatalError, match="datacenter") as caught:
        connector.open_source("Lettre", StepContext("s", "export", {}, "p", Path(".")))
    assert key not in str(caught.value)
