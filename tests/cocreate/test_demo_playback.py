"""Playing demo content through the services: the clock every service reads, and the follow-up work of each
action run in process at that moment (:mod:`cocreate.demo_playback`)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from cocreate.accounts.models import Department
from cocreate.db import Database
from cocreate.db.base import clock_at, utcnow
from cocreate.demo_playback import Playback, Step, UnplayedTask, ward_time
from cocreate.notifications.services import SEND_TASK as SEND_EMAILS_TASK
from cocreate.search.indexer import DRAIN_TASK
from cocreate.settings import Settings
from cocreate.tasks import enqueue
from tests.factories import create_user

pytestmark = pytest.mark.databases("sqlite", why="session and clock logic; the same on both databases")

MOMENT = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)


def test_the_clock_stamps_rows_within_its_block_only(database: Database) -> None:
    with clock_at(MOMENT), database.session() as session:
        assert utcnow() == MOMENT
        seen_elsewhere: list[datetime] = []
        thread = threading.Thread(target=lambda: seen_elsewhere.append(utcnow()))
        thread.start()
        thread.join()
        assert seen_elsewhere[0] > MOMENT + timedelta(days=100)  # another thread keeps the real time
        department = Department(code="clock", division_ja="部", section_ja="課", division_en="D", section_en="S")
        session.add(department)
        session.commit()
        assert department.created_at == department.updated_at == MOMENT
        later = MOMENT + timedelta(days=3)
        with clock_at(later):
            department.section_en = "Section"
            session.commit()
            assert department.updated_at == later
        assert utcnow() == MOMENT  # the outer moment again
    assert utcnow() > MOMENT + timedelta(days=100)
    with pytest.raises(ValueError, match="naive"), clock_at(datetime(2026, 4, 1, 10, 30)):
        pass


def test_ward_time_is_japan_time() -> None:
    today = datetime(2026, 12, 7).date()
    assert ward_time(today, -1, "09:00") == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    assert ward_time(today, 0, "24:00") == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _broker_messages(settings: Settings) -> int:
    path = settings.broker_url.removeprefix("sqla+sqlite:///")
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT COUNT(*) FROM kombu_message").fetchone()[0]
    except sqlite3.OperationalError:  # no message sent on this broker yet
        return 0
    finally:
        connection.close()


def test_steps_run_in_time_order_with_their_follow_up_work_at_the_same_moment(
        database: Database, settings: Settings) -> None:
    ran: list[tuple[str, datetime]] = []

    def handler(session: Session, settings: Settings, label: str) -> None:
        # Follow-up work sees what the action committed, and the action's moment.
        assert session.exec(select(Department).where(Department.code == label)).one()
        ran.append((label, utcnow()))

    def action(label: str) -> None:
        session.add(Department(code=label, division_ja="部", section_ja="課", division_en="D", section_en="S"))
        enqueue(session, "tests.follow_up", label)
        enqueue(session, DRAIN_TASK, queue="search")  # the index is rebuilt after the demo: skipped
        enqueue(session, SEND_EMAILS_TASK, [1])  # e-mails wait in the outbox for a worker's start: skipped
        if label == "third":
            enqueue(session, "tests.for_a_worker", label)  # named nowhere: refused
        session.commit()

    before = _broker_messages(settings)
    with database.session() as session:
        playback = Playback(session, settings, handlers={"tests.follow_up": handler})
        later = MOMENT + timedelta(days=2)
        count = playback.play([Step(later, lambda: action("second")), Step(MOMENT, lambda: action("first"))])
        assert count == 2
        created = {d.code: d.created_at for d in session.exec(select(Department)).all()}
        # A task nobody runs in process would run later, at the real time: the demo refuses to leave it.
        with pytest.raises(UnplayedTask, match=r"tests\.for_a_worker"):
            playback.at(later, lambda: action("third"))
    assert ran == [("first", MOMENT), ("second", later), ("third", later)]
    assert created == {"first": MOMENT, "second": later}
    assert _broker_messages(settings) == before  # nothing was sent


def test_actors_are_built_as_a_signed_in_request_builds_them(database: Database, settings: Settings) -> None:
    with database.session() as session:
        user = create_user(session, email="actor@example.jp")
        playback = Playback(session, settings)
        actor = playback.actor("actor@example.jp")
        assert actor is not None and actor.user_id == user.id and actor.roles == frozenset()
        assert playback.actor("nobody@example.jp") is None
        assert playback.has("actor@example.jp") and not playback.has("actor@example.jp", "nobody@example.jp")
