"""The listmonk emulator over real HTTP, with raw `requests`, pinning listmonk's semantics."""

from __future__ import annotations

import time

import pytest
import requests


@pytest.fixture
def api(listmonk_server, listmonk_http):
    base = f"{listmonk_server.url}/api"

    def call(method, path, expect=200, **kwargs):
        response = listmonk_http.request(method, base + path, timeout=5, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    return call


@pytest.fixture
def lists(api):
    single = api("POST", "/lists", json={"name": "Adhérents", "type": "private",
                                         "optin": "single"})["data"]
    double = api("POST", "/lists", json={"name": "Lettre", "type": "public",
                                         "optin": "double"})["data"]
    return single["id"], double["id"]


def test_auth_token_basic_and_refusal(listmonk_server):
    url = f"{listmonk_server.url}/api/lists"
    assert requests.get(url, headers=listmonk_server.auth_header, timeout=5).status_code == 200
    basic = (listmonk_server.api_user, listmonk_server.token)
    assert requests.get(url, auth=basic, timeout=5).status_code == 200
    refused = requests.get(url, auth=(listmonk_server.api_user, "wrong"), timeout=5)
    assert refused.status_code == 403
    assert refused.json() == {"message": "invalid API credentials"}


def test_create_and_page_lists(api, lists):
    for n in range(23):
        api("POST", "/lists", json={"name": f"Liste {n}"})
    first = api("GET", "/lists", params={"per_page": 10, "page": 3})["data"]
    assert first["total"] == 25 and len(first["results"]) == 5 and first["page"] == 3
    found = api("GET", "/lists", params={"query": "adhérents"})["data"]["results"]
    assert [r["id"] for r in found] == [lists[0]]
    assert api("GET", "/lists", params={"per_page": "all"})["data"]["total"] == 25


def test_subscriber_without_preconfirm_is_unconfirmed(api, lists, listmonk_server):
    sub = api("POST", "/subscribers", json={"email": " Anne.Dupré@Exemple.FR ", "name": "",
                                            "lists": list(lists)})["data"]
    assert sub["email"] == "anne.dupré@exemple.fr"
    assert sub["name"] == "Anne Dupré"  # derived from the local part
    assert {x["subscription_status"] for x in sub["lists"]} == {"unconfirmed"}
    assert listmonk_server.members(lists[1]) == {"anne.dupré@exemple.fr": "unconfirmed"}


def test_preconfirm_confirms(api, lists, listmonk_server):
    api("POST", "/subscribers", json={"email": "b@exemple.fr", "name": "B",
                                      "lists": [lists[1]], "preconfirm_subscriptions": True})
    assert listmonk_server.subscription("b@exemple.fr", lists[1]) == "confirmed"


def test_duplicate_and_case_variant_are_409(api, lists):
    api("POST", "/subscribers", json={"email": "c@exemple.fr", "name": "C"})
    for variant in ("c@exemple.fr", "C@Exemple.FR"):
        body = api("POST", "/subscribers", expect=409, json={"email": variant, "name": "C"})
        assert body == {"message": "E-mail already exists."}


def test_invalid_email_is_400(api):
    for bad in ("jean..dupont@exemple.fr", "benevole 1@exemple.fr", "Anne <a@b.fr>", "nope"):
        assert api("POST", "/subscribers", expect=400, json={"email": bad})["message"]


def test_addresses_as_listmonk_parses_them(api):
    """`ValidateFields`/`SanitizeEmail`: over 1,000 bytes as sent, a quoted local part (Go's
    parser gives it back without its quotes), a control character, a comment: refused. Accents
    on either side and `|`/`^` before the '@' (Go's atext): accepted, lowercased."""
    for bad in ("a" * 980 + "@jardin-partage.example", '"jean dupont"@exemple.fr',
                "del\x7fete@exemple.fr", "a@exemple.fr (Anne)", "tab\t@exemple.fr"):
        assert api("POST", "/subscribers", expect=400, json={"email": bad})["message"]
    for good in ("José@Café.example", "pipe|ou^chapeau@exemple.fr", "a" * 970 + "@exemple.fr"):
        made = api("POST", "/subscribers", json={"email": f"  {good} "})["data"]
        assert made["email"] == good.lower()


def test_blocklist_unsubscribes_every_list(api, lists, listmonk_server):
    sub = api("POST", "/subscribers", json={"email": "d@exemple.fr", "lists": list(lists),
                                            "preconfirm_subscriptions": True})["data"]
    api("PUT", f"/subscribers/{sub['id']}/blocklist")
    assert listmonk_server.blocklisted() == {"d@exemple.fr"}
    assert set(listmonk_server.members(lists[0]).values()) == {"unsubscribed"}
    other = api("POST", "/subscribers", json={"email": "e@exemple.fr"})["data"]
    api("PUT", "/subscribers/blocklist", json={"ids": [other["id"]]})
    assert listmonk_server.blocklisted() == {"d@exemple.fr", "e@exemple.fr"}


def test_put_trap_drops_omitted_lists_and_attribs(api, lists, listmonk_server):
    single, double = lists
    sub = api("POST", "/subscribers", json={
        "email": "f@exemple.fr", "name": "F", "lists": [single, double],
        "attribs": {"ville": "Lyon"}, "preconfirm_subscriptions": True})["data"]
    # A "rename" PUT that only sends what changed:
    after = api("PUT", f"/subscribers/{sub['id']}", json={"email": "f@exemple.fr",
                                                          "name": "Fanny"})["data"]
    assert after["name"] == "Fanny"
    assert after["lists"] == [] and after["attribs"] == {}
    # Sending the lists back re-creates them as unconfirmed: the confirmations are gone.
    again = api("PUT", f"/subscribers/{sub['id']}", json={"email": "f@exemple.fr",
                                                          "lists": [single, double]})["data"]
    assert {x["subscription_status"] for x in again["lists"]} == {"unconfirmed"}


def test_put_keeps_confirmed_and_unsubscribed_of_lists_sent_back(api, lists, listmonk_server):
    single, double = lists
    sub = api("POST", "/subscribers", json={"email": "g@exemple.fr", "lists": [single],
                                            "preconfirm_subscriptions": True})["data"]
    api("PUT", "/subscribers/lists", json={"ids": [sub["id"]], "action": "add",
                                           "target_list_ids": [double]})
    api("PUT", f"/subscribers/{sub['id']}", json={"email": "g@exemple.fr",
                                                  "lists": [single, double],
                                                  "preconfirm_subscriptions": True})
    assert listmonk_server.subscription("g@exemple.fr", single) == "confirmed"
    assert listmonk_server.subscription("g@exemple.fr", double) == "confirmed"


def test_lists_add_with_status_and_unsubscribe(api, lists, listmonk_server):
    single, double = lists
    sub = api("POST", "/subscribers", json={"email": "h@exemple.fr"})["data"]
    api("PUT", "/subscribers/lists", json={"ids": [sub["id"]], "action": "add",
                                           "target_list_ids": [single, double],
                                           "status": "confirmed"})
    assert listmonk_server.members(double) == {"h@exemple.fr": "confirmed"}
    api("PUT", "/subscribers/lists", json={"ids": [sub["id"]], "action": "unsubscribe",
                                           "target_list_ids": [double]})
    assert listmonk_server.subscription("h@exemple.fr", double) == "unsubscribed"
    api("PUT", "/subscribers/lists", json={"ids": [sub["id"]], "action": "remove",
                                           "target_list_ids": [single]})
    assert listmonk_server.subscription("h@exemple.fr", single) is None
    assert api("PUT", "/subscribers/lists", expect=400,
               json={"ids": [sub["id"]], "action": "move", "target_list_ids": [single]})


def test_query_paging_and_filters(api, lists, listmonk_server):
    single, double = lists
    for n in range(45):
        api("POST", "/subscribers", json={"email": f"p{n}@exemple.fr",
                                          "lists": [single if n % 3 else double]})
    page = api("GET", "/subscribers", params={"page": 3, "per_page": 20})["data"]
    assert page["total"] == 45 and len(page["results"]) == 5
    found = api("GET", "/subscribers", params={
        "query": "subscribers.email IN ('p1@exemple.fr', 'P2@exemple.fr', 'p3@exemple.fr')"})
    assert [r["email"] for r in found["data"]["results"]] == ["p1@exemple.fr", "p3@exemple.fr"]
    one = api("GET", "/subscribers", params={"query": "subscribers.email = 'p4@exemple.fr'"})
    assert one["data"]["total"] == 1
    on_double = api("GET", "/subscribers", params={"list_id": double, "per_page": "all"})
    assert on_double["data"]["total"] == 15
    assert api("GET", "/subscribers", params={"list_id": double,
                                              "subscription_status": "confirmed"}
               )["data"]["total"] == 0
    assert api("GET", "/subscribers", expect=400, params={"query": "email = ; DROP"})


def wait_import(api):
    for _ in range(200):
        stats = api("GET", "/import/subscribers")["data"]
        if stats["status"] != "importing":
            return stats
        time.sleep(0.02)
    raise AssertionError("import did not finish")


def test_csv_import_subscribe_then_blocklist_mode(api, lists, listmonk_server):
    single, _ = lists
    api("POST", "/subscribers", json={"email": "known@exemple.fr", "name": "Known",
                                      "lists": [single], "preconfirm_subscriptions": True})
    csv_text = ('email,name,attributes\nKnown@Exemple.fr,Renamed,{}\n'
                'new@exemple.fr,Nouvelle,"{""ville"": ""Nîmes""}"\nnot an email,X,{}\n')
    started = api("POST", "/import/subscribers", files={"file": ("a.csv", csv_text)}, data={
        "params": '{"mode": "subscribe", "subscription_status": "confirmed", "delim": ",",'
                  f' "lists": [{single}], "overwrite": false}}'})["data"]
    assert started["status"] == "importing"
    stats = wait_import(api)
    assert stats == {"name": "a.csv", "total": 3, "imported": 2, "status": "finished"}
    assert listmonk_server.subscriber("known@exemple.fr")["name"] == "Known"  # no overwrite
    assert listmonk_server.subscriber("new@exemple.fr")["attribs"] == {"ville": "Nîmes"}
    assert "skipping line 3" in api("GET", "/import/subscribers/logs")["data"]
    api("DELETE", "/import/subscribers")
    api("POST", "/import/subscribers", files={"file": ("b.csv", "email\nnew@exemple.fr\n")},
        data={"params": '{"mode": "blocklist", "delim": ","}'})
    assert wait_import(api)["status"] == "finished"
    assert listmonk_server.blocklisted() == {"new@exemple.fr"}
    assert listmonk_server.subscription("new@exemple.fr", single) == "unsubscribed"


def test_import_rejects_bad_params(api):
    files = {"file": ("a.csv", "email\na@b.fr\n")}
    assert api("POST", "/import/subscribers", expect=400, files=files,
               data={"params": '{"mode": "merge", "delim": ","}'})
    assert api("POST", "/import/subscribers", expect=400, files=files,
               data={"params": '{"mode": "subscribe", "delim": ""}'})


def test_faults_and_request_counting(api, listmonk_server):
    base = listmonk_server.url
    requests.post(f"{base}/_emulator/faults", json={"status": 502, "path": "/api/lists"},
                  timeout=5)
    assert api("GET", "/lists", expect=502)["message"]
    api("GET", "/lists")
    counts = requests.get(f"{base}/_emulator/requests", timeout=5).json()
    assert counts == {"total": 2, "by_route": {"GET /api/lists": 2}}


def test_delete_subscriber_and_list(api, lists, listmonk_server):
    sub = api("POST", "/subscribers", json={"email": "z@exemple.fr", "lists": [lists[0]]})
    api("DELETE", f"/lists/{lists[0]}")
    assert api("GET", f"/subscribers/{sub['data']['id']}")["data"]["lists"] == []
    api("DELETE", f"/subscribers/{sub['data']['id']}")
    assert api("GET", f"/subscribers/{sub['data']['id']}", expect=404) == {
        "message": "Subscriber not found."}
