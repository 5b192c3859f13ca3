"""Mailman 3 core, driven with mailmanclient as a connector would."""

import uuid
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest
from mailmanclient import Client

from sandbox.mailman import MailmanServer, _live_members

pytestmark = pytest.mark.slow

QUIET = {
    "pre_verified": True,
    "pre_confirmed": True,
    "pre_approved": True,
    "send_welcome_message": False,
}


@pytest.fixture
def mailing_list(mailman_server: MailmanServer) -> Any:
    """A fresh list on example.org (a mailmanclient `MailingList`)."""
    info = mailman_server.describe()
    client = Client(info["url"], info["user"], info["password"])
    return client.get_domain("example.org").create_list(f"list-{uuid.uuid4().hex[:8]}")


def test_describe_gives_the_rest_root_and_credentials(mailman_server: MailmanServer) -> None:
    info = mailman_server.describe()
    assert info["url"].startswith("http://127.0.0.1:") and info["url"].endswith("/3.1")
    versions = Client(info["url"], info["user"], info["password"]).system
    assert versions["mailman_version"].startswith("GNU Mailman 3.3.10")


def test_pre_verified_subscription_is_immediate_and_listed(mailing_list) -> None:
    member = mailing_list.subscribe("Alice@Example.org", "Alice", **QUIET)
    assert member.email == "alice@example.org"  # Mailman lowercases; the original is kept
    assert member.address.original_email == "Alice@Example.org"
    assert [m.email for m in mailing_list.members] == ["alice@example.org"]
    assert mailing_list.requests == []  # nothing held for confirmation or moderation


def test_subscribing_a_case_variant_answers_409(mailing_list) -> None:
    mailing_list.subscribe("bob@example.org", **QUIET)
    with pytest.raises(HTTPError) as raised:
        mailing_list.subscribe("BOB@example.org", **QUIET)
    assert raised.value.code == 409
    assert raised.value.reason == "Member already subscribed"


def test_list_ban_blocks_subscription_of_any_case_variant(mailing_list) -> None:
    mailing_list.bans.add("spam@example.org")
    for email in ("spam@example.org", "SPAM@Example.org"):
        with pytest.raises(HTTPError) as raised:
            mailing_list.subscribe(email, **QUIET)
        assert (raised.value.code, raised.value.reason) == (400, "Membership is banned")


def test_a_ban_with_capitals_never_matches(mailing_list) -> None:
    # Mailman compares the lowercased subscriber with the ban as stored: ban casefolded emails.
    mailing_list.bans.add("Mixed@Example.org")
    member = mailing_list.subscribe("Mixed@Example.org", **QUIET)
    assert member.email == "mixed@example.org"


def test_banning_a_member_keeps_the_membership(mailing_list) -> None:
    mailing_list.subscribe("carol@example.org", **QUIET)
    mailing_list.bans.add("carol@example.org")
    assert [m.email for m in mailing_list.members] == ["carol@example.org"]
    mailing_list.unsubscribe("carol@example.org")
    assert list(mailing_list.members) == []


def test_banning_twice_answers_400(mailing_list) -> None:
    mailing_list.bans.add("twice@example.org")
    with pytest.raises(HTTPError) as raised:
        mailing_list.bans.add("twice@example.org")
    assert (raised.value.code, raised.value.reason) == (400, "Address is already banned")


def test_global_and_pattern_bans_block_every_list(mailman_server, mailing_list) -> None:
    info = mailman_server.describe()
    client = Client(info["url"], info["user"], info["password"])
    client.bans.add("global-ban@example.org")
    mailing_list.bans.add(r"^.*@evil\.example$")
    try:
        for email in ("global-ban@example.org", "Someone@EVIL.example"):
            with pytest.raises(HTTPError) as raised:
                mailing_list.subscribe(email, **QUIET)
            assert raised.value.code == 400
    finally:
        client.bans.remove("global-ban@example.org")


def test_unsubscribing_a_non_member_raises_value_error(mailing_list) -> None:
    with pytest.raises(ValueError, match="is not a member address"):
        mailing_list.unsubscribe("nobody@example.org")


def test_stop_leaves_no_mailman_process() -> None:
    server = MailmanServer()
    server.start()
    group = server._process_group
    assert group is not None
    server.stop()
    assert _live_members(group) == []
    server.stop()  # safe twice


def _answers(url: str) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=5)
    except HTTPError:
        return True  # 401 without credentials: it is there
    except OSError:
        return False
    return True


def test_sandbox_stopped_with_sigterm_stops_mailman(tmp_path: Path) -> None:
    """`kill`, `systemctl stop` or `docker stop` on `migrate sandbox`: Mailman stops with it."""
    import json
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "migrate", "sandbox", "--only", "mailman3", "--no-seed",
         "--dir", str(tmp_path / "sandbox")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "}":  # the servers' details: one JSON document
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            lines.append(line.rstrip("\n"))
        versions = json.loads("\n".join(lines))["mailman3"]["url"] + "/system/versions"
        assert _answers(versions)
    except BaseException:
        process.kill()
        raise
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 0
    assert not _answers(versions)
