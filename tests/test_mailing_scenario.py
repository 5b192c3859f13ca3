"""A 5,000-member Mailchimp audience (and a second one with case variants) exported to listmonk
by the real `migrate` command: consent kept, counts reconciled, crash-safe."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.consent import SUPPRESSING, address_key
from sandbox.listmonk import ListmonkServer
from sandbox.mailchimp import MailchimpServer, seed_audience
from tests.helpers import migrate, migrate_popen

LIST = "Lettre d'information"


@pytest.fixture(scope="module")
def audience() -> Iterator[MailchimpServer]:
    server = MailchimpServer()
    server.seeded = seed_audience(server, members=5000, rng_seed=11)  # type: ignore[attr-defined]
    with server:
        yield server


def write_plan(folder: Path, mailchimp: MailchimpServer, listmonk: ListmonkServer) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Les Amis du Centsept\nconnections:\n"
        f"  mc: {{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{mailchimp.url}'}}\n"
        f"  lm: {{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
        "token: '${env:LM_TOKEN}'}\nsteps:\n"
        "  - id: amis\n    export: {from: 'mc:Les Amis du Centsept', to: \"lm:" + LIST + "\"}\n"
        "  - id: lettre\n    export: {from: \"mc:" + LIST + "\", to: \"lm:" + LIST + "\"}\n",
        encoding="utf-8")
    os.environ["MC_KEY"], os.environ["LM_TOKEN"] = mailchimp.api_key, listmonk.token
    return plan


def suppressed_addresses(mailchimp: MailchimpServer) -> set[str]:
    found = set()
    for audience in mailchimp.store.audiences.values():
        for member in audience.members.values():
            if member["status"] in SUPPRESSING:
                found.add(member["email_address"])
    return found


def final_state(listmonk: ListmonkServer) -> dict[str, str]:
    with listmonk.store.lock:
        records = list(listmonk.store.subscribers.values())
    state = {}
    for record in records:
        rendered = listmonk.subscriber(record["email"]) or {}
        lists = {e["name"]: e["subscription_status"] for e in rendered.get("lists", [])}
        state[record["email"].lower()] = ("blocked" if record["status"] == "blocklisted"
                                          else lists.get(LIST, "none"))
    return state


def test_audience_moves_with_consent_kept(tmp_path: Path, audience: MailchimpServer) -> None:
    with ListmonkServer() as listmonk:
        plan = write_plan(tmp_path, audience, listmonk)
        dry = migrate("plan", plan, "--json")
        assert dry.returncode == 0, dry.stderr
        recs = json.loads(dry.stdout)["reconciliations"]
        assert not recs["amis"]["problems"] and recs["amis"]["rows"]["unsubscribed"]["source"]
        applied = migrate("apply", plan, "--yes")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Reconciliation" in applied.stdout
        state = final_state(listmonk)
        for address in suppressed_addresses(audience):
            key = address.strip().lower()
            assert state.get(key, "absent") in ("blocked", "absent"), address
        blocked = sum(1 for s in state.values() if s == "blocked")
        assert blocked >= len(suppressed_addresses(audience)) - 10  # invalid ones are dropped
        names = [r["name"] for r in listmonk.store.subscribers.values()]
        assert any("é" in n for n in names) and any("ø" in n or "ß" in n or "ü" in n
                                                    for n in names)
        variants = audience.seeded.case_variants  # type: ignore[attr-defined]
        assert all(listmonk.subscriber(a) is not None for a, _b in variants)
        assert len({address_key(r["email"]) for r in listmonk.store.subscribers.values()}) == \
            len(listmonk.store.subscribers)
        again = migrate("plan", plan, "--detailed-exitcode")
        assert again.returncode == 0, again.stdout
        report = migrate("report", plan, "--format", "md")
        assert "| status at the source |" in report.stdout  # the reconciliation, as a table


@pytest.mark.slow
def test_killed_apply_ends_like_one_run(tmp_path: Path, audience: MailchimpServer) -> None:
    with ListmonkServer() as reference:
        (tmp_path / "ref").mkdir()
        done = migrate("apply", write_plan(tmp_path / "ref", audience, reference), "--yes")
        assert done.returncode == 0, done.stderr
        expected = final_state(reference)
    rng = random.Random(5)
    with ListmonkServer() as listmonk:
        (tmp_path / "run").mkdir()
        plan = write_plan(tmp_path / "run", audience, listmonk)
        for _attempt in range(3):
            process = migrate_popen("apply", plan, "--yes")
            time.sleep(rng.uniform(1.5, 6.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
        finished = migrate("apply", plan, "--yes")
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert final_state(listmonk) == expected
