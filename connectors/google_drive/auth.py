"""Credentials for Drive: a service-account key (with domain-wide delegation), a refresh token
stored by `migrate login`, or (only against a local emulator) none at all.

The installed-app flow (`login`) prints Google's consent URL, reads back the code the volunteer
copies from the browser, exchanges it for a refresh token and stores that token in the state
folder with mode 0600. The token never appears in output or in item meta.

As Google's guide for installed apps asks: PKCE (`code_challenge`, S256; the verifier goes
with the code), a random `state` checked against the address the browser ends on, and the
scopes actually granted (with granular consent the volunteer may untick Drive) checked in the
token answer. An OAuth client whose consent screen is left in "Testing" gets refresh tokens
that Google expires after 7 days: the refresh then fails with `invalid_grant`, which is said
plainly with what to do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.google_drive.options import GoogleDriveOptions
from migrate.errors import FatalError, MigrateError
from migrate.i18n import _, os_reason

SCOPES = ["https://www.googleapis.com/auth/drive.readonly"]
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
#: Loopback redirect, as Google asks of installed apps; the browser shows the code in its
#: address bar even though nothing listens there.
REDIRECT_URI = "http://127.0.0.1:8765/"


def _key_info(value: str, base_dir: Path) -> dict[str, Any]:
    """The key file's JSON: given inline (`${file:…}` resolves to its content) or as a path."""
    text = value.strip()
    if not text.startswith("{"):
        path = (base_dir / text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise FatalError(_("cannot read the Google key file {path}: {reason}").format(
                path=path, reason=os_reason(error))) from None
    try:
        info = json.loads(text)
    except ValueError:
        raise FatalError(_("the Google 'credentials' are not a JSON key file; download the "
                           "service account's key as JSON in the Google Cloud console")) from None
    if not isinstance(info, dict):
        raise FatalError(_("the Google 'credentials' are not a JSON key file"))
    return info


def build_credentials(config: GoogleDriveOptions, base_dir: Path, login_file: Path | None,
                      connection: str | None) -> Any:
    """google-auth credentials for the connection, from the first source that is given."""
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    token_uri = config.token_uri
    if config.credentials:
        info = _key_info(config.credentials, base_dir)
        if token_uri:
            info["token_uri"] = token_uri
        try:
            if info.get("type") == "service_account":
                subject = config.subject or None
                return service_account.Credentials.from_service_account_info(
                    info, scopes=SCOPES, subject=subject)
            if info.get("type") == "authorized_user":
                return _user_credentials(info)
        except (ValueError, KeyError) as error:
            raise FatalError(_("the Google key file is incomplete: {error}").format(
                error=error)) from None
        raise FatalError(_("the Google 'credentials' must be a service-account key or a "
                           "user's authorised credentials (type: {t})").format(t=info.get("type")))
    if login_file is not None and login_file.is_file():
        info = json.loads(login_file.read_text(encoding="utf-8"))
        if token_uri:
            info["token_uri"] = token_uri
        return _user_credentials(info)
    if config.api_endpoint:
        return AnonymousCredentials()  # a local emulator: nothing to log in to
    raise FatalError(_("no Google credentials for connection '{c}': run 'migrate login PLAN {c}' "
                       "(a volunteer's account) or give 'credentials' (a service-account key)")
                     .format(c=connection or "?"))


def _user_credentials(info: dict[str, Any]) -> Any:
    # Not from_authorized_user_info: it forces Google's token_uri, and the sandbox has its own.
    from google.oauth2 import credentials

    try:
        return credentials.Credentials(
            None, refresh_token=info["refresh_token"], client_id=info["client_id"],
            client_secret=info["client_secret"], scopes=SCOPES,
            token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI)
    except KeyError as missing:
        raise FatalError(_("the saved Google sign-in lacks {field}; run 'migrate login' again")
                         .format(field=missing)) from None


def testing_expiry_hint(connection: str | None) -> str:
    """What to do when a volunteer's sign-in stops working after a week."""
    return _("if you signed in with 'migrate login' and the OAuth client's consent screen is "
             "in 'Testing', Google expires the sign-in after 7 days: publish the app ('In "
             "production') in the Google Cloud console, then run 'migrate login PLAN "
             "{connection}' again").format(connection=connection or "CONNECTION")


def code_challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def consent_url(client_id: str, auth_uri: str, state: str, verifier: str) -> str:
    query = {"client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
             "scope": " ".join(SCOPES), "access_type": "offline", "prompt": "consent",
             "state": state, "code_challenge": code_challenge(verifier),
             "code_challenge_method": "S256"}
    return f"{auth_uri}?{urllib.parse.urlencode(query)}"


def code_from(answer: str, state: str | None = None) -> str:
    """The volunteer may paste the code or the whole address the browser ended on; an address
    must carry this sign-in's `state` (else it answers another, or a forged, request)."""
    answer = answer.strip()
    if "code=" in answer:
        query = urllib.parse.urlparse(answer).query or answer.split("?", 1)[-1]
        found = urllib.parse.parse_qs(query)
        if state is not None and found.get("state", [""])[0] != state:
            raise MigrateError(_("this address does not come from this sign-in (its 'state' "
                                 "differs); run 'migrate login' again and paste the address "
                                 "the browser shows at the end of it"))
        return found.get("code", [""])[0]
    return answer


def has_drive_scope(granted: str) -> bool:
    return any(scope in granted.split() for scope in
               (*SCOPES, "https://www.googleapis.com/auth/drive"))


def login(config: GoogleDriveOptions, store: Path, ask: Callable[[str], str],
          say: Callable[[str], None]) -> None:
    """The installed-app flow: consent URL, code, refresh token stored at `store` (0600)."""
    import requests

    client_id, client_secret = config.client_id, config.client_secret
    if not client_id or not client_secret:
        raise MigrateError(_("'migrate login' needs 'client_id' and 'client_secret' on the "
                             "connection (an OAuth client of type 'Desktop app')"))
    token_uri = config.token_uri or GOOGLE_TOKEN_URI
    state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(64)
    say(_("Open this address in a browser, sign in with the Google account to migrate and "
          "accept:"))
    say(consent_url(client_id, config.auth_uri or GOOGLE_AUTH_URI, state,
                    verifier))
    code = code_from(ask(_("Then paste the code (or the whole address the browser shows)")),
                     state)
    answer = requests.post(token_uri, timeout=60, data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "client_secret": client_secret, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier})
    body = answer.json() if answer.headers.get("content-type", "").startswith(
        "application/json") else {}
    if answer.status_code != 200 or "refresh_token" not in body:
        raise MigrateError(_("Google did not accept the code ({error}); run 'migrate login' "
                             "again and paste the newest code").format(
                                 error=body.get("error", answer.status_code)))
    if "scope" in body and not has_drive_scope(str(body["scope"])):
        raise MigrateError(_("the access to Google Drive was not ticked on Google's consent "
                             "page, so nothing could be read; run 'migrate login' again and "
                             "tick \"See and download all your Google Drive files\""))
    store_refresh_token(store, {"type": "authorized_user", "client_id": client_id,
                                "client_secret": client_secret,
                                "refresh_token": body["refresh_token"], "token_uri": token_uri})
    say(_("Logged in; the access is kept in {path} (readable by you only).").format(path=store))


def store_refresh_token(store: Path, info: dict[str, str]) -> None:
    """Write the authorised-user JSON readable by its owner only, never briefly wider."""
    import os

    store.parent.mkdir(parents=True, exist_ok=True)
    temporary = store.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(info, out)
    os.chmod(temporary, 0o600)
    os.replace(temporary, store)
