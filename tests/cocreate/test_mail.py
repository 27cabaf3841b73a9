"""Delivering an e-mail: no database lock while the mail server talks, one delivery at a time, and a
delivery that died is taken over once its claim lapses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from cocreate import mail
from cocreate.accounts.models import Department
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from tests.servers import free_port, wait_until

pytestmark = [
    pytest.mark.databases("sqlite", "postgresql", why="the write lock (SQLite) and row locks (PostgreSQL) differ"),
    pytest.mark.committed("the delivery and the probe each use connections of their own"),
]


@dataclass
class SlowSmtp:
    """A real SMTP server whose DATA answer waits until the test lets it go."""

    url: str
    answering: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)
    received: list[Message] = field(default_factory=list)


@pytest.fixture
def slow_smtp() -> Iterator[SlowSmtp]:
    from aiosmtpd.controller import Controller

    port = free_port()
    server = SlowSmtp(url=f"smtp://127.0.0.1:{port}")

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):  # type: ignore[no-untyped-def]
            server.answering.set()
            server.go.wait(20)  # blocks the server's loop: the mail server is slow
            server.received.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield server
    server.go.set()
    controller.stop()


def _queue(database: Database) -> int:
    with database.transaction() as session:
        return mail.queue_email(session, to="hanako@example.jp", subject="件名", text="本文").id  # type: ignore[return-value]


def test_the_mail_server_talks_while_no_lock_is_held(database: Database, settings: Settings,
                                                     slow_smtp: SlowSmtp) -> None:
    settings = settings.model_copy(update={"mail_url": slow_smtp.url})
    email_id = _queue(database)
    results: list[object] = []
    delivery = threading.Thread(target=lambda: results.append(mail.deliver(database, settings, email_id)))
    delivery.start()
    try:
        assert slow_smtp.answering.wait(10)
        # Meanwhile the site writes (on SQLite: takes the write lock) within a short wait...
        probe = Database(settings, wait_seconds=0.2)
        try:
            with probe.transaction() as session:
                session.add(Department(code="probe", division_ja="部", section_ja="課", division_en="D",
                                       section_en="S"))
                session.exec(select(mail.OutboundEmail).with_for_update()).all()  # PostgreSQL: the row too
        finally:
            probe.dispose()
        # ...and a second delivery of the same e-mail finds the claim instead of sending twice.
        with pytest.raises(mail.DeliveryUnderWay):
            mail.deliver(database, settings, email_id)
    finally:
        slow_smtp.go.set()
        delivery.join(20)
    assert results == [True] and len(slow_smtp.received) == 1
    with database.reading() as session:
        row = session.get(mail.OutboundEmail, email_id)
        assert row is not None and row.sent_at is not None and row.claimed_until is None and row.attempts == 1
    assert mail.deliver(database, settings, email_id) is False  # sent: never again


def test_a_claim_left_by_a_dead_delivery_is_taken_over_once_it_lapses(
    database: Database, settings: Settings, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    settings = settings.model_copy(update={"mail_url": smtp_sink.url})
    smtp_sink.clear()
    email_id = _queue(database)
    with database.transaction() as session:  # a worker claimed it, then was killed
        session.execute(sa.update(mail.OutboundEmail).where(col(mail.OutboundEmail.id) == email_id)
                        .values(claimed_until=utcnow() + timedelta(seconds=30), attempts=1))
    with pytest.raises(mail.DeliveryUnderWay) as under_way:
        mail.deliver(database, settings, email_id)
    assert 25 < under_way.value.seconds <= 30
    with database.transaction() as session:
        session.execute(sa.update(mail.OutboundEmail).where(col(mail.OutboundEmail.id) == email_id)
                        .values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert mail.deliver(database, settings, email_id) is True
    wait_until(lambda: len(smtp_sink.messages) == 1, 10, "the e-mail in the sink")
    with database.reading() as session:
        assert session.get(mail.OutboundEmail, email_id).attempts == 2  # type: ignore[union-attr]


def test_a_failed_send_releases_the_claim_for_the_retry(database: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"mail_url": f"smtp://127.0.0.1:{free_port()}"})  # nobody listens
    email_id = _queue(database)
    with pytest.raises(OSError):
        mail.deliver(database, settings, email_id)
    with database.reading() as session:
        row = session.get(mail.OutboundEmail, email_id)
        assert row is not None and row.sent_at is None and row.claimed_until is None and row.last_error
