"""Briefing sessions (説明会): staff manage them, people register and cancel, capacity holds under races,
.ics files and the registrant list (CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import icalendar
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department, Role, User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import WARD_TIMEZONE
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from proposals.dialogue import briefing_routes, briefings
from proposals.dialogue.briefings import CancelForm, SessionForm
from proposals.models import BriefingRegistration, BriefingSession, Challenge, Phase
from tests.factories import create_challenge, create_department, create_user, sign_in
from tests.helpers import QueryLog, csrf_token
from tests.servers import SmtpSink, Worker

pytestmark = pytest.mark.databases("sqlite", why="briefing rules are Python; the capacity race runs on both")

# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def broker(settings: Settings) -> None:
    """E-mail delivery tasks go to the test broker (a worker, where a test starts one, picks them up)."""
    configure_celery(settings)


@dataclass
class World:
    transport: Department
    env: Department
    challenge: Challenge
    staff: User  # staff of the owning department
    co_staff: User  # staff of the co-owning department
    other_staff: User  # staff of a department that does not own the challenge
    resident: User
    resident_en: User
    admin: User


@pytest.fixture
def world(session: Session) -> World:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development", section_en="Transport Policy")
    env = create_department(session)
    smart = create_department(session, "smart-city", division_ja="政策経営部", section_ja="スマートシティ推進課",
                              division_en="Policy Management", section_en="Smart City")
    challenge = create_challenge(session, transport, phase="accepting", co_owners=[smart],
                                 title="バス停を、地域情報の拠点にすることを実現したい")
    return World(
        transport=transport, env=env, challenge=challenge,
        staff=create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, transport.id)]),
        co_staff=create_user(session, "smart@example.jp", roles=[(Role.STAFF, smart.id)]),
        other_staff=create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, env.id)]),
        resident=create_user(session, "hanako@example.jp", display_name="板橋 花子"),
        resident_en=create_user(session, "alex@example.jp", display_name="Alex", locale="en"),
        admin=create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    )


def actor(session: Session, user: User | None) -> Principal:
    return Principal.load(session, user) if user is not None else Principal.anonymous()


def add_session(session: Session, challenge: Challenge, *, starts_in: timedelta = timedelta(days=7),
                hours: float = 1.5, capacity: int = 5, title: str = "第1回 説明会", place: str = "板橋区役所 本庁舎 11階",
                online_url: str = "", notes: str = "", cancelled: bool = False) -> BriefingSession:
    starts = (utcnow() + starts_in).replace(second=0, microsecond=0)
    if abs(starts_in) >= timedelta(days=1):
        # At 10:00 Tokyo time that day, so the session never runs past midnight (the edit form, which
        # holds one date and two times, would refuse it), whatever time of day the test runs.
        day = starts.astimezone(WARD_TIMEZONE).date()
        starts = datetime.combine(day, time(10, 0), tzinfo=WARD_TIMEZONE).astimezone(UTC)
    briefing = BriefingSession(challenge_id=challenge.id, title=title, starts_at=starts,  # type: ignore[arg-type]
                               ends_at=starts + timedelta(hours=hours), place=place, online_url=online_url,
                               capacity=capacity, notes=notes, cancelled_at=utcnow() if cancelled else None)
    session.add(briefing)
    session.commit()
    session.refresh(briefing)
    return briefing


def tokyo_day(days: int) -> str:
    return (utcnow() + timedelta(days=days)).astimezone(WARD_TIMEZONE).date().isoformat()


def form_data(**overrides: str) -> dict[str, str]:
    """What the staff form sends."""
    return {"title": "第1回 説明会", "date": tokyo_day(10), "start_time": "14:00", "end_time": "15:30",
            "place": "板橋区役所 本庁舎 11階 第1委員会室", "online_url": "", "capacity": "40",
            "notes": "筆記用具をお持ちください。"} | overrides


def form_input(**overrides: str) -> SessionForm:
    """The staff form as the services take it (building it raises Invalid as the route's does)."""
    return SessionForm.parse(form_data(**overrides))


def post(client: TestClient[Litestar], url: str, *, htmx: bool = False, **data: str) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"_csrf_token": csrf_token(client), **data}, headers=headers,
                       follow_redirects=False)


def registrations(session: Session, briefing_id: int) -> list[BriefingRegistration]:
    return list(session.exec(select(BriefingRegistration).where(BriefingRegistration.session_id == briefing_id,
                                                                col(BriefingRegistration.cancelled_at).is_(None))))


def reload(session: Session, briefing: BriefingSession) -> BriefingSession:
    session.expire_all()
    fresh = session.get(BriefingSession, briefing.id)
    assert fresh is not None
    return fresh


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)))


def count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- staff: services -----------------------------------------------------------------------------


def test_only_staff_of_an_owning_department_add_sessions(session: Session, world: World) -> None:
    cid = world.challenge.id
    with pytest.raises(SignInRequired):
        briefings.create_session(session, Principal.anonymous(), cid, form_input())  # type: ignore[arg-type]
    for user in (world.resident, world.other_staff, world.admin):
        with pytest.raises(Forbidden):
            briefings.create_session(session, actor(session, user), cid, form_input())  # type: ignore[arg-type]
    assert count(session, BriefingSession) == 0

    created = briefings.create_session(session, actor(session, world.staff), cid, form_input())  # type: ignore[arg-type]
    by_co_owner = briefings.create_session(session, actor(session, world.co_staff), cid,  # type: ignore[arg-type]
                                           form_input(title="第2回", place="", online_url="https://meet.example.jp/x"))
    assert created.starts_at.astimezone(WARD_TIMEZONE).strftime("%H:%M") == "14:00"
    assert (created.ends_at - created.starts_at) == timedelta(minutes=90)
    assert created.capacity == 40 and created.registered_count == 0
    assert by_co_owner.online_url == "https://meet.example.jp/x"
    assert audit_actions(session) == ["briefing.created", "briefing.created"]
    with pytest.raises(NotFound):
        briefings.create_session(session, actor(session, world.staff), 999_999, form_input())


INVALID = [
    ({"title": " "}, "title", "タイトルを入力してください。"),
    ({"title": "x" * 201}, "title", "200文字以内"),
    ({"title": "一行目\n二行目"}, "title", "使用できない文字"),
    ({"date": ""}, "date", "開催日を入力してください。"),
    ({"date": "2026-02-30"}, "date", "2026-12-05"),
    ({"date": "来週"}, "date", "2026-12-05"),
    ({"start_time": "25:00"}, "start_time", "14:00"),
    ({"end_time": ""}, "end_time", "終了時刻を入力してください。"),
    ({"start_time": "15:00", "end_time": "14:00"}, "end_time", "終了時刻は開始時刻より後"),
    ({"start_time": "15:00", "end_time": "15:00"}, "end_time", "終了時刻は開始時刻より後"),
    ({"place": "", "online_url": ""}, "place", "会場またはオンライン"),
    ({"online_url": "javascript:alert(1)"}, "online_url", "https://"),
    ({"online_url": "ftp://example.jp/x"}, "online_url", "https://"),
    ({"online_url": "https://"}, "online_url", "https://"),
    ({"online_url": "https://example.jp/a b"}, "online_url", "https://"),
    ({"online_url": "https://example.jp/" + "a" * 500}, "online_url", "500文字以内"),
    ({"capacity": "0"}, "capacity", "1から10,000まで"),
    ({"capacity": "10001"}, "capacity", "1から10,000まで"),
    ({"capacity": "12.5"}, "capacity", "1から10,000まで"),
    ({"capacity": "たくさん"}, "capacity", "1から10,000まで"),
    ({"capacity": ""}, "capacity", "定員を入力してください。"),
    ({"notes": "あ" * 5001}, "notes", "5000文字以内"),
    ({"date": tokyo_day(-1)}, "date", "これから始まる日時"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), INVALID, ids=[f"{f}-{i}" for i, (_o, f, _m) in enumerate(INVALID)])
def test_invalid_sessions_are_refused_and_nothing_changes(session: Session, world: World, overrides: dict[str, str],
                                                          field: str, message: str) -> None:
    with pytest.raises(Invalid) as failed:
        briefings.create_session(session, actor(session, world.staff), world.challenge.id, form_input(**overrides))  # type: ignore[arg-type]
    assert field in failed.value.errors
    assert message in failed.value.errors[field], failed.value.errors
    assert count(session, BriefingSession) == 0 and audit_actions(session) == []


def test_full_width_digits_and_slashes_are_understood(session: Session, world: World) -> None:
    day = tokyo_day(12).replace("-", "/")
    created = briefings.create_session(session, actor(session, world.staff), world.challenge.id,  # type: ignore[arg-type]
                                       form_input(date=day, start_time="１０：００", end_time="11:30:00", capacity="１,２００"))
    local = created.starts_at.astimezone(WARD_TIMEZONE)
    assert (local.date().isoformat().replace("-", "/"), local.hour, created.capacity) == (day, 10, 1200)


def test_the_staff_form_says_everything_that_is_wrong_at_once(session: Session, world: World) -> None:
    with pytest.raises(Invalid) as missing:  # nothing sent at all: every required field, in page order
        SessionForm.parse({})
    assert list(missing.value.errors) == ["title", "date", "start_time", "end_time", "place", "capacity"]
    # The rules between fields are reported beside the fields' own errors.
    with pytest.raises(Invalid) as failed:
        form_input(place="", online_url="", end_time="13:00", capacity="0", date="来週")
    assert list(failed.value.errors) == ["date", "end_time", "place", "capacity"]
    assert "終了時刻は開始時刻より後" in failed.value.errors["end_time"]
    # Dates and times as people type them (full-width, 年月日, seconds of a time input) are understood.
    form = form_input(date="2030年4月1日", start_time="１４時００分", end_time="15:30:00")
    assert (form.date, form.start_time, form.end_time) == (dt.date(2030, 4, 1), time(14, 0), time(15, 30))


def test_a_post_without_the_fields_is_refused(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.staff)
    response = post(client, f"/staff/challenges/{world.challenge.id}/briefings")
    assert response.status_code == 400 and "タイトルを入力してください。" in response.text
    assert "定員を入力してください。" in response.text and count(session, BriefingSession) == 0


def test_no_sessions_are_added_to_a_challenge_that_has_ended(session: Session, world: World) -> None:
    world.challenge.phase = Phase.CLOSED
    session.add(world.challenge)
    session.commit()
    with pytest.raises(Invalid) as failed:
        briefings.create_session(session, actor(session, world.staff), world.challenge.id, form_input())  # type: ignore[arg-type]
    assert "challenge" in failed.value.errors


def test_editing_keeps_registrants_informed(session: Session, world: World, settings: Settings) -> None:
    briefing = add_session(session, world.challenge, capacity=5)
    for user in (world.resident, world.resident_en):
        briefings.register(session, actor(session, user), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    staff = actor(session, world.staff)
    cid, sid = world.challenge.id, briefing.id

    with pytest.raises(Invalid) as failed:
        briefings.update_session(session, settings, staff, cid, sid, form_input(capacity="1"))  # type: ignore[arg-type]
    assert "2人" in failed.value.errors["capacity"]
    with pytest.raises(Forbidden):
        briefings.update_session(session, settings, actor(session, world.other_staff), cid, sid, form_input())  # type: ignore[arg-type]

    # Notes only: saved and audited, nobody mailed.
    current = briefings.form_values(reload(session, briefing))
    current["notes"] = "資料は当日配布します。"
    briefings.update_session(session, settings, staff, cid, sid, SessionForm.parse(current))  # type: ignore[arg-type]
    assert count(session, OutboundEmail) == 0
    # A new time: both registrants are told, each in their language.
    current["start_time"], current["end_time"] = "18:00", "19:00"
    briefings.update_session(session, settings, staff, cid, sid, SessionForm.parse(current))  # type: ignore[arg-type]
    mails = {m.to_address: m for m in session.exec(select(OutboundEmail))}
    assert set(mails) == {"hanako@example.jp", "alex@example.jp"}
    assert mails["hanako@example.jp"].subject.startswith("説明会の日時・会場が変更されました")
    assert "18:00〜19:00" in mails["hanako@example.jp"].body_text
    assert mails["alex@example.jp"].subject.startswith("Briefing session changed")
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "briefing.updated")).all()
    assert len(entries) == 2 and json.loads(entries[1].details_json)["notified"] == 2
    assert reload(session, briefing).starts_at.astimezone(WARD_TIMEZONE).hour == 18


def test_cancelling_a_session_mails_registrants_in_their_language(session: Session, world: World,
                                                                    settings: Settings) -> None:
    briefing = add_session(session, world.challenge)
    for user in (world.resident, world.resident_en, world.staff):
        briefings.register(session, actor(session, user), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    briefings.cancel_registration(session, actor(session, world.staff), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    staff = actor(session, world.staff)
    with pytest.raises(Invalid) as failed:
        briefings.cancel_session(session, settings, staff, world.challenge.id, briefing.id, CancelForm(reason="  "))  # type: ignore[arg-type]
    assert "reason" in failed.value.errors
    for user in (world.resident, world.other_staff, world.admin):
        with pytest.raises(Forbidden):
            briefings.cancel_session(session, settings, actor(session, user), world.challenge.id, briefing.id, CancelForm(reason="中止"))  # type: ignore[arg-type]
    assert reload(session, briefing).cancelled_at is None

    notified = briefings.cancel_session(session, settings, staff, world.challenge.id, briefing.id,  # type: ignore[arg-type]
                                        CancelForm(reason="会場の設備点検のため中止します。"))
    assert notified == 2  # the staff member had cancelled their own place
    mails = {m.to_address: m for m in session.exec(select(OutboundEmail))}
    assert set(mails) == {"hanako@example.jp", "alex@example.jp"}
    assert mails["hanako@example.jp"].subject == "説明会中止のお知らせ：第1回 説明会"
    assert "会場の設備点検のため中止します。" in mails["hanako@example.jp"].body_text
    assert "板橋 花子 様" in mails["hanako@example.jp"].body_text
    assert mails["alex@example.jp"].subject == "Briefing session cancelled: 第1回 説明会"
    assert f"/challenges/{world.challenge.id}/briefings" in mails["alex@example.jp"].body_text
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "briefing.cancelled")).one()
    assert json.loads(entry.details_json)["notified"] == 2 and entry.actor_id == world.staff.id

    with pytest.raises(Invalid):  # twice
        briefings.cancel_session(session, settings, staff, world.challenge.id, briefing.id, CancelForm(reason="再度"))  # type: ignore[arg-type]
    with pytest.raises(Invalid) as refused:  # and nobody registers any more
        briefings.register(session, actor(session, world.other_staff), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    assert "中止" in refused.value.errors["registration"]
    with pytest.raises(Invalid):
        briefings.update_session(session, settings, staff, world.challenge.id, briefing.id, form_input())  # type: ignore[arg-type]


def test_the_cancellation_e_mail_is_delivered_by_the_worker(
    session: Session, world: World, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink,
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    briefing = add_session(session, world.challenge)
    briefings.register(session, actor(session, world.resident), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    briefings.cancel_session(session, worker_settings, actor(session, world.staff), world.challenge.id,  # type: ignore[arg-type]
                             briefing.id, CancelForm(reason="台風接近のため中止します。"))  # type: ignore[arg-type]
    try:
        [message] = smtp_sink.wait_for(1, timeout=30)
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    assert message["To"] == "hanako@example.jp"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "台風接近のため中止します。" in body and "第1回 説明会" in body


def test_a_session_that_has_started_cannot_be_cancelled(session: Session, world: World, settings: Settings) -> None:
    briefing = add_session(session, world.challenge, starts_in=timedelta(minutes=-10))
    with pytest.raises(Invalid) as failed:
        briefings.cancel_session(session, settings, actor(session, world.staff), world.challenge.id, briefing.id,  # type: ignore[arg-type]
                                 CancelForm(reason="理由"))
    assert "briefing" in failed.value.errors


# --- registration: services ----------------------------------------------------------------------


@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.DRAFT])
def test_registration_follows_the_phase(session: Session, world: World, phase: Phase) -> None:
    world.challenge.phase = phase
    session.add(world.challenge)
    session.commit()
    briefing = add_session(session, world.challenge)
    resident = actor(session, world.resident)
    if phase in (Phase.PUBLISHED, Phase.ACCEPTING):
        briefings.register(session, resident, world.challenge.id, briefing.id)  # type: ignore[arg-type]
        assert reload(session, briefing).registered_count == 1
    else:
        with pytest.raises(Invalid) as failed:
            briefings.register(session, resident, world.challenge.id, briefing.id)  # type: ignore[arg-type]
        assert failed.value.errors["registration"] in ("説明会の申込受付は終了しました。", "この課題は終了しました。")
        assert reload(session, briefing).registered_count == 0 and registrations(session, briefing.id) == []  # type: ignore[arg-type]


def test_register_cancel_and_register_again(session: Session, world: World) -> None:
    briefing = add_session(session, world.challenge, capacity=2)
    cid, sid = world.challenge.id, briefing.id
    resident = actor(session, world.resident)
    with pytest.raises(SignInRequired):
        briefings.register(session, Principal.anonymous(), cid, sid)  # type: ignore[arg-type]
    first = briefings.register(session, resident, cid, sid)  # type: ignore[arg-type]
    again = briefings.register(session, resident, cid, sid)  # type: ignore[arg-type]
    assert again.id == first.id and reload(session, briefing).registered_count == 1
    assert briefings.cancel_registration(session, resident, cid, sid) is True  # type: ignore[arg-type]
    assert reload(session, briefing).registered_count == 0
    assert briefings.cancel_registration(session, resident, cid, sid) is False  # type: ignore[arg-type]
    back = briefings.register(session, resident, cid, sid)  # type: ignore[arg-type]
    assert back.id == first.id and back.cancelled_at is None
    assert count(session, BriefingRegistration) == 1 and reload(session, briefing).registered_count == 1
    with pytest.raises(NotFound):  # a session id from another challenge
        other = create_challenge(session, world.env, title="別の課題")
        briefings.register(session, resident, other.id, sid)  # type: ignore[arg-type]


def test_a_full_session_says_so_and_a_cancellation_frees_the_place(session: Session, world: World) -> None:
    briefing = add_session(session, world.challenge, capacity=1)
    cid, sid = world.challenge.id, briefing.id
    briefings.register(session, actor(session, world.resident), cid, sid)  # type: ignore[arg-type]
    with pytest.raises(Invalid) as failed:
        briefings.register(session, actor(session, world.resident_en), cid, sid)  # type: ignore[arg-type]
    assert failed.value.errors["registration"].startswith("この説明会は満席です。")
    briefings.cancel_registration(session, actor(session, world.resident), cid, sid)  # type: ignore[arg-type]
    briefings.register(session, actor(session, world.resident_en), cid, sid)  # type: ignore[arg-type]
    assert [r.user_id for r in registrations(session, sid)] == [world.resident_en.id]  # type: ignore[arg-type]


def test_a_place_the_lock_missed_is_refused_by_the_database(session: Session, world: World,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the full session not seen as full, the capacity constraint refuses the place: the refusal
    rolls the registration back and the session (the database one) goes on working."""
    briefing = add_session(session, world.challenge, capacity=1)
    cid, sid = world.challenge.id, briefing.id
    briefings.register(session, actor(session, world.resident), cid, sid)  # type: ignore[arg-type]
    monkeypatch.setattr(briefings, "refusal", lambda *_args: "")
    with pytest.raises(Invalid) as failed:
        briefings.register(session, actor(session, world.resident_en), cid, sid)  # type: ignore[arg-type]
    assert failed.value.errors["registration"].startswith("この説明会は満席です")
    assert [r.user_id for r in registrations(session, sid)] == [world.resident.id]  # type: ignore[arg-type]
    assert reload(session, briefing).registered_count == 1


def test_sessions_that_started_refuse_registration_and_cancellation(session: Session, world: World) -> None:
    briefing = add_session(session, world.challenge, starts_in=timedelta(days=2))
    cid, sid = world.challenge.id, briefing.id
    briefings.register(session, actor(session, world.resident), cid, sid)  # type: ignore[arg-type]
    later = briefing.starts_at + timedelta(minutes=1)
    with pytest.raises(Invalid) as failed:
        briefings.register(session, actor(session, world.resident_en), cid, sid, now=later)  # type: ignore[arg-type]
    assert "開始" in failed.value.errors["registration"]
    with pytest.raises(Invalid):
        briefings.cancel_registration(session, actor(session, world.resident), cid, sid, now=later)  # type: ignore[arg-type]
    assert reload(session, briefing).registered_count == 1


def test_unconfirmed_accounts_cannot_register(session: Session, world: World) -> None:
    briefing = add_session(session, world.challenge)
    unconfirmed = create_user(session, "new@example.jp", confirmed=False)
    with pytest.raises(Forbidden):
        briefings.register(session, actor(session, unconfirmed), world.challenge.id, briefing.id)  # type: ignore[arg-type]


def test_drafts_hide_their_sessions(session: Session, world: World, client: TestClient[Litestar]) -> None:
    draft = create_challenge(session, world.transport, phase="draft", title="下書きの課題")
    briefing = add_session(session, draft)
    with pytest.raises(NotFound):
        briefings.register(session, actor(session, world.resident), draft.id, briefing.id)
    assert client.get(f"/challenges/{draft.id}/briefings/{briefing.id}.ics").status_code == 404
    assert client.get(f"/challenges/{draft.id}/briefings").status_code == 404
    sign_in(client, world.staff)
    assert client.get(f"/challenges/{draft.id}/briefings/{briefing.id}.ics").status_code == 200


# --- capacity under concurrency ------------------------------------------------------------------


def race(settings: Settings, calls: list[tuple[int, int, int]]) -> tuple[list[str], list[BaseException]]:
    """Run ``register(user, challenge, session)`` for each call in its own thread and DB session, all
    released at the same moment; returns the refusals and any unexpected errors."""
    racing = Database(settings, pool_size=len(calls) + 2, max_overflow=0)
    barrier = threading.Barrier(len(calls))
    refusals: list[str] = []
    errors: list[BaseException] = []

    def attempt(user_id: int, challenge_id: int, session_id: int) -> None:
        try:
            with racing.session() as db:
                user = db.get(User, user_id)
                principal = Principal.load(db, user)
                db.commit()  # no transaction (and no SQLite write lock) held while waiting
                barrier.wait(timeout=30)
                try:
                    briefings.register(db, principal, challenge_id, session_id)
                except Invalid as failed:
                    refusals.append(failed.errors["registration"])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    return refusals, errors


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_capacity_holds_when_twenty_people_register_at_once(session: Session, world: World,
                                                           settings: Settings) -> None:
    briefing = add_session(session, world.challenge, capacity=5)
    users = [create_user(session, f"racer{i}@example.jp") for i in range(20)]
    refusals, errors = race(settings, [(u.id, world.challenge.id, briefing.id) for u in users])  # type: ignore[misc]
    assert errors == []
    assert len(refusals) == 15 and all(r.startswith("この説明会は満席です。") for r in refusals)
    assert len(registrations(session, briefing.id)) == 5  # type: ignore[arg-type]
    assert reload(session, briefing).registered_count == 5


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_a_double_submit_keeps_one_place(session: Session, world: World, settings: Settings) -> None:
    briefing = add_session(session, world.challenge, capacity=5)
    refusals, errors = race(settings, [(world.resident.id, world.challenge.id, briefing.id)] * 8)  # type: ignore[list-item]
    assert errors == [] and refusals == []
    assert count(session, BriefingRegistration) == 1
    assert reload(session, briefing).registered_count == 1


# --- the challenge page section and the public routes --------------------------------------------


def test_the_section_is_hidden_without_sessions_except_for_owners(session: Session, world: World) -> None:
    assert briefing_routes.detail_section(session, actor(session, world.resident), world.challenge) is None
    template, context = briefing_routes.detail_section(session, actor(session, world.staff), world.challenge)  # type: ignore[misc]
    assert template == "proposals/dialogue/_briefings.html" and context["section"].is_owner
    add_session(session, world.challenge)
    assert briefing_routes.detail_section(session, Principal.anonymous(), world.challenge) is not None


def test_register_and_cancel_with_plain_forms(session: Session, world: World, client: TestClient[Litestar]) -> None:
    briefing = add_session(session, world.challenge, capacity=3, online_url="https://meet.example.jp/abc")
    base = f"/challenges/{world.challenge.id}/briefings"
    page = client.get(base).text
    assert "第1回 説明会" in page and "ログインして申し込む" in page and "残り3席（定員3名）" in page
    assert "https://meet.example.jp/abc" not in page  # shown to registrants only

    anonymous = post(client, f"{base}/{briefing.id}/register", next=base)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/account/sign-in?next=")

    sign_in(client, world.resident)
    # The challenge page shows the same section; its forms come back to it.
    challenge_page = client.get(f"/challenges/{world.challenge.id}").text
    assert f'id="briefing-{briefing.id}-register"' in challenge_page
    assert f'name="next" value="/challenges/{world.challenge.id}"' in challenge_page
    response = post(client, f"{base}/{briefing.id}/register", next=base)
    assert response.status_code == 303 and response.headers["location"] == f"{base}#briefings"
    page = client.get(base).text
    assert "参加を申し込みました。" in page and "申込済み" in page and "残り2席（定員3名）" in page
    assert "https://meet.example.jp/abc" in page and f'id="briefing-{briefing.id}-cancel"' in page

    evil = post(client, f"{base}/{briefing.id}/cancel-registration", next="//evil.example/")
    assert evil.status_code == 303 and evil.headers["location"] == f"/challenges/{world.challenge.id}#briefings"
    page = client.get(base).text
    assert "参加申込を取り消しました。" in page and "残り3席（定員3名）" in page
    assert reload(session, briefing).registered_count == 0


def test_register_with_htmx_swaps_the_section(session: Session, world: World, client: TestClient[Litestar]) -> None:
    briefing = add_session(session, world.challenge, capacity=1)
    base = f"/challenges/{world.challenge.id}/briefings"
    sign_in(client, world.resident)
    response = post(client, f"{base}/{briefing.id}/register", htmx=True, next=f"/challenges/{world.challenge.id}")
    assert response.status_code == 200 and "HX-Request" in response.headers["vary"]
    assert response.text.lstrip().startswith('<section class="briefings" id="briefings"')
    assert "<html" not in response.text and "申込済み" in response.text
    assert f'name="next" value="/challenges/{world.challenge.id}"' in response.text
    trigger = json.loads(response.headers["hx-trigger"])
    assert trigger["cocreate:flash"]["message"] == "参加を申し込みました。当日お会いできるのを楽しみにしています。"

    # Someone else finds it full: the section says so, and nothing changes.
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    sign_in(client, world.resident_en)
    full = post(client, f"{base}/{briefing.id}/register", htmx=True, next=base)
    trigger = json.loads(full.headers["hx-trigger"])
    assert trigger["cocreate:flash"]["category"] == "error"
    # This resident chose English in their profile, and signing in applied it.
    assert trigger["cocreate:flash"]["message"].startswith("This session is full.")
    assert "full" in full.text and reload(session, briefing).registered_count == 1

    anonymous = TestClient(client.app, base_url="http://testserver.local")
    with anonymous:
        refused = post(anonymous, f"{base}/{briefing.id}/register", htmx=True, next=base)
    assert refused.headers["hx-redirect"].startswith("/account/sign-in?next=")


def test_the_page_explains_why_registration_is_closed(session: Session, world: World,
                                                      client: TestClient[Litestar]) -> None:
    world.challenge.phase = Phase.VOTING
    session.add(world.challenge)
    session.commit()
    briefing = add_session(session, world.challenge)
    sign_in(client, world.resident)
    page = client.get(f"/challenges/{world.challenge.id}/briefings").text
    assert "説明会の申込受付は終了しました。" in page and f'id="briefing-{briefing.id}-register"' not in page
    # The session itself says so too, where the button would be.
    status = page.split(f'id="briefing-{briefing.id}-status">', 1)[1].split("</p>", 1)[0]
    assert status == "この課題の現在の段階では、この説明会の申込を受け付けていません。"
    response = post(client, f"/challenges/{world.challenge.id}/briefings/{briefing.id}/register")
    assert response.status_code == 303
    assert "説明会の申込受付は終了しました。" in client.get(response.headers["location"].split("#")[0]).text


def test_past_and_cancelled_sessions_are_shown_as_such(session: Session, world: World,
                                                       client: TestClient[Litestar]) -> None:
    add_session(session, world.challenge, starts_in=timedelta(days=-30), title="過去の説明会")
    cancelled = add_session(session, world.challenge, title="中止になった説明会", cancelled=True)
    page = client.get(f"/challenges/{world.challenge.id}/briefings").text
    assert "過去の説明会（1件）" in page and "過去の説明会" in page
    assert f'id="briefing-{cancelled.id}-cancelled"' in page and f'id="briefing-{cancelled.id}-register"' not in page


def test_hostile_text_is_stored_verbatim_and_shown_escaped(session: Session, world: World, client: TestClient[Litestar],
                                                           xss_payloads: list[str]) -> None:
    sign_in(client, world.staff)
    notes = "\n\n".join(xss_payloads)
    shown = xss_payloads[:briefings.UPCOMING_LIMIT]
    for index, hostile in enumerate(shown):
        response = post(client, f"/staff/challenges/{world.challenge.id}/briefings", title=hostile[:200],
                        date=tokyo_day(5 + index), start_time="10:00", end_time="11:00", place=hostile[:300],
                        capacity="10", notes=notes)
        assert response.status_code == 303, response.text[:500]
    stored = session.exec(select(BriefingSession).order_by(BriefingSession.id)).all()
    assert [b.title for b in stored] == [p[:200] for p in shown] and stored[0].notes == notes
    for url in (f"/challenges/{world.challenge.id}/briefings", f"/staff/challenges/{world.challenge.id}/briefings"):
        html = client.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        for payload in xss_payloads:
            if "<" in payload:
                assert payload not in html, (url, payload)
        assert 'href="javascript' not in html.lower() and "<img" not in html and "<svg" not in html


def test_the_section_query_count_does_not_grow(session: Session, world: World, client: TestClient[Litestar],
                                               query_log: QueryLog) -> None:
    sign_in(client, world.resident)
    add_session(session, world.challenge)
    url = f"/challenges/{world.challenge.id}/briefings"
    client.get(url)  # shows the "signed in" message, which changes (so writes) the session once
    query_log.statements.clear()
    client.get(url)
    with_one = query_log.count
    for day in range(2, 12):
        briefing = add_session(session, world.challenge, starts_in=timedelta(days=day), title=f"第{day}回")
        briefings.register(session, actor(session, world.resident), world.challenge.id, briefing.id)  # type: ignore[arg-type]
        add_session(session, world.challenge, starts_in=timedelta(days=-day), title=f"過去{day}")
    query_log.statements.clear()
    html = client.get(url).text
    assert html.count('class="card" id="briefing-') == 11
    assert query_log.count == with_one, str(query_log)


# --- iCalendar -----------------------------------------------------------------------------------


def parse_event(body: bytes) -> Any:
    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_ics_describes_the_session(session: Session, world: World, client: TestClient[Litestar],
                                   settings: Settings) -> None:
    briefing = add_session(session, world.challenge, notes="筆記用具をお持ちください。", title="第1回, 説明会; 本庁舎")
    url = f"/challenges/{world.challenge.id}/briefings/{briefing.id}.ics"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert f'filename="briefing-{briefing.id}.ics"' in response.headers["content-disposition"]
    event = parse_event(response.content)
    assert event.decoded("dtstart") == briefing.starts_at and event.decoded("dtend") == briefing.ends_at
    assert str(event.decoded("dtstart").tzinfo) == "Asia/Tokyo"
    assert str(event["summary"]) == f"第1回, 説明会; 本庁舎（{world.challenge.title}）"
    assert str(event["location"]) == "板橋区役所 本庁舎 11階"
    assert str(event["status"]) == "CONFIRMED"
    assert "筆記用具をお持ちください。" in str(event["description"])
    uid = str(event["uid"])
    assert uid == f"briefing-{briefing.id}@127.0.0.1"
    sequence = int(event["sequence"])

    staff = actor(session, world.staff)
    briefings.cancel_session(session, settings, staff, world.challenge.id, briefing.id, CancelForm(reason="中止します"))  # type: ignore[arg-type]
    cancelled = parse_event(client.get(url).content)
    assert str(cancelled["status"]) == "CANCELLED" and str(cancelled["uid"]) == uid
    assert int(cancelled["sequence"]) >= sequence
    for bad in (f"/challenges/{world.challenge.id}/briefings/{briefing.id}.txt",
                f"/challenges/{world.challenge.id}/briefings/999999.ics",
                f"/challenges/999999/briefings/{briefing.id}.ics"):
        assert client.get(bad).status_code == 404, bad


def test_ics_gives_the_online_address_to_registrants_only(session: Session, world: World,
                                                          client: TestClient[Litestar]) -> None:
    briefing = add_session(session, world.challenge, place="", online_url="https://meet.example.jp/secret")
    url = f"/challenges/{world.challenge.id}/briefings/{briefing.id}.ics"
    public = parse_event(client.get(url).content)
    assert "secret" not in str(public.to_ical())
    assert str(public["url"]).endswith(f"/challenges/{world.challenge.id}")
    assert str(public["location"]).startswith("オンライン")
    briefings.register(session, actor(session, world.resident), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    sign_in(client, world.resident)
    mine = parse_event(client.get(url).content)
    assert str(mine["url"]) == "https://meet.example.jp/secret"


# --- staff pages ---------------------------------------------------------------------------------


def staff_urls(world: World, briefing: BriefingSession) -> list[str]:
    base = f"/staff/challenges/{world.challenge.id}/briefings"
    return [base, f"{base}/new", f"{base}/{briefing.id}/edit", f"{base}/{briefing.id}/cancel",
            f"{base}/{briefing.id}/registrants", f"{base}/{briefing.id}/registrants.csv"]


def test_staff_pages_per_role(session: Session, world: World, client: TestClient[Litestar]) -> None:
    briefing = add_session(session, world.challenge)
    urls = staff_urls(world, briefing)
    for url in urls:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in"), url
    anonymous_post = post(client, urls[0], title="x")
    assert anonymous_post.status_code == 303 and "/account/sign-in" in anonymous_post.headers["location"]
    for user in (world.resident, world.other_staff, world.admin):
        sign_in(client, user)
        for url in urls:
            assert client.get(url).status_code == 403, (user.email, url)
        assert post(client, urls[0], **form_data()).status_code == 403
        assert post(client, f"{urls[0]}/{briefing.id}/cancel", reason="x").status_code == 403
        client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    assert count(session, BriefingSession) == 1 and reload(session, briefing).cancelled_at is None
    for user in (world.staff, world.co_staff):
        sign_in(client, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.email, url)
        client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    sign_in(client, world.staff)
    assert client.get(f"/staff/challenges/{world.challenge.id}/briefings/999999/edit").status_code == 404
    assert client.get("/staff/challenges/999999/briefings").status_code == 404


def test_staff_add_edit_and_cancel_through_the_pages(session: Session, world: World,
                                                     client: TestClient[Litestar]) -> None:
    sign_in(client, world.staff)
    base = f"/staff/challenges/{world.challenge.id}/briefings"
    assert "説明会を追加" in client.get(f"{base}/new").text

    invalid = post(client, base, **form_data(place="", online_url="ftp://x", capacity="0"))
    assert invalid.status_code == 400
    assert 'id="error-summary"' in invalid.text and "https://" in invalid.text and "1から10,000まで" in invalid.text
    assert 'value="ftp://x"' in invalid.text  # what was typed is kept
    huge = post(client, base, **form_data(title="長" * 100_000))
    assert huge.status_code == 400 and "200文字以内" in huge.text
    assert count(session, BriefingSession) == 0

    created = post(client, base, **form_data())
    assert created.status_code == 303 and created.headers["location"] == base
    briefing = session.exec(select(BriefingSession)).one()
    listing = client.get(base).text
    assert "説明会「第1回 説明会」を追加しました。" in listing and f'id="briefing-{briefing.id}"' in listing

    edit = client.get(f"{base}/{briefing.id}/edit").text
    assert 'value="14:00"' in edit and 'value="15:30"' in edit and f'value="{tokyo_day(10)}"' in edit
    bad_edit = post(client, f"{base}/{briefing.id}/edit", **form_data(end_time="13:00"))
    assert bad_edit.status_code == 400 and "終了時刻は開始時刻より後" in bad_edit.text
    saved = post(client, f"{base}/{briefing.id}/edit", **form_data(title="第1回 説明会（会場変更）", capacity="60"))
    assert saved.status_code == 303
    assert reload(session, briefing).capacity == 60

    no_reason = post(client, f"{base}/{briefing.id}/cancel", reason="")
    assert no_reason.status_code == 400 and "中止の理由を入力してください。" in no_reason.text
    done = post(client, f"{base}/{briefing.id}/cancel", reason="講師の都合により中止します。")
    assert done.status_code == 303
    assert "中止し、登録者0人にメールでお知らせしました。" in client.get(base).text
    assert reload(session, briefing).cancelled_at is not None
    assert audit_actions(session) == ["briefing.created", "briefing.updated", "briefing.cancelled"]


def test_registrants_list_and_csv(session: Session, world: World, client: TestClient[Litestar],
                                  query_log: QueryLog) -> None:
    briefing = add_session(session, world.challenge, capacity=50)
    hostile = create_user(session, "formula@example.jp", display_name='=HYPERLINK("http://evil")')
    for user in (world.resident, world.resident_en, hostile):
        briefings.register(session, actor(session, user), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    briefings.cancel_registration(session, actor(session, world.resident_en), world.challenge.id, briefing.id)  # type: ignore[arg-type]
    sign_in(client, world.staff)
    url = f"/staff/challenges/{world.challenge.id}/briefings/{briefing.id}/registrants"
    page = client.get(url).text
    assert "板橋 花子" in page and "hanako@example.jp" in page and "alex@example.jp" not in page
    assert "=HYPERLINK(&#34;http://evil&#34;)" in page or "=HYPERLINK(&quot;http://evil&quot;)" in page

    response = client.get(f"{url}.csv")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["表示名", "メールアドレス", "申込日時"]
    assert [row[:2] for row in rows[1:]] == [["板橋 花子", "hanako@example.jp"],
                                             ["'=HYPERLINK(\"http://evil\")", "formula@example.jp"]]
    assert session.exec(select(AuditEntry.action).where(AuditEntry.action == "briefing.registrants_exported")).all()

    query_log.statements.clear()
    client.get(url)
    few = query_log.count
    for i in range(15):
        briefings.register(session, actor(session, create_user(session, f"many{i}@example.jp")),  # type: ignore[arg-type]
                           world.challenge.id, briefing.id)
    query_log.statements.clear()
    assert client.get(url).text.count("@example.jp</a>") == 17
    assert query_log.count == few, str(query_log)
