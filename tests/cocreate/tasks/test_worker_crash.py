"""A worker killed with SIGKILL, on the embedded broker: queued e-mail is still delivered after a restart.

``task_acks_late`` does not make this so on kombu's SQLAlchemy transport: it marks a message invisible
when a worker takes it and keeps acknowledgements in the worker's memory, so the message a killed worker
held is never delivered again. The outbox row is what survives; a starting worker re-enqueues every
unsent e-mail (``cocreate/jobs.py``). The first test fails without that.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from cocreate import mail
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from tests.live import LiveSite, prepare_site
from tests.servers import SmtpSink, wait_until

pytestmark = pytest.mark.worker


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink, broker_url: str) -> Iterator[LiveSite]:
    site = prepare_site(tmp_path / "site", demo=False, COCREATE_MAIL_URL=smtp_sink.url)
    yield site
    site.stop()
    configure_celery(Settings(env="test", data_dir=tmp_path / "celery", broker_url=broker_url))


def settings_of(site: LiveSite) -> Settings:
    return Settings(env="test", data_dir=site.data_dir, mail_url=site.env["COCREATE_MAIL_URL"])


def queue_one(database: Database, subject: str) -> mail.OutboundEmail:
    with database.transaction() as session:
        return mail.queue_email(session, to="resident@example.jp", subject=subject, text="本文")


def taken_by_a_worker(site: LiveSite, task: str) -> bool:
    """Whether a worker has taken the task's message from the embedded broker (and holds it unacknowledged)."""
    with closing(sqlite3.connect(site.data_dir / "celery-broker.sqlite3", timeout=10)) as broker:
        row = broker.execute("SELECT count(*) FROM kombu_message WHERE visible = 0 AND payload LIKE ?",
                             (f'%"task": "{task}"%',)).fetchone()
    return row[0] > 0


def delivered(database: Database, sink: SmtpSink, email: mail.OutboundEmail) -> list[object]:
    with database.reading() as session:
        row = session.get(mail.OutboundEmail, email.id)
        if row is None or row.sent_at is None:
            return []
    return [m for m in list(sink.messages) if m["Message-ID"] == email.message_id]


def test_an_email_whose_worker_was_killed_mid_delivery_is_delivered_after_the_restart(
        site: LiveSite, smtp_sink: SmtpSink) -> None:
    settings = settings_of(site)
    configure_celery(settings)
    database = Database(settings)
    try:
        email = queue_one(database, "worker killed mid-delivery")
        # Hold the write lock, so the worker that takes the delivery task waits inside it for the row.
        with closing(sqlite3.connect(site.data_dir / "cocreate.sqlite3", isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            site.start_worker()
            wait_until(lambda: taken_by_a_worker(site, mail.DELIVER_TASK), 60, "the worker takes the delivery task")
            site.kill("worker")
            holder.execute("ROLLBACK")
        assert delivered(database, smtp_sink, email) == []
        site.start_worker()
        try:
            messages = wait_until(lambda: delivered(database, smtp_sink, email), 60, "the e-mail delivered after the restart")
        except AssertionError:
            raise AssertionError(f"not delivered; worker log:\n{site.log()[-4000:]}") from None
        assert len(messages) == 1  # type: ignore[arg-type]
    finally:
        database.dispose()


def test_an_email_whose_task_never_reached_the_broker_is_delivered_when_a_worker_starts(
        site: LiveSite, smtp_sink: SmtpSink) -> None:
    """A web process killed between its commit and sending the task, or a broker that was down then."""
    database = Database(settings_of(site))
    try:
        with database.transaction() as session:
            email = mail.OutboundEmail(to_address="resident@example.jp", subject="task lost", body_text="本文",
                                       message_id="<lost-task@cocreate.localhost>")
            session.add(email)  # the row alone: no task was ever sent for it
        site.start_worker()
        wait_until(lambda: delivered(database, smtp_sink, email), 60, "the e-mail delivered by a starting worker")
    finally:
        database.dispose()
