"""What counts as proof of an opt-in (connectors/mailing/evidence.py), whatever the source."""

from __future__ import annotations

import pytest

from connectors.mailing.evidence import (
    DOCUMENTED,
    IMPORT_ADDRESS,
    NO_PERMISSION,
    UNDOCUMENTED,
    address_problem,
    evidence_class,
    instant,
    permission_consent,
)


@pytest.mark.parametrize(("value", "problem"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.5.4", "private"), ("192.168.1.10", "private"),
    ("100.64.0.1", "private"), ("169.254.1.1", "private"), ("0.0.0.0", "private"),
    ("fd12:3456::1", "private"), ("fe80::1", "private"),
    ("2020-09-10 12:00:00", "malformed"), ("", "malformed"), ("203.0.113.5:443", "malformed"),
    ("8.8.8.8", None), ("203.0.113.5", None), ("2a01:e0a:1::1", None),
])
def test_only_someones_own_address_proves_an_opt_in(value: str, problem: str | None) -> None:
    assert address_problem(value) == problem


def test_the_email_permission_is_found_by_its_label() -> None:
    assert permission_consent([("Email", True), ("Direct Mail", False)])["email_permission"] \
        == "granted"
    assert permission_consent([("E-mail", False), ("Courrier postal", True)])[
        "email_permission"] == "refused"
    assert permission_consent([("Courriel", False)])["permissions_refused"] == ["Courriel"]
    assert "email_permission" not in permission_consent([("Direct Mail", True)])
    assert permission_consent([]) == {}


@pytest.mark.parametrize(("consent", "kind"), [
    ({"optin_time": "2021-03-04 10:00:00", "optin_ip": "203.0.113.7"}, DOCUMENTED),
    ({"confirm_time": "04/03/2021", "confirm_ip": "203.0.113.7"}, DOCUMENTED),
    ({"optin_time": "2021-03-04 10:00:00", "optin_ip": "127.0.0.1"}, IMPORT_ADDRESS),
    ({"confirm_time": "2020-09-10 12:00:00", "confirm_ip": "2020-09-10 12:00:00"},
     IMPORT_ADDRESS),
    ({"optin_time": "2021-03-04 10:00:00"}, UNDOCUMENTED),
    ({"optin_time": "2021-03-04 10:00:00", "optin_ip": "203.0.113.7",
      "email_permission": "refused"}, NO_PERMISSION),
])
def test_evidence_classes(consent: dict[str, str], kind: str) -> None:
    assert evidence_class(consent) == kind


def test_times_read_the_same_from_the_api_and_the_export() -> None:
    assert instant("2021-03-04 10:00:00") == instant("2021-03-04T12:00:00+02:00") \
        == "2021-03-04T10:00:00+00:00"
    assert instant("04/03/2021") is None and instant("") is None
