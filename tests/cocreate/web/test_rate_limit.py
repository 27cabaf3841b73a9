"""Writes are rate limited per account (or address); the counters and the sessions live in the database
or in Redis, and count exactly when requests race (across processes: test_shared_limits.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.app import create_app
from cocreate.db import Database
from cocreate.db.base import clock_at, utcnow
from cocreate.settings import Settings
from cocreate.web.ratelimit import (
    COUNTERS_SUFFIX,
    RATE_LIMIT_STORE,
    Check,
    DatabaseCountingStore,
    RateCounter,
    RedisCountingStore,
    client_address,
    make_stores,
    purge_expired,
)
from cocreate.web.sessions import StoredSession
from tests.factories import create_user, sign_in
from tests.helpers import csrf_token, make_settings, run_coroutine
from tests.servers import RedisServer, free_port

pytestmark = pytest.mark.databases("sqlite", why="the limits' rules are Python; the counters' SQL runs on both below")


def _post_sign_out(client: TestClient[Litestar]) -> int:
    return client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)},
                       follow_redirects=False).status_code


@pytest.fixture
def limited_app(tmp_path: Path, database_url: str, broker_url: str, database: Database) -> Litestar:
    return create_app(make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url,
                                    write_rate_limit=3), database=database)


def test_writes_beyond_the_limit_get_a_translated_429_and_reads_do_not_count(
    limited_app: Litestar, session: Session
) -> None:
    with TestClient(limited_app, base_url="http://testserver.local") as client:
        for _ in range(10):
            assert client.get("/").status_code == 200
        assert [_post_sign_out(client) for _ in range(3)] == [303, 303, 303]
        refused = client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
        assert refused.status_code == 429
        assert "リクエストが多すぎます" in refused.text or "短時間に" in refused.text
        assert refused.headers["ratelimit-limit"] == "3"
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert client.get("/").status_code == 200


def test_each_account_has_its_own_allowance(limited_app: Litestar, session: Session) -> None:
    create_user(session, "a@example.jp")
    create_user(session, "b@example.jp")
    with TestClient(limited_app, base_url="http://testserver.local") as first, \
         TestClient(limited_app, base_url="http://testserver.local") as second:
        sign_in(first, "a@example.jp")  # one write from the address, before the account is known
        sign_in(second, "b@example.jp")
        # Both clients share the test address, but once signed in each account counts on its own.
        first.post("/account/sign-out", data={"_csrf_token": csrf_token(first)}, follow_redirects=False)
        assert second.post("/account/sign-out", data={"_csrf_token": csrf_token(second)},
                           follow_redirects=False).status_code == 303


def test_settings_refuse_a_session_store_that_is_not_redis(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="redis://"):
        Settings(data_dir=tmp_path, session_store_url="memcached://127.0.0.1")  # type: ignore[call-arg]


def test_sessions_live_in_redis_when_configured(
    tmp_path: Path, database_url: str, broker_url: str, database: Database, session: Session,
    redis_server: RedisServer,
) -> None:
    app = create_app(make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url,
                                   session_store_url=redis_server.url), database=database)
    create_user(session, "hanako@example.jp", display_name="はなこ")
    client_redis = redis.Redis.from_url(redis_server.url)
    client_redis.flushdb()
    with TestClient(app, base_url="http://testserver.local") as client:
        sign_in(client, "hanako@example.jp")
        assert "はなこ" in client.get("/").text
        session_id = client.cookies["cocreate_session"]
    keys = [key.decode() for key in client_redis.keys("*")]
    assert any(key.endswith(session_id) and "sessions" in key for key in keys), keys
    assert session.exec(select(func.count()).select_from(StoredSession)).one() == 0


def _counts(hits: list[list[object]]) -> list[int]:
    return sorted(hit[0].count for hit in hits)  # type: ignore[attr-defined]


@pytest.mark.databases("sqlite", "postgresql", why="the counter is one upsert of each dialect, raced by threads")
@pytest.mark.committed("racing threads each use their own connection")
def test_database_counters_count_exactly_when_requests_race(database: Database) -> None:
    store = DatabaseCountingStore(database)
    check = Check("write:ip:198.51.100.9", limit=10, window=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        hits = list(pool.map(lambda _n: store._count([check]), range(40)))
    assert _counts(hits) == list(range(1, 41))
    assert sum(hit[0].refused for hit in hits) == 30
    assert all(0 < hit[0].reset <= 60 for hit in hits)


@pytest.mark.databases("sqlite", "postgresql", why="the window's end is compared in SQL")
def test_a_database_counter_starts_again_when_its_window_ends(database: Database, session: Session) -> None:
    store = DatabaseCountingStore(database)
    check = Check("sign-in:ip:198.51.100.10", limit=2, window=60)
    start = utcnow()
    with clock_at(start):
        assert [store._count([check])[0].count for _ in range(3)] == [1, 2, 3]
    with clock_at(start + timedelta(seconds=59)):
        hit = store._count([check])[0]
        assert (hit.count, hit.refused, hit.reset) == (4, True, 1)
    with clock_at(start + timedelta(seconds=61)):
        hit = store._count([check])[0]
        assert (hit.count, hit.refused, hit.reset) == (1, False, 60)
    with clock_at(start + timedelta(seconds=200)), database.transaction() as writer:
        assert purge_expired(writer) == 1
    assert session.exec(select(func.count()).select_from(RateCounter)).one() == 0


@pytest.mark.committed("the main file's write lock is held by a transaction of its own")
def test_sqlite_counters_have_a_file_and_a_write_lock_of_their_own(database: Database) -> None:
    # A counted request used to take the main file's write lock twice (its counter, then its write);
    # the counters now live in a file beside it, so counting never waits for the main file's writers.
    store = make_stores(database.settings, database)[RATE_LIMIT_STORE]
    assert isinstance(store, DatabaseCountingStore) and store.database is not database
    counters_path = Path(str(store.database.engine.url.database))
    assert counters_path.name == Path(str(database.engine.url.database)).name + COUNTERS_SUFFIX
    assert counters_path.exists()
    check = Check("write:ip:198.51.100.12", limit=5, window=60)
    try:
        with database.transaction() as writer:
            writer.exec(select(1))  # BEGIN IMMEDIATE: this process now holds the main file's write lock
            # On the main file this would queue behind the writer above (same thread: until the wait ran out).
            assert [store._count([check])[0].count for _ in range(2)] == [1, 2]
        with database.reading() as reader:
            assert reader.exec(select(func.count()).select_from(RateCounter)).one() == 0
        with store.database.reading() as reader:
            assert reader.exec(select(RateCounter.hits).where(RateCounter.key == check.key)).one() == 2
    finally:
        store.database.dispose()


def test_counting_stops_at_the_first_spent_budget(database: Database) -> None:
    store = DatabaseCountingStore(database)
    spent, after = Check("register:ip:198.51.100.11", 1, 3600), Check("write:ip:198.51.100.11", 5, 60)
    store._count([spent])
    hits = store._count([spent, after])
    assert [(hit.check.key, hit.count) for hit in hits] == [(spent.key, 2)]
    assert store._count([after])[0].count == 1  # the refused request did not count against the next budget


def test_redis_counters_count_exactly_when_requests_race(redis_server: RedisServer) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    check = Check("write:ip:198.51.100.12", limit=10, window=60)

    async def race() -> list[list[object]]:
        store = RedisCountingStore.with_client(redis_server.url, namespace="test")
        try:
            return await asyncio.gather(*(store.count([check]) for _ in range(40)))  # type: ignore[return-value]
        finally:
            await store._shutdown()

    hits = run_coroutine(race())
    assert _counts(hits) == list(range(1, 41))
    ttl = redis.Redis.from_url(redis_server.url).pttl("test:" + check.key)
    assert 0 < ttl <= 60_000


def test_unreachable_redis_counters_answer_busy_not_a_server_error(
    tmp_path: Path, database_url: str, broker_url: str, database: Database
) -> None:
    app = create_app(make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url,
                                   session_store_url=f"redis://127.0.0.1:{free_port()}/0"), database=database)
    with TestClient(app, base_url="http://testserver.local") as client:
        assert client.get("/account/sign-in").status_code == 200  # a read counts nothing
        refused = client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) > 0


@pytest.mark.parametrize(("host", "counted_as"), [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("fe80::1%eth0", "fe80::/64"),
    ("testclient", "testclient"),
    ("x" * 300, "x" * 64),
    ("", "unknown"),
])
def test_client_addresses_are_grouped_as_subscribers_hold_them(host: str, counted_as: str) -> None:
    request = SimpleNamespace(client=SimpleNamespace(host=host) if host else None)
    assert client_address(request) == counted_as  # type: ignore[arg-type]
