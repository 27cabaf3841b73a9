"""The limits hold across web processes: two real ``cocreate web`` servers on two ports share one data
folder (the embedded default: counters in the SQLite database) or one Redis, and a client spreading
its requests over both gets the allowance once, not once per process.

Before the counters were shared, each process kept its own (Litestar's ``MemoryStore``), so two
processes granted twice the limit; with Redis, Litestar's read-then-write of a counter lost the
increments of concurrent requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tests.live import Browser, LiveSite, prepare_site
from tests.servers import RedisServer, free_port

LIMIT = 6
"""COCREATE_WRITE_RATE_LIMIT of these sites: writes a minute per account, or per address for visitors."""
SCALE = 0.5
"""COCREATE_RATE_LIMIT_SCALE of these sites: the registrations an address may make stay under LIMIT."""


class TwoServers:
    """One site (data folder, settings) served by two ``cocreate web`` processes on two ports."""

    def __init__(self, site: LiveSite) -> None:
        self.site = site
        self.second_url = f"http://127.0.0.1:{free_port()}"
        site.start_web(processes=1)
        site.start_web(processes=1, port=int(self.second_url.rsplit(":", 1)[1]), name="web-2")

    @property
    def urls(self) -> tuple[str, str]:
        return self.site.url, self.second_url

    def visitor(self) -> tuple[Browser, Browser]:
        """A visitor's browser at each server, sharing one cookie jar (and so one CSRF token, which both
        servers accept: they sign with the same key)."""
        first = Browser(self.site.url, timeout=30)
        first.get("/")
        return first, Browser(self.second_url, cookies=first.cookies, timeout=30)


def _start(data_dir: Path, **env: str) -> Iterator[TwoServers]:
    site = prepare_site(data_dir, demo=False, COCREATE_WRITE_RATE_LIMIT=str(LIMIT),
                        COCREATE_RATE_LIMIT_SCALE=str(SCALE), COCREATE_PUBLIC_CACHE_SECONDS="0", **env)
    try:
        yield TwoServers(site)
    finally:
        site.stop()


@pytest.fixture(scope="module")
def on_the_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoServers]:
    yield from _start(tmp_path_factory.mktemp("limits-db"))


@pytest.fixture(scope="module")
def on_redis(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[TwoServers]:
    redis.Redis.from_url(redis_server.url).flushdb()
    yield from _start(tmp_path_factory.mktemp("limits-redis"), COCREATE_SESSION_STORE_URL=redis_server.url)


def _sign_out(browser: Browser, address: str) -> int:
    # A visitor's post that changes nothing but is a write: it counts against the visitor's address.
    return browser.post("/account/sign-out", {}, headers={"X-Forwarded-For": address}).status


def _spread_one_after_another(servers: TwoServers, address: str) -> list[int]:
    browsers = servers.visitor()
    return [_sign_out(browsers[number % 2], address) for number in range(LIMIT + 1)]


def _spread_at_once(servers: TwoServers, address: str, requests: int) -> Counter[int]:
    browsers = servers.visitor()
    with ThreadPoolExecutor(max_workers=requests) as pool:
        return Counter(pool.map(lambda number: _sign_out(browsers[number % 2], address), range(requests)))


SERVERS = ["on_the_database", "on_redis"]


@pytest.mark.parametrize("servers_fixture", SERVERS)
def test_writes_spread_over_two_processes_share_one_allowance(
    servers_fixture: str, request: pytest.FixtureRequest
) -> None:
    servers: TwoServers = request.getfixturevalue(servers_fixture)
    statuses = _spread_one_after_another(servers, "198.51.100.1")
    assert statuses == [303] * LIMIT + [429], statuses
    # Another address has its own allowance, on either server.
    assert _spread_one_after_another(servers, "198.51.100.2")[:LIMIT] == [303] * LIMIT


@pytest.mark.parametrize("servers_fixture", SERVERS)
def test_concurrent_writes_over_two_processes_are_counted_exactly(
    servers_fixture: str, request: pytest.FixtureRequest
) -> None:
    servers: TwoServers = request.getfixturevalue(servers_fixture)
    outcomes = _spread_at_once(servers, "198.51.100.3", requests=4 * LIMIT)
    assert outcomes == Counter({303: LIMIT, 429: 3 * LIMIT}), outcomes


@pytest.mark.parametrize("servers_fixture", SERVERS)
def test_registrations_spread_over_two_processes_share_one_allowance(
    servers_fixture: str, request: pytest.FixtureRequest
) -> None:
    from cocreate.web.ratelimit import BUDGETS

    servers: TwoServers = request.getfixturevalue(servers_fixture)
    allowed = int(BUDGETS["register"].per_address * SCALE)
    assert allowed < LIMIT  # the write limit of the address is not what refuses here
    browsers = servers.visitor()
    statuses = []
    for number in range(allowed + 1):
        # Addresses of one /64, which counts as one client.
        address = "2001:db8:77:1::1" if number % 2 else f"2001:db8:77:1::{number:x}:2"
        form = {"email": f"resident{number}@example.jp", "display_name": "はなこ", "password": "a long password 1",
                "accept_terms": "yes", "accept_privacy": "yes"}
        statuses.append(browsers[number % 2].post("/account/register", form,
                                                  headers={"X-Forwarded-For": address}).status)
    assert statuses[-1] == 429 and 429 not in statuses[:-1], statuses
