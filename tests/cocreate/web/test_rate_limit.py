"""Writes are rate limited per account (or address); sessions can live in Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.app import create_app
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.web.sessions import StoredSession
from tests.factories import create_user, sign_in
from tests.helpers import csrf_token, make_settings
from tests.servers import RedisServer

pytestmark = pytest.mark.databases("sqlite", why="rate limits live in memory or Redis")


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
