"""What every post source does to a post's text: repair it, tell its language, and refuse to
make a status of nothing.

- Mojibake: Facebook and Instagram escape each UTF-8 byte as `\\u00XX`; the text is repaired
  as a whole where it can be, and each link on its own where the rest of the text cannot
  (`polÃ©micas` in a URL inside otherwise correct text).
- Language: py3langid (langid.py's maintained fork, offline, its 4.5 MB model shipped in the
  wheel), among the languages with an ISO 639-1 code, trusted only above `CONFIDENCE` and on
  enough letters; otherwise None and the target uses the step's `language` or none
  (docs/decisions/0330-language-identification.md).
- Nothing to post: a post whose only content would be the origin line — no text, no picture
  the export holds, no link — or whose only text is a placeholder link (`http://0.0.0.0/`) is
  skipped with its reason instead of becoming an empty status.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from migrate.i18n import _

URL = re.compile(r"https?://\S+")
#: Links that lead nowhere, seen alone in real exports.
PLACEHOLDER_LINK = re.compile(
    r"https?://(?:0\.0\.0\.0|localhost|127\.0\.0\.1|\[::1?\])(?::\d+)?(?:/\S*)?", re.IGNORECASE)
#: Below this probability (py3langid's normalised score, among ISO 639-1 languages) a post's
#: language is not set: short or mixed texts fall below it (decision 0330).
CONFIDENCE = 0.85
#: Fewer letters than this, once links, @handles and #tags are removed: too short to tell.
MIN_LETTERS = 20
_NOT_WORDS = re.compile(r"https?://\S+|[@#][\w.-]+")

_identifier: Any = None
_lock = threading.Lock()


def repair_mojibake(text: str) -> str:
    """Facebook and Instagram exports escape each UTF-8 byte as `\\u00XX`: "Ã©tÃ©" → "été".

    Repaired only where it applies: every character below 256 and the bytes valid UTF-8, so
    correct text ("été" typed as Latin-1, an emoji) is left as it is.
    """
    if text.isascii() or any(ord(char) > 255 for char in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return text


def repair_links(text: str) -> str:
    """Each link repaired on its own: a URL left in mojibake inside correct text."""
    return URL.sub(lambda match: repair_mojibake(match.group()), text)


def nothing_to_post(meta: Mapping[str, Any]) -> str | None:
    """Why this post would be a status holding only its origin line, or None if it has
    something of its own (text, a picture from the export, a picture's or a page's link)."""
    text = str(meta.get("text") or "").strip()
    media = [m for m in meta.get("media") or [] if isinstance(m, Mapping)]
    if any(m.get("path") or m.get("url") for m in media):
        return None
    if text and PLACEHOLDER_LINK.sub("", text).strip():
        return None
    if text:
        return _("its only content is a link that leads nowhere ({link}): nothing to "
                 "post").format(link=text)
    if any(m.get("missing") for m in media):
        return _("no text, and its pictures are missing from the export: nothing to post")
    return _("no text, picture or link of its own: nothing to post")


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language when py3langid is confident, else None."""
    words = _NOT_WORDS.sub(" ", text)
    if sum(char.isalpha() for char in words) < MIN_LETTERS:
        return None
    language, confidence = _language_identifier().classify(words)
    return str(language) if confidence >= CONFIDENCE and len(language) == 2 else None


def _language_identifier() -> Any:
    """Loaded once per process, on first use (the model takes about a second to load)."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            # Only languages with a two-letter code, as Mastodon's `language` takes: regional
            # varieties (Extremaduran beside Spanish…) no longer split the probability.
            identifier.set_languages([code for code in identifier.labels if len(code) == 2])
            _identifier = identifier
        return _identifier
