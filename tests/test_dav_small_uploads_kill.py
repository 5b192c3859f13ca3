"""A kill trial for small uploads to Apache, which leave in one send with their headers and
whose answers are read without `http.client`'s own request and parser (decision 0498): every
file under its final name is whole after each SIGKILL, nothing of Apache's own temporary files
or ours is left, and the next run completes the copy without writing anything twice."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import migrate_popen
from tests.test_webdav_apache import PASSWORD, Apache, _plan, _run, apache  # noqa: F401

pytestmark = [pytest.mark.slow,  # `pytest -m slow`, which .ci/run runs after the rest
              pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                 reason="Debian's apache2 is not installed")]


def test_a_kill_during_small_uploads_leaves_no_partial_file_and_no_duplicate(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    rng = random.Random(498)
    source = tmp_path / "source"
    files = {}
    for index in range(400):
        data = rng.randbytes(rng.randint(1024, 64 * 1024))  # in memory, one send each
        path = source / f"dossier {index % 8}" / f"fichier-{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[path.relative_to(source).as_posix()] = data
    plan = _plan(tmp_path, apache, None)
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    data_dir = apache.dir / "data" / "Archives"
    cut_mid_copy = 0
    for threshold in (40, 150, 300):
        process = migrate_popen("apply", plan, "--yes", "--jobs", "4")
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if data_dir.exists() and sum(1 for _p in data_dir.rglob("*.bin")) >= threshold:
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        present = {p.relative_to(data_dir).as_posix(): p.read_bytes()
                   for p in data_dir.rglob("*.bin")}
        cut_mid_copy += 0 < len(present) < len(files)
        partial = [name for name, data in present.items() if data != files[name]]
        assert partial == [], f"partial files under their final names: {partial[:3]}"
    assert cut_mid_copy >= 2
    apache.requests_made()
    _run("apply", plan, "--yes")
    puts = apache.requests_made()["PUT"]
    arrived = {p.relative_to(data_dir).as_posix(): p.read_bytes()
               for p in data_dir.rglob("*") if p.is_file()}
    assert arrived == files  # no temporary file of Apache's or ours left beside them
    assert puts <= len(files) - len(present)  # what was already whole is not sent again
    assert _run("plan", plan)["summary"]["unchanged"] == len(files)
