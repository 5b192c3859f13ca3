"""One translation function for every message a user can see, and the numbers and dates in them.

Messages are written in English and looked up in the gettext catalogue
`migrate/locale/<lang>/LC_MESSAGES/transhumance.mo` (French today; English needs none: the
source strings are English). `python -m migrate.i18n.tools update` extracts, merges and compiles
it; docs/decisions/0610-translations.md says why the compiled catalogue is committed.

Language: `--lang`, else LC_ALL, LC_MESSAGES, LANG (the first one set); French whenever that
names French (`fr`, `fr_FR.UTF-8`, `fr_BE`, `fr_CA`, `fr_CH`…), English otherwise (`C` too).
"""

from __future__ import annotations

import datetime as dt
import gettext
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent.parent / "locale"
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
    # Their French is in our catalogue (see migrate/cli/click_messages.py).
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _language
    return _language


@contextmanager
def language_kept() -> Iterator[None]:
    """Whatever `set_language` changes inside (our catalogue, the standard library's gettext
    domain, the LANGUAGE variable) is as it was afterwards: a program calling the command in
    its own process (click's CliRunner, a script) keeps its language and environment."""
    global _translation, _language
    saved = _translation, _language, os.environ.get("LANGUAGE"), gettext.textdomain()
    try:
        yield
    finally:
        _translation, _language, language_variable, domain = saved
        if language_variable is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = language_variable
        gettext.textdomain(domain)


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


class Message(str):
    """A translated text that remembers its English id and its parameters, so that what is
    stored (a skip reason in the journal) can be shown again in another language: a report
    made in French says in French why an item was skipped during an English run.

    `_()` and `ngettext()` return one; `.format()` and `+` keep what is needed to render it
    again (`stored`/`shown`); any other str operation gives a plain str, shown as it is.
    """

    msgid: str | tuple[str, str, int]
    params: dict[str, Any]
    parts: tuple[Any, ...] = ()
    #: Something a person must act on (a share not recreated): the report counts these.
    to_do: bool = False

    @classmethod
    def of(cls, text: str, msgid: str | tuple[str, str, int], params: dict[str, Any] | None = None,
           parts: tuple[Any, ...] = (), to_do: bool = False) -> Message:
        made = cls(text)
        made.msgid, made.params, made.parts, made.to_do = msgid, params or {}, parts, to_do
        return made

    def format(self, *args: Any, **kwargs: Any) -> Message:  # type: ignore[override]
        text = str.format(self, *args, **kwargs)
        if args or self.parts:
            return Message.of(text, text, to_do=self.to_do)
        return Message.of(text, self.msgid, kwargs, to_do=self.to_do)

    def __add__(self, other: str) -> Message:  # type: ignore[override]
        return Message.of(str.__add__(self, other), "", parts=(self, other), to_do=self.to_do)

    def __radd__(self, other: str) -> Message:
        return Message.of(str.__add__(other, self), "", parts=(other, self), to_do=self.to_do)


#: What marks a stored message (JSON follows): a control character no text contains.
STORED = "\x1f"


def stored(text: str | None) -> str | None:
    """A text as the journal keeps it: a `Message` as its id and parameters (JSON after
    `STORED`), so it can be shown in the reader's language; any other text as it is."""
    if not isinstance(text, Message):
        return text
    if text.parts or text.params:
        return STORED + json.dumps(_as_data(text), ensure_ascii=False)
    # A message without parameters ("new") is journaled for 10,000s of items, twice each:
    # made into JSON once per language, id and mark.
    key = (str(text), text.msgid, text.to_do)
    found = _STORED_PLAIN.get(key)
    if found is None:
        found = _STORED_PLAIN[key] = STORED + json.dumps(_as_data(text), ensure_ascii=False)
    return found


_STORED_PLAIN: dict[tuple[str, str | tuple[str, str, int], bool], str] = {}


def shown(text: str | None) -> str | None:
    """A stored text in the current language (a plain one as it is)."""
    if not text or not text.startswith(STORED):
        return text
    try:
        return _render(json.loads(text[len(STORED):]))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return text[len(STORED):]


def is_to_do(text: str | None) -> bool:
    """True for a stored or live message marked as something a person must act on."""
    if isinstance(text, Message):
        return text.to_do
    if not text or not text.startswith(STORED):
        return False
    try:
        return bool(json.loads(text[len(STORED):]).get("todo"))
    except (ValueError, AttributeError):
        return False


def count_of(text: str | None) -> int | None:
    """The count a stored or live plural message was made for ("e-mailed 10 people": 10)."""
    if isinstance(text, Message):
        return text.msgid[2] if isinstance(text.msgid, tuple) else None
    if not text or not text.startswith(STORED):
        return None
    try:
        msgid = json.loads(text[len(STORED):]).get("m")
    except (ValueError, AttributeError):
        return None
    return int(msgid[2]) if isinstance(msgid, list) and len(msgid) == 3 else None


def os_reason(error: OSError) -> str:
    """Why the operating system refused, in the user's language (its own text is English)."""
    import errno

    reasons = {
        errno.ENOENT: N_("no such file or folder"),
        errno.EACCES: N_("permission denied"),
        errno.EPERM: N_("operation not permitted"),
        errno.ENOSPC: N_("no space left on the disk"),
        errno.EISDIR: N_("it is a folder"),
        errno.ENOTDIR: N_("a part of the path is not a folder"),
        errno.EEXIST: N_("it exists already"),
        errno.EROFS: N_("the disk is read-only"),
        errno.ENAMETOOLONG: N_("the name is too long"),
        errno.EDQUOT: N_("the disk quota is exceeded"),
        errno.EIO: N_("input/output error (a failing disk?)"),
    }
    if error.errno in reasons:
        return _(reasons[error.errno])
    return error.strerror or type(error).__name__


def message_of(error: BaseException) -> str:
    """An error's message, kept as a `Message` when the error was raised with one."""
    if len(error.args) == 1 and isinstance(error.args[0], Message):
        return error.args[0]
    return str(error)


def to_do(message: str) -> str:
    """Mark a note as something a person must act on (counted in the report's "to look at")."""
    if isinstance(message, Message):
        message.to_do = True
        return message
    return Message.of(message, message, to_do=True)


def _as_data(text: Any) -> Any:
    if not isinstance(text, Message):
        return text if isinstance(text, int | float) else str(text)
    data: dict[str, Any] = {"t": str(text)}
    if text.parts:
        data["c"] = [_as_data(part) for part in text.parts]
    else:
        data["m"] = list(text.msgid) if isinstance(text.msgid, tuple) else text.msgid
        data["p"] = {key: _as_data(value) for key, value in text.params.items()}
    if text.to_do:
        data["todo"] = True
    return data


def english(text: str) -> str:
    """A message as it reads in English (the source language), whatever the current language:
    for what must not change with it, such as a key made from a message."""
    if not isinstance(text, Message):
        return str(text)
    global _translation
    saved, _translation = _translation, gettext.NullTranslations()
    try:
        return _render(_as_data(text))
    finally:
        _translation = saved


def join(separator: str, texts: Iterable[str]) -> str:
    """`separator.join(texts)` that keeps messages as messages (shown later in any language)."""
    parts: list[Any] = []
    for index, text in enumerate(texts):
        if index:
            parts.append(separator)
        parts.append(text)
    if not any(isinstance(part, Message) for part in parts):
        return separator.join(map(str, parts))
    return Message.of("".join(map(str, parts)), "", parts=tuple(parts))


def _render(data: Any) -> str:
    if not isinstance(data, dict):
        return str(data)
    if "c" in data:
        return "".join(_render(part) for part in data["c"])
    msgid, params = data["m"], {k: _render(v) if isinstance(v, dict) else v
                                for k, v in data.get("p", {}).items()}
    if not msgid:
        return str(data["t"])
    if isinstance(msgid, list):
        template = _translation.ngettext(msgid[0], msgid[1], int(msgid[2]))
    else:
        template = _translation.gettext(msgid)
    return template.format(**params) if params else template


def _(message: str) -> str:
    """Translate `message`; format placeholders after translating: `_("{n} files").format(n=3)`."""
    return Message.of(_translation.gettext(message), message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message whose form depends on a count: `ngettext("{n} file", "{n} files", n)`."""
    return Message.of(_translation.ngettext(singular, plural, count), (singular, plural, count))


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet (it is passed to `_` later)."""
    return message


#: The thousands separator of whole numbers, as CLDR gives it (a narrow no-break space in French).
_GROUPING = {"en": ",", "fr": "\u202f"}


def number(value: int | float | None, decimals: int | None = None) -> str:
    """A count or amount written for the language: `1,204` / `1 204`; `12.5` / `12,5`.

    `decimals` fixes the digits after the point; an em dash when the value is unknown.
    """
    if value is None:
        return "—"
    if type(value) is int and decimals is None and _language in _GROUPING:
        # A whole count, the most common number printed: loading Babel's CLDR data for it
        # cost more than a re-run of 2,000 files (0.15 s). The same text as Babel's
        # (tests/test_i18n.py compares them).
        return f"{value:,}".replace(",", _GROUPING[_language])
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
