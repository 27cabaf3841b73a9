"""Resident notices through the real parts: a Celery worker runs ``labs.send_booking_notice`` and the
e-mail delivery, and an SMTP server receives the mail. Each subscriber gets exactly one e-mail per event,
also when the task runs again after dying before it could mark the notice sent."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
from sqlmodel import Session, select

from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from labs import notices
from labs.models import Area, BookingNotice, BookingStatus, NoticeKind
from labs.notices import SEND_NOTICE_TASK
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user
from tests.servers import SmtpSink, Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", "postgresql", why="exactly-once delivery through a real worker")


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_subscribers_get_exactly_one_mail_each_even_when_the_task_runs_again(
    session: Session, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database,
    settings: Settings,
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    try:
        field = create_field(session, name="高島平けやき通り", contact="実証推進係 03-0000-0000")
        other_field = create_field(session, name="常盤台の屋上", area=Area.TOKIWADAI)
        org = create_organisation(session, "板橋モビリティ株式会社", verified=True)
        fan = create_user(session, "fan@example.jp", display_name="Field Fan", locale="en")
        neighbour = create_user(session, "neighbour@example.jp", display_name="高島 次郎")
        both = create_user(session, "both@example.jp", display_name="両方 三郎")
        elsewhere = create_user(session, "elsewhere@example.jp")
        create_user(session, "nobody@example.jp")
        for user in (fan, both):
            notifications.follow(session, user.id, notices.FIELD, field.id)  # type: ignore[arg-type]
        for user in (neighbour, both):
            notifications.follow(session, user.id, notices.AREA, Area.TAKASHIMADAIRA.number)  # type: ignore[arg-type]
        notifications.follow(session, elsewhere.id, notices.FIELD, other_field.id)  # type: ignore[arg-type]
        session.commit()

        # What the approval does: the booking becomes approved and the notice is announced, then commit.
        start = (utcnow() + timedelta(days=10)).replace(hour=1, minute=0, second=0, microsecond=0)
        booking = create_booking(session, field, org, status=BookingStatus.APPROVED,
                                 periods=[(start, start + timedelta(hours=3))], purpose="非公開の目的")
        notice = notices.announce(session, booking, NoticeKind.APPROVED)
        session.commit()

        try:
            smtp_sink.wait_for(3, timeout=40)
        except AssertionError:
            raise AssertionError(worker.log()[-4000:]) from None

        # The task dies before marking the notice sent and is retried, twice: nobody is told again.
        with database.transaction() as retry:
            stored = retry.get(BookingNotice, notice.id)
            assert stored is not None and stored.sent_at is not None and stored.recipient_count == 3
            stored.sent_at = None
            retry.add(stored)
            enqueue(retry, SEND_NOTICE_TASK, notice.id)
            enqueue(retry, SEND_NOTICE_TASK, notice.id)
            enqueue(retry, "cocreate.heartbeat", "after-booking-notice")

        def heartbeat_seen() -> bool:
            from cocreate.tasks.heartbeat import WorkerHeartbeat

            with database.session() as check:
                return check.get(WorkerHeartbeat, "after-booking-notice") is not None

        wait_until(heartbeat_seen, 40, "the worker to run the tasks queued behind the retries")

        def sent_again() -> bool:
            with database.session() as check:
                again = check.get(BookingNotice, notice.id)
                return again is not None and again.sent_at is not None

        wait_until(sent_again, 40, "the retried task to finish")
        messages = list(smtp_sink.messages)
        assert sorted(m["To"] for m in messages) == ["both@example.jp", "fan@example.jp", "neighbour@example.jp"]
        by_recipient = {m["To"]: m for m in messages}
        english = _body(by_recipient["fan@example.jp"])
        assert _subject(by_recipient["fan@example.jp"]).startswith("Notice of activity at 高島平けやき通り")
        assert "Hello Field Fan" in english and f"/bookings/{booking.id}/notice" in english and "10:00" in english
        japanese = _body(by_recipient["neighbour@example.jp"])
        assert "高島 次郎 様" in japanese and "実証推進係 03-0000-0000" in japanese and "非公開の目的" not in japanese
        with database.session() as check:
            told = sorted(check.exec(select(Notification.user_id).where(
                Notification.event_key == notices.event_key(notice.id))).all())  # type: ignore[arg-type]
        assert told == sorted([fan.id, neighbour.id, both.id])  # type: ignore[type-var]
    finally:
        configure_celery(settings)
