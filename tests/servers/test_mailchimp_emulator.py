"""The Mailchimp emulator, driven through the official `mailchimp-marketing` SDK over HTTP.

Raw `requests` is used only where the SDK hides what matters (bare 403, concurrency).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.mailchimp import INLINE_TAG_LIMIT, subscriber_hash

ApiClientError = pytest.importorskip("mailchimp_marketing.api_client").ApiClientError


def page_all(client, list_id, **params):
    members, offset = [], 0
    while True:
        page = client.lists.get_list_members_info(list_id, count=1000, offset=offset, **params)
        members += page["members"]
        offset += 1000
        if offset >= page["total_items"]:
            return members, page["total_items"]


def test_ping(mailchimp_client):
    assert mailchimp_client.ping.get() == {"health_status": "Everything's Chimpy!"}


def test_paging_2500_members_by_1000_takes_3_requests(mailchimp, mailchimp_client,
                                                      mailchimp_audience):
    members, total = page_all(mailchimp_client, mailchimp_audience.list_id)
    listed = 2500 - mailchimp_audience.status_counts["archived"]
    assert total == listed > 2000
    assert [m["email_address"] for m in members] == [
        e for e in mailchimp_audience.emails if e not in mailchimp_audience.archived_emails]
    assert mailchimp.control.requests == {"GET /3.0/lists/<list_id>/members": 3}


def test_archived_contacts_only_when_asked_for(mailchimp_client, mailchimp_audience):
    default, _ = page_all(mailchimp_client, mailchimp_audience.list_id)
    assert "archived" not in {m["status"] for m in default}
    archived, total = page_all(mailchimp_client, mailchimp_audience.list_id, status="archived")
    assert total == mailchimp_audience.status_counts["archived"] > 0
    assert {m["email_address"] for m in archived} == set(mailchimp_audience.archived_emails)


def test_default_count_is_10(mailchimp_client, mailchimp_audience):
    page = mailchimp_client.lists.get_list_members_info(mailchimp_audience.list_id)
    assert len(page["members"]) == 10
    assert page["total_items"] == 2500 - mailchimp_audience.status_counts["archived"]


def test_fields_mask_keeps_only_dotted_paths(mailchimp_client, mailchimp_audience):
    page = mailchimp_client.lists.get_list_members_info(
        mailchimp_audience.list_id, count=5,
        fields=["members.email_address", "members.merge_fields", "total_items"])
    assert set(page) == {"members", "total_items"}
    assert all(set(m) == {"email_address", "merge_fields"} for m in page["members"])
    assert "ADDRESS" in page["members"][0]["merge_fields"]


def test_exclude_fields_drops_nested_paths(mailchimp_client, mailchimp_audience):
    page = mailchimp_client.lists.get_list_members_info(
        mailchimp_audience.list_id, count=3, exclude_fields=["members._links", "_links",
                                                             "members.merge_fields.ADDRESS"])
    member = page["members"][0]
    assert "_links" not in page and "_links" not in member
    assert "ADDRESS" not in member["merge_fields"] and "FNAME" in member["merge_fields"]


@pytest.mark.parametrize("status", ["subscribed", "cleaned", "archived", "transactional"])
def test_status_filter_matches_seeded_counts(mailchimp_client, mailchimp_audience, status):
    members, total = page_all(mailchimp_client, mailchimp_audience.list_id, status=status)
    assert total == mailchimp_audience.status_counts[status] > 0
    assert {m["status"] for m in members} == {status}


def test_stats_counts_match_members(mailchimp_client, mailchimp_audience):
    stats = mailchimp_client.lists.get_list(mailchimp_audience.list_id)["stats"]
    counts = mailchimp_audience.status_counts
    assert stats["member_count"] == counts["subscribed"]
    assert stats["unsubscribe_count"] == counts["unsubscribed"]
    assert stats["cleaned_count"] == counts["cleaned"]
    assert stats["total_contacts"] == 2500


def test_since_last_changed_filters(mailchimp_client, mailchimp_audience):
    since = "2022-01-01T00:00:00+00:00"
    members, total = page_all(mailchimp_client, mailchimp_audience.list_id,
                              since_last_changed=since)
    assert 0 < total < 2500
    assert all(m["last_changed"] > since for m in members)


def test_member_by_hash_of_lowercased_email(mailchimp_client, mailchimp_audience):
    email = next(e for e in mailchimp_audience.emails if e != e.lower())
    member = mailchimp_client.lists.get_list_member(mailchimp_audience.list_id,
                                                    subscriber_hash(email))
    assert member["email_address"] == email  # the casing is kept
    assert member["id"] == subscriber_hash(email.lower())


def test_inline_tags_are_truncated_and_tags_endpoint_pages_the_rest(mailchimp_client,
                                                                    mailchimp_audience):
    key = mailchimp_audience.heavy_tag_hashes[0]
    member = mailchimp_client.lists.get_list_member(mailchimp_audience.list_id, key)
    assert member["tags_count"] > INLINE_TAG_LIMIT == len(member["tags"])
    tags, offset = [], 0
    while offset < member["tags_count"]:
        page = mailchimp_client.lists.get_list_member_tags(mailchimp_audience.list_id, key,
                                                           count=20, offset=offset)
        tags += page["tags"]
        offset += 20
    assert page["total_items"] == member["tags_count"] == len({t["name"] for t in tags})


def test_merge_fields_and_interests(mailchimp_client, mailchimp_audience):
    list_id = mailchimp_audience.list_id
    merge = mailchimp_client.lists.get_list_merge_fields(list_id)
    assert {f["tag"] for f in merge["merge_fields"]} >= {"FNAME", "LNAME", "ADDRESS", "BIRTHDAY"}
    categories = mailchimp_client.lists.get_list_interest_categories(list_id)["categories"]
    interests = mailchimp_client.lists.list_interest_category_interests(
        list_id, categories[0]["id"])["interests"]
    assert [i["name"] for i in interests][:2] == ["Ateliers", "Concerts"]


def test_wrong_key_is_401_problem_json(mailchimp, mailchimp_client):
    mailchimp_client.set_config({"api_key": "f" * 32 + "-us1", "server": "us1"})
    with pytest.raises(ApiClientError) as caught:
        mailchimp_client.ping.get()
    assert caught.value.status_code == 401
    # application/problem+json is not parsed by the SDK: the body comes back as text.
    body = json.loads(caught.value.text)
    assert body["title"] == "API Key Invalid" and body["status"] == 401
    assert set(body) == {"type", "title", "status", "detail", "instance"}


def test_unknown_list_and_member_are_404(mailchimp_client, mailchimp_audience):
    for call in (lambda: mailchimp_client.lists.get_list("0000000000"),
                 lambda: mailchimp_client.lists.get_list_member(mailchimp_audience.list_id,
                                                                "0" * 32)):
        with pytest.raises(ApiClientError) as caught:
            call()
        assert caught.value.status_code == 404
        assert json.loads(caught.value.text)["title"] == "Resource Not Found"


def test_injected_429_then_recovers(mailchimp, mailchimp_client):
    mailchimp.control.add_fault(429, path="/3.0/ping", times=1)
    with pytest.raises(ApiClientError) as caught:
        mailchimp_client.ping.get()
    assert caught.value.status_code == 429
    assert json.loads(caught.value.text)["title"] == "Too Many Requests"
    assert mailchimp_client.ping.get()["health_status"]


def test_bare_403_has_no_body_and_the_sdk_does_not_raise(mailchimp, mailchimp_client):
    requests.post(f"{mailchimp.base_url}/_emulator/faults",
                  json={"status": 403, "body": "empty", "times": 2}, timeout=5)
    raw = requests.get(f"{mailchimp.url}/ping", auth=("x", mailchimp.api_key), timeout=5)
    assert raw.status_code == 403 and raw.content == b""
    # The SDK returns the requests.Response instead of raising when the body is empty.
    answer = mailchimp_client.ping.get()
    assert isinstance(answer, requests.Response) and answer.status_code == 403


def test_5xx_on_demand_over_http_control_plane(mailchimp, mailchimp_client):
    requests.post(f"{mailchimp.base_url}/_emulator/faults",
                  json={"status": 503, "method": "GET", "times": 1}, timeout=5)
    with pytest.raises(ApiClientError) as caught:
        mailchimp_client.lists.get_all_lists()
    assert caught.value.status_code == 503
    counts = requests.get(f"{mailchimp.base_url}/_emulator/requests", timeout=5).json()
    assert counts["by_route"] == {"GET /3.0/lists": 1}


def test_more_than_10_simultaneous_connections_get_429(mailchimp):
    mailchimp.control.latency = 0.4

    def call(_: int) -> int:
        return requests.get(f"{mailchimp.url}/ping", auth=("x", mailchimp.api_key),
                            timeout=10).status_code

    with ThreadPoolExecutor(max_workers=14) as pool:
        statuses = list(pool.map(call, range(14)))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 4


def test_lists_collection(mailchimp_client, mailchimp_audience):
    lists = mailchimp_client.lists.get_all_lists(fields=["lists.id", "lists.name", "total_items"])
    assert lists["total_items"] == 2
    assert lists["lists"][0] == {"id": mailchimp_audience.list_id, "name": "Les Amis du Centsept"}


def test_case_variants_across_audiences(mailchimp_client, mailchimp_audience):
    original, variant = mailchimp_audience.case_variants[0]
    assert original != variant and original.lower() == variant.lower()
    member = mailchimp_client.lists.get_list_member(mailchimp_audience.second_list_id, variant)
    assert member["email_address"] == variant


def test_stats_are_cached_while_members_show_at_once():
    """Mailchimp refreshes an audience's `stats` minutes after a change; the member listing
    shows it at once. Through the official client, on a fresh emulator."""
    mailchimp_marketing = pytest.importorskip("mailchimp_marketing")
    from sandbox.mailchimp import MailchimpServer

    with MailchimpServer() as server:
        audience = server.store.add_audience("Lettre")
        server.store.add_member(audience, "un@exemple.fr")
        client = mailchimp_marketing.Client()
        client.set_config({"api_key": server.api_key, "server": server.datacenter})
        client.api_client.host = server.url
        before = client.lists.get_list(audience.id)["stats"]
        server.store.add_member(audience, "deux@exemple.fr")
        server.store.add_member(audience, "trois@exemple.fr", status="unsubscribed")
        after = client.lists.get_list(audience.id)["stats"]
        assert after == before and after["member_count"] == 1
        listed = client.lists.get_list_members_info(audience.id)
        assert listed["total_items"] == 3
        audience.stats_ttl = 0  # the cache expires: the counts catch up
        assert client.lists.get_list(audience.id)["stats"]["total_contacts"] == 3


def test_gdpr_permissions_per_member(mailchimp_client, mailchimp_audience):
    page = mailchimp_client.lists.get_list_members_info(
        mailchimp_audience.list_id, count=50,
        fields=["members.marketing_permissions", "members.status"])
    permissions = [p for m in page["members"] for p in m["marketing_permissions"]]
    assert {p["text"] for p in permissions} == {"E-mail", "Courrier postal",
                                                "Publicité personnalisée"}
    assert {p["enabled"] for p in permissions} == {True, False}
    assert all(set(p) == {"marketing_permission_id", "text", "enabled"} for p in permissions)
