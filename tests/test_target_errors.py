"""Every target with a local server passes the error suite (tests/conformance/error_suite.py):
the server's own fault controls answer 401, 503 or 429, and the connector must turn that into
the error that says what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.listmonk import ListmonkConnector
from connectors.mailman3 import Mailman3Connector
from connectors.mastodon import MastodonConnector
from connectors.nextcloud import NextcloudConnector
from connectors.webdav import WebdavConnector
from migrate.connector import StepContext
from migrate.model import Action, Change
from sandbox.fault_proxy import FaultProxy
from sandbox.listmonk import ListmonkServer
from sandbox.mailman import MailmanServer
from sandbox.mastodon import MastodonServer
from sandbox.nextcloud import NextcloudServer
from sandbox.nextcloud.faults import Fault
from tests.conformance.error_suite import BatchErrorSuite, ErrorSuite
from tests.conformance.member_target_suite import _NoContent, member
from tests.conformance.post_target_suite import PostTargetSuite, post
from tests.conformance.samples import MemorySource, change_for


def _step(tmp_path: Path, action: str) -> StepContext:
    return StepContext("errors", action, {}, "plan", tmp_path)


@dataclass
class NextcloudFaults:
    server: NextcloudServer

    def fail(self, status: int, retry_after: int | None = None) -> None:
        self.server.state.faults.add(Fault(status, "/", times=None, retry_after=retry_after))

    def clear(self) -> None:
        self.server.state.faults.clear()


@dataclass
class MastodonFaults:
    server: MastodonServer

    def fail(self, status: int, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 429:  # with the X-RateLimit-* headers Mastodon sends with it
            self.server.add_fault({"type": "ratelimit", "headers": headers}, count=None)
        else:
            self.server.add_fault({"type": "status", "status": status, "headers": headers,
                                   "body": {"error": "An unexpected error occurred"}},
                                  count=None)

    def clear(self) -> None:
        self.server.clear_faults()


@dataclass
class ControlPlaneFaults:
    server: ListmonkServer | FaultProxy

    def fail(self, status: int, retry_after: int | None = None) -> None:
        self.server.control.add_fault(status, times=-1, retry_after=retry_after)

    def clear(self) -> None:
        self.server.control.clear_faults()


class _FileSample:
    @pytest.fixture
    def sample(self):
        source = MemorySource()
        return change_for(source.add("erreur.txt", b"contenu"), "erreur.txt"), source


class _MemberSample:
    @pytest.fixture
    def sample(self, target):
        item = member("erreur@exemple.fr")
        return Change("errors", Action.CREATE, item, target.name_for(item).name, ""), \
            _NoContent()


class _OnTheNextcloudSandbox:
    """Nextcloud and plain WebDAV targets, both on the Nextcloud sandbox and its faults."""

    @pytest.fixture
    def faults(self, nextcloud_server: NextcloudServer) -> NextcloudFaults:
        return NextcloudFaults(nextcloud_server)

    @pytest.fixture
    def secrets(self, nextcloud_server: NextcloudServer) -> tuple[str, ...]:
        return (nextcloud_server.describe()["password"],)


class TestNextcloudErrors(_OnTheNextcloudSandbox, _FileSample, ErrorSuite):
    connector = "nextcloud"

    @pytest.fixture
    def target(self, nextcloud_server: NextcloudServer, tmp_path: Path):
        target = NextcloudConnector(nextcloud_server.describe(), tmp_path).open_target(
            "Erreurs", _step(tmp_path, "copy"))
        yield target
        target.close()


class TestWebdavErrors(_OnTheNextcloudSandbox, _FileSample, ErrorSuite):
    connector = "webdav"

    @pytest.fixture
    def target(self, nextcloud_server: NextcloudServer, tmp_path: Path):
        config = {**nextcloud_server.describe(), "url": nextcloud_server.dav_url() + "/"}
        target = WebdavConnector(config, tmp_path).open_target("Erreurs",
                                                               _step(tmp_path, "copy"))
        yield target
        target.close()


class TestMastodonErrors(ErrorSuite):
    connector = "mastodon"

    @pytest.fixture
    def target(self, dialect_server: MastodonServer, tmp_path: Path):
        config = {"url": dialect_server.url, "token": dialect_server.access_token}
        target = MastodonConnector(config, tmp_path).open_target("", _step(tmp_path, "mirror"))
        yield target
        target.client.api.session.close()  # not `close`: it would save the rate-limit file

    @pytest.fixture
    def faults(self, dialect_server: MastodonServer) -> MastodonFaults:
        return MastodonFaults(dialect_server)

    @pytest.fixture
    def sample(self, target):
        item = post("Une annonce à publier malgré les erreurs")
        return PostTargetSuite().change(target, item), _NoContent()

    @pytest.fixture
    def secrets(self, dialect_server: MastodonServer) -> tuple[str, ...]:
        return (dialect_server.access_token,)


class TestListmonkErrors(_MemberSample, BatchErrorSuite):
    connector = "listmonk"

    @pytest.fixture
    def fresh_target(self, listmonk_server: ListmonkServer, tmp_path: Path):
        config = {"url": listmonk_server.url, "user": listmonk_server.api_user,
                  "token": listmonk_server.token}
        return ListmonkConnector(config, tmp_path).open_target("Lettre",
                                                               _step(tmp_path, "export"))

    @pytest.fixture
    def target(self, fresh_target):
        """The list exists (as on any run after the first): a write's own request is the one
        that meets the fault. On a first run a write looks the list up first, a listing
        retried by the one policy, which waits the server's Retry-After (1 s) four times
        before it gives up: that path is proven once, below, not by three tests of the suite
        (the batch's import polling goes through the same retries in its own test)."""
        fresh_target.ensure_list()
        return fresh_target

    def test_a_busy_server_while_the_list_is_looked_up_is_transient_with_its_retry_after(
            self, fresh_target, faults: ControlPlaneFaults) -> None:
        from migrate.errors import TransientError
        from migrate.retry import DEFAULT

        list(fresh_target.list_entries())  # the plan's listing: the list does not exist yet
        item = member("erreur@exemple.fr")
        change = Change("errors", Action.CREATE, item, fresh_target.name_for(item).name, "")
        faults.fail(503, retry_after=1)
        before = fresh_target.requests
        with pytest.raises(TransientError) as raised:
            fresh_target.write(change, _NoContent(), "erreur-liste")
        assert raised.value.retry_after == 1
        assert fresh_target.requests - before == DEFAULT.attempts  # the lookup, retried

    @pytest.fixture
    def faults(self, listmonk_server: ListmonkServer) -> ControlPlaneFaults:
        return ControlPlaneFaults(listmonk_server)

    @pytest.fixture
    def secrets(self, listmonk_server: ListmonkServer) -> tuple[str, ...]:
        return (listmonk_server.token,)


class TestMailman3Errors(_MemberSample, ErrorSuite):
    """The real Mailman core has no fault controls: the faults are armed on a proxy in front of
    it (sandbox/fault_proxy.py), as a web server in front of Mailman answers."""

    connector = "mailman3"

    @pytest.fixture
    def proxy(self, mailman_server: MailmanServer):
        with FaultProxy(mailman_server.url) as proxy:
            yield proxy

    @pytest.fixture
    def target(self, mailman_server: MailmanServer, proxy: FaultProxy, tmp_path: Path):
        config = {**mailman_server.describe(), "url": proxy.url}
        fqdn = f"erreurs-{tmp_path.name[-8:].replace('_', '-')}@example.org"
        step = StepContext("errors", "export", {}, "plan", tmp_path, state_dir=tmp_path)
        target = Mailman3Connector(config, tmp_path).open_target(fqdn, step)
        yield target
        target.close()

    @pytest.fixture
    def faults(self, proxy: FaultProxy) -> ControlPlaneFaults:
        return ControlPlaneFaults(proxy)

    @pytest.fixture
    def secrets(self, mailman_server: MailmanServer) -> tuple[str, ...]:
        return (mailman_server.admin_password,)
