"""The `mastodon` target passes the post-target conformance suite against mastodon-mock, in
every dialect of the sandbox (Mastodon 4 and 3.5, GoToSocial, Akkoma, Takahē)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from mastodon import Mastodon

from connectors.mastodon import MastodonConnector
from migrate.connector import StepContext
from sandbox.mastodon import MastodonServer
from tests.conformance.post_target_suite import PostTargetSuite


def statuses_text(server: MastodonServer) -> list[str]:
    """The text of every status on the sandbox account, read with Mastodon.py directly."""
    api = Mastodon(access_token=server.access_token, api_base_url=server.url,
                   version_check_mode="none")
    me = api.account_verify_credentials()
    statuses = api.fetch_remaining(api.account_statuses(me["id"], limit=40))
    return [html.unescape(re.sub(r"<[^>]+>", "\n", s["content"])) for s in statuses]


class TestMastodonTarget(PostTargetSuite):
    connector = "mastodon"

    @pytest.fixture
    def target(self, dialect_server: MastodonServer, tmp_path: Path):
        config = {"url": dialect_server.url, "token": dialect_server.access_token}
        step = StepContext("posts", "mirror", {}, "plan", tmp_path)
        target = MastodonConnector(config, tmp_path).open_target("", step)
        yield target
        target.close()

    @pytest.fixture
    def read_back(self, dialect_server: MastodonServer):
        return lambda: statuses_text(dialect_server)
