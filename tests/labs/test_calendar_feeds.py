"""iCalendar feeds of the test fields (the public feed per field, the coordinator's private feed and its
token's lifecycle) and the bookings read API. The private feed is EXEMPT in the permission matrix
(the token in the address is the key): its rules are tested here."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE, gettext, using_locale
from labs import calendar
from labs.models import Blackout, BookingStatus, CalendarFeedToken, TestField
from tests.helpers import QueryLog, csrf_token
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="feeds are Python; the simultaneous first token is a PostgreSQL race")


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


def hour(days: int, at: int = 1) -> datetime:
    """``days`` from now at ``at``:00 UTC (whole hours, so they survive the round trip exactly)."""
    return (utcnow() + timedelta(days=days)).replace(hour=at, minute=0, second=0, microsecond=0)


class World:
    def __init__(self, session: Session) -> None:
        self.coordinator = create_user(session, "coord@example.jp", roles=[Role.COORDINATOR])
        self.other_coordinator = create_user(session, "coord2@example.jp", roles=[Role.COORDINATOR])
        self.admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
        self.resident = create_user(session, "resident@example.jp")
        self.member = create_user(session, "member@example.jp")
        self.organisation = create_organisation(session, "板橋ロボティクス株式会社", admin=self.member, verified=True)
        self.field = create_field(session, self.coordinator, name="高島平プラザ", address="板橋区高島平8丁目")
        self.other_field = create_field(session, self.other_coordinator, name="熱帯環境植物館")
        self.hidden_field = create_field(session, self.coordinator, name="準備中の屋上", published=False)
        self.session = session

    def book(self, start: datetime, hours: int = 2, *, field: TestField | None = None,
             status: BookingStatus = BookingStatus.APPROVED, **overrides: Any) -> Any:
        return create_booking(self.session, field or self.field, self.organisation,
                              periods=[(start, start + timedelta(hours=hours))], status=status, author=self.member,
                              **overrides)

    def blackout(self, start: datetime, end: datetime, reason: str = "高島平まつり",
                 field: TestField | None = None) -> Blackout:
        row = Blackout(field_id=(field or self.field).id, starts_at=start, ends_at=end, reason=reason)  # type: ignore[arg-type]
        self.session.add(row)
        self.session.commit()
        self.session.refresh(row)
        return row




@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def events(body: bytes) -> dict[str, Any]:
    parsed = icalendar.Calendar.from_ical(body)
    return {str(event["summary"]): event for event in parsed.walk("VEVENT")}


# --- the public feed -----------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_public_feed_lists_approved_bookings_and_blackouts_without_private_details(
        session: Session, world: World, client: TestClient[Litestar]) -> None:
    approved = world.book(hour(10), title="自動配送ロボット走行", purpose="社外秘の目的", equipment="秘密の機材",
                          public_description="公開の説明")
    world.book(hour(-10), status=BookingStatus.COMPLETED, title="終了した実験")
    for status in (BookingStatus.SUBMITTED, BookingStatus.UNDER_REVIEW, BookingStatus.CHANGES_REQUESTED,
                   BookingStatus.DRAFT, BookingStatus.REJECTED, BookingStatus.CANCELLED):
        world.book(hour(12), status=status, title=f"非表示 {status.value}")
    world.book(hour(11), field=world.other_field, title="別フィールド")
    world.book(hour(-100), title="古すぎる実験")
    world.book(hour(400), title="先すぎる実験")
    world.book(hour(-80), title="八十日前の実験")
    closed = world.blackout(hour(20), hour(22), "区民まつり")

    response = client.get(f"/fields/{world.field.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    found = events(response.content)
    unavailable = ja("Unavailable: %(reason)s", reason="区民まつり")
    assert set(found) == {"自動配送ロボット走行", "終了した実験", "八十日前の実験", unavailable}

    event = found["自動配送ロボット走行"]
    period_id = session.exec(select(calendar.BookingPeriod.id).where(  # type: ignore[attr-defined]
        calendar.BookingPeriod.booking_id == approved.id)).one()  # type: ignore[attr-defined]
    assert str(event["uid"]) == f"booking-period-{period_id}@127.0.0.1"
    assert event.decoded("dtstart") == hour(10) and event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == hour(10) + timedelta(hours=2)
    assert "Z" in event["dtstart"].to_ical().decode()
    assert str(event["location"]) == "高島平プラザ 板橋区高島平8丁目"
    assert str(event["url"]) == f"http://127.0.0.1:8000/bookings/{approved.id}/notice"
    assert str(event["status"]) == "CONFIRMED"
    assert "板橋ロボティクス株式会社" in str(event["description"])
    body = response.content.decode()
    for secret in ("社外秘の目的", "秘密の機材", "非表示"):
        assert secret not in body

    closure = found[unavailable]
    assert str(closure["uid"]) == f"blackout-{closed.id}@127.0.0.1"
    assert str(closure["transp"]) == "TRANSPARENT"
    assert closure.decoded("dtstart") == hour(20)


def test_public_feed_uids_are_stable(world: World, client: TestClient[Litestar]) -> None:
    world.book(hour(10))
    first = client.get(f"/fields/{world.field.id}/calendar.ics").content
    second = client.get(f"/fields/{world.field.id}/calendar.ics").content
    assert first == second


def test_public_feed_only_for_published_fields(world: World, client: TestClient[Litestar]) -> None:
    assert client.get(f"/fields/{world.hidden_field.id}/calendar.ics").status_code == 404
    assert client.get("/fields/987654/calendar.ics").status_code == 404
    sign_in(client, world.coordinator)  # not even for its coordinator: the feed is public
    assert client.get(f"/fields/{world.hidden_field.id}/calendar.ics").status_code == 404


def test_hostile_titles_round_trip_through_ics(world: World, client: TestClient[Litestar],
                                              xss_payloads: list[str]) -> None:
    tricky = ["a,b;c\\d\nSUMMARY:injected\nEND:VEVENT", *xss_payloads[:5]]
    for index, title in enumerate(tricky):
        world.book(hour(5 + index), hours=1, title=title[:200])
    world.blackout(hour(30), hour(31), "理由;\nBEGIN:VALARM")
    response = client.get(f"/fields/{world.field.id}/calendar.ics")
    parsed = icalendar.Calendar.from_ical(response.content)
    summaries = [str(event["summary"]) for event in parsed.walk("VEVENT")]
    assert sorted(summaries) == sorted([t[:200] for t in tricky] + [ja("Unavailable: %(reason)s",
                                                                       reason="理由;\nBEGIN:VALARM")])
    assert b"\r\nSUMMARY:injected" not in response.content and b"\nBEGIN:VALARM" not in response.content
    assert not parsed.walk("VALARM")


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_public_feed_queries_do_not_grow(world: World, client: TestClient[Litestar], query_log: QueryLog) -> None:
    world.book(hour(3))
    url = f"/fields/{world.field.id}/calendar.ics"
    query_log.statements.clear()
    client.get(url)
    with_one = query_log.count
    for day in range(4, 14):
        world.book(hour(day), title=f"実験{day}")
        world.blackout(hour(day, 10), hour(day, 12), f"点検{day}")
    query_log.statements.clear()
    assert len(events(client.get(url).content)) == 21
    assert query_log.count == with_one, str(query_log)


# --- the private feed and its token --------------------------------------------------------------


def create_token(client: TestClient[Litestar]) -> str:
    response = client.post("/coordinate/calendar-feed", data={"_csrf_token": csrf_token(client)})
    assert response.status_code == 200, response.text[:1000]
    assert response.headers["cache-control"] == "no-store"
    start = response.text.index("http://127.0.0.1:8000/calendar/feeds/")
    url = response.text[start:response.text.index('"', start)]
    assert url.endswith(".ics")
    return url.removeprefix("http://127.0.0.1:8000")


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_token_lifecycle(session: Session, world: World, client: TestClient[Litestar]) -> None:
    world.book(hour(10), title="承認済みの実験", purpose="社内の目的メモ")
    world.book(hour(11), status=BookingStatus.UNDER_REVIEW, title="審査中の実験", purpose="審査中の目的")
    world.book(hour(12), status=BookingStatus.CANCELLED, title="取消済みの実験")
    world.book(hour(13), status=BookingStatus.DRAFT, title="下書きの実験")
    world.book(hour(14), field=world.other_field, status=BookingStatus.SUBMITTED, title="他人の担当")
    world.book(hour(15), field=world.hidden_field, status=BookingStatus.SUBMITTED, title="非公開フィールドの申請")

    sign_in(client, world.coordinator)
    page = client.get("/coordinate/calendar-feed")
    assert page.status_code == 200 and 'id="calendar-feed-create"' in page.text
    path = create_token(client)
    token = path.removeprefix("/calendar/feeds/").removesuffix(".ics")
    stored = session.exec(select(CalendarFeedToken)).one()
    assert stored.user_id == world.coordinator.id
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert stored.last_used_at is None
    again = client.get("/coordinate/calendar-feed").text
    assert token not in again and 'id="calendar-feed-regenerate"' in again  # shown once only

    feed = client.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    found = events(feed.content)
    pending = ja("%(title)s (pending review)", title="審査中の実験")
    assert set(found) == {"承認済みの実験", pending, ja("%(title)s (pending review)", title="非公開フィールドの申請")}
    assert str(found[pending]["status"]) == "TENTATIVE" and str(found["承認済みの実験"]["status"]) == "CONFIRMED"
    assert "審査中の目的" in str(found[pending]["description"])
    assert "板橋ロボティクス株式会社" in str(found["承認済みの実験"]["description"])
    session.expire_all()
    assert session.exec(select(CalendarFeedToken)).one().last_used_at is not None
    client.cookies.clear()  # the feed needs no session
    assert client.get(path).status_code == 200

    sign_in(client, world.coordinator)
    new_path = create_token(client)
    assert new_path != path
    assert client.get(path).status_code == 404
    assert client.get(new_path).status_code == 200

    response = client.post("/coordinate/calendar-feed/revoke", data={"_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/coordinate/calendar-feed"
    assert client.get(new_path).status_code == 404
    assert session.exec(select(CalendarFeedToken)).all() == []
    actions = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "calendar_feed_token")
                           .order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    assert actions == ["calendar_feed.created", "calendar_feed.regenerated", "calendar_feed.revoked"]
    assert "calendar-feed-create" in client.get("/coordinate/calendar-feed").text


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_feed_stops_when_the_coordinator_role_is_removed(session: Session, world: World,
                                                         client: TestClient[Litestar]) -> None:
    world.book(hour(10), title="承認済みの実験")
    sign_in(client, world.coordinator)
    path = create_token(client)
    assert client.get(path).status_code == 200
    role = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == world.coordinator.id)).one()
    session.delete(role)
    session.commit()
    assert client.get(path).status_code == 404


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_feed_stops_when_the_account_is_blocked(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.coordinator)
    path = create_token(client)
    user = session.get(User, world.coordinator.id)
    assert user is not None
    user.blocked_at = utcnow()
    session.add(user)
    session.commit()
    assert client.get(path).status_code == 404


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_admin_feed_covers_every_field(world: World, client: TestClient[Litestar]) -> None:
    world.book(hour(10), field=world.other_field, status=BookingStatus.SUBMITTED, title="植物館の申請")
    world.book(hour(11), title="プラザの実験")
    sign_in(client, world.admin)
    found = events(client.get(create_token(client)).content)
    assert set(found) == {"プラザの実験", ja("%(title)s (pending review)", title="植物館の申請")}


@pytest.mark.parametrize("path", ["/calendar/feeds/unknown-token-unknown-token-123.ics", "/calendar/feeds/short.ics",
                                  "/calendar/feeds/" + "a" * 43, "/calendar/feeds/../../etc.ics",
                                  "/calendar/feeds/" + "x" * 500 + ".ics"])
def test_unknown_tokens_are_404(world: World, client: TestClient[Litestar], path: str) -> None:
    assert client.get(path).status_code == 404


def test_feed_page_is_for_coordinators(world: World, client: TestClient[Litestar]) -> None:
    response = client.get("/coordinate/calendar-feed", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    sign_in(client, world.resident)
    assert client.get("/coordinate/calendar-feed").status_code == 403
    token = csrf_token(client)
    assert client.post("/coordinate/calendar-feed", data={"_csrf_token": token}).status_code == 403
    assert client.post("/coordinate/calendar-feed/revoke", data={"_csrf_token": token}).status_code == 403


def test_revoking_without_a_feed_says_so(world: World, client: TestClient[Litestar], session: Session) -> None:
    sign_in(client, world.coordinator)
    response = client.post("/coordinate/calendar-feed/revoke", data={"_csrf_token": csrf_token(client)})
    assert response.status_code == 200 and ja("You had no private calendar feed.") in response.text
    assert session.exec(select(AuditEntry).where(AuditEntry.target_type == "calendar_feed_token")).all() == []


# --- the bookings API ----------------------------------------------------------------------------


def api(client: TestClient[Litestar], field_id: int, query: str = "") -> Any:
    return client.get(f"/api/v1/test-fields/{field_id}/bookings" + (f"?{query}" if query else ""))


def tokyo_date(days: int) -> str:
    return (utcnow() + timedelta(days=days)).astimezone(WARD_TIMEZONE).date().isoformat()


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_api_lists_approved_periods_in_the_range(world: World, client: TestClient[Litestar]) -> None:
    approved = world.book(hour(5), title="走行実験", purpose="社外秘の目的")
    world.book(hour(6), status=BookingStatus.SUBMITTED, title="申請中")
    world.book(hour(40), title="範囲外")
    response = api(client, world.field.id)  # type: ignore[arg-type]
    assert response.status_code == 200
    body = response.json()
    assert [item["title"] for item in body["items"]] == ["走行実験"]
    item = body["items"][0]
    assert item["booking_id"] == approved.id and item["organisation"] == "板橋ロボティクス株式会社"
    assert item["notice_url"] == f"/bookings/{approved.id}/notice"
    assert datetime.fromisoformat(item["starts_at"].replace("Z", "+00:00")) == hour(5)
    assert "社外秘の目的" not in response.text and "purpose" not in response.text
    wide = api(client, world.field.id, f"from={tokyo_date(0)}&to={tokyo_date(60)}").json()  # type: ignore[arg-type]
    assert [i["title"] for i in wide["items"]] == ["走行実験", "範囲外"]
    moment = hour(5).astimezone(WARD_TIMEZONE).isoformat()
    exact = api(client, world.field.id, "from=" + moment.replace("+", "%2B")).json()  # type: ignore[arg-type]
    assert [i["title"] for i in exact["items"]] == ["走行実験"]
    after = (hour(5) + timedelta(hours=2)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert [i["title"] for i in api(client, world.field.id, f"from={after}").json()["items"]] == []  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["from=tomorrow", "to=2026-13-01", "from=2030-01-10&to=2030-01-01",
                                   "from=2030-01-01&to=2031-01-03", "from=1800-01-01", "from=" + "1" * 3000,
                                   "from=2030-01-01T25:00", "from=", "to=", "from=%202030-01-01",
                                   "from=２０３０-01-01", "from=2030年1月1日"])
def test_api_rejects_bad_ranges_with_a_reason(world: World, client: TestClient[Litestar], query: str) -> None:
    response = api(client, world.field.id, query)  # type: ignore[arg-type]
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and set(body["extra"]["errors"]) <= {"from", "to"}
    assert body["detail"] in body["extra"]["errors"].values()


def test_api_accepts_the_longest_range(world: World, client: TestClient[Litestar]) -> None:
    assert api(client, world.field.id, "from=2030-01-01&to=2030-12-31").status_code == 200  # type: ignore[arg-type]
    assert api(client, world.field.id, "from=2028-01-01&to=2028-12-31").status_code == 200  # 366 days  # type: ignore[arg-type]
    assert api(client, world.field.id, "from=2030-01-01&to=2031-01-01").status_code == 200  # 366 days  # type: ignore[arg-type]
    assert api(client, world.field.id, "from=2030-01-01&to=2031-01-02").status_code == 400  # type: ignore[arg-type]


@pytest.mark.databases("sqlite", "postgresql", why="token constraints and time ranges in SQL")
def test_api_only_for_published_fields(world: World, client: TestClient[Litestar]) -> None:
    assert api(client, world.hidden_field.id).status_code == 404  # type: ignore[arg-type]
    assert api(client, 424242).status_code == 404
    assert "/api/v1/test-fields/{id}/bookings" in client.get("/api/v1").text


@pytest.mark.databases("postgresql", why="SQLite serialises write transactions: two requests cannot interleave")
@pytest.mark.committed("the racing request commits from another connection")
def test_a_simultaneous_first_token_is_retried_not_a_server_error(database: Database, world: World) -> None:
    """Two "create" posts at once both find no token; the loser's INSERT breaks the unique user
    constraint. Here the other request's row is committed, from another connection, just before this
    request flushes its own: the request must still end with one working token, its own.

    PostgreSQL only: SQLite transactions begin IMMEDIATE here, so two requests cannot interleave."""
    coordinator_id = world.coordinator.id
    with Session(database.engine, expire_on_commit=False) as request_session:
        raced: list[bool] = []

        def other_request_wins(session: Session, _context: Any, _instances: Any) -> None:
            if raced or not any(isinstance(row, CalendarFeedToken) for row in session.new):
                return
            raced.append(True)
            with Session(database.engine) as other:
                other.add(CalendarFeedToken(user_id=coordinator_id, token_hash="0" * 64))
                other.commit()

        sa.event.listen(request_session, "before_flush", other_request_wins)
        actor = Principal.load(request_session, request_session.get(User, coordinator_id))
        token = calendar.create_feed_token(request_session, actor)
    assert raced == [True]
    with Session(database.engine) as check:
        rows = check.exec(select(CalendarFeedToken)).all()
        assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert calendar.private_feed(check, database.settings, token).startswith(b"BEGIN:VCALENDAR")
