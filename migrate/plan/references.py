"""`${var.x}`, `${env:X}`, `${file:path}` and `${keyring:service/user}` in plan values.

Variables are substituted when the plan is loaded (they are not secret). Secret references are
resolved only when a command needs the value, and every resolved value is remembered by a
`Redactor` so that it can be masked wherever text leaves the program.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

from migrate.i18n import _, os_reason

REFERENCE = re.compile(r"\$\{([^}]*)\}")
ESCAPED = "$${"
MASK = "********"


class ReferenceError_(ValueError):
    """A reference cannot be resolved; the message says which and how to fix it."""


def has_secret_reference(value: str) -> bool:
    return any(m.group(1).split(":", 1)[0] in ("env", "file", "keyring") for m in _refs(value))


def _refs(value: str) -> list[re.Match[str]]:
    return [m for m in REFERENCE.finditer(value) if value[max(m.start() - 1, 0) : m.start()] != "$"]


#: Environment variables whose name says they hold a secret, wherever they are used.
SECRET_NAME = re.compile(r"PASS|TOKEN|SECRET|KEY|CRED|AUTH|PRIVATE", re.IGNORECASE)


def is_secret_reference(expression: str) -> bool:
    """Whether a reference's value must be masked even in an option not declared secret.

    Files and keyrings are where secrets are kept; an environment variable counts when its name
    says so (`NEXTCLOUD_APP_PASSWORD`, `MASTODON_TOKEN`). A URL or a folder taken from the
    environment stays readable in output and reports.
    """
    scheme, _sep, argument = expression.partition(":")
    return scheme in ("file", "keyring") or (scheme == "env" and bool(SECRET_NAME.search(argument)))


def substitute(value: str, resolve: Callable[[str], str | None]) -> str:
    """Replace each reference for which `resolve` returns text; `$${` is a literal `${`."""
    out: list[str] = []
    position = 0
    for match in _refs(value):
        replacement = resolve(match.group(1))
        if replacement is None:
            continue
        out.append(value[position : match.start()])
        out.append(replacement)
        position = match.end()
    out.append(value[position:])
    return "".join(out).replace(ESCAPED, "${")


def resolve_variable(expression: str, variables: dict[str, str]) -> str | None:
    if not expression.startswith("var."):
        return None
    name = expression[4:]
    if name not in variables:
        known = ", ".join(sorted(variables)) or _("none")
        raise ReferenceError_(
            _("the variable '{name}' is not defined under vars: (defined: {known})").format(
                name=name, known=known
            )
        )
    return str(variables[name])


class Redactor:
    """Remembers secret values and masks them in any text about to be shown or stored.

    A secret reaches a message in other shapes than its own: escaped by `repr` (a header value
    with a newline), URL-encoded, cut at `:`, `@`, `/` or a line break (a URL's user and
    password, one line of a key file). Each such form long enough to mask is remembered.
    """

    #: Shorter values would mask ordinary words; such secrets are refused (`too_short`).
    MINIMUM_LENGTH = 8

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        # Several clients resolve secrets in threads while their combined output is printed.
        self._lock = threading.Lock()
        self._included: list[Redactor] = []

    def add(self, value: str) -> None:
        forms = {form for form in masked_forms(value) if len(form) >= self.MINIMUM_LENGTH}
        if forms:
            with self._lock:
                self._secrets.update(forms)

    @classmethod
    def too_short(cls, value: str) -> bool:
        """Whether a secret is too short to be masked safely (an empty one is not a secret)."""
        return 0 < len(value.strip()) < cls.MINIMUM_LENGTH

    def include(self, other: Redactor) -> None:
        """Also mask every secret `other` knows, now and later (one client's redactor in the
        combined output of several clients)."""
        with self._lock:
            self._included.append(other)

    def secrets(self) -> frozenset[str]:
        with self._lock:
            found = frozenset(self._secrets)
            included = list(self._included)
        return found.union(*(other.secrets() for other in included))

    def __call__(self, text: str) -> str:
        original = text
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, MASK)
        # A message holding no secret stays a message (shown later in the reader's language).
        return original if text == original else text

    @property
    def is_empty(self) -> bool:
        return not self.secrets()


_PIECES = re.compile(r"[:@/\s]+")


def masked_forms(value: str) -> set[str]:
    """Every shape in which `value` may appear in a message (see `Redactor`)."""
    bases = {value, value.strip(), *(line.strip() for line in value.splitlines())}
    forms: set[str] = set()
    for base in bases:
        forms.update((base, repr(base)[1:-1], json.dumps(base)[1:-1],
                      base.encode("unicode_escape").decode("ascii"),
                      quote(base, safe=""), quote(base), quote_plus(base)))
    if "\n" not in value.strip():  # a password cut at ':' or '@'; not every word of a key file
        forms.update(piece for piece in _PIECES.split(value) if piece)
    return {form for form in forms if form}


def resolve_secret(expression: str, base_dir: Path) -> str | None:
    """The value of an env/file/keyring reference, or None if the expression is not one."""
    scheme, _sep, argument = expression.partition(":")
    if scheme == "env":
        if argument not in os.environ and argument.startswith("TRANSHUMANCE_SANDBOX_"):
            raise ReferenceError_(
                _("the environment variable {name} is set by the sandbox: run this command "
                  "inside it, for example: migrate sandbox -- migrate plan PLAN").format(
                    name=argument)
            )
        if argument not in os.environ:
            raise ReferenceError_(
                _(
                    "the environment variable {name} is not set; set it before running, "
                    "for example: export {name}=…"
                ).format(name=argument)
            )
        return os.environ[argument]
    if scheme == "file":
        path = (base_dir / argument).expanduser()
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ReferenceError_(
                _("cannot read the secret file {path}: {reason}").format(
                    path=path, reason=os_reason(error)
                )
            ) from None
    if scheme == "keyring":
        return _from_keyring(argument)
    return None


def _from_keyring(argument: str) -> str:
    service, _sep, user = argument.partition("/")
    try:
        import keyring  # optional: only where a keyring is installed
    except ImportError:
        raise ReferenceError_(
            _("${{keyring:…}} needs the 'keyring' package, which is not installed here")
        ) from None
    value = keyring.get_password(service, user)
    if value is None:
        raise ReferenceError_(
            _("no password stored in the keyring for service '{service}', user '{user}'").format(
                service=service, user=user
            )
        )
    return value
