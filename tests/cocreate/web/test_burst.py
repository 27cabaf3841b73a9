"""Bursts against the real server (``cocreate web`` with two processes, demo content, SQLite).

Before the read/write split a burst of 32 connections got no answer at all and the server stayed
jammed after it ("database is locked"): a request's session was closed by a clean-up queued in the
same thread pool as the requests waiting for the lock it held. These tests fail on that code.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cocreate.demo import DEMO_PASSWORD
from tests.live import Browser, LiveSite, prepare_site

PAGES = [
    "/",
    "/challenges",
    "/challenges/1",
    "/challenges/2",
    "/api/v1/challenges",
    "/search?q=%E5%85%AC%E5%9C%92",  # 公園
    "/challenges.atom",
    "/trials",
    "/fields",
    "/healthz",
]
RESIDENT = "demo-resident@example.jp"
COMPANY = "demo-company@example.jp"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    site = prepare_site(Path(tmp_path_factory.mktemp("burst")), COCREATE_WEB_THREADS="8", COCREATE_DB_WAIT_SECONDS="5",
                        COCREATE_WRITE_RATE_LIMIT="100000",
                        COCREATE_PUBLIC_CACHE_SECONDS="0")  # every request reaches the database
    site.start_web(processes=2)
    yield site
    site.stop()


def _signed_in(site: LiveSite, email: str) -> Browser:
    browser = Browser(site.url, timeout=20)
    browser.sign_in(email, DEMO_PASSWORD)
    return browser


def _burst(site: LiveSite, browsers: list[Browser], rounds: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def visit(index: int) -> None:
        browser = browsers[index % len(browsers)]
        for round_ in range(rounds):
            path = PAGES[(index + round_) % len(PAGES)]
            try:
                status = str(browser.get(path).status)
            except OSError as exc:  # a timeout or a refused connection is what the old code gave
                status = type(exc).__name__
            with lock:
                outcomes[status] += 1

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        list(pool.map(visit, range(len(browsers))))
    return outcomes


def test_a_burst_of_32_connections_is_answered_and_leaves_the_server_responsive(site: LiveSite) -> None:
    residents = [_signed_in(site, RESIDENT) for _ in range(4)]  # sessions and users looked up on every request
    visitors = [Browser(site.url, timeout=20) for _ in range(28)]
    outcomes = _burst(site, [*residents, *visitors], rounds=10)
    assert outcomes == Counter({"200": 320}), outcomes
    # Right after: a write goes through at once (the 5 s lock wait would answer 503 otherwise).
    fresh = Browser(site.url, timeout=5)
    fresh.sign_in(COMPANY, DEMO_PASSWORD)
    assert fresh.get("/account").status == 200
    log = site.log()
    assert "database is locked" not in log and "Traceback" not in log


def test_a_burst_of_256_connections_gets_no_errors(site: LiveSite) -> None:
    outcomes = _burst(site, [Browser(site.url, timeout=30) for _ in range(256)], rounds=2)
    assert outcomes == Counter({"200": 512}), outcomes


def _abort(site: LiveSite, payload: bytes) -> None:
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=5)
    try:
        sock.sendall(payload)
    finally:
        # SO_LINGER 0: the close is a reset, as when a phone loses its signal mid-request.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def test_requests_aborted_mid_flight_leave_no_lock_or_connection_behind(site: LiveSite) -> None:
    resident = _signed_in(site, RESIDENT)
    cookie = "; ".join(f"{k}={v}" for k, v in resident.cookies.items())
    complete = [
        f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode() for path in PAGES
    ]
    body = "_csrf_token=" + resident.cookies["cocreate_csrf"] + "&email=a%40b.jp&password=x"
    posts = [
        f"POST /account/sign-in HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body) + 500}\r\n\r\n{body}".encode(),
        b"GET /challenges HTTP/1.1\r\nHost: x\r\nCookie: ",  # headers cut short
    ]
    payloads = [*complete, *posts] * 20
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda payload: _abort(site, payload), payloads))
    # Every connection and lock is back: writes and reads go through at once (within the 5 s waits).
    fresh = Browser(site.url, timeout=5)
    fresh.sign_in(COMPANY, DEMO_PASSWORD)
    assert fresh.get("/readyz").status == 200
    assert _burst(site, [Browser(site.url, timeout=10) for _ in range(8)], rounds=3) == Counter({"200": 24})
    assert "database is locked" not in site.log()
