"""`migrate schedule`: the cron line it installs really runs the step, quietly the second time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mastodon import Mastodon

from tests.helpers import migrate
from tests.social_samples import rss
from tests.test_post_sources import feed_entries, feed_server  # noqa: F401  (fixture)


def _plan(folder: Path, feed_url: str) -> Path:
    plan = folder / "cross posting.yaml"  # a space: the paths must be quoted
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n"
        f"  site: {{type: feed, url: '{feed_url}'}}\n"
        "  masto: {type: mastodon, url: '${env:MASTODON_URL}', token: '${env:MASTODON_TOKEN}'}\n"
        "steps:\n  - id: posts\n    mirror: {from: site, to: masto}\n", encoding="utf-8")
    return plan


def _run_like_cron(line: str, home: Path) -> None:
    """What cron does with a line: the five time fields off, the rest to /bin/sh, with an
    almost empty environment (no tokens: the env file must bring them)."""
    command = line.split(None, 5)[5]
    subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
                   check=True, timeout=120)


def test_the_installed_cron_line_posts_new_entries_once(tmp_path: Path, mastodon_server,
                                                        feed_server) -> None:  # noqa: F811
    feed_server.set(rss(feed_entries(3)))
    plan = _plan(tmp_path, feed_server.url)
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"MASTODON_URL={mastodon_server.url}\n"
                        f"MASTODON_TOKEN={mastodon_server.access_token}\n")
    crontab = tmp_path / "crontab"
    crontab.write_text("0 4 * * * /usr/bin/true # someone else's job\n")
    for _attempt in range(2):  # installing again replaces the line
        done = migrate("schedule", plan, "--step", "posts", "--every", "15m", "--install",
                       "--crontab-file", crontab, "--env-file", env_file)
        assert done.returncode == 0, done.stdout + done.stderr
    lines = crontab.read_text().splitlines()
    assert lines[0] == "0 4 * * * /usr/bin/true # someone else's job" and len(lines) == 2
    line = lines[1]
    assert line.startswith("*/15 * * * * ")
    assert f"apply '{plan}' --step posts --yes" in line
    log = tmp_path / ".migrate" / "cross posting-posts.log"
    assert str(log) in line

    _run_like_cron(line, tmp_path)
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    assert len(api.account_statuses(api.me()["id"])) == 3
    before = log.read_text().splitlines()
    _run_like_cron(line, tmp_path)
    assert len(api.account_statuses(api.me()["id"])) == 3
    second = log.read_text().splitlines()[len(before):]
    assert len(second) == 1 and second[0].startswith("Nothing to do"), second


def test_printed_line_and_systemd_units(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "https://exemple.org/feed.xml")
    printed = migrate("schedule", plan, "--step", "posts", "--every", "2h")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[1].startswith("0 */2 * * * /")
    units = tmp_path / "units"
    done = migrate("schedule", plan, "--step", "posts", "--with", "systemd", "--every", "15m",
                   "--install", "--systemd-dir", units)
    assert done.returncode == 0, done.stderr
    service = (units / "transhumance-cross-posting-posts.service").read_text()
    timer = (units / "transhumance-cross-posting-posts.timer").read_text()
    assert f"apply '\"'\"'{plan}'\"'\"' --step posts --yes" in service
    assert "OnUnitActiveSec=15min" in timer and "WantedBy=timers.target" in timer
    assert "systemctl --user enable --now transhumance-cross-posting-posts.timer" in done.stdout


def test_a_wrong_step_or_interval_is_a_plain_error(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "https://exemple.org/feed.xml")
    wrong = migrate("schedule", plan, "--step", "post")
    assert wrong.returncode == 1 and "did you mean 'posts'" in wrong.stderr + wrong.stdout
    bad = migrate("schedule", plan, "--step", "posts", "--every", "soon")
    assert bad.returncode == 1 and "15m" in bad.stderr + bad.stdout
