"""Seeding and paging 50,000 Mailchimp members (run: python -m pytest tests/benchmarks/...)."""

from __future__ import annotations

import time

import requests

from sandbox.mailchimp import MailchimpServer, seed_audience


def test_seed_and_page_50000_members() -> None:
    server = MailchimpServer()
    started = time.perf_counter()
    seeded = seed_audience(server, members=50_000, rng_seed=1)
    seeding = time.perf_counter() - started
    with server, requests.Session() as session:
        session.auth = ("bench", server.api_key)
        started = time.perf_counter()
        # Archived contacts are listed only when asked for (status=archived): both listings.
        listed = 0
        for status in ("", "archived"):
            offset, total = 0, 1
            while offset < total:
                page = session.get(f"{server.url}/lists/{seeded.list_id}/members",
                                   params={"count": 1000, "offset": offset, "status": status},
                                   timeout=30).json()
                total, offset = page["total_items"], offset + 1000
                listed += len(page["members"])
        paging = time.perf_counter() - started
        assert listed == 50_000
        assert server.control.total_requests == 51
    print(f"seed 50k: {seeding:.2f}s, page 50k by 1000: {paging:.2f}s")
    assert seeding < 10
