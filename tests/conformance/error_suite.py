"""The error-translation suite every target with a local server passes, driven by that server's
fault controls (sandbox/): what a service answers becomes the error that says what to
do next (migrate/errors.py).

    class TestNextcloudErrors(ErrorSuite):
        connector = "nextcloud"
        @pytest.fixture
        def target(self, ...): ...    # an opened Target on the server
        @pytest.fixture
        def faults(self, ...): ...    # a `Faults`: the server answers `status` to every request
        @pytest.fixture
        def sample(self, ...): ...    # (change, source): one item the target can write

- 401 (credentials revoked meanwhile) → `FatalError`, with a plain message: one sentence for a
  volunteer, no traceback, no secret, no client library's repr.
- 503 and 429 with `Retry-After` → `TransientError` whose `retry_after` is the server's.
- `settle` keeps the entries `write` returned, in order; `write_batch` (targets that declare a
  batch size) gives one result per change and turns a server that is down into the same errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar, Protocol

import pytest

from migrate import registry
from migrate.connector import Source, Target
from migrate.errors import FatalError, TransientError
from migrate.model import Change

Sample = tuple[Change, Source]
#: What a client library's own error looks like when it leaks into a message.
LEAKS = ("Traceback", "Error(", "Exception(", "<html", "HTTPConnectionPool", "object at 0x")


class Faults(Protocol):
    def fail(self, status: int, retry_after: int | None = None) -> None:
        """Answer `status` (with `Retry-After` when given) to every API request from now on."""

    def clear(self) -> None:
        """Answer normally again."""


def _key() -> str:
    return uuid.uuid4().hex


def assert_plain(error: Exception, secrets: tuple[str, ...] = ()) -> None:
    message = str(error)
    assert message.strip(), "an empty message"
    assert not any(leak in message for leak in LEAKS), message
    assert not any(secret and secret in message for secret in secrets), "a secret in " + message
    assert len(message) < 600 and message.count("\n") <= 2, message


class ErrorSuite:
    """Shared error behaviour of targets. Subclasses set `connector` and provide `target`,
    `faults` and `sample`; `secrets` (the connection's secret values) if it has any."""

    connector: ClassVar[object] = ""

    @pytest.fixture
    def secrets(self) -> tuple[str, ...]:
        return ()

    def _write(self, target: Target, sample: Sample) -> object:
        change, source = sample
        return target.write(change, source, _key())

    def _raises(self, call: Callable[[], object], kind: type[Exception]) -> Exception:
        with pytest.raises(kind) as raised:
            call()
        return raised.value

    def test_is_a_registered_target(self) -> None:
        assert registry.get(self.connector).target_actions

    def test_refused_credentials_stop_the_step_with_a_plain_message(
            self, target: Target, faults: Faults, sample: Sample,
            secrets: tuple[str, ...]) -> None:
        faults.fail(401)
        error = self._raises(lambda: self._write(target, sample), FatalError)
        assert_plain(error, secrets)

    def test_refused_credentials_stop_the_listing(self, target: Target, faults: Faults,
                                                  secrets: tuple[str, ...]) -> None:
        faults.fail(401)
        error = self._raises(lambda: list(target.list_entries()), FatalError)
        assert_plain(error, secrets)

    @pytest.mark.parametrize("status", [503, 429])
    def test_a_busy_server_is_transient_with_its_retry_after(
            self, target: Target, faults: Faults, sample: Sample, status: int) -> None:
        list(target.list_entries())  # the listing a plan makes first, before the server tires
        faults.fail(status, retry_after=1)
        error = self._raises(lambda: self._write(target, sample), TransientError)
        assert isinstance(error, TransientError) and error.retry_after == 1
        assert_plain(error)

    def test_after_a_transient_error_the_same_write_succeeds(
            self, target: Target, faults: Faults, sample: Sample) -> None:
        list(target.list_entries())
        change, source = sample
        key = _key()
        faults.fail(503, retry_after=1)
        self._raises(lambda: target.write(change, source, key), TransientError)
        faults.clear()
        written = target.write(change, source, key)
        assert target.verify(change, source, key) is not None
        assert [e.name for e in target.settle([written])] == [written.name]

    def test_settle_keeps_the_entries_in_order(self, target: Target, sample: Sample) -> None:
        change, source = sample
        written = target.write(change, source, _key())
        settled = target.settle([written, written])
        assert [e.name for e in settled] == [written.name, written.name]

    def test_a_target_writing_in_batches_has_its_batches_checked(self, target: Target) -> None:
        # `write_batch` is checked by BatchErrorSuite: a target that declares batches must use it.
        assert not target.capabilities.batch_size or isinstance(self, BatchErrorSuite)



class BatchErrorSuite(ErrorSuite):
    """ErrorSuite for targets that write in batches (`Capabilities.batch_size`,
    `Target.write_batch`): the same rules for a batch's answer."""

    def test_write_batch_gives_one_result_per_change(self, target: Target,
                                                     sample: Sample) -> None:
        change, source = sample
        results = target.write_batch([change], source, [_key()])
        assert len(results) == 1 and not isinstance(results[0], Exception), results
        assert target.verify(change, source, _key()) is not None

    def test_write_batch_on_a_busy_server_is_transient(self, target: Target, faults: Faults,
                                                       sample: Sample) -> None:
        list(target.list_entries())
        change, source = sample
        faults.fail(503, retry_after=1)
        try:
            results = target.write_batch([change], source, [_key()])
        except TransientError as error:
            assert error.retry_after == 1
            return
        assert len(results) == 1 and isinstance(results[0], TransientError), results
        assert results[0].retry_after == 1

    def test_write_batch_with_refused_credentials_is_fatal(self, target: Target,
                                                          faults: Faults,
                                                          sample: Sample) -> None:
        change, source = sample
        faults.fail(401)
        try:
            results = target.write_batch([change], source, [_key()])
        except FatalError as error:
            assert_plain(error)
            return
        assert len(results) == 1 and isinstance(results[0], FatalError), results
