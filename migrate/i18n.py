"""One translation function for every message a user can see, and the numbers and dates in them.

Messages are written in English and looked up in the gettext catalogue
`migrate/locale/<lang>/LC_MESSAGES/transhumance.mo` (French today; English needs none: the
source strings are English). `python -m migrate.i18n_tools update` extracts, merges and compiles
it; docs/decisions/0610-translations.md says why the compiled catalogue is committed.

Language: `--lang`, else LC_ALL, LC_MESSAGES, LANG (the first one set); French whenever that
names French (`fr`, `fr_FR.UTF-8`, `fr_BE`, `fr_CA`, `fr_CH`…), English otherwise (`C` too).
"""

from __future__ import annotations

import datetime as dt
import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "transhumance"
#: Languages with a catalogue, besides English (the source language).
TRANSLATED = ("fr",)

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def set_language(language: str | None = None) -> str:
    """Choose the catalogue: an explicit language, else LC_ALL / LC_MESSAGES / LANG.

    Returns the language chosen (`fr` or `en`).
    """
    global _translation, _language
    _language = normalise(language or _language_from_environment())
    _translation = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[_language],
                                       fallback=True)
    # Click words its own messages ("No such option", "Missing argument") through the
    # standard library's global gettext domain, which reads LANGUAGE: point both at ours.
    # Their French is in our catalogue (see migrate/click_messages.py).
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _language
    return _language


def normalise(value: str | None) -> str:
    """`fr_CA.UTF-8`, `fr-BE`, `FR` → `fr`; anything without a catalogue (`C`, `de`) → `en`."""
    code = (value or "").split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in TRANSLATED else "en"


def language() -> str:
    """The language messages are shown in now (`fr` or `en`)."""
    return _language


def _language_from_environment() -> str | None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return value
    return None


def _(message: str) -> str:
    """Translate `message`; format placeholders after translating: `_("{n} files").format(n=3)`."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message whose form depends on a count: `ngettext("{n} file", "{n} files", n)`."""
    return _translation.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet (it is passed to `_` later)."""
    return message


def number(value: int | float | None, decimals: int | None = None) -> str:
    """A count or amount written for the language: `1,204` / `1 204`; `12.5` / `12,5`.

    `decimals` fixes the digits after the point; an em dash when the value is unknown.
    """
    if value is None:
        return "—"
    from babel.numbers import format_decimal  # Babel loads CLDR data: only when printing numbers

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") if decimals is not None else None
    return format_decimal(value, format=pattern, locale=_language)


def date_time(when: dt.datetime, seconds: bool = False) -> str:
    """A date and time written for the language: `2024-07-23 14:05` / `23/07/2024 14:05`."""
    clock = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    if _language == "en":
        return f"{when:%Y-%m-%d} {clock}"
    from babel.dates import format_date

    return f"{format_date(when.date(), 'short', locale=_language)} {clock}"
