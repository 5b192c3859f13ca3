"""French and English: every message has a French translation, and the real command speaks
French (words, numbers, help, errors) when the locale is French, English otherwise."""

from __future__ import annotations

import ast
import gettext
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from migrate import i18n
from migrate.i18n import tools as i18n_tools
from tests.english_words import english_words_in
from tests.helpers import migrate

FRENCH = {"LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ENGLISH = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": ""}
NARROW_NBSP = "\u202f"  # French thousands separator (CLDR)


@pytest.fixture(scope="module")
def template() -> Any:
    """Every message of the code as it is now, not the committed .pot: extracted once for the
    module (a few seconds of parsing every source file), read by the tests that need it."""
    return i18n_tools.extract_catalog()


def test_every_message_in_the_code_has_a_french_translation(template: Any) -> None:
    french = i18n_tools.read_po("fr")
    compiled = gettext.GNUTranslations(
        (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "transhumance.mo").open("rb"))
    # Worked out once, not once a message (that walk of the whole catalogue per message was
    # most of this test's time).
    unfinished = {(m.id, m.context) for m in i18n_tools.needs_work(french)}
    problems = []
    for message in template:
        if not message.id:
            continue
        found = french.get(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        if found is None or (found.id, found.context) in unfinished:
            problems.append(f"{ids[0]!r} ({where}): missing, fuzzy or placeholders differ")
            continue
        text = compiled.ngettext(*ids, 2) if len(ids) == 2 else compiled.gettext(ids[0])
        expected = found.string[1] if len(ids) == 2 else found.string
        if text != expected:
            problems.append(f"{ids[0]!r} ({where}): the .mo is older than the .po")
    assert not problems, ("run `python -m migrate.i18n.tools update` and translate:\n"
                          + "\n".join(problems))


def test_placeholders_are_compared_by_name() -> None:
    assert i18n_tools.placeholders("{n} of {total:,} ({p}%)") == {"n", "total", "p"}
    assert i18n_tools.placeholders("${{env:…}} {name}") == {"name"}


@pytest.mark.parametrize(("value", "expected"), [
    ("fr_FR.UTF-8", "fr"), ("fr_BE", "fr"), ("fr_CA.utf8", "fr"), ("fr_CH", "fr"), ("fr", "fr"),
    ("fr-FR", "fr"), ("C", "en"), ("C.UTF-8", "en"), ("en_GB.UTF-8", "en"), ("de_DE", "en"),
    (None, "en"), ("", "en")])
def test_the_language_is_french_for_every_french_locale(value: str | None, expected: str) -> None:
    assert i18n.normalise(value) == expected


def test_numbers_and_dates_follow_the_language() -> None:
    import datetime as dt

    moment = dt.datetime(2024, 7, 23, 14, 5)
    try:
        i18n.set_language("fr")
        assert i18n.number(1204) == f"1{NARROW_NBSP}204"
        assert i18n.number(12.5, 1) == "12,5"
        assert i18n.date_time(moment) == "23/07/2024 14:05"
        i18n.set_language("en")
        assert i18n.number(1204) == "1,204"
        assert i18n.number(12.5, 1) == "12.5"
        assert i18n.date_time(moment) == "2024-07-23 14:05"
    finally:
        i18n.set_language("en")


@pytest.fixture(scope="module")
def plan_1204(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan copying 1,204 files: enough for a thousands separator."""
    folder = tmp_path_factory.mktemp("i18n")
    for index in range(1204):
        (folder / "source").mkdir(exist_ok=True)
        (folder / "source" / f"f{index}.txt").write_text(str(index), encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Amis\nconnections:\n"
                    "  here: {type: local, path: source}\n  there: {type: local, path: target}\n"
                    "steps:\n  - id: files\n    copy: {from: here, to: there}\n",
                    encoding="utf-8")
    return plan


@pytest.mark.parametrize("language", ["en", "fr"])
def test_whole_numbers_are_written_as_babel_writes_them(language: str) -> None:
    """`number` writes whole counts itself (Babel's CLDR data cost 0.15 s to load): the same
    text as Babel's, sign and grouping included."""
    from babel.numbers import format_decimal

    try:
        i18n.set_language(language)
        for value in (0, 7, 999, 1000, 1204, 100_000, 1_234_567, -1234, 10**12):
            assert i18n.number(value) == format_decimal(value, locale=language)
    finally:
        i18n.set_language("en")
    # ... without loading Babel's data (a fresh interpreter: this one has it already).
    code = ("import sys; from migrate import i18n; i18n.set_language('fr'); i18n.number(2000); "
            "sys.exit('babel.numbers' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_plan_speaks_french_with_french_numbers(plan_1204: Path) -> None:
    result = migrate("plan", plan_1204, env=FRENCH)
    assert result.returncode == 0, result.stderr
    assert (f"Plan\u00a0: 1{NARROW_NBSP}204 à créer, 0 à mettre à jour, 0 sans changement, "
            "0 non repris, 0 en conflit.") in result.stdout
    assert f"1{NARROW_NBSP}204 à créer\u00a0:" in result.stdout


def test_lang_option_beats_the_environment(plan_1204: Path) -> None:
    french = migrate("--lang", "fr", "plan", plan_1204, env=ENGLISH)
    assert f"1{NARROW_NBSP}204 à créer" in french.stdout
    english = migrate("--lang", "en", "plan", plan_1204, env=FRENCH)
    assert "Plan: 1,204 to create, 0 to update" in english.stdout


def test_english_stays_english_with_lang_c(plan_1204: Path) -> None:
    result = migrate("plan", plan_1204, env=ENGLISH)
    assert ("Plan: 1,204 to create, 0 to update, 0 unchanged, 0 skipped, 0 conflicts."
            in result.stdout)
    assert "créer" not in result.stdout
    assert "Usage: migrate [OPTIONS] COMMAND" in migrate("--help", env=ENGLISH).stdout


def test_help_is_french() -> None:
    top = migrate("--help", env=FRENCH)
    assert top.returncode == 0
    assert "Utilisation\u00a0: migrate [OPTIONS] COMMANDE" in top.stdout
    assert "Afficher ce message et quitter." in top.stdout
    assert "Essai à blanc" in top.stdout  # a command's short help
    assert "Options\u00a0:\n" in top.stdout and "Commandes\u00a0:\n" in top.stdout
    assert "Options:\n" in migrate("--help", env=ENGLISH).stdout
    plan = migrate("plan", "--help", env=FRENCH)
    assert "Seulement cette étape." in plan.stdout
    assert "[par défaut\u00a0: 2" in plan.stdout
    assert "Show this message" not in plan.stdout
    assert "Dry run" not in migrate("--lang", "fr", "--help", env=ENGLISH).stdout


def test_a_plan_error_is_french_and_says_where(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Amis\nconnections:\n"
                    "  here: {type: local, path: source}\n  there: {type: lokal, path: target}\n"
                    "steps:\n  - id: files\n    copy: {from: here, to: there}\n",
                    encoding="utf-8")
    result = migrate("plan", plan, env=FRENCH)
    assert result.returncode == 1
    assert "plan.yaml:5:17: type de connexion inconnu\u00a0: «\u00a0lokal\u00a0»" in result.stderr
    assert "vouliez-vous dire «\u00a0local\u00a0»\u202f?" in result.stderr
    english = migrate("plan", plan, env=ENGLISH)
    assert "plan.yaml:5:17: unknown connection type 'lokal'" in english.stderr


def test_clicks_own_errors_are_french_too(tmp_path) -> None:
    from tests.helpers import migrate as run_migrate

    result = run_migrate("plan", "--no-such-option", env={"LANG": "fr_FR.UTF-8"})
    assert result.returncode == 2
    assert "Option inconnue" in result.stderr and "Erreur\u00a0:" in result.stderr
    assert "No such option" not in result.stderr
    english = run_migrate("plan", "--no-such-option", env={"LANG": "C", "LC_ALL": "C"})
    assert "No such option" in english.stderr


def test_init_questions_reach_the_catalogue(template: Any) -> None:
    """Questions passed positionally were never extracted, so `migrate init` asked in English
    under a French locale: each one is a message of the catalogue, translated."""
    from migrate import registry
    from migrate.cli.init import questions

    french = i18n_tools.read_po("fr")
    labels = {registry.label(name) for name in registry.names()}  # service names as they are
    for question in questions():
        for text in (question.text, *(p for p in question.parts if p not in labels)):
            assert template.get(text) is not None, (question.key, text)
            assert french.get(text) and french.get(text).string, (question.key, text)


def test_french_catalogue_typography() -> None:
    """A no-break space before ':' (U+00A0) and before ';', '?', '!' (U+202F); never 'clé
    inconnu' (a key is feminine)."""
    import re

    problems = []
    for message in i18n_tools.read_po("fr"):
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            if re.search(r" [:;?!](?!\S)", text or "") or "clé inconnu " in (text or ""):
                problems.append(f"{message.id!r}: {text!r}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("arguments", [
    ["connectors"], ["connectors", "show", "nextcloud"], ["--help"], ["plan", "--help"]])
def test_french_command_output_has_no_english_leftovers(arguments: list[str]) -> None:
    """What a French volunteer reads: no bare colon glued to a word (U+00A0 before it), no
    English role or label (`source:`, `target:`, `--lang TEXT`, `Options:`)."""
    import re

    said = migrate(*arguments, env=FRENCH).stdout
    assert said
    for line in said.splitlines():
        # Quoted or typed tokens (with:, {group: …}, file names, addresses) are as typed.
        prose = re.sub(r"\{[^}]*\}|\"[^\"]*\"|`[^`]*`|https?://\S+|'[^']*'|«[^»]*»"
                       r"|\S+\.(yaml|json)", "", line)
        assert not re.search(r"[^\W\d_]:(\s|$)", prose), line
    for english in ("source:", "target:", r"\bTEXT\b", r"\bPATH\b", "Options:", "default: True",
                    r"\[default"):
        assert not re.search(english, said), english


def test_an_unknown_key_in_french_names_the_step(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Amis\nconnections:\n"
                    "  here: {type: local, path: source}\n  there: {type: local, path: target}\n"
                    "steps:\n  - id: documents\n    copy: {form: here, to: there}\n",
                    encoding="utf-8")
    result = migrate("validate", plan, env=FRENCH)
    assert result.returncode == 1
    assert "clé inconnue «\u00a0form\u00a0»" in result.stderr, result.stderr
    assert "«\u00a0documents\u00a0»" in result.stderr  # the step is named, as in English
    english = migrate("validate", plan, env=ENGLISH)
    assert "unknown key 'form' in step 'documents' — did you mean 'from'?" in english.stderr


def test_operating_system_errors_are_french(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Amis\nconnections:\n"
                    "  here: {type: local, path: source}\n"
                    "  cloud: {type: nextcloud, url: 'https://x.example', user: u,"
                    " password: '${file:absent.txt}'}\n"
                    "steps:\n  - id: documents\n    copy: {from: here, to: cloud}\n",
                    encoding="utf-8")
    result = migrate("validate", plan, env=FRENCH)
    assert result.returncode == 1
    assert "fichier ou dossier introuvable" in result.stderr, result.stderr
    assert "No such file" not in result.stderr


def test_a_reason_is_shown_in_the_readers_language() -> None:
    """Stored during an English run, shown in French (and the other way round)."""
    try:
        i18n.set_language("en")
        note = i18n._("not shared: {who} ({role}) has no match in 'identities'").format(
            who="bureau@asso.example", role=i18n._("writer"))
        joined = i18n.join("; ", [i18n._("another item in the folder has the same name"),
                                  note])
        kept, kept_joined = i18n.stored(note), i18n.stored(joined)
        i18n.set_language("fr")
        assert i18n.shown(kept) == ("non partagé\u00a0: bureau@asso.example (éditeur) n'a pas "
                                    "de correspondance dans «\u00a0identities\u00a0»")
        assert i18n.shown(kept_joined).startswith("un autre élément")
        assert i18n.shown("plain text stays") == "plain text stays"
    finally:
        i18n.set_language("en")


#: What builds a reason the journal keeps (skips, failures, renames, refusals, notes).
REASON_ERRORS = {"SkipItem", "Unsupported", "FatalError", "TransientError", "ConnectorError",
                 "ArchiveError"}
REASON_KEYWORDS = {"skip_reason", "reason", "rename_reason", "refusal", "notes"}


def _plain_text(node: ast.expr) -> str | None:
    """How `node` builds plain text that would stay in the run's language, or None."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return "a string not given to _()"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "str", "repr"):
        return f"{node.func.id}(…), which flattens a message to the run's language"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "join") and isinstance(node.func.value, ast.Constant)):
        return f"'…'.{node.func.attr}(…) not given to _()"
    if isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant | ast.JoinedStr):
        return "text glued outside _()"
    return None


def test_no_reason_is_built_outside_the_catalogue() -> None:
    """Reasons are stored as messages (docs/decisions/0620) so a report in French says them in
    French whatever the language of the run: a skip, failure, rename or note built from an
    f-string, a plain string or `str(error)` would stay in the run's language for good."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for folder in ("connectors", "migrate"):
        for path in sorted((root / folder).rglob("*.py")):
            if "sandbox" in path.parts:  # the stand-ins speak as the real servers do
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                where = f"{path.relative_to(root)}:{node.lineno}"
                if name in REASON_ERRORS and node.args and (why := _plain_text(node.args[0])):
                    found.append(f"{where}: {name}({why})")
                for keyword in node.keywords:
                    if keyword.arg in REASON_KEYWORDS and (why := _plain_text(keyword.value)):
                        found.append(f"{where}: {keyword.arg}={why}")
    assert found == [], "build these with _()/ngettext() (i18n.message_of for an error's):\n" \
        + "\n".join(found)


def test_a_damaged_entry_skipped_in_english_reads_french_in_the_report(tmp_path: Path) -> None:
    """An English apply skips a file whose entry in the Takeout archive is damaged; the report
    made in French afterwards gives that reason in French, not in the run's English."""
    from sandbox.samples_takeout import write_takeout_sample

    archive = write_takeout_sample(tmp_path / "takeout", parts=1)
    with zipfile.ZipFile(archive) as zipped:
        info = next(i for i in zipped.infolist() if i.filename.endswith("Lisez-moi.txt"))
    data = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 2] ^= 0xFF  # inside the deflated data: zlib or the CRC check refuses it
    archive.write_bytes(bytes(data))
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\norganisation: Les Amis\nconnections:\n"
                    "  takeout: {type: google_takeout, path: takeout}\n"
                    "  here: {type: local, path: copie}\n"
                    "steps:\n  - id: archives\n    copy: {from: takeout, to: here}\n",
                    encoding="utf-8")
    applied = migrate("apply", plan, "--yes", env=ENGLISH)
    assert applied.returncode in (0, 3), applied.stdout + applied.stderr
    report = json.loads(migrate("report", plan, "--json", env=FRENCH).stdout)
    damaged = next(r for r in report["items"] if r["source_path"].endswith("Lisez-moi.txt"))
    assert damaged["state"] == "skipped", damaged
    assert "ne peut pas être lu" in damaged["last_error"], damaged["last_error"]
    assert english_words_in(damaged["last_error"]) == [], damaged["last_error"]
