"""Follow events on trials (labs.events): a recruitment call opened, a progress update posted and the
final report published reach the trial's followers, never the person who posted them nor anyone else,
once per event, each in their own language; a booking's approval reaches its organisation's members.

The services announce an event as a task sent after commit; :func:`deliver` runs exactly the tasks a
service sent (caught just before its commit), as the worker would. One test runs a real worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from sqlmodel import Session, select

from cocreate.accounts.models import Organisation, OrganisationMember, Role, User
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE, using_locale
from cocreate.mail import OutboundEmail
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from labs import bookings, events, recruitment, trials
from labs.models import (
    BookingStatus,
    RecruitmentCall,
    RecruitmentStatus,
    Trial,
    TrialOrganisation,
    TrialUpdate,
)
from tests.factories import Audience, actor, create_audience
from tests.helpers import Task, email_count, emails, notified, tasks_announced
from tests.labs.helpers import (
    create_booking,
    create_department,
    create_field,
    create_organisation,
    create_user,
)
from tests.servers import SmtpSink, Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="event fan-out is Python; the worker test runs on both")







@pytest.fixture
def announced(session: Session) -> Iterator[list[Task]]:
    """The event tasks the services of this session sent (caught just before each commit)."""
    with tasks_announced(session, events.TASK) as tasks:
        yield tasks


def deliver(session: Session, settings: Settings, tasks: list[Task]) -> None:
    """Run the announced tasks as the worker does, then forget them."""
    for _name, args, kwargs, _queue in list(tasks):
        events.run(session, settings, *args, **kwargs)
    tasks.clear()


@dataclass
class World(Audience):
    trial: Trial
    organisation: Organisation
    member: User


@pytest.fixture
def world(session: Session) -> World:
    department = create_department(session)
    audience = create_audience(session, department)
    member = create_user(session, "member@example.jp", display_name="実証 担当")
    organisation = create_organisation(session, admin=member, verified=True)
    trial = Trial(title="高島平モビリティ実証", department_id=department.id, published=True,
                  starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    session.add(trial)
    session.commit()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    for user in (audience.staff, member, audience.follower, audience.english):
        notifications.follow(session, user.id, "trial", trial.id)  # type: ignore[arg-type]
    session.commit()
    return World(**vars(audience), trial=trial, organisation=organisation, member=member)


def subject(row: OutboundEmail) -> str:
    return str(make_header(decode_header(row.subject)))


def draft_call(session: Session, trial: Trial) -> RecruitmentCall:
    call = RecruitmentCall(trial_id=trial.id, title="電動キックボード試乗モニター <b>募集</b>",  # type: ignore[arg-type]
                           eligibility="区内在住の18歳以上の方", activities="週1回、30分の試乗", places=12,
                           consent_text="走行データを研究に使います。", status=RecruitmentStatus.DRAFT,
                           apply_by=datetime(2099, 1, 15, 8, 0, tzinfo=WARD_TIMEZONE))
    session.add(call)
    session.commit()
    session.refresh(call)
    return call


# --- recruitment opened --------------------------------------------------------------------------


def test_an_opened_call_reaches_the_trial_followers_once(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    call = draft_call(session, world.trial)
    assert recruitment.set_status(session, actor(session, world.staff), call.id, True)  # type: ignore[arg-type]
    assert [task[1][:2] for task in announced] == [(events.RECRUITMENT_OPENED, call.id)]
    deliver(session, settings, announced)
    assert notified(session, events.RECRUITMENT_OPENED) == sorted([world.member.id, world.follower.id, world.english.id])
    row = session.exec(select(Notification).where(Notification.user_id == world.english.id)).one()
    assert row.url == f"/calls/{call.id}" and row.target_type == "recruitment_call"
    mail = emails(session)
    assert set(mail) == {"member@example.jp", "follower@example.jp", "english@example.jp"}
    english = mail["english@example.jp"]
    assert subject(english) == "Participants wanted: 電動キックボード試乗モニター <b>募集</b>"
    assert "Places: 12" in english.body_text and "Apply by: 2099-01-15 08:00 (Japan time)" in english.body_text
    japanese = mail["follower@example.jp"]
    assert subject(japanese).startswith("参加者募集：") and "応募締切：2099-01-15 08:00" in japanese.body_text
    with using_locale("en"):
        assert notifications.describe(row).startswith("The trial “高島平モビリティ実証”, which you follow, is looking")

    # Closing and opening the call again is not news again; closing announces nothing.
    recruitment.set_status(session, actor(session, world.staff), call.id, False)  # type: ignore[arg-type]
    assert announced == []
    recruitment.set_status(session, actor(session, world.staff), call.id, True)  # type: ignore[arg-type]
    deliver(session, settings, announced)
    assert len(notified(session, events.RECRUITMENT_OPENED)) == 3 and email_count(session) == 3


def test_a_call_closed_or_a_trial_unpublished_before_the_task_runs_tells_nobody(
        session: Session, settings: Settings, world: World) -> None:
    closed = draft_call(session, world.trial)
    assert events.run(session, settings, events.RECRUITMENT_OPENED, closed.id, None) == 0  # type: ignore[arg-type]
    opened = draft_call(session, world.trial)
    opened.status = RecruitmentStatus.OPEN
    world.trial.published = False
    session.add_all([opened, world.trial])
    session.commit()
    assert events.run(session, settings, events.RECRUITMENT_OPENED, opened.id, None) == 0  # type: ignore[arg-type]
    entry = TrialUpdate(trial_id=world.trial.id, posted_on=date(2026, 11, 20), title="非公開", body="")  # type: ignore[arg-type]
    session.add(entry)
    session.commit()
    assert events.run(session, settings, events.UPDATE_POSTED, entry.id, None) == 0  # type: ignore[arg-type]
    assert events.run(session, settings, events.UPDATE_POSTED, 999_999, None) == 0
    world.trial.results_published_at = utcnow()
    session.add(world.trial)
    session.commit()
    assert events.run(session, settings, events.RESULTS_PUBLISHED, world.trial.id, None) == 0  # type: ignore[arg-type]
    assert session.exec(select(Notification)).all() == [] and email_count(session) == 0


# --- progress updates and the final report -------------------------------------------------------


def test_a_progress_update_reaches_the_followers_but_not_its_author(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    entry = trials.add_update(session, settings, actor(session, world.member), world.trial.id,  # type: ignore[arg-type]
                              trials.UpdateForm(posted_on="2026-11-20", title="走行試験を始めました",
                                                body="**10台**で走行を始めました。"))
    assert [task[1][:2] for task in announced] == [(events.UPDATE_POSTED, entry.id)]
    deliver(session, settings, announced)
    assert notified(session, events.UPDATE_POSTED) == sorted([world.staff.id, world.follower.id, world.english.id])
    row = session.exec(select(Notification).where(Notification.user_id == world.follower.id)).one()
    assert row.url == f"/trials/{world.trial.id}#update-{entry.id}"
    mail = emails(session)
    assert "member@example.jp" not in mail and "outsider@example.jp" not in mail
    english = mail["english@example.jp"]
    assert subject(english) == "Trial update: 高島平モビリティ実証"
    assert "走行試験を始めました (2026-11-20)" in english.body_text and "10台で走行を始めました。" in english.body_text
    assert subject(mail["follower@example.jp"]) == "実証実験の進捗報告：高島平モビリティ実証"
    events.run(session, settings, events.UPDATE_POSTED, entry.id, world.member.id)  # type: ignore[arg-type]
    assert email_count(session) == 3


def test_the_final_report_reaches_the_followers_once(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    trials.save_results(session, actor(session, world.staff), world.trial.id,  # type: ignore[arg-type]
                        trials.ResultsForm(results="下書きです", action="save"))
    assert announced == []  # a saved draft is not published
    trials.save_results(session, actor(session, world.staff), world.trial.id,  # type: ignore[arg-type]
                        trials.ResultsForm(results="# 結果\n\n利用者が増えました。", action="publish"))
    deliver(session, settings, announced)
    assert notified(session, events.RESULTS_PUBLISHED) == sorted([world.member.id, world.follower.id, world.english.id])
    english = emails(session)["english@example.jp"]
    assert subject(english) == "Final report published: 高島平モビリティ実証"
    assert f"/trials/{world.trial.id}#results" in english.body_text and "結果 利用者が増えました。" in english.body_text
    # Editing the published report later tells nobody again.
    trials.save_results(session, actor(session, world.staff), world.trial.id,  # type: ignore[arg-type]
                        trials.ResultsForm(results="# 結果\n\n利用者が倍増しました。", action="publish"))
    deliver(session, settings, announced)
    assert email_count(session) == 3


# --- booking approved (it existed: booking.status) -----------------------------------------------


def _weekday_morning() -> tuple[datetime, datetime]:
    """10:00–11:00 Tokyo time on a weekday at least ten days ahead, in UTC."""
    day = (utcnow() + timedelta(days=10)).astimezone(WARD_TIMEZONE).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=WARD_TIMEZONE).astimezone(UTC)
    return start, start + timedelta(hours=1)


def test_an_approved_booking_reaches_the_organisations_members_but_not_the_coordinator(
        session: Session, settings: Settings, world: World) -> None:
    coordinator = create_user(session, "coord@example.jp", roles=[Role.COORDINATOR])
    colleague = create_user(session, "colleague@example.jp", display_name="Colleague", locale="en")
    session.add(OrganisationMember(organisation_id=world.organisation.id, user_id=colleague.id, is_admin=False))  # type: ignore[arg-type]
    session.commit()
    field = create_field(session, coordinator, requirements=())
    booking = create_booking(session, field, world.organisation, periods=[_weekday_morning()],
                             status=BookingStatus.SUBMITTED, author=world.member)
    bookings.approve(session, settings, actor(session, coordinator), booking.id)  # type: ignore[arg-type]
    rows = session.exec(select(Notification).where(Notification.kind == "booking.status")).all()
    assert sorted(row.user_id for row in rows) == sorted([world.member.id, colleague.id])
    assert all('"status": "approved"' in row.params_json for row in rows)
    english = emails(session)["colleague@example.jp"]
    assert subject(english) == "Booking request Approved: 自動配送ロボットの走行実験" and "has been approved" in english.body_text
    assert "coord@example.jp" not in emails(session) and "outsider@example.jp" not in emails(session)


# --- a real worker -------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="a real worker and ON CONFLICT inserts")
def test_a_progress_update_reaches_the_followers_through_the_worker_once(
        session: Session, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database,
        settings: Settings, world: World) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    try:
        entry = trials.add_update(session, worker_settings, actor(session, world.member), world.trial.id,  # type: ignore[arg-type]
                                  trials.UpdateForm(posted_on="2026-11-20", title="第1週の報告", body="順調です。"))
        try:
            smtp_sink.wait_for(3, timeout=30)
        except AssertionError:
            raise AssertionError(worker.log()[-4000:]) from None
        with database.transaction() as sending:
            enqueue(sending, events.TASK, events.UPDATE_POSTED, entry.id, world.member.id)
            enqueue(sending, events.TASK, events.UPDATE_POSTED, entry.id, world.member.id)
            enqueue(sending, "cocreate.heartbeat", "after-trial-events")

        def heartbeat_seen() -> bool:
            from cocreate.tasks.heartbeat import WorkerHeartbeat

            with database.session() as check:
                return check.get(WorkerHeartbeat, "after-trial-events") is not None

        wait_until(heartbeat_seen, 30, "the worker to run the tasks queued behind the duplicates")
        assert sorted(m["To"] for m in smtp_sink.messages) == [
            "english@example.jp", "follower@example.jp", "staff@example.jp"]
        assert notified(session, events.UPDATE_POSTED) == sorted([world.staff.id, world.follower.id, world.english.id])
    finally:
        configure_celery(settings)
