"""OAuth 2 for the emulator: a token endpoint and bearer-token checks.

Anonymous requests are accepted unless `required` is set; a bearer token, when sent, is always
checked, so an expired one answers 401 `authError` as Drive does. The token endpoint speaks the
grants an installation meets: JWT bearer (service accounts, with `sub` for domain-wide
delegation), refresh_token, and authorization_code — the installed-app flow of `migrate login`.
Its consent page (`GET /o/oauth2/v2/auth`) stands for the user accepting: it checks the request
as Google does (known client, `response_type=code`, a redirect address) and redirects to
`redirect_uri?code=…&state=…&scope=…`. A code is good once, for its client and its redirect
address, and — when the consent asked for a PKCE `code_challenge` (S256 or plain) — only with
the matching `code_verifier`. Like Google's granular consent, the user may untick scopes:
`granted_scopes` then says what they left ticked; the token answer's `scope` says so, and Drive
requests with such a token answer 403 insufficientPermissions. `expire_refresh_tokens()` stands
for the 7 days after which Google expires the refresh tokens of OAuth apps left in "Testing"
(refresh then answers 400 invalid_grant "Token has been expired or revoked.").
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from google.auth import exceptions, jwt
from werkzeug.wrappers import Request, Response

from .errors import DriveApiError
from .model import numeric_id

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://accounts.google.com/o/oauth2/token",
)


@dataclass
class Token:
    """An issued access token: who it is for (subject), through which client, until when."""

    value: str
    subject: str
    client: str
    expires_at: float
    scope: str = DRIVE_READONLY


class AuthServer:
    """Token issuing and checking; create credentials with the `create_*` methods."""

    def __init__(self, default_subject: str) -> None:
        self.required = False
        self.token_lifetime = 3600
        self.default_subject = default_subject
        self.tokens: dict[str, Token] = {}
        self.grants_issued: list[Token] = []
        self._service_accounts: dict[str, tuple[str, bool]] = {}
        self._refresh_tokens: dict[str, tuple[str, str, str]] = {}
        self._clients: dict[str, str] = {}  # OAuth clients ("Desktop app"): id → secret
        #: code → client id, redirect, user, PKCE (method, challenge) or None, scopes granted
        self._codes: dict[str, tuple[str, str, str, tuple[str, str] | None, str]] = {}
        #: What the user leaves ticked on the consent page (None: every scope asked for).
        self.granted_scopes: str | None = None
        self._last_code_scopes = DRIVE_READONLY
        self._scopes: dict[str, str] = {}  # refresh token → scopes it grants
        self._lock = threading.Lock()

    # ----- credentials for clients --------------------------------------------------------------

    def create_service_account(
        self,
        token_uri: str,
        email: str = "migrate@transhumance-test.iam.gserviceaccount.com",
        can_delegate: bool = True,
    ) -> dict[str, str]:
        """A service-account key file (as a dict) google-auth can load, registered here.

        `can_delegate=False` refuses tokens asking for a `sub` (no domain-wide delegation):
        the token endpoint then answers 401 `unauthorized_client`, as Google does.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self._service_accounts[email] = (public_pem, can_delegate)
        return {
            "type": "service_account",
            "project_id": "transhumance-test",
            "private_key_id": secrets.token_hex(20),
            "private_key": private_pem,
            "client_email": email,
            "client_id": numeric_id(email),
            "token_uri": token_uri,
        }

    def create_refresh_token(self, user: str | None = None) -> dict[str, str]:
        """client_id, client_secret and refresh_token for google.oauth2.credentials.Credentials."""
        client_id, client_secret = f"{secrets.token_hex(6)}.apps.googleusercontent.com", "secret"
        refresh = "1//" + secrets.token_urlsafe(24)
        self._refresh_tokens[refresh] = (client_id, client_secret, user or self.default_subject)
        return {"client_id": client_id, "client_secret": client_secret, "refresh_token": refresh}

    def create_oauth_client(self) -> dict[str, str]:
        """An OAuth client of type "Desktop app", as a Cloud console project gives one."""
        client_id = f"{secrets.token_hex(6)}.apps.googleusercontent.com"
        secret = "GOCSPX-" + secrets.token_urlsafe(18)
        self._clients[client_id] = secret
        return {"client_id": client_id, "client_secret": secret}

    def consent_endpoint(self, request: Request) -> Response:
        """GET /o/oauth2/v2/auth: the user signs in and accepts; redirect with a code."""
        args = request.args
        client_id, redirect = args.get("client_id", ""), args.get("redirect_uri", "")
        if client_id not in self._clients:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if args.get("response_type") != "code" or not redirect:
            return _oauth_error(400, "invalid_request",
                                "Required parameter is missing: response_type or redirect_uri")
        challenge = args.get("code_challenge")
        method = args.get("code_challenge_method", "plain")
        if challenge and method not in ("S256", "plain"):
            return _oauth_error(400, "invalid_request", "Invalid code_challenge_method.")
        scopes = args.get("scope", "") if self.granted_scopes is None else self.granted_scopes
        code = "4/0A" + secrets.token_urlsafe(30)
        with self._lock:
            self._codes[code] = (client_id, redirect, self.default_subject,
                                 (method, challenge) if challenge else None, scopes)
        query = {"code": code, "scope": scopes}
        if "state" in args:
            query["state"] = args["state"]
        separator = "&" if "?" in redirect else "?"
        response = Response(status=302)
        response.headers["Location"] = redirect + separator + urllib.parse.urlencode(query)
        return response

    def issue_token(
        self, subject: str | None = None, client: str = "test", lifetime: int | None = None
    ) -> str:
        """An access token issued directly, for clients given a static token."""
        token = Token(
            "ya29." + secrets.token_urlsafe(32),
            subject or self.default_subject,
            client,
            time.time() + (self.token_lifetime if lifetime is None else lifetime),
        )
        with self._lock:
            self.tokens[token.value] = token
            self.grants_issued.append(token)
        return token.value

    def expire_all(self) -> None:
        """Make every issued token expired now (clients still believe they are valid)."""
        with self._lock:
            for token in self.tokens.values():
                token.expires_at = 0

    # ----- checking ------------------------------------------------------------------------

    def authenticate(self, authorization: str | None, access_token: str | None = None) -> str:
        """The principal of a request ("anonymous" or a token subject); 401 authError if invalid."""
        value = access_token
        if authorization and authorization.lower().startswith("bearer "):
            value = authorization[7:].strip()
        if not value:
            if self.required:
                raise _unauthenticated("Request is missing required authentication credential.")
            return "anonymous"
        token = self.tokens.get(value)
        if token is None or token.expires_at <= time.time():
            raise _unauthenticated(
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential."
            )
        return token.subject

    # ----- token endpoint ------------------------------------------------------------------------

    def token_endpoint(self, request: Request) -> Response:
        """POST /token: JWT-bearer or refresh_token grant -> access token JSON."""
        grant = request.form.get("grant_type", "")
        try:
            if grant == JWT_BEARER:
                subject, client = self._check_assertion(request.form.get("assertion", ""), request)
            elif grant == "refresh_token":
                subject, client = self._check_refresh(request.form)
            elif grant == "authorization_code":
                subject, client = self._check_code(request.form)
            else:
                return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + grant)
        except _OAuthError as error:
            return _oauth_error(error.status, error.code, error.description)
        value = self.issue_token(subject, client)
        body = {"access_token": value, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        scope = self._granted_now(grant, request.form)
        self.tokens[value].scope = scope
        body["scope"] = scope
        if grant == "authorization_code":  # the installed app keeps this one
            refresh = "1//" + secrets.token_urlsafe(24)
            self._refresh_tokens[refresh] = (client, self._clients[client], subject)
            self._scopes[refresh] = scope
            body["refresh_token"] = refresh
        return Response(json.dumps(body), mimetype="application/json")

    def _granted_now(self, grant: str, form: Any) -> str:
        if grant == "refresh_token":
            return self._scopes.get(form.get("refresh_token", ""), DRIVE_READONLY)
        if grant == "authorization_code":
            return self._last_code_scopes
        return DRIVE_READONLY

    def expire_refresh_tokens(self) -> None:
        """Every refresh token issued so far stops working, as Google does after 7 days for
        OAuth apps whose consent screen is in "Testing"."""
        with self._lock:
            self._refresh_tokens.clear()

    def check_scope(self, authorization: str | None) -> None:
        """403 insufficientPermissions when the bearer token's grant lacks Drive (the user
        unticked it on the consent page); anonymous calls pass."""
        value = authorization[7:].strip() if authorization and authorization.lower().startswith(
            "bearer ") else ""
        found = self.tokens.get(value)
        if found is None or any(s.startswith("https://www.googleapis.com/auth/drive")
                                for s in found.scope.split()):
            return
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                "metadata": {"service": "drive.googleapis.com"}}
        raise DriveApiError(403, "insufficientPermissions",
                            "Request had insufficient authentication scopes.", details=[info])

    def _check_code(self, form: Any) -> tuple[str, str]:
        """Google answers `invalid_grant` / "Bad Request" to a reused, unknown or foreign code,
        and `invalid_client` to a wrong secret."""
        client_id = form.get("client_id", "")
        if self._clients.get(client_id) != form.get("client_secret") or not client_id:
            raise _OAuthError(401, "invalid_client", "Unauthorized")
        with self._lock:
            known = self._codes.pop(form.get("code", ""), None)
        if known is None or known[:2] != (client_id, form.get("redirect_uri")):
            raise _OAuthError(400, "invalid_grant", "Bad Request")
        pkce = known[3]
        if pkce is not None and not _verifies(pkce, form.get("code_verifier", "")):
            raise _OAuthError(400, "invalid_grant", "Invalid code verifier.")
        self._last_code_scopes = known[4]
        return known[2], client_id

    def _check_assertion(self, assertion: str, request: Request) -> tuple[str, str]:
        try:
            claims = jwt.decode(assertion, verify=False)
            email = claims.get("iss", "")
            public_pem, can_delegate = self._service_accounts[email]
            # google-auth signs for Google's token URL whatever token_uri says; accept both.
            audiences = [request.base_url, *GOOGLE_TOKEN_AUDIENCES]
            claims = jwt.decode(assertion, certs=public_pem, audience=audiences)
        except (KeyError, ValueError, exceptions.GoogleAuthError) as error:
            raise _OAuthError(400, "invalid_grant", f"Invalid JWT: {error}") from None
        subject = claims.get("sub")
        if subject and subject != email and not can_delegate:
            raise _OAuthError(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client "
                "not authorized for any of the scopes requested.",
            )
        return (subject or email), email

    def _check_refresh(self, form: Any) -> tuple[str, str]:
        known = self._refresh_tokens.get(form.get("refresh_token", ""))
        if known is None:
            raise _OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        if known[:2] != (form.get("client_id"), form.get("client_secret")):
            raise _OAuthError(400, "invalid_grant", "Bad Request")
        return known[2], known[0]


def _verifies(pkce: tuple[str, str], verifier: str) -> bool:
    """RFC 7636: S256 compares BASE64URL(SHA256(verifier)) without padding; plain, equality."""
    method, challenge = pkce
    if not 43 <= len(verifier) <= 128:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenge
    return verifier == challenge


class _OAuthError(Exception):
    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def _oauth_error(status: int, code: str, description: str) -> Response:
    body = json.dumps({"error": code, "error_description": description})
    return Response(body, status=status, mimetype="application/json")


def _unauthenticated(message: str) -> DriveApiError:
    return DriveApiError(
        401,
        "authError",
        message,
        location="Authorization",
        location_type="header",
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        },
    )
