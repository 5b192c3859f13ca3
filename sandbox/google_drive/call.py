"""One API request after routing: its checked parameters, principal and field mask."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from . import discovery
from .errors import DriveApiError, invalid_parameter
from .fields import Mask


@dataclass
class Call:
    """What a handler needs: the request, checked query parameters, who calls, the mask."""

    request: Request
    params: dict[str, str]
    principal: str
    base_url: str
    mask: Mask | None = None
    path_args: dict[str, str] = field(default_factory=dict)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        return default if value is None else value.lower() == "true"

    def integer(self, name: str, default: int) -> int:
        value = self.params.get(name)
        return default if value is None else int(value)

    @property
    def supports_all_drives(self) -> bool:
        return self.flag("supportsAllDrives") or self.flag("supportsTeamDrives")

    @property
    def include_all_drives(self) -> bool:
        """Shared-drive items are included only when both opt-in flags are set, as in Drive."""
        include = self.flag("includeItemsFromAllDrives") or self.flag("includeTeamDriveItems")
        return include and self.supports_all_drives


def check_parameters(
    args: dict[str, str], resource: str, method: str, path_params: set[str]
) -> dict[str, str]:
    """Validate query parameters against the discovery document; 400 on any unknown one."""
    spec = discovery.parameters(resource, method)
    for name, value in args.items():
        if name not in spec or name in path_params:
            raise DriveApiError(
                400,
                "badRequest",
                f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                f"parameter. Field '{name}' could not be found in request message.",
                location=name,
            )
        _check_value(name, value, spec[name])
    for name, description in spec.items():
        required = description.get("required") and description.get("location") == "query"
        if required and name not in args:
            raise DriveApiError(400, "required", f"Required parameter: {name}", location=name)
    return args


def _check_value(name: str, value: str, description: dict[str, Any]) -> None:
    kind = description.get("type")
    if kind == "boolean" and value.lower() not in ("true", "false"):
        raise invalid_parameter(name, f"Invalid value '{value}'. Valid values are: true, false")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise invalid_parameter(name, f"Invalid value '{value}'.") from None
        low, high = (
            int(description.get("minimum", -(2**63))),
            int(description.get("maximum", 2**63)),
        )
        if not low <= number <= high:
            raise invalid_parameter(
                name, f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]"
            )
    allowed = description.get("enum")
    if allowed and value not in allowed:
        raise invalid_parameter(name, f"Invalid value '{value}'. Allowed values: {allowed}")


def encode_page_token(offset: int, fingerprint: str) -> str:
    """An opaque page token bound to the query that produced it."""
    return base64.urlsafe_b64encode(f"{offset}:{fingerprint}".encode()).decode().rstrip("=")


def decode_page_token(token: str | None, fingerprint: str) -> int:
    """The offset in a page token; 400 invalid if malformed or from another query."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset, token_fingerprint = text.split(":", 1)
        if token_fingerprint != fingerprint or int(offset) < 0:
            raise ValueError(token)
        return int(offset)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid_parameter("pageToken") from None


def query_fingerprint(call: Call, *names: str) -> str:
    """A short hash of the parameters a listing depends on (page tokens must match it)."""
    text = "&".join(f"{name}={call.params.get(name, '')}" for name in names)
    return hashlib.sha1(text.encode()).hexdigest()[:10]
