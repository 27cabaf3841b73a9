"""The daily digest: beat runs it at 07:00 in Tokyo; one query finds who has something new and one task per chunk
of users is enqueued (never one per user or event); each user gets one e-mail per Tokyo day in their language,
with the unsubscribe link and headers; nothing is sent when nothing is new; and a retried job, on a real worker
with a real SMTP server, sends nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from litestar import Litestar
from sqlmodel import Session, col, func, select

from cocreate import components
from cocreate.accounts.models import User
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.mail import OutboundEmail
from cocreate.notifications import digests, preferences, services
from cocreate.notifications.models import Delivery, Notification, NotificationDigest
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from cocreate.tasks.app import celery_app
from cocreate.tasks.queue import pending
from tests.factories import create_user
from tests.helpers import count_queries, make_settings, worker_env
from tests.servers import SmtpSink, Worker, start_worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="digest selection is Python; the exactly-once worker test runs on both")

KIND = "question.answered"


def digest_user(session: Session, email: str, **values: object) -> User:
    user = create_user(session, email, **values)  # type: ignore[arg-type]
    preferences.set_delivery(session, user.id, KIND, Delivery.DIGEST)  # type: ignore[arg-type]
    session.commit()
    return user


def notify(session: Session, settings: Settings, users: list[User], event: str, title: str = "清掃工場の余熱") -> None:
    services.notify(session, user_ids=[u.id for u in users], kind=KIND, target_type="question", target_id=3,  # type: ignore[misc]
                    params={"challenge_id": 7, "challenge_title": title, "question_id": 3, "question_excerpt": "？"},
                    url=f"/challenges/7/questions/{event}", event_key=f"{KIND}:{event}", settings=settings)
    session.commit()


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def digest_worker(settings: Settings, database: Database, smtp_sink: SmtpSink,
                  tmp_path: Path) -> Iterator[tuple[Settings, Worker]]:
    """A worker of its own, on a broker of its own, stopped after the test: the session's shared worker would
    go on delivering the e-mails later tests in this folder expect to deliver themselves."""
    worker_settings = make_settings(tmp_path / "worker", database_url=settings.database_url,
                                    broker_url=f"sqla+sqlite:///{tmp_path / 'digest-broker.sqlite3'}",
                                    mail_url=smtp_sink.url)
    worker = start_worker(worker_env(worker_settings), tmp_path / "digest-worker.log", queues="default")
    try:
        yield worker_settings, worker
    finally:
        worker.stop()


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_digest_covers_one_tokyo_day_and_beat_starts_it_at_seven_in_tokyo(settings: Settings) -> None:
    assert digests.period_of(datetime(2026, 11, 21, 14, 59, tzinfo=UTC)) == "2026-11-21"
    assert digests.period_of(datetime(2026, 11, 21, 15, 0, tzinfo=UTC)) == "2026-11-22"
    configure_celery(settings)
    entry = components.beat_schedule()["notification-digests"]
    assert entry["task"] == digests.SCHEDULE_TASK and digests.SCHEDULE_TASK in celery_app.tasks
    assert digests.SEND_TASK in celery_app.tasks
    schedule = entry["schedule"]
    assert schedule.hour == {7} and schedule.minute == {0}
    assert str(schedule.tz) == "Asia/Tokyo"


def test_one_query_finds_the_waiting_users_and_one_task_goes_per_chunk(
    txn_session: Session, settings: Settings, app: Litestar, database: Database
) -> None:
    session = txn_session
    waiting = [digest_user(session, f"d{n}@example.jp") for n in range(5)]
    immediate = create_user(session, "now@example.jp")
    read_it = digest_user(session, "read@example.jp")
    unconfirmed = digest_user(session, "new@example.jp", confirmed=False)
    notify(session, settings, [*waiting, immediate, read_it, unconfirmed], "1")
    notify(session, settings, waiting[:2], "2")  # two events for some: still one digest each
    services.mark_all_read(session, read_it.id)  # type: ignore[arg-type]
    before = utcnow()
    later = digest_user(session, "later@example.jp")
    notify(session, settings, [later], "3")  # after the job's time: waits for tomorrow
    pending(session).clear()

    with count_queries(database.engine) as log:
        chunks = digests.enqueue_chunks(session, before, chunk_size=2)
    assert log.count == 1, str(log)
    assert chunks == 3
    tasks = pending(session)
    ids = [u.id for u in waiting]
    assert [(name, args[0], args[2]) for name, args, _kw, _queue in tasks] == [
        (digests.SEND_TASK, digests.period_of(before), ids[0:2]),
        (digests.SEND_TASK, digests.period_of(before), ids[2:4]),
        (digests.SEND_TASK, digests.period_of(before), ids[4:5]),
    ]
    session.rollback()
    # Nothing waiting: no task at all.
    with database.transaction() as other:
        other.execute(Notification.__table__.update().values(read_at=utcnow()))
    assert digests.enqueue_chunks(session, utcnow()) == 0 and pending(session) == []
    session.rollback()


def test_each_user_gets_one_digest_a_day_in_their_language_and_none_when_nothing_is_new(
    session: Session, settings: Settings, app: Litestar, database: Database
) -> None:
    hanako = digest_user(session, "hanako@example.jp", display_name="はなこ")
    alice = digest_user(session, "alice@example.jp", display_name="Alice", locale="en")
    idle = digest_user(session, "idle@example.jp")
    for event in ("1", "2", "3"):
        notify(session, settings, [hanako, alice], event, title=f"課題{event} <script>")
    first = session.exec(select(Notification).where(Notification.user_id == hanako.id,
                                                    Notification.event_key == f"{KIND}:1")).one()
    services.mark_read(session, hanako.id, first.id)  # type: ignore[arg-type]
    assert count(session, OutboundEmail) == 0  # nothing by e-mail until the digest

    now = utcnow()
    period = digests.period_of(now)
    users = [hanako.id, alice.id, idle.id]
    assert digests.send_chunk(database, settings, period, now.isoformat(), users) == 2  # type: ignore[arg-type]
    emails = {e.to_address: e for e in session.exec(select(OutboundEmail)).all()}
    assert set(emails) == {"hanako@example.jp", "alice@example.jp"}  # idle: nothing new, no e-mail
    english, japanese = emails["alice@example.jp"], emails["hanako@example.jp"]
    assert english.subject == "Your daily summary: 3 new notifications"
    assert "Hello Alice," in english.body_text and "課題3 <script>" in english.body_text
    assert f"{settings.base_url}/challenges/7/questions/2" in english.body_text
    assert "2件" in japanese.subject and "はなこ" in japanese.body_text and "Hello" not in japanese.body_text
    assert "課題1" not in japanese.body_text  # read in the site already
    for email in (english, japanese):
        assert '"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"' in email.headers_json
        assert f"{settings.base_url}/unsubscribe/" in email.body_text and email.sent_at is not None
    rows = {d.user_id: d for d in session.exec(select(NotificationDigest)).all()}
    assert {u: (d.period, d.item_count) for u, d in rows.items()} == {hanako.id: (period, 2), alice.id: (period, 3)}
    assert rows[alice.id].email_id == english.id
    carried = session.exec(select(Notification.digest_id).where(Notification.user_id == hanako.id)
                           .order_by(col(Notification.id))).all()
    assert carried == [None, rows[hanako.id].id, rows[hanako.id].id]
    outbox = Path(settings.mail_url.removeprefix("file://"))
    assert len(list(outbox.glob("*.eml"))) == 2

    # The job again the same day, with something new meanwhile: nothing more today.
    notify(session, settings, [alice], "4")
    assert digests.send_chunk(database, settings, period, utcnow().isoformat(), users) == 0  # type: ignore[arg-type]
    assert count(session, OutboundEmail) == 2 and count(session, NotificationDigest) == 2
    assert digests.waiting_users(session, utcnow(), period) == []
    # The next day it goes out, with only the new one.
    tomorrow = utcnow() + timedelta(days=1)
    assert digests.waiting_users(session, tomorrow, digests.period_of(tomorrow)) == [alice.id]
    assert digests.send_chunk(database, settings, digests.period_of(tomorrow), tomorrow.isoformat(), users) == 1  # type: ignore[arg-type]
    latest = session.exec(select(OutboundEmail).order_by(col(OutboundEmail.id).desc())).first()
    assert latest is not None and latest.subject == "Your daily summary: 1 new notification"
    assert len(list(outbox.glob("*.eml"))) == 3


@pytest.mark.committed("a real worker process reads what the test wrote")
@pytest.mark.databases("sqlite", "postgresql", why="unique digests per person and day under a real worker")
@pytest.mark.timeout(120)
def test_a_real_worker_sends_each_digest_exactly_once_even_when_the_job_runs_again(
    session: Session, digest_worker: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database,
) -> None:
    worker_settings, worker = digest_worker
    configure_celery(worker_settings)
    smtp_sink.clear()
    hanako = digest_user(session, "hanako@example.jp", display_name="はなこ")
    alice = digest_user(session, "alice@example.jp", display_name="Alice", locale="en")
    for event in ("1", "2"):
        notify(session, worker_settings, [hanako, alice], event)
    with database.transaction() as tx:
        enqueue(tx, digests.SCHEDULE_TASK)
    try:
        smtp_sink.wait_for(2, timeout=40)
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None

    # The job and a chunk task run again (a retry, a duplicate), after something new: nothing more today.
    notify(session, worker_settings, [alice], "3")
    period = digests.period_of(utcnow())
    with database.transaction() as tx:
        enqueue(tx, digests.SCHEDULE_TASK)
        enqueue(tx, digests.SEND_TASK, period, utcnow().isoformat(), [hanako.id, alice.id])
        enqueue(tx, digests.SEND_TASK, period, utcnow().isoformat(), [hanako.id, alice.id])
        enqueue(tx, "cocreate.heartbeat", "after-digests")

    def heartbeat_seen() -> bool:
        from cocreate.tasks.heartbeat import WorkerHeartbeat

        with database.session() as check:
            return check.get(WorkerHeartbeat, "after-digests") is not None

    try:
        wait_until(heartbeat_seen, 40, "the worker to run the tasks queued behind the retries")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    messages = [m for m in smtp_sink.messages if m["To"] in ("alice@example.jp", "hanako@example.jp")]
    assert sorted(m["To"] for m in messages) == ["alice@example.jp", "hanako@example.jp"]
    by_address = {m["To"]: m for m in messages}
    assert subject_of(by_address["alice@example.jp"]) == "Your daily summary: 2 new notifications"
    assert "2件" in subject_of(by_address["hanako@example.jp"])
    for message in messages:
        assert message["List-Unsubscribe"].startswith(f"<{worker_settings.base_url}/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert count(session, NotificationDigest) == 2
