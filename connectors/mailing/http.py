"""A small JSON-over-HTTP helper shared by the mailing connectors: one keep-alive pool, errors
translated at the edge, listing calls retried here (the runner retries writes only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from migrate.errors import FatalError, TransientError
from migrate.i18n import _

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({408, 423, 425, 429, 500, 502, 503, 504})


def session(pool: int) -> requests.Session:
    """A session whose pool holds `pool` keep-alive connections (and never opens more)."""
    http = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool, pool_block=True)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def retry_after(response: requests.Response, default: float | None = None) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else default


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


def with_retries(call: Callable[[], T], attempts: int = 6, max_wait: float = 30.0) -> T:
    """Run a read (a listing page) with retries on TransientError, honouring Retry-After."""
    backoff = wait_exponential_jitter(multiplier=0.5, max=max_wait)

    def wait(state: Any) -> float:
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        return min(float(after), max_wait) if after is not None else backoff(state)

    retrying = Retrying(retry=retry_if_exception_type(TransientError),
                        stop=stop_after_attempt(attempts), wait=wait, reraise=True)
    return retrying(call)


def refused(service: str, what_to_do: str) -> FatalError:
    return FatalError(_("{service} refused the credentials. {todo}").format(
        service=service, todo=what_to_do))
