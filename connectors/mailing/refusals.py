"""Addresses a mailing service refuses, known from the address alone: the plan skips them with
the reason, so the dry run counts what the apply will do (docs/decisions/0621).

- listmonk (internal/subimporter/importer.go, `ValidateFields` and `SanitizeEmail`, for the
  API and the CSV import alike): an address longer than 1,000 bytes; then, lowercased and
  trimmed, one Go's `mail.ParseAddress` must give back unchanged — a dot-atom before and after
  the '@' (no quoted local part, no display name, no comment), atoms of printable ASCII other
  than `()<>[]:;@\\,"` or of any non-ASCII letter. (A domain block or allow list set in
  listmonk's settings is the server's own: only it knows.)
- MailPoet (lib/Services/Validator.php, `validateNonRoleEmail`): 6 to 150 bytes, WordPress's
  `is_email` and PHP's `FILTER_VALIDATE_EMAIL` (ASCII only, at most 64 characters before the
  '@', `a-z 0-9 ! # $ % & ' * + / = ? ^ _ ` { | } ~ . -` there), and no role address.
"""

from __future__ import annotations

import re

from migrate.i18n import _

#: Go's `isAtext`: printable ASCII but the specials, or any character beyond ASCII.
_GO_ATEXT = r"[!#$%&'*+\-/=?^_`{|}~0-9A-Za-z\u0080-\ud7ff\ue000-\U0010ffff]"
_GO_DOT_ATOM = rf"{_GO_ATEXT}+(?:\.{_GO_ATEXT}+)*"
_GO_ADDRESS = re.compile(rf"{_GO_DOT_ATOM}@(?:{_GO_DOT_ATOM}|\[[^\[\]\\]*\])")
LISTMONK_MAX_BYTES = 1000


def listmonk_refusal(email: str) -> str | None:
    """Why listmonk will refuse this address (API or import), or None."""
    if len(email.encode("utf-8", "surrogatepass")) > LISTMONK_MAX_BYTES:
        return _("listmonk refuses addresses longer than {n} bytes").format(
            n=LISTMONK_MAX_BYTES)
    if not _GO_ADDRESS.fullmatch(email.strip().lower()):
        return _("listmonk refuses this address: it only takes a plain address, without "
                 "quotes, spaces, control characters or two dots in a row")
    return None


#: MailPoet's own list (mailpoet/lib/Services/Validator.php, ROLE_EMAILS): refused on import.
ROLE_EMAILS = frozenset((
    "abuse", "compliance", "devnull", "dns", "ftp", "hostmaster", "inoc", "ispfeedback",
    "ispsupport", "list-request", "list", "maildaemon", "noc", "no-reply", "noreply", "nospam",
    "null", "phish", "phishing", "postmaster", "privacy", "registrar", "root", "security",
    "spam", "sysadmin", "undisclosed-recipients", "unsubscribe", "usenet", "uucp", "webmaster",
    "www"))
#: WordPress `is_email`: the characters allowed before the '@'.
_WORDPRESS_LOCAL = re.compile(r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.\-]+")


def mailpoet_refusal(address: str) -> str | None:
    """Why MailPoet's importer will drop this address (as MailPoet stores it), or None."""
    local = address.rpartition("@")[0]
    if local.lower() in ROLE_EMAILS:
        return _("role address ({local}@): MailPoet refuses it").format(local=local)
    if not address.isascii():
        return _("letters with accents before the '@': MailPoet refuses it")
    if not 6 <= len(address) <= 150:
        return _("shorter than 6 or longer than 150 characters: MailPoet refuses it")
    if len(local) > 64 or not _WORDPRESS_LOCAL.fullmatch(local):
        return _("more than 64 characters before the '@', or a sign there that WordPress "
                 "does not accept: MailPoet refuses it")
    return None


def mailman_refusal(email: str) -> str | None:
    """Mailman's validator (mailman/email/validate.py, read in 3.3.10) answers 400 to a local
    part (before the '@') with anything but ASCII letters, digits and `- ! # $ % & ' * + . / = ?
    @ _ ` { } ~`. The domain goes in punycode, which it accepts."""
    local = email.strip().rpartition("@")[0]
    if not local.isascii():
        return _("Mailman does not accept addresses with accents or other non-English letters "
                 "before the '@'")
    if not _MAILMAN_LOCAL.fullmatch(_QUOTED.sub(r"\1", local)):
        return _("Mailman does not accept signs such as | or ^, quotes, brackets or spaces "
                 "before the '@'")
    return None


#: Mailman's `_valid_local`, and the quotes it strips from a quoted local part first.
_MAILMAN_LOCAL = re.compile("[-0-9a-z!#$%&'*+./=?@_`{}~]+", re.IGNORECASE)
_QUOTED = re.compile('^"(.*)"$')
