"""Resident notices (周辺住民への周知): subscribing to fields and areas, sending each subscriber one
notification and one e-mail per event however often the task runs, the public notice page (no private
details) and the list of recent notices."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, func, select

from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.i18n import using_locale
from cocreate.mail import OutboundEmail
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.tasks.queue import pending
from cocreate.web.templating import render_standalone
from labs import notice_routes, notices
from labs.models import Area, Booking, BookingNotice, BookingStatus, NoticeKind, TestField
from labs.notices import SEND_NOTICE_TASK
from tests.helpers import QueryLog, csrf_token
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="notice rules are Python; ON CONFLICT inserts run on both")

PURPOSE = "社外秘：量産前の最終検証"
EQUIPMENT = "試作機3台と発電機"






@pytest.fixture
def org(session: Session) -> Organisation:
    return create_organisation(session, "板橋ロボティクス株式会社", verified=True)


@pytest.fixture
def field(session: Session, app: Litestar) -> TestField:
    # ``app`` configures Celery with the test settings, so tasks enqueued by services go to the test broker.
    return create_field(session, contact="板橋区 実証推進係 03-0000-0000")


def approved(session: Session, field: TestField, org: Organisation, **overrides: object) -> Booking:
    start = (utcnow() + timedelta(days=10)).replace(hour=1, minute=0, second=0, microsecond=0)  # 10:00 in Tokyo
    values: dict[str, object] = {"status": BookingStatus.APPROVED, "purpose": PURPOSE, "equipment": EQUIPMENT,
                                 "expected_people": 7319, "periods": [(start, start + timedelta(hours=2))]}
    values.update(overrides)
    return create_booking(session, field, org, **values)  # type: ignore[arg-type]


def announce(session: Session, booking: Booking, kind: NoticeKind = NoticeKind.APPROVED) -> BookingNotice:
    notice = notices.announce(session, booking, kind)
    session.commit()
    return notice


def subscribe_field(session: Session, user: User, field: TestField) -> None:
    notifications.follow(session, user.id, notices.FIELD, field.id)  # type: ignore[arg-type]
    session.commit()


def subscribe_area(session: Session, user: User, area: Area) -> None:
    notifications.follow(session, user.id, notices.AREA, area.number)  # type: ignore[arg-type]
    session.commit()


def emails_to(session: Session) -> dict[str, int]:
    rows = session.exec(select(OutboundEmail.to_address)).all()
    return {address: rows.count(address) for address in set(rows)}


def notified(session: Session, key: str) -> list[int]:
    return sorted(session.exec(select(Notification.user_id).where(Notification.event_key == key)).all())


# --- announcing ----------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts and sending")
def test_announcing_twice_records_one_notice_and_one_task(session: Session, field: TestField, org: Organisation) -> None:
    booking = approved(session, field, org)
    first = notices.announce(session, booking, NoticeKind.APPROVED)
    second = notices.announce(session, booking, NoticeKind.APPROVED)
    assert first.id == second.id
    assert [name for name, *_rest in pending(session)] == [SEND_NOTICE_TASK]
    session.commit()
    assert session.exec(select(func.count()).select_from(BookingNotice)).one() == 1
    notices.announce(session, booking, NoticeKind.APPROVED)  # after commit, still nothing new
    assert pending(session) == []
    session.rollback()


# --- sending -------------------------------------------------------------------------------------


@pytest.fixture
def people(session: Session, field: TestField) -> dict[str, User]:
    people = {
        "field_fan": create_user(session, "field@example.jp", display_name="Field Fan", locale="en"),
        "neighbour": create_user(session, "area@example.jp", display_name="高島 次郎"),
        "both": create_user(session, "both@example.jp", display_name="両方 三郎"),
        "unconfirmed": create_user(session, "new@example.jp", confirmed=False),
        "elsewhere": create_user(session, "elsewhere@example.jp"),
        "nobody": create_user(session, "nobody@example.jp"),
    }
    subscribe_field(session, people["field_fan"], field)
    subscribe_area(session, people["neighbour"], Area.TAKASHIMADAIRA)
    subscribe_field(session, people["both"], field)
    subscribe_area(session, people["both"], Area.TAKASHIMADAIRA)
    subscribe_field(session, people["unconfirmed"], field)
    subscribe_area(session, people["elsewhere"], Area.TOKIWADAI)
    return people


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts and sending")
def test_each_subscriber_is_told_once_even_when_sent_twice(
    session: Session, settings: Settings, field: TestField, org: Organisation, people: dict[str, User]
) -> None:
    booking = approved(session, field, org)
    notice = announce(session, booking)
    assert notices.send(session, settings, notice.id) == 4  # type: ignore[arg-type]
    assert notices.send(session, settings, notice.id) == 0  # type: ignore[arg-type]

    key = f"booking-notice:{notice.id}"
    told = {people[name].id for name in ("field_fan", "neighbour", "both", "unconfirmed")}
    assert notified(session, key) == sorted(told)  # type: ignore[arg-type]
    # e-mails only to confirmed addresses, one each; nobody outside the field and its area
    assert emails_to(session) == {"field@example.jp": 1, "area@example.jp": 1, "both@example.jp": 1}
    session.expire_all()
    stored = session.get(BookingNotice, notice.id)
    assert stored is not None and stored.sent_at is not None and stored.recipient_count == 4

    row = session.exec(select(Notification).where(Notification.user_id == people["both"].id)).one()
    assert row.kind == notices.NOTICE_KIND and row.url == f"/bookings/{booking.id}/notice"
    params = json.loads(row.params_json)
    assert params["notice_kind"] == "approved" and params["field_name"] == field.name
    assert params["organisation"] == "板橋ロボティクス株式会社" and params["contact"] == field.contact
    assert params["periods"][0]["starts_at"].endswith("+09:00")  # local time, a plain ISO string
    assert PURPOSE not in row.params_json and EQUIPMENT not in row.params_json

    english = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "field@example.jp")).one()
    assert english.subject == f"Notice of activity at {field.name}: {booking.title}"
    assert "Hello Field Fan" in english.body_text and "10:00" in english.body_text
    assert "板橋区 実証推進係 03-0000-0000" in english.body_text and f"/bookings/{booking.id}/notice" in english.body_text
    japanese = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "area@example.jp")).one()
    assert japanese.subject.startswith("【お知らせ】") and "高島 次郎 様" in japanese.body_text
    assert "小型ロボットが公園内をゆっくり走行します。" in japanese.body_text
    for email in (english, japanese):
        assert PURPOSE not in email.body_text and EQUIPMENT not in email.body_text and email.body_html is None


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts and sending")
def test_a_run_that_died_halfway_is_finished_without_telling_anyone_twice(
    session: Session, settings: Settings, field: TestField, org: Organisation, people: dict[str, User]
) -> None:
    notice = announce(session, approved(session, field, org))
    key = notices.event_key(notice.id)  # type: ignore[arg-type]
    # What a first run leaves behind when it dies after committing its first batch (and before sent_at):
    first_batch = [people["field_fan"].id, people["neighbour"].id]
    booking = session.get(Booking, notice.booking_id)
    assert booking is not None
    notifications.notify(session, user_ids=first_batch, kind=notices.NOTICE_KIND, target_type=notices.BOOKING,  # type: ignore[arg-type]
                         target_id=booking.id, url=f"/bookings/{booking.id}/notice", event_key=key,  # type: ignore[arg-type]
                         params=notices.notice_params(session, notice, booking, field), settings=settings)
    session.commit()
    # The retry, in batches of one: only the two not told yet are told now.
    assert notices.send(session, settings, notice.id, batch=1) == 2  # type: ignore[arg-type]
    assert len(notified(session, key)) == 4 and len(set(notified(session, key))) == 4
    assert emails_to(session) == {"field@example.jp": 1, "area@example.jp": 1, "both@example.jp": 1}
    session.expire_all()
    assert session.get(BookingNotice, notice.id).recipient_count == 4  # type: ignore[union-attr]


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts and sending")
def test_unpublished_fields_and_missing_bookings_send_nothing(
    session: Session, settings: Settings, field: TestField, org: Organisation, people: dict[str, User]
) -> None:
    notice = announce(session, approved(session, field, org))
    field.published = False
    session.add(field)
    session.commit()
    assert notices.send(session, settings, notice.id) == 0  # type: ignore[arg-type]
    assert notices.send(session, settings, 999_999) == 0
    assert session.exec(select(func.count()).select_from(Notification)).one() == 0
    assert session.exec(select(func.count()).select_from(OutboundEmail)).one() == 0


@pytest.mark.parametrize(("kind", "subject", "sentence"), [
    (NoticeKind.CHANGED, "【変更】", "予定が変更されました"),
    (NoticeKind.CANCELLED, "【中止】", "中止になりました"),
])
def test_changes_and_cancellations_are_worded_as_such(
    session: Session, settings: Settings, field: TestField, org: Organisation, kind: NoticeKind, subject: str,
    sentence: str,
) -> None:
    resident = create_user(session, "resident@example.jp")
    subscribe_field(session, resident, field)
    booking = approved(session, field, org)
    first = announce(session, booking)
    notices.send(session, settings, first.id)  # type: ignore[arg-type]
    booking.revision += 1
    session.add(booking)
    session.commit()
    notice = announce(session, booking, kind)
    assert notices.send(session, settings, notice.id) == 1  # type: ignore[arg-type]  # a new event: told again
    email = session.exec(select(OutboundEmail).order_by(OutboundEmail.id.desc())).first()  # type: ignore[union-attr]
    assert email is not None and email.subject.startswith(subject) and sentence in email.body_text
    message = notifications.describe(session.exec(select(Notification).where(
        Notification.event_key == notices.event_key(notice.id))).one())  # type: ignore[arg-type]
    assert sentence[:4] in message or "中止" in message


def test_hostile_text_is_kept_verbatim_in_the_plain_text_mail(
    session: Session, settings: Settings, field: TestField, org: Organisation, xss_payloads: list[str]
) -> None:
    resident = create_user(session, "resident@example.jp")
    subscribe_field(session, resident, field)
    payload = xss_payloads[0]
    booking = approved(session, field, org, title=payload[:200], public_description=f"説明 {payload}")
    notices.send(session, settings, announce(session, booking).id)  # type: ignore[arg-type]
    email = session.exec(select(OutboundEmail)).one()
    assert payload[:200] in email.body_text and email.body_html is None  # plain text only: nothing to run


# --- subscribing ---------------------------------------------------------------------------------


def test_subscribe_and_unsubscribe_a_field(client: TestClient[Litestar], session: Session, field: TestField) -> None:
    resident = create_user(session, "resident@example.jp")
    sign_in(client, resident)
    token = csrf_token(client)
    response = client.post(f"/fields/{field.id}/subscribe", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/fields/{field.id}"
    client.post(f"/fields/{field.id}/subscribe", data={"_csrf_token": token}, follow_redirects=False)  # twice: fine
    assert notifications.followers(session, notices.FIELD, field.id) == [resident.id]  # type: ignore[arg-type]

    template, ctx = notice_routes.field_section(session, Principal.load(session, resident), field)  # type: ignore[misc]
    assert template == notice_routes.SECTION
    assert ctx["subscription"].subscribed and ctx["subscription"].subscriber_count == 1

    page = client.get("/notices/subscriptions")
    assert f'id="subscribed-field-{field.id}"' in page.text
    response = client.post(f"/fields/{field.id}/unsubscribe", data={"_csrf_token": token, "next": "/notices/subscriptions"},
                           follow_redirects=False)
    assert response.headers["location"] == "/notices/subscriptions"
    assert notifications.followers(session, notices.FIELD, field.id) == []  # type: ignore[arg-type]
    assert 'id="no-subscribed-fields"' in client.get("/notices/subscriptions").text
    # a hostile "next" goes nowhere but this site
    response = client.post(f"/fields/{field.id}/unsubscribe", data={"_csrf_token": token, "next": "//evil.example"},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_the_subscribe_button_swaps_itself_for_htmx(client: TestClient[Litestar], session: Session,
                                                    field: TestField) -> None:
    sign_in(client, create_user(session, "resident@example.jp"))
    response = client.post(f"/fields/{field.id}/subscribe", data={"_csrf_token": csrf_token(client)},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'id="notice-unsubscribe"' in response.text
    assert "1人がこのフィールドのお知らせを受け取っています。" in response.text and "<html" not in response.text


def test_unpublished_fields_cannot_be_subscribed(client: TestClient[Litestar], session: Session) -> None:
    hidden = create_field(session, published=False)
    resident = create_user(session, "resident@example.jp")
    sign_in(client, resident)
    response = client.post(f"/fields/{hidden.id}/subscribe", data={"_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert response.status_code == 404
    assert session.exec(select(func.count()).select_from(Follow)).one() == 0
    assert notice_routes.field_section(session, Principal.load(session, resident), hidden) is None
    assert client.post("/fields/999999/unsubscribe", data={"_csrf_token": csrf_token(client)}).status_code == 404


def test_visitors_are_sent_to_sign_in(client: TestClient[Litestar], field: TestField) -> None:
    for path in (f"/fields/{field.id}/subscribe", "/notices/subscriptions"):
        response = client.post(path, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    response = client.get("/notices/subscriptions", follow_redirects=False)
    assert response.headers["location"].startswith("/account/sign-in")


def test_area_subscriptions(client: TestClient[Litestar], session: Session) -> None:
    resident = create_user(session, "resident@example.jp")
    sign_in(client, resident)
    page = client.get("/notices/subscriptions")
    assert page.status_code == 200 and 'id="area-takashimadaira"' in page.text and "checked" not in page.text
    token = csrf_token(client)
    response = client.post("/notices/subscriptions", data={"_csrf_token": token, "areas": ["takashimadaira", "shimura"]},
                           follow_redirects=False)
    assert response.status_code == 303
    assert notices.subscribed_areas(session, resident.id) == {Area.TAKASHIMADAIRA, Area.SHIMURA}  # type: ignore[arg-type]
    follows = session.exec(select(Follow.target_id).where(Follow.target_type == "area")).all()
    assert sorted(follows) == sorted([Area.TAKASHIMADAIRA.number, Area.SHIMURA.number])
    assert 'value="shimura" checked' in client.get("/notices/subscriptions").text

    # unknown values (wrong type, hostile, huge): 400 with the message, nothing changed
    for bad in (["shimura", "<script>alert(1)</script>"], ["x" * 10_000], ["1"]):
        response = client.post("/notices/subscriptions", data={"_csrf_token": token, "areas": bad})
        assert response.status_code == 400 and "地域は一覧から選んでください。" in response.text
        assert "<script>alert(1)" not in response.text
        assert notices.subscribed_areas(session, resident.id) == {Area.TAKASHIMADAIRA, Area.SHIMURA}  # type: ignore[arg-type]

    client.post("/notices/subscriptions", data={"_csrf_token": token, "areas": ["itabashi"]})
    assert notices.subscribed_areas(session, resident.id) == {Area.ITABASHI}  # type: ignore[arg-type]
    client.post("/notices/subscriptions", data={"_csrf_token": token})
    assert notices.subscribed_areas(session, resident.id) == set()  # type: ignore[arg-type]


# --- the public notice page ----------------------------------------------------------------------


def test_the_notice_page_shows_the_public_facts_only(client: TestClient[Litestar], session: Session, field: TestField,
                                                     org: Organisation) -> None:
    booking = approved(session, field, org, public_description="## 内容\n\n**ロボット**が走ります。")
    announce(session, booking)
    page = client.get(f"/bookings/{booking.id}/notice")
    assert page.status_code == 200
    text = page.text
    assert booking.title in text and field.name in text and field.address in text and f'href="/fields/{field.id}"' in text
    assert "板橋ロボティクス株式会社" in text and "板橋区 実証推進係 03-0000-0000" in text
    assert "<strong>ロボット</strong>" in text and "10:00" in text and "12:00" in text
    assert 'id="notice-history-' in text and 'id="notice-cancelled"' not in text
    assert PURPOSE not in text and EQUIPMENT not in text and "7319" not in text


def test_a_cancelled_booking_says_so(client: TestClient[Litestar], session: Session, field: TestField,
                                     org: Organisation) -> None:
    booking = approved(session, field, org)
    announce(session, booking)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utcnow()
    booking.revision += 1
    session.add(booking)
    session.commit()
    announce(session, booking, NoticeKind.CANCELLED)
    text = client.get(f"/bookings/{booking.id}/notice").text
    assert 'id="notice-cancelled"' in text and "この実証は中止になりました。" in text
    assert text.count('<li id="notice-history-') == 2  # two entries: approved, cancelled


def test_bookings_without_a_public_notice_are_not_found(client: TestClient[Litestar], session: Session,
                                                        field: TestField, org: Organisation) -> None:
    submitted = create_booking(session, field, org, status=BookingStatus.SUBMITTED)
    not_announced = approved(session, field, org, periods=[(utcnow() + timedelta(days=20),
                                                            utcnow() + timedelta(days=20, hours=1))])
    hidden_field = create_field(session, published=False, name="非公開フィールド")
    hidden = approved(session, hidden_field, org)
    announce(session, hidden)
    rejected = create_booking(session, field, org, status=BookingStatus.REJECTED)
    session.add(BookingNotice(booking_id=rejected.id, kind=NoticeKind.APPROVED))  # type: ignore[arg-type]
    session.commit()
    for booking_id in (submitted.id, not_announced.id, hidden.id, rejected.id, 999_999):
        assert client.get(f"/bookings/{booking_id}/notice").status_code == 404


def test_hostile_text_is_escaped_on_the_pages(client: TestClient[Litestar], session: Session, field: TestField,
                                              org: Organisation, xss_payloads: list[str]) -> None:
    for number, payload in enumerate(xss_payloads[:8]):
        start = utcnow() + timedelta(days=30 + number)
        booking = approved(session, field, org, title=payload[:200], public_description=payload,
                           periods=[(start, start + timedelta(hours=1))])
        announce(session, booking)
        page = client.get(f"/bookings/{booking.id}/notice").text
        assert str(escape(payload[:200])) in page
        for text in (page, client.get("/notices").text):
            assert "<script>alert" not in text and "<img src=x" not in text and "<svg" not in text
            assert 'href="javascript:' not in text


# --- the list of recent notices ------------------------------------------------------------------


def test_the_list_filters_by_area_paginates_and_has_no_n_plus_one(
    client: TestClient[Litestar], session: Session, field: TestField, org: Organisation, query_log: QueryLog
) -> None:
    other = create_field(session, name="常盤台の屋上", area=Area.TOKIWADAI)
    hidden = create_field(session, name="非公開フィールド", published=False)
    start = utcnow() + timedelta(days=40)

    def add(target: TestField, number: int) -> Booking:
        booking = approved(session, target, org, title=f"実証 {target.id}-{number}",
                           periods=[(start + timedelta(days=number), start + timedelta(days=number, hours=1))])
        announce(session, booking)
        return booking

    add(other, 0)
    add(hidden, 0)
    add(field, 1)

    def queries(url: str) -> int:
        before = query_log.count
        assert client.get(url).status_code == 200
        return query_log.count - before

    few = queries("/notices")
    for number in range(2, 23):
        add(field, number)
    many = queries("/notices")
    assert many == few, str(query_log)

    first = client.get("/notices").text
    assert first.count('class="card" id="notice-') == 20 and "非公開フィールド" not in first
    second = client.get("/notices?page=2").text
    assert second.count('class="card" id="notice-') == 3  # 23 public notices in all
    tokiwadai = client.get("/notices?area=tokiwadai").text
    assert tokiwadai.count('class="card" id="notice-') == 1 and "常盤台の屋上" in tokiwadai
    assert client.get("/notices?area=nowhere&page=abc").status_code == 200  # junk filters are ignored


def test_periods_are_shown_in_tokyo_time(session: Session, field: TestField, org: Organisation) -> None:
    start = datetime(2030, 1, 7, 0, 30, tzinfo=utcnow().tzinfo)  # 09:30 in Tokyo
    booking = approved(session, field, org, periods=[(start, start + timedelta(hours=1))])
    notice = announce(session, booking)
    params = notices.notice_params(session, notice, booking, field)
    assert params["periods"][0]["starts_at"] == "2030-01-07T09:30:00+09:00"
    reader = SimpleNamespace(display_name="板橋 花子")
    with using_locale("en"):
        mail = render_standalone("mail/booking_notice.txt", user=reader, params=params, base_url="http://x",
                                 link="http://x/n")
        assert "Monday, January 7, 2030 09:30–10:30" in mail
    with using_locale("ja"):
        mail = render_standalone("mail/booking_notice.txt", user=reader, params=params, base_url="http://x",
                                 link="http://x/n")
        assert "2030年1月7日月曜日 09:30–10:30" in mail


def test_the_field_page_has_the_subscribe_button(client: TestClient[Litestar], session: Session,
                                                 field: TestField) -> None:
    page = client.get(f"/fields/{field.id}").text
    assert 'id="notice-sign-in"' in page and 'id="notice-subscribe"' not in page
    sign_in(client, create_user(session, "resident@example.jp"))
    page = client.get(f"/fields/{field.id}").text
    assert 'id="notice-subscribe"' in page and 'href="/notices/subscriptions"' in page
    client.post(f"/fields/{field.id}/subscribe", data={"_csrf_token": csrf_token(client)})
    page = client.get(f"/fields/{field.id}").text
    assert 'id="notice-unsubscribe"' in page and "1人がこのフィールドのお知らせを受け取っています。" in page
