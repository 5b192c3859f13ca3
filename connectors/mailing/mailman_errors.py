"""Mailman core's HTTP errors turned into the core's (`mailman3`): what stops the step, what
is retried, what is one member's refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _
from migrate.retry import parse_retry_after

SERVICE = "Mailman"
RENEW = ("Check the REST user and password in mailman.cfg ([webservice] admin_user / "
         "admin_pass) and the address of the REST API (it ends with /3.1).")
#: How long Mailman's SQLite waits for a lock before giving up (pysqlite's default timeout,
#: which Mailman keeps): a lock held that long is a long write, over a few seconds later.
DATABASE_BUSY_SECONDS = 5.0


@contextmanager
def absent_ok() -> Iterator[None]:
    """A 404 means the thing to remove is already gone; other errors are translated."""
    from urllib.error import HTTPError

    try:
        with translated(passing=(404,)):
            yield
    except HTTPError:
        pass


@contextmanager
def translated(missing_ok: bool = False, passing: tuple[int, ...] = ()) -> Iterator[None]:
    """Mailman's HTTP errors become the core's: 401/403 stop the step, 5xx/429, a locked
    database and dropped connections are retried; 404 is absence when `missing_ok` (the caller
    gets None); codes in `passing` reach the caller as they are."""
    from urllib.error import HTTPError

    import requests
    from mailmanclient import MailmanConnectionError

    try:
        yield
    except HTTPError as error:
        if is_database_busy(error):
            raise TransientError(_("Mailman's database is busy; trying again"),
                                 retry_after=DATABASE_BUSY_SECONDS) from None
        if error.code in passing:
            raise
        if error.code in (401, 403):
            raise FatalError(_("{service} refused the credentials. {todo}").format(
                service=SERVICE, todo=_(RENEW))) from None
        if error.code == 429 or error.code >= 500:
            raise TransientError(_("Mailman is busy or failing (HTTP {code}); trying "
                                   "again").format(code=error.code),
                                 retry_after=retry_after_of(error)) from None
        if error.code == 404 and missing_ok:
            return
        raise SkipItem(_("Mailman refused it (HTTP {code}): {why}").format(
            code=error.code, why=error.reason)) from None
    except (MailmanConnectionError, requests.ConnectionError, requests.Timeout):
        raise TransientError(_("could not reach Mailman; trying again")) from None


def is_database_busy(error: Any) -> bool:
    """Mailman's SQLite stayed locked past its wait (two long writes at once): nothing was
    written. Its REST API says so only in words — a subscription's unexpected exception is
    answered `400` with the exception's text (mailman/rest/members.py, `except Exception as e:
    bad_request(response, str(e))`, 3.3.x) — so the text is the one signal there is."""
    return error.code == 400 and "database is locked" in str(error.reason)


def retry_after_of(error: Any) -> float | None:
    """The answer's Retry-After (a web server in front of Mailman says it with a 503).
    mailmanclient puts its `requests` answer where urllib puts the headers."""
    headers = getattr(error.hdrs, "headers", error.hdrs)
    return parse_retry_after(headers.get("Retry-After") if headers is not None else None)
