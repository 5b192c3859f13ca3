"""Posting 2,000 tweets (300 with a picture) to Mastodon under rate limits: ours vs a naive loop.

Ours: the real command, `migrate apply plan.yaml --yes` (twitter_archive → mastodon), which paces
itself on the `X-RateLimit-*` headers. Baseline: what most scripts do — post in a loop with
Mastodon.py (`ratelimit_method="throw"`), and on a 429 sleep until the reset time the server
gave, then retry. Both run as subprocesses against the same mastodon-mock, which counts every
request it serves by route and status, so the figures are the server's, not the clients'.

Rate limits are scaled: Mastodon allows 300 requests per 300 s (1 request/s); the mock here
allows LIMIT per WINDOW seconds, i.e. a time scale k = (LIMIT / WINDOW) / 1. A run of t seconds
stands for t·k seconds of real Mastodon time; "posts per hour" are given in real time.

    python tests/benchmarks/bench_mastodon.py [--posts 2000] [--images 300] [--pairs 1]

One pair by default, not the house's five: the mock itself serves only ~25-30 requests/s once
it holds 2,000 statuses on two shared cores, so the limit must sit below that (20/s here) to be
what is measured, and each run then takes about two minutes. `--pairs 5` takes ~22 minutes.
Not modelled by the mock: Mastodon's 300 statuses per 3 hours and 30 media per 30 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.mastodon import MastodonServer
from tests.social_samples import PNG, tweet, write_archive

LIMIT, WINDOW = 200, 10  # 20 requests/s: Mastodon's 300 per 300 s sped up 20 times
REAL_LIMIT_PER_HOUR = 300 * 12  # 300 requests per 5 minutes


def make_archive(folder: Path, posts: int, images: int) -> Path:
    import datetime as dt

    start = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
    every = max(1, posts // max(1, images))
    tweets, media = [], {}
    for index in range(posts):
        tweet_id = 2_000_000 + index
        kwargs = {}
        text = f"Message n°{index} de l'association, à partager ! #asso"
        if index % every == 0 and len(media) < images:
            name = f"IMG{index}.png"
            media[f"{tweet_id}-{name}"] = PNG
            kwargs["media"] = [{"type": "photo", "url": f"https://t.co/m{index}",
                                "media_url_https": f"https://pbs.twimg.com/media/{name}",
                                "ext_alt_text": f"Photo {index}"}]
        tweets.append(tweet(tweet_id, text, start + dt.timedelta(hours=index), **kwargs))
    return write_archive(folder / "archive.zip", tweets, media)


PLAN = """version: 1
organisation: Benchmark
connections:
  tweets: {type: twitter_archive, path: archive.zip}
  masto: {type: mastodon, url: '${env:MASTODON_URL}', token: '${env:MASTODON_TOKEN}'}
steps:
  - id: posts
    mirror: {from: tweets, to: masto}
"""


def ours_command(folder: Path, state: Path) -> list[str]:
    return [sys.executable, "-m", "migrate", "apply", str(folder / "plan.yaml"), "--yes",
            "--state-dir", str(state)]


def naive_command(folder: Path) -> list[str]:
    return [sys.executable, __file__, "naive", str(folder / "archive.zip")]


def naive(archive: Path) -> None:
    """The baseline client: a loop over the tweets, a sleep and a retry on each 429."""
    import zipfile

    from mastodon import Mastodon, MastodonRatelimitError

    api = Mastodon(access_token=os.environ["MASTODON_TOKEN"],
                   api_base_url=os.environ["MASTODON_URL"], ratelimit_method="throw",
                   version_check_mode="none")

    def retried(method, *args, **kwargs):  # type: ignore[no-untyped-def]
        while True:
            try:
                return method(*args, **kwargs)
            except MastodonRatelimitError:
                time.sleep(max(0.0, float(api.ratelimit_reset or 0) - time.time()) + 0.05)

    with zipfile.ZipFile(archive) as zipped:
        text = zipped.read("data/tweets.js").decode()
        tweets = [entry["tweet"] for entry in json.loads(text[text.index("["):])]
        for data in tweets:
            media_ids = []
            for item in (data.get("extended_entities") or {}).get("media") or []:
                name = item["media_url_https"].rsplit("/", 1)[-1]
                content = zipped.read(f"data/tweets_media/{data['id_str']}-{name}")
                uploaded = retried(api.media_post, content, mime_type="image/png",
                                   file_name=name, description=item.get("ext_alt_text"))
                media_ids.append(uploaded["id"])
            body = (f"{data['full_text']}\n\nFirst published on Twitter: "
                    f"https://twitter.com/i/web/status/{data['id_str']}")
            retried(api.status_post, body, media_ids=media_ids or None)


def one_run(name: str, command: list[str], server: MastodonServer, env: dict[str, str]) -> dict:
    server.reset()
    time.sleep(WINDOW + 0.2)  # a fresh rate-limit window for each run, for fairness
    server.reset_requests()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    served = server.requests()
    return {"name": name, "seconds": elapsed, "requests": served["total"],
            "rate_limited": served["by_status"].get("429", 0),
            "statuses": served["by_route"].get("POST /api/v1/statuses", 0),
            "media": served["by_route"].get("POST /api/v2/media", 0)
            + served["by_route"].get("POST /api/v1/media", 0)}


def describe_machine() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    print(f"Machine: {os.cpu_count()} cores, {cpu}, {platform.platform()}")
    print(f"Python {platform.python_version()}, Mastodon.py {version('Mastodon.py')}, "
          f"mastodon-mock {version('mastodon-mock')}, transhumance {version('transhumance')}")


def summarise(runs: dict[str, list[dict]], posts: int, images: int) -> None:
    scale = LIMIT / WINDOW
    print(f"\nRate limit: {LIMIT} requests per {WINDOW} s (Mastodon: 300 per 300 s) — "
          f"time scale ×{scale:.0f}")
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        requests = statistics.median(r["requests"] for r in results)
        limited = [r["rate_limited"] for r in results]
        per_hour = posts / (seconds * scale) * 3600
        ceiling = REAL_LIMIT_PER_HOUR / (requests / posts)
        print(f"{name:>6}: median {seconds:6.1f} s | {requests:.0f} requests = "
              f"{requests / posts:.3f} per post ({posts} statuses + {images} pictures "
              f"+ {requests - posts - images:.0f}) | 429s {limited} | "
              f"{per_hour:,.0f} posts/h in real time, ceiling at this request count "
              f"{ceiling:,.0f}/h ({per_hour / ceiling:.0%})")
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(runs["ours"], runs["naive"],
                                                            strict=True)]
    print(f"time ours/naive per pair: median {statistics.median(ratios):.2f}, "
          f"min {min(ratios):.2f}, max {max(ratios):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--pairs", type=int, default=1)
    arguments = parser.parse_args()
    describe_machine()
    with tempfile.TemporaryDirectory() as temp, \
            MastodonServer(rate_limit=LIMIT, rate_limit_window=WINDOW) as server:
        folder = Path(temp)
        make_archive(folder, arguments.posts, arguments.images)
        (folder / "plan.yaml").write_text(PLAN, encoding="utf-8")
        env = {**os.environ, "MASTODON_URL": server.url, "MASTODON_TOKEN": server.access_token}
        warm = folder / "warm"
        warm.mkdir()
        make_archive(warm, 100, 15)
        (warm / "plan.yaml").write_text(PLAN, encoding="utf-8")
        print("Commands:\n  ours:  " + " ".join(ours_command(folder, folder / "state-N"))
              + "\n  naive: " + " ".join(naive_command(folder)))
        one_run("ours", ours_command(warm, warm / "state"), server, env)  # warm-up, not counted
        one_run("naive", naive_command(warm), server, env)
        runs: dict[str, list[dict]] = {"ours": [], "naive": []}
        for pair in range(arguments.pairs):
            runs["ours"].append(one_run("ours", ours_command(folder, folder / f"state-{pair}"),
                                        server, env))
            runs["naive"].append(one_run("naive", naive_command(folder), server, env))
            print(f"pair {pair + 1}: " + " | ".join(
                f"{r['name']} {r['seconds']:.1f} s, {r['requests']} requests, "
                f"{r['rate_limited']} × 429, {r['statuses']} statuses, {r['media']} media"
                for r in (runs["ours"][-1], runs["naive"][-1])), flush=True)
        summarise(runs, arguments.posts, arguments.images)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "naive":
        naive(Path(sys.argv[2]))
    else:
        main()
