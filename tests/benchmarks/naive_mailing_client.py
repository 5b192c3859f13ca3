"""The baseline for bench_mailing.py: what a hand-written migration script does — read every
member with Mailchimp's bulk read (pages of 1,000), then ONE request per member to the target:
`POST /api/subscribers` to listmonk (blocklisted for unsubscribed/cleaned), or one
mailmanclient `subscribe` (a ban for unsubscribed/cleaned) per member to Mailman.

    python naive_mailing_client.py MC_URL MC_KEY LIST_ID listmonk URL USER TOKEN LIST
    python naive_mailing_client.py MC_URL MC_KEY LIST_ID mailman3 URL USER PASSWORD FQDN

With `--consent` (Mailman only), the same consent decisions as Transhumance but none of its
bookkeeping or ordering: quiet subscription only with a documented opt-in (time and IP),
otherwise Mailman's confirmation request. With `--drop-pending`, Mailchimp's pending members
are left out (Transhumance's `pending: drop`).
"""

from __future__ import annotations

import sys

import requests

SUPPRESSED = {"unsubscribed", "cleaned"}


def members(url: str, key: str, list_id: str) -> list[dict]:
    found: list[dict] = []
    with requests.Session() as http:
        http.auth = ("naive", key)
        while True:
            page = http.get(f"{url}/lists/{list_id}/members",
                            params={"count": 1000, "offset": len(found)}, timeout=60).json()
            found += page["members"]
            if len(found) >= page["total_items"] or not page["members"]:
                return found


def to_listmonk(people: list[dict], url: str, user: str, token: str, name: str) -> None:
    with requests.Session() as http:
        http.headers["Authorization"] = f"token {user}:{token}"
        list_id = http.post(f"{url}/api/lists", json={"name": name, "type": "private",
                                                      "optin": "double"}).json()["data"]["id"]
        for person in people:
            status = person["status"]
            if status not in SUPPRESSED | {"subscribed", "pending"}:
                continue
            body = {"email": person["email_address"], "name": person.get("full_name") or "",
                    "attribs": {"fields": person.get("merge_fields") or {}}}
            if status in SUPPRESSED:
                body |= {"status": "blocklisted", "lists": []}
            else:
                body |= {"status": "enabled", "lists": [list_id],
                         "preconfirm_subscriptions": status == "subscribed"}
            http.post(f"{url}/api/subscribers", json=body, timeout=60)  # 409: a duplicate


def to_mailman(people: list[dict], url: str, user: str, password: str, fqdn: str, *,
               consent: bool = False) -> None:
    from urllib.error import HTTPError

    from mailmanclient import Client

    client = Client(url, user, password)
    local, _at, domain = fqdn.partition("@")
    mailing_list = client.get_domain(domain).create_list(local)
    for person in people:
        status, email = person["status"], person["email_address"]
        try:
            if status in SUPPRESSED:
                mailing_list.bans.add(email.lower())
            elif status in ("subscribed", "pending"):
                quiet = status == "subscribed"
                if consent:
                    quiet = quiet and bool(person.get("timestamp_opt") and person.get("ip_opt"))
                mailing_list.subscribe(email, person.get("full_name") or None, pre_verified=quiet,
                                       pre_confirmed=quiet, pre_approved=quiet,
                                       send_welcome_message=False)
        except (HTTPError, ValueError):
            continue  # a duplicate or a refused address: skipped, as scripts do


def main(argv: list[str]) -> None:
    flags = {arg for arg in argv if arg.startswith("--")}
    mc_url, mc_key, list_id, kind, *target = [arg for arg in argv if arg not in flags]
    people = members(mc_url, mc_key, list_id)
    if "--drop-pending" in flags:
        people = [person for person in people if person["status"] != "pending"]
    if kind == "listmonk":
        to_listmonk(people, *target)
    else:
        to_mailman(people, *target, consent="--consent" in flags)


if __name__ == "__main__":
    main(sys.argv[1:])
