"""Reading back what was uploaded to Apache asks only for the `DAV:` properties (decision 0498).

Apache's PUT answer has no ETag, so the versions of the files just written are read back with
one PROPFIND per folder. mod_dav_fs has none of ownCloud's properties and answers each asked
for with a look-up and a `404` block per file; its OPTIONS answer (asked once, for the atomic
PUT) names it, so the read-back leaves them out from the first run on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.dav.listing import PLAIN_BODY, PROPFIND_BODY, QUOTA_BODY
from tests.helpers import make_tree
from tests.test_webdav_apache import Apache, _plan, _run, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")


def test_the_read_back_of_uploads_to_apache_asks_only_for_dav_properties(
        apache: Apache, tmp_path: Path) -> None:  # noqa: F811
    files = make_tree(tmp_path / "source", 60)
    folders = {path.rpartition("/")[0] for path in files}
    plan = _plan(tmp_path, apache, None)
    apache.requests_made()
    assert _run("apply", plan, "--yes", "--jobs", "4")["counts"]["done"] == len(files)

    bodies = apache.body_lengths("PROPFIND")
    assert bodies[len(PROPFIND_BODY)] == 1  # the first listing: the target is not there yet
    assert 1 <= bodies[len(PLAIN_BODY)] <= len(folders) + 1  # the read-back, once per folder
    assert set(bodies) <= {len(PROPFIND_BODY), len(PLAIN_BODY), len(QUOTA_BODY)}
    # Every upload's version was read back and journaled: a re-run finds nothing to do.
    journal = next(tmp_path.rglob("plan.journal.sqlite"))
    with sqlite3.connect(journal) as db:
        etags = [row[0] for row in db.execute("SELECT tgt_etag FROM items WHERE kind = 'file'")]
    assert len(etags) == len(files) and all(etags)
    assert _run("plan", plan)["summary"]["unchanged"] == len(files)
