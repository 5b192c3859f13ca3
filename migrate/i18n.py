"""One translation function for every message a user can see.

Messages are written in English and looked up in gettext catalogues under `migrate/locale/`;
the French catalogue arrives with the localisation issue. Until then `_` returns the English
text, so wrapping every user-facing string now costs nothing and avoids a rewrite later.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "transhumance"

_translation: gettext.NullTranslations = gettext.NullTranslations()


def set_language(language: str | None = None) -> None:
    """Choose the catalogue: an explicit language, else LC_ALL / LC_MESSAGES / LANG."""
    global _translation
    candidates = [language] if language else _languages_from_environment()
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[c for c in candidates if c], fallback=True
    )


def _languages_from_environment() -> list[str]:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return [value.split(".")[0]]
    return []


def _(message: str) -> str:
    """Translate `message`; format placeholders after translating: `_("{n} files").format(n=3)`."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message whose form depends on a count."""
    return _translation.ngettext(singular, plural, count)
