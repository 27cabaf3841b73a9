"""Tasks reach the broker only after the transaction commits (checked on a real Redis queue)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from cocreate.tasks.queue import diverted, pending
from tests.servers import RedisServer

pytestmark = pytest.mark.databases("sqlite", why="enqueue-after-commit is session logic; runs on SQLite")

QUEUE = "test-after-commit"


@pytest.fixture
def redis_settings(settings: Settings, redis_server: RedisServer) -> Iterator[Settings]:
    redis_settings = settings.model_copy(update={"broker_url": redis_server.url})
    configure_celery(redis_settings)
    yield redis_settings
    configure_celery(settings)


@pytest.fixture
def queue(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)
    client.close()


def test_task_is_sent_after_commit_not_before(
    redis_settings: Settings, database: Database, queue: redis.Redis
) -> None:
    with database.session() as session:
        enqueue(session, "cocreate.heartbeat", "after-commit", queue=QUEUE)
        session.flush()
        assert queue.llen(QUEUE) == 0, "a task was sent before the transaction committed"
        session.commit()
    assert queue.llen(QUEUE) == 1
    message = json.loads(queue.lpop(QUEUE))
    assert message["headers"]["task"] == "cocreate.heartbeat"
    assert json.loads(__import__("base64").b64decode(message["body"]))[0] == ["after-commit"]


def test_rolled_back_transaction_sends_nothing(
    redis_settings: Settings, database: Database, queue: redis.Redis
) -> None:
    with database.session() as session:
        enqueue(session, "cocreate.heartbeat", "rolled-back", queue=QUEUE)
        session.rollback()
        assert pending(session) == []
        session.commit()  # a later commit must not resurrect the dropped task
    assert queue.llen(QUEUE) == 0


def test_failed_transaction_block_sends_nothing(
    redis_settings: Settings, database: Database, queue: redis.Redis
) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        enqueue(session, "cocreate.heartbeat", "failed", queue=QUEUE)
        raise RuntimeError("the use case failed")
    assert queue.llen(QUEUE) == 0


def test_savepoint_rollback_keeps_outer_tasks(
    redis_settings: Settings, database: Database, queue: redis.Redis
) -> None:
    with database.session() as session:
        enqueue(session, "cocreate.heartbeat", "outer", queue=QUEUE)
        nested = session.begin_nested()
        nested.rollback()
        session.commit()
    assert queue.llen(QUEUE) == 1


@pytest.mark.parametrize("bad", [object(), {"nested": object()}, [1, object()]])
def test_tasks_take_ids_and_plain_values_only(database: Database, bad: object) -> None:
    with database.session() as session, pytest.raises(TypeError, match="ids and plain values"):
        enqueue(session, "cocreate.heartbeat", bad)


def test_diverted_tasks_go_to_the_sink_after_commit_and_none_to_the_broker(
    redis_settings: Settings, database: Database, queue: redis.Redis
) -> None:
    seen: list[tuple[object, ...]] = []
    with diverted(lambda *task: seen.append(task)):
        with database.session() as session:
            enqueue(session, "cocreate.heartbeat", "diverted", queue=QUEUE)
            session.flush()
            assert seen == []  # still only after the commit
            session.commit()
        with database.session() as session:
            enqueue(session, "cocreate.heartbeat", "rolled-back", queue=QUEUE)
            session.rollback()
            session.commit()
    assert seen == [("cocreate.heartbeat", ("diverted",), {}, QUEUE)]
    assert queue.llen(QUEUE) == 0
    with database.session() as session:  # after the block: the broker again
        enqueue(session, "cocreate.heartbeat", "sent", queue=QUEUE)
        session.commit()
    assert queue.llen(QUEUE) == 1
