"""French and English: every message has a French translation, and the real command speaks
French (words, numbers, help, errors) when the locale is French, English otherwise."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

import pytest

from migrate import i18n, i18n_tools
from tests.helpers import migrate

FRENCH = {"LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ENGLISH = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": ""}
NARROW_NBSP = "\u202f"  # French thousands separator (CLDR)


def test_every_message_in_the_code_has_a_french_translation() -> None:
    template = i18n_tools.extract_catalog()  # the code as it is now, not the committed .pot
    french = i18n_tools.read_po("fr")
    compiled = gettext.GNUTranslations(
        (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "transhumance.mo").open("rb"))
    problems = []
    for message in template:
        if not message.id:
            continue
        found = french.get(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        if found is None or found in i18n_tools.needs_work(french):
            problems.append(f"{ids[0]!r} ({where}): missing, fuzzy or placeholders differ")
            continue
        text = compiled.ngettext(*ids, 2) if len(ids) == 2 else compiled.gettext(ids[0])
        expected = found.string[1] if len(ids) == 2 else found.string
        if text != expected:
            problems.append(f"{ids[0]!r} ({where}): the .mo is older than the .po")
    assert not problems, ("run `python -m migrate.i18n_tools update` and translate:\n"
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


def test_init_questions_reach_the_catalogue() -> None:
    """Questions passed positionally were never extracted, so `migrate init` asked in English
    under a French locale: each one is a message of the catalogue, translated."""
    from migrate.scaffold import QUESTIONS

    template = i18n_tools.extract_catalog()
    french = i18n_tools.read_po("fr")
    for question in QUESTIONS:
        assert template.get(question.text) is not None, question.key
        assert french.get(question.text) and french.get(question.text).string, question.key


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
