"""Seeding and paging 50,000 Mailchimp members (run: python -m pytest tests/benchmarks/...)."""

from __future__ import annotations

import time

import requests

from migrate.sandbox.mailchimp import MailchimpServer, seed_audience


def test_seed_and_page_50000_members() -> None:
    server = MailchimpServer()
    started = time.perf_counter()
    seeded = seed_audience(server, members=50_000, rng_seed=1)
    seeding = time.perf_counter() - started
    with server, requests.Session() as session:
        session.auth = ("bench", server.api_key)
        started = time.perf_counter()
        for offset in range(0, 50_000, 1000):
            page = session.get(f"{server.url}/lists/{seeded.list_id}/members",
                               params={"count": 1000, "offset": offset}, timeout=30).json()
            assert len(page["members"]) == 1000
        paging = time.perf_counter() - started
        assert server.control.total_requests == 50
    print(f"seed 50k: {seeding:.2f}s, page 50k by 1000: {paging:.2f}s")
    assert seeding < 10
