"""`listmonk_csv`: the files, imported into listmonk (the emulator's importer, over real HTTP)
exactly as the note says, give every person the state the source's consent allows."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import requests

from migrate.consent import SUPPRESSING, InvalidAddressError, address_key
from sandbox.listmonk import ListmonkServer
from sandbox.samples_mailing import sample_members, write_mailchimp_export
from tests.helpers import migrate

NOTE_LINE = re.compile(r"^- (?P<file>\S+) \(\S+\): mode '(?P<mode>\w+)'"
                       r"(?:, subscription status '(?P<status>\w+)')?")


def test_files_imported_as_the_note_says_respect_consent(tmp_path: Path) -> None:
    write_mailchimp_export(tmp_path / "export.zip")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: listmonk_csv, path: out}\nsteps:\n"
                    "  - id: lettre\n    export: {from: audience, to: 'files:Lettre'}\n",
                    encoding="utf-8")
    applied = migrate("apply", plan, "--yes")
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    out = tmp_path / "out"
    note = (out / "Lettre.listmonk-import.txt").read_text(encoding="utf-8")
    steps = [m.groupdict() for line in note.splitlines() if (m := NOTE_LINE.match(line))]
    assert [s["mode"] for s in steps] == ["Blocklist", "Subscribe", "Subscribe"]
    assert "Overwrite" in note

    with ListmonkServer() as server, requests.Session() as http:
        http.headers["Authorization"] = f"token {server.api_user}:{server.token}"
        list_id = http.post(f"{server.url}/api/lists", json={
            "name": "Lettre", "type": "private", "optin": "double"}).json()["data"]["id"]
        for step in steps:
            params = {"mode": step["mode"].lower(), "delim": ",", "overwrite": False}
            if step["status"]:
                params |= {"subscription_status": step["status"].lower(), "lists": [list_id]}
            with open(out / step["file"], "rb") as data:
                answer = http.post(f"{server.url}/api/import/subscribers",
                                   data={"params": json.dumps(params)},
                                   files={"file": (step["file"], data, "text/csv")})
            assert answer.status_code == 200, answer.text
            while http.get(f"{server.url}/api/import/subscribers").json()["data"][
                    "status"] == "importing":
                time.sleep(0.05)
            http.delete(f"{server.url}/api/import/subscribers")

        members = sample_members()
        suppressed = {address_key(m.email) for m in members if m.status in SUPPRESSING}
        for person in members:
            try:
                key = address_key(person.email)
            except InvalidAddressError:
                continue
            record = server.subscriber(person.email)
            if key in suppressed:
                assert record is None or record["status"] == "blocklisted", person.email
                continue
            if person.status not in ("subscribed", "pending") or record is None:
                continue
            (entry,) = [e for e in record["lists"] if e["id"] == list_id]
            documented = person.status == "subscribed" and bool(person.optin_ip)
            assert entry["subscription_status"] == ("confirmed" if documented
                                                    else "unconfirmed"), person.email
        documented = [m for m in members if m.status == "subscribed" and m.optin_ip
                      and address_key(m.email) not in suppressed]
        assert documented and all(server.subscriber(m.email) for m in documented)
        accented = [m for m in documented if not f"{m.first}{m.last}".isascii()]
        assert accented
        for person in accented:  # accents intact, through the file and listmonk's importer
            assert server.subscriber(person.email)["name"] == f"{person.first} {person.last}"
