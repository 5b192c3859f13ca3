"""Someone subscribed on a target before the migration who unsubscribed (or bounced) at the
source is suppressed there too, whatever the overwrite policy — through the real command, on
listmonk and on a real Mailman. The reverse never happens: a block on the target is not lifted."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.error import HTTPError

import pytest
import requests

from sandbox.listmonk import ListmonkServer
from sandbox.mailman import MailmanServer
from tests.helpers import migrate

LIST = "Lettre"
QUIET = {"pre_verified": "true", "pre_confirmed": "true", "pre_approved": "true",
         "send_welcome_message": "false"}


def write_plan(folder: Path, listmonk: ListmonkServer, mailman: MailmanServer, fqdn: str,
               policy: str) -> Path:
    (folder / "adherents.csv").write_text(
        "email,status\nPartie@Exemple.fr,unsubscribed\nrebond@exemple.fr,cleaned\n"
        "reste@exemple.fr,subscribed\n", encoding="utf-8")
    info = mailman.describe()
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\nconnections:\n"
        "  fichier: {type: csv, path: adherents.csv, columns: {email: email, status: status}}\n"
        f"  lm: {{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
        "token: '${env:LM_TOKEN}'}\n"
        f"  mm: {{type: mailman3, url: '{info['url']}', user: {info['user']}, "
        "password: '${env:MM_PASSWORD}'}\nsteps:\n"
        f"  - id: vers-listmonk\n    export: {{from: fichier, to: 'lm:{LIST}'}}\n"
        f"    with: {{overwrite: {policy}}}\n"
        f"  - id: vers-mailman\n    export: {{from: fichier, to: 'mm:{fqdn}'}}\n"
        f"    with: {{overwrite: {policy}}}\n", encoding="utf-8")
    return plan


def mailman_state(server: MailmanServer, list_id: str, email: str) -> str:
    members = server.request("GET", f"/lists/{list_id}/roster/member")
    if any(m["email"] == email for m in members.get("entries", [])):
        return "member"
    try:
        server.request("GET", f"/lists/{list_id}/bans/{email}")
    except HTTPError:
        return "absent"
    return "banned"


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["conflict", "never"])
def test_preexisting_subscribers_who_left_are_suppressed(
        tmp_path: Path, mailman_server: MailmanServer, policy: str) -> None:
    fqdn = f"lettre-{uuid.uuid4().hex[:8]}@example.org"
    list_id = fqdn.replace("@", ".")
    mailman_server.request("POST", "/lists", {"fqdn_listname": fqdn})
    with ListmonkServer() as listmonk, requests.Session() as http:
        http.headers.update(listmonk.auth_header)
        made = http.post(f"{listmonk.url}/api/lists", json={"name": LIST, "type": "private",
                                                           "optin": "double"}).json()["data"]
        for email in ("partie@exemple.fr", "rebond@exemple.fr", "reste@exemple.fr"):
            http.post(f"{listmonk.url}/api/subscribers", json={
                "email": email, "name": "", "status": "enabled", "lists": [made["id"]],
                "preconfirm_subscriptions": True}).raise_for_status()
            mailman_server.request("POST", "/members", {"list_id": list_id,
                                                        "subscriber": email, **QUIET})
        # Blocked on the target by hand, subscribed at the source: stays blocked.
        http.post(f"{listmonk.url}/api/subscribers", json={
            "email": "bloque@exemple.fr", "name": "", "status": "blocklisted", "lists": []})
        plan = write_plan(tmp_path, listmonk, mailman_server, fqdn, policy)
        with (tmp_path / "adherents.csv").open("a", encoding="utf-8") as more:
            more.write("bloque@exemple.fr,subscribed\n")
        env = {"LM_TOKEN": listmonk.token, "MM_PASSWORD": mailman_server.admin_password}
        applied = migrate("apply", plan, "--yes", env=env)
        # The blocked address is a conflict (or a skip), never a write: exit code 3 or 0.
        assert applied.returncode in (0, 3), applied.stdout + applied.stderr
        assert "Traceback" not in applied.stderr
        for email in ("partie@exemple.fr", "rebond@exemple.fr"):
            assert listmonk.subscriber(email)["status"] == "blocklisted", email
            assert mailman_state(mailman_server, list_id, email) == "banned", email
        assert listmonk.subscriber("bloque@exemple.fr")["status"] == "blocklisted"
        assert mailman_state(mailman_server, list_id, "reste@exemple.fr") == "member"
        again = json.loads(migrate("plan", plan, "--json", env=env).stdout)
        assert again["summary"]["update"] == again["summary"]["create"] == 0
