"""Tasks run in a real Celery worker process, on the embedded SQLite broker and on Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from cocreate import mail
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import celery_app, configure_celery, enqueue
from cocreate.tasks.heartbeat import WorkerHeartbeat
from tests.helpers import worker_env
from tests.servers import RedisServer, SmtpSink, Worker, start_worker, wait_until

pytestmark = [
    pytest.mark.databases("sqlite", why="a real worker on Redis and on the embedded broker; the database is incidental"),
    pytest.mark.worker,
]


@pytest.fixture(scope="session")
def redis_worker(
    database_url: str, redis_server: RedisServer, smtp_sink: SmtpSink, worker_base: Path
) -> Iterator[tuple[Settings, Worker]]:
    settings = Settings(
        env="test",
        data_dir=worker_base / "redis-data",
        database_url=database_url,
        broker_url=redis_server.url,
        mail_url=smtp_sink.url,
        secret_key="test-secret",
    )
    worker = start_worker(worker_env(settings), worker_base / f"redis-worker-{database_url[:6]}.log")
    yield settings, worker
    worker.stop()


def wait_for_heartbeat(database: Database, source: str, worker: Worker) -> WorkerHeartbeat:
    def seen() -> WorkerHeartbeat | None:
        with database.session() as session:
            return session.get(WorkerHeartbeat, source)

    try:
        return wait_until(seen, 30, f"heartbeat {source!r}")  # type: ignore[return-value]
    except AssertionError:
        raise AssertionError(f"task did not run; worker log:\n{worker.log()[-4000:]}") from None


@pytest.mark.databases("sqlite", "postgresql", why="production runs Redis and PostgreSQL together")
@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_committed_task_runs_in_a_real_worker(
    broker: str, request: pytest.FixtureRequest, database: Database
) -> None:
    worker_settings, worker = request.getfixturevalue(
        "smtp_worker_settings" if broker == "embedded" else "redis_worker"
    )
    configure_celery(worker_settings)
    source = f"test-{broker}-{database.dialect}"
    with database.transaction() as session:
        enqueue(session, "cocreate.heartbeat", source)
    beat = wait_for_heartbeat(database, source, worker)
    assert beat.beats == 1
    assert worker.process.poll() is None


def test_email_is_delivered_through_the_worker_to_smtp_exactly_once(
    smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    with database.transaction() as session:
        email = mail.queue_email(
            session,
            to="resident@example.jp",
            subject="ご案内 <script>",
            text="本文です。",
            headers={"List-Unsubscribe": "<https://example.jp/u/1>"},
        )
        email_id = email.id
    # The same delivery task arrives twice (a retry, a duplicate from the sweeper): one e-mail only.
    celery_app.send_task(mail.DELIVER_TASK, args=(email_id,))

    def sent() -> bool:
        with database.session() as session:
            return session.get(mail.OutboundEmail, email_id).sent_at is not None  # type: ignore[union-attr]

    try:
        wait_until(sent, 30, "e-mail marked sent")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    messages = smtp_sink.wait_for(1)
    with database.session() as session:
        queued = session.exec(select(mail.OutboundEmail).where(mail.OutboundEmail.id == email_id)).one()
    # Give a duplicate delivery time to show up, by running one more task behind it and waiting for that.
    with database.transaction() as session:
        enqueue(session, "cocreate.heartbeat", "after-email")
    wait_for_heartbeat(database, "after-email", worker)
    messages = [m for m in smtp_sink.messages if m["Message-ID"] == queued.message_id]
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "resident@example.jp"
    assert (
        str(
            __import__("email.header", fromlist=["make_header"]).make_header(
                __import__("email.header", fromlist=["decode_header"]).decode_header(message["Subject"])
            )
        )
        == "ご案内 <script>"
    )
    assert message["List-Unsubscribe"] == "<https://example.jp/u/1>"
    assert "本文です。" in message.get_payload(decode=True).decode()
    assert queued.attempts == 1
