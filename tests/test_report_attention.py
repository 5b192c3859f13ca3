"""The report's "to look at": everything a person must act on or know, counted and listed with
what to do — target notes journaled at apply (a plural message counts its people), shares not
recreated, items a target refused or could not write, members a list server refused."""

from __future__ import annotations

from pathlib import Path

from migrate import i18n
from migrate.journal import Journal
from migrate.report.advice import attention


def test_target_notes_are_journaled_with_their_count_and_shown_in_the_readers_language(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    try:
        i18n.set_language("en")
        journal.set_step_notes("lettre", [i18n.ngettext(
            "Mailman e-mailed {n} person a request to confirm their subscription (their opt-in "
            "is not documented at the source); they receive nothing from the list until they "
            "confirm.",
            "Mailman e-mailed {n} people a request to confirm their subscription (their opt-in "
            "is not documented at the source); they receive nothing from the list until they "
            "confirm.", 10).format(n=10)])
        i18n.set_language("fr")
        [(text, count)] = journal.step_notes()["lettre"]
        assert count == 10 and text.startswith("Mailman a envoyé à 10 personnes")
    finally:
        i18n.set_language("en")
        journal.close()


def test_to_look_at_adds_up_shares_refusals_members_and_notes() -> None:
    data = {
        "failures": [{"count": 2, "state": "failed", "error_kind": "item"}],
        "conflicts": [{}], "stale": [],
        "share_map": [{"to_do": True}, {"to_do": False}, {"to_do": True}],
        "skipped": [{"last_error": "listmonk refused it (HTTP 400)"},
                    {"last_error": None, "reason_to_do": True},
                    {"last_error": None, "reason": "left out by the step's patterns"}],
        "member_skips": [{"count": 3, "refused": True}, {"count": 7, "refused": False}],
        "step_notes": {"lettre": [("Mailman e-mailed 10 people…", 10)]},
    }
    found = {entry["anchor"]: entry["count"] for entry in attention(data)}
    assert found == {"failures": 2, "conflicts": 1, "shares": 2, "skipped": 2, "mailing": 3,
                     "steps": 10}
    assert all(entry["todo"] for entry in attention(data))
    nothing = {**data, "failures": [], "conflicts": [], "share_map": [], "skipped": [],
               "member_skips": [], "step_notes": {}}
    assert attention(nothing) == []
