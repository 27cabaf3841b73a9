"""Under load the site answers: pages read beside a writer, and a request that cannot get a connection,
a lock or a place in the queue in time is answered 503 with Retry-After (translated), changing nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import func, select

from cocreate.accounts.models import SignInThrottle
from cocreate.app import create_app
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.web.load import in_flight_limit
from tests.cocreate.db.test_units_of_work import sqlite_write_lock
from tests.helpers import csrf_token, run_coroutine

pytestmark = [
    pytest.mark.databases("sqlite", why="SQLite's write lock; the PostgreSQL lock timeout is in test_units_of_work"),
    pytest.mark.committed("another connection holds the lock; the impatient app has a pool of its own"),
]


@pytest.fixture
def impatient(settings: Settings, database: Database) -> Iterator[TestClient[Litestar]]:
    """The app with waits of 0.3 s for a connection or a lock."""
    app = create_app(settings.model_copy(update={"db_wait_seconds": 0.3}))
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client


def _throttle_rows(database: Database) -> int:
    with database.reading() as session:
        return session.exec(select(func.count()).select_from(SignInThrottle)).one()


def test_pages_are_served_while_a_writer_holds_the_lock(impatient: TestClient[Litestar], database: Database) -> None:
    impatient.get("/")  # the CSRF cookie
    with sqlite_write_lock(database):
        for path in ("/", "/challenges", "/api/v1/challenges", "/search?q=公園", "/challenges.atom", "/readyz"):
            response = impatient.get(path)
            assert response.status_code == 200, (path, response.text[:300])


def test_a_write_that_cannot_get_the_lock_is_503_and_changes_nothing(
    impatient: TestClient[Litestar], database: Database
) -> None:
    token = csrf_token(impatient)
    form = {"email": "someone@example.jp", "password": "wrong password", "_csrf_token": token}
    with sqlite_write_lock(database):
        japanese = impatient.post("/account/sign-in", data=form, headers={"accept-language": "ja"})
        english = impatient.post("/account/sign-in", data=form, headers={"accept-language": "en"})
        problem = impatient.post("/account/sign-in", data=form, headers={"accept": "application/json"})
    assert japanese.status_code == english.status_code == problem.status_code == 503
    assert japanese.headers["retry-after"] == "1"
    assert "ただいま大変混み合っています" in japanese.text
    assert "The site is very busy right now" in english.text
    assert problem.json()["status_code"] == 503 and problem.headers["retry-after"] == "1"
    assert _throttle_rows(database) == 0  # nothing was half-written
    after = impatient.post("/account/sign-in", data=form)
    assert after.status_code == 400 and _throttle_rows(database) == 3  # counted per address and client, per client, per address


def test_an_exhausted_pool_is_503_not_a_hang(settings: Settings, database: Database) -> None:
    app = create_app(settings.model_copy(update={"db_wait_seconds": 0.3}))
    pool_holder = app.state.database
    with TestClient(app, base_url="http://testserver.local") as client:
        held = [pool_holder.engine.connect() for _ in range(settings.db_pool_size)]
        try:
            response = client.get("/challenges")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
        finally:
            for connection in held:
                connection.close()
        assert client.get("/challenges").status_code == 200


def test_requests_beyond_the_in_flight_limit_are_turned_away_at_once(settings: Settings) -> None:
    limited = settings.model_copy(update={"web_threads": 1})  # 32 in flight
    release = asyncio.Event()
    answered: list[int] = []

    async def slow_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = in_flight_limit(limited)(slow_app)

    async def call(path: str) -> int:
        scope = {"type": "http", "path": path, "method": "GET", "headers": []}
        status: list[int] = []

        async def send(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                status.append(message["status"])

        try:
            await middleware(scope, None, send)  # type: ignore[arg-type]
        except Exception as exc:
            assert exc.status_code == 503 and exc.headers == {"Retry-After": "5"}  # type: ignore[attr-defined]
            return 503
        return status[0]

    async def burst() -> None:
        tasks = [asyncio.create_task(call("/challenges")) for _ in range(limited.max_requests_in_flight)]
        await asyncio.sleep(0.01)
        answered.append(await call("/challenges"))  # one too many: answered at once, not after the others
        health = asyncio.create_task(call("/healthz"))  # liveness is never turned away
        release.set()
        answered.extend(await asyncio.gather(health, *tasks))

    run_coroutine(burst())
    assert answered[0] == 503
    assert answered[1:] == [200] * (limited.max_requests_in_flight + 1)
