"""A small JSON-over-HTTP helper shared by the mailing connectors: one keep-alive pool, errors
translated at the edge; listing calls retried by the one policy (migrate/retry.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from migrate import retry
from migrate.errors import FatalError, TransientError
from migrate.i18n import _
from migrate.retry import parse_retry_after

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({408, 423, 425, 429, 500, 502, 503, 504})


def session(pool: int) -> requests.Session:
    """A session whose pool holds `pool` keep-alive connections (and never opens more)."""
    http = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool, pool_block=True)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a `Retry-After` header (a number or an HTTP date), or None."""
    return parse_retry_after(response.headers.get("Retry-After"))


def transient_or_none(response: requests.Response, service: str) -> TransientError | None:
    """The transient error a response means, if any (429, 5xx, 423…)."""
    if response.status_code in TRANSIENT_STATUSES:
        return TransientError(_("{service} is busy or unavailable (HTTP {code}); "
                                "trying again").format(service=service,
                                                       code=response.status_code),
                              retry_after=retry_after(response))
    return None


def request(http: requests.Session, method: str, url: str, service: str,
            **kwargs: Any) -> requests.Response:
    """Send one request; dropped connections and timeouts become TransientError."""
    try:
        return http.request(method, url, timeout=kwargs.pop("timeout", 60), **kwargs)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise TransientError(_("could not reach {service} ({kind}); trying again").format(
            service=service, kind=type(error).__name__)) from None


def with_retries(call: Callable[[], T]) -> T:
    """Run a read (a listing page) with retries on TransientError, by the one policy."""
    return retry.DEFAULT.call(call)


def refused(service: str, what_to_do: str) -> FatalError:
    return FatalError(_("{service} refused the credentials. {todo}").format(
        service=service, todo=what_to_do))
