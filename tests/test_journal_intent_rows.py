"""An INTENT row keeps in its `change` text only what its columns do not say (decision 0497), and
the next start still reads back the whole change to verify: plain files, items with a source's
own `meta`, typed data, an expected target, an original path, notes and messages, and rows
written by an earlier version."""

from __future__ import annotations

import json
from pathlib import Path

from migrate.i18n import _, language_kept, set_language, shown, stored, to_do
from migrate.item_meta import FileMeta
from migrate.journal import Journal
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem, TargetEntry


def _plain() -> Change:
    item = SourceItem("dossier/a.bin", "dossier/a.bin", ItemKind.FILE,
                      Fingerprint(9829, 1796465675.5459416))
    return Change("files", Action.CREATE, item, "dossier/a.bin", _("new"))


def _rich() -> Change:
    item = SourceItem("drive-id-7", "Budget∕2024.ods", ItemKind.FILE,
                      Fingerprint(12, 1733400000.5, "md5:0f", "v3"), {"id": "drive-id-7"}, None,
                      FileMeta(segments=["Budget/2024.ods"], segment_keys=["drive-id-7"],
                               segment_ranks=[0], permissions=[{"type": "user",
                                                                "role": "reader",
                                                                "email": "anne@exemple.fr"}]))
    return Change("files", Action.UPDATE, item, "Budget_2024 (2).ods",
                  _("changed at the source"), rename_reason=_("a name already taken"),
                  expected_target=Fingerprint(10, 1733300000.0, None, '"etag-2"'),
                  notes=(to_do(_("shared with {who}").format(who="anne@exemple.fr")),),
                  original_path="Budget/2024.ods")


def _as_read(change: Change) -> dict[str, object]:
    """What a verify and the rows written after it use: every field, messages as stored."""
    data = change.to_json()
    data["reason"], data["rename"] = stored(change.reason), stored(change.rename_reason)
    data["notes"] = [stored(note) for note in change.notes]
    return data


def test_an_item_in_doubt_comes_back_whole_from_its_row(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    written = {c.item.key: c for c in (_plain(), _rich())}
    journal.record_intents([(c, key[:4] * 8) for key, c in written.items()],
                           journal.start_run("apply"))
    stored_text = dict(journal.db.execute("SELECT key, change FROM items"))
    # A plain file's text is its source version; nothing the columns say is written twice.
    assert json.loads(stored_text["dossier/a.bin"]) == {
        "source_fingerprint": {"size": 9829, "mtime": 1796465675.5459416}}
    assert "step" not in json.loads(stored_text["drive-id-7"])
    journal.close()

    again = Journal(tmp_path / "journal.sqlite")
    doubts = {d.change.item.key: d for d in again.in_doubt("files")}
    assert {k: _as_read(d.change) for k, d in doubts.items()} == {
        k: _as_read(c) for k, c in written.items()}
    assert doubts["drive-id-7"].idempotency_key == "driv" * 8
    assert doubts["drive-id-7"].change.source_path == "Budget/2024.ods"
    assert doubts["drive-id-7"].change.item.path == "Budget∕2024.ods"

    # Verified, it is DONE with the same words, still shown in the reader's language.
    again.record_done([(d.change, TargetEntry(d.change.target_name, ItemKind.FILE,
                                              d.change.item.fingerprint))
                       for d in doubts.values()], again.start_run("apply"))
    reasons = dict(again.db.execute("SELECT key, reason FROM items WHERE state = 'done'"))
    with language_kept():
        set_language("fr")
        assert shown(reasons["dossier/a.bin"]) == "nouveau"
    again.close()


def test_an_intent_an_earlier_version_wrote_is_read_as_it_was(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    change = _rich()
    journal.record_intents([(change, "k" * 32)], journal.start_run("apply"))
    journal.db.execute("UPDATE items SET change = ?",
                       (json.dumps(change.to_json(), ensure_ascii=False),))
    (doubt,) = journal.in_doubt("files")
    assert doubt.change.to_json() == json.loads(json.dumps(change.to_json()))
    journal.close()
