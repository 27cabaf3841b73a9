"""Test field calendars: month and week grids in Asia/Tokyo, who sees pending requests, no private
details, invalid parameters, hostile titles, and bounded queries."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session

from cocreate.accounts.models import Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.i18n import WARD_TIMEZONE, gettext, using_locale
from labs import calendar, calendar_routes
from labs.calendar import View
from labs.models import Blackout, Booking, BookingStatus, TestField
from tests.helpers import QueryLog
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="calendar assembly is Python")


def tokyo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Tokyo wall-clock time as the UTC datetime the database stores."""
    return datetime(year, month, day, hour, minute, tzinfo=WARD_TIMEZONE).astimezone(UTC)


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


@dataclass
class World:
    coordinator: User
    other_coordinator: User
    admin: User
    resident: User
    member: User
    organisation: Organisation
    field: TestField
    other_field: TestField
    hidden_field: TestField




@pytest.fixture
def world(session: Session) -> World:
    coordinator = create_user(session, "coord@example.jp", roles=[Role.COORDINATOR])
    other_coordinator = create_user(session, "coord2@example.jp", roles=[Role.COORDINATOR])
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    resident = create_user(session, "resident@example.jp")
    member = create_user(session, "member@example.jp")
    organisation = create_organisation(session, "板橋ロボティクス株式会社", admin=member, verified=True)
    field = create_field(session, coordinator, name="高島平プラザ")
    other_field = create_field(session, other_coordinator, name="熱帯環境植物館")
    hidden_field = create_field(session, coordinator, name="準備中の屋上", published=False)
    return World(coordinator, other_coordinator, admin, resident, member, organisation, field, other_field,
                 hidden_field)


def book(session: Session, world: World, start: datetime, end: datetime, *, field: TestField | None = None,
         status: BookingStatus = BookingStatus.APPROVED, **overrides: object) -> Booking:
    return create_booking(session, field or world.field, world.organisation, periods=[(start, end)], status=status,
                          author=world.member, **overrides)


def blackout(session: Session, field: TestField, start: datetime, end: datetime, reason: str = "高島平まつり") -> Blackout:
    row = Blackout(field_id=field.id, starts_at=start, ends_at=end, reason=reason)  # type: ignore[arg-type]
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def anonymous() -> Principal:
    return Principal.anonymous()


def actor(session: Session, user: User) -> Principal:
    return Principal.load(session, user)


def day_of(page: calendar.CalendarPage, value: date) -> calendar.Day:
    return next(day for day in page.days if day.date == value)


def titles(day: calendar.Day) -> list[str]:
    return [de.entry.title for de in day.entries]


# --- grids ---------------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_month_grid_runs_monday_to_sunday_around_the_month(session: Session, world: World) -> None:
    page = calendar.field_calendar(session, anonymous(), world.field.id, View.MONTH, date(2030, 3, 15),  # type: ignore[arg-type]
                                   date(2030, 3, 20))
    # March 2030 begins on a Friday and ends on a Sunday.
    assert page.weeks[0][0].date == date(2030, 2, 25) and page.weeks[-1][-1].date == date(2030, 3, 31)
    assert len(page.weeks) == 5 and all(len(week) == 7 and week[0].date.weekday() == 0 for week in page.weeks)
    assert not day_of(page, date(2030, 2, 28)).in_period and day_of(page, date(2030, 3, 1)).in_period
    assert [day.date for day in page.days if day.is_today] == [date(2030, 3, 20)]
    assert (page.previous, page.next) == (date(2030, 2, 1), date(2030, 4, 1))
    with using_locale("ja"):
        assert page.title == "2030年3月"
        assert [short for short, _long in page.weekdays] == ["月", "火", "水", "木", "金", "土", "日"]

    december = calendar.field_calendar(session, anonymous(), world.field.id, View.MONTH, date(2030, 12, 31),  # type: ignore[arg-type]
                                       date(2030, 3, 20))
    assert december.next == date(2031, 1, 1) and december.previous == date(2030, 11, 1)
    assert december.weeks[-1][-1].date == date(2031, 1, 5)


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_entries_land_on_every_tokyo_day_they_touch(session: Session, world: World) -> None:
    book(session, world, tokyo(2030, 3, 10, 22), tokyo(2030, 3, 11, 2), title="夜間走行")  # crosses midnight
    book(session, world, tokyo(2030, 3, 12, 20), tokyo(2030, 3, 13), title="二十四時まで")  # ends at midnight
    book(session, world, tokyo(2030, 3, 14, 0), tokyo(2030, 3, 14, 1), title="零時開始")  # 15:00 UTC the day before
    book(session, world, tokyo(2030, 2, 24, 23), tokyo(2030, 2, 25, 1), title="前月から")  # before the first shown day
    book(session, world, tokyo(2030, 4, 1), tokyo(2030, 4, 1, 1), title="翌月")  # after the last shown day
    book(session, world, tokyo(2030, 3, 20, 9), tokyo(2030, 3, 22, 17), title="三日間")
    blackout(session, world.field, tokyo(2030, 3, 5), tokyo(2030, 3, 7), "メンテナンス")
    page = calendar.field_calendar(session, anonymous(), world.field.id, View.MONTH, date(2030, 3, 1),  # type: ignore[arg-type]
                                   date(2030, 3, 1))

    night = {de.entry.title: de for de in day_of(page, date(2030, 3, 10)).entries}["夜間走行"]
    assert (night.starts, night.ends) == ("22:00", "")
    morning = {de.entry.title: de for de in day_of(page, date(2030, 3, 11)).entries}["夜間走行"]
    assert (morning.starts, morning.ends) == ("", "02:00")
    assert titles(day_of(page, date(2030, 3, 12))) == ["二十四時まで"]
    assert (day_of(page, date(2030, 3, 12)).entries[0].ends) == "24:00"
    assert titles(day_of(page, date(2030, 3, 13))) == []
    assert titles(day_of(page, date(2030, 3, 14))) == ["零時開始"] and titles(day_of(page, date(2030, 3, 13))) == []
    assert titles(day_of(page, date(2030, 2, 25))) == ["前月から"]
    assert "翌月" not in [t for day in page.days for t in titles(day)]
    assert [titles(day_of(page, date(2030, 3, d))) for d in (19, 20, 21, 22, 23)] == [[], ["三日間"], ["三日間"],
                                                                                       ["三日間"], []]
    middle = day_of(page, date(2030, 3, 21)).entries[0]
    assert middle.from_previous_day and middle.to_next_day
    assert [titles(day_of(page, date(2030, 3, d))) for d in (4, 5, 6, 7)] == [[], ["メンテナンス"], ["メンテナンス"], []]
    assert day_of(page, date(2030, 3, 5)).entries[0].all_day and day_of(page, date(2030, 3, 6)).entries[0].all_day
    assert not night.all_day and not morning.all_day and middle.all_day
    assert page.entry_count == 6


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_week_view_shows_monday_to_sunday_with_times(session: Session, world: World,
                                                     client: TestClient[Litestar]) -> None:
    book(session, world, tokyo(2030, 3, 13, 9, 30), tokyo(2030, 3, 13, 11), title="水曜の実験")
    book(session, world, tokyo(2030, 3, 18, 9), tokyo(2030, 3, 18, 10), title="翌週の実験")
    page = calendar.field_calendar(session, anonymous(), world.field.id, View.WEEK, date(2030, 3, 13),  # type: ignore[arg-type]
                                   date(2030, 3, 1))
    assert [day.date for day in page.days] == [date(2030, 3, d) for d in range(11, 18)]
    assert (page.previous, page.next) == (date(2030, 3, 6), date(2030, 3, 20))
    assert titles(day_of(page, date(2030, 3, 13))) == ["水曜の実験"]

    response = client.get(f"/fields/{world.field.id}/calendar?view=week&date=2030-03-13")
    assert response.status_code == 200
    text = response.text
    assert '<ol class="calendar-week" id="calendar-grid"' in text
    assert text.count('<h3 class="calendar-date"') == 7
    assert "09:30–11:00" in text and "水曜の実験" in text and "翌週の実験" not in text
    assert f'href="/fields/{world.field.id}/calendar?view=week&amp;date=2030-03-06"' in text
    assert f'href="/fields/{world.field.id}/calendar?view=week&amp;date=2030-03-20"' in text
    assert f'href="/fields/{world.field.id}/calendar?view=month&amp;date=2030-03-13"' in text


def test_month_page_is_an_accessible_table(session: Session, world: World, client: TestClient[Litestar]) -> None:
    book(session, world, tokyo(2030, 3, 10, 10), tokyo(2030, 3, 10, 12), title="自動運転バス試乗会")
    response = client.get("/calendar?date=2030-03-10")
    assert response.status_code == 200
    text = response.text
    assert '<table class="calendar-month" id="calendar-grid"' in text and "<caption>" in text
    assert text.count('<th scope="col">') == 7
    assert text.count('data-date="') == 35
    assert 'id="day-2030-03-10-label"' in text and 'aria-labelledby="day-2030-03-10-label"' in text
    assert "自動運転バス試乗会" in text and "板橋ロボティクス株式会社" in text and "高島平プラザ" in text
    assert 'href="/calendar?view=month&amp;date=2030-02-01"' in text and 'href="/calendar?view=month&amp;date=2030-04-01"' in text
    assert 'href="/calendar?view=month" id="calendar-today-link"' in text
    assert 'aria-current="date"' not in text  # today is not in March 2030
    assert "js/calendar.js" in text


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_today_is_marked_and_is_the_default(session: Session, world: World, client: TestClient[Litestar]) -> None:
    today = calendar.today_in_tokyo()
    text = client.get(f"/fields/{world.field.id}/calendar").text
    assert f'id="day-{today.isoformat()}"' in text
    assert text.count('aria-current="date"') == 1
    week = client.get(f"/fields/{world.field.id}/calendar?view=week").text
    assert week.count('aria-current="date"') == 1 and f'id="day-{today.isoformat()}"' in week


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_field_filter_and_blackouts_with_reason(session: Session, world: World, client: TestClient[Litestar]) -> None:
    book(session, world, tokyo(2030, 3, 10, 10), tokyo(2030, 3, 10, 12), title="プラザの実験")
    book(session, world, tokyo(2030, 3, 11, 10), tokyo(2030, 3, 11, 12), title="植物館の実験", field=world.other_field)
    book(session, world, tokyo(2030, 3, 12, 10), tokyo(2030, 3, 12, 12), title="非公開の実験", field=world.hidden_field)
    blackout(session, world.field, tokyo(2030, 3, 20), tokyo(2030, 3, 21), "区民まつり")
    everything = client.get("/calendar?date=2030-03-01").text
    assert "プラザの実験" in everything and "植物館の実験" in everything and "区民まつり" in everything
    assert "非公開の実験" not in everything and "準備中の屋上" not in everything
    one = client.get(f"/calendar?date=2030-03-01&field_id={world.other_field.id}").text
    assert "植物館の実験" in one and "プラザの実験" not in one and "区民まつり" not in one
    assert f'href="/fields/{world.other_field.id}/calendar.ics"' in one


# --- who sees what -------------------------------------------------------------------------------

PENDING_TITLES = {BookingStatus.SUBMITTED: "申請中の実験", BookingStatus.UNDER_REVIEW: "審査中の実験",
                  BookingStatus.CHANGES_REQUESTED: "修正待ちの実験"}
NEVER_SHOWN = {BookingStatus.DRAFT: "下書きの実験", BookingStatus.REJECTED: "却下された実験",
               BookingStatus.CANCELLED: "取り消された実験"}


@pytest.fixture
def mixed(session: Session, world: World) -> World:
    for offset, (status, title) in enumerate([*PENDING_TITLES.items(), *NEVER_SHOWN.items(),
                                              (BookingStatus.APPROVED, "承認された実験"),
                                              (BookingStatus.COMPLETED, "終了した実験")]):
        book(session, world, tokyo(2030, 3, 4 + offset, 10), tokyo(2030, 3, 4 + offset, 12), status=status,
             title=title, purpose="社外秘の目的", equipment="秘密の機材")
    book(session, world, tokyo(2030, 3, 20, 10), tokyo(2030, 3, 20, 12), status=BookingStatus.SUBMITTED,
         title="別フィールドの申請", field=world.other_field)
    return world


@pytest.mark.parametrize(("persona", "sees_pending", "sees_other_pending"), [
    ("anonymous", False, False), ("resident", False, False), ("member", False, False),
    ("coordinator", True, False), ("other_coordinator", False, True), ("admin", True, True),
])
@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_pending_requests_only_for_the_fields_coordinators(session: Session, mixed: World,
                                                           client: TestClient[Litestar], persona: str,
                                                           sees_pending: bool, sees_other_pending: bool) -> None:
    if persona != "anonymous":
        sign_in(client, getattr(mixed, persona))
    for url in ("/calendar?date=2030-03-01", f"/fields/{mixed.field.id}/calendar?date=2030-03-01"):
        text = client.get(url).text
        assert "承認された実験" in text and "終了した実験" in text, url
        for title in PENDING_TITLES.values():
            assert (title in text) is sees_pending, (url, title)
        assert ('id="calendar-pending-note"' in text) is (sees_pending or (sees_other_pending and url == "/calendar?date=2030-03-01"))
        for title in NEVER_SHOWN.values():
            assert title not in text, (url, title)
        assert "社外秘の目的" not in text and "秘密の機材" not in text
    overall = client.get("/calendar?date=2030-03-01").text
    assert ("別フィールドの申請" in overall) is sees_other_pending
    if sees_pending:
        assert "calendar-entry-pending" in overall and ja("Pending") in overall


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_a_field_calendar_of_an_unpublished_field_is_for_its_managers(session: Session, world: World,
                                                                     client: TestClient[Litestar]) -> None:
    url = f"/fields/{world.hidden_field.id}/calendar"
    assert client.get(url).status_code == 404
    assert client.get("/fields/999999/calendar").status_code == 404
    sign_in(client, world.other_coordinator)
    assert client.get(url).status_code == 404
    sign_in(client, world.coordinator)
    response = client.get(url)
    assert response.status_code == 200 and "準備中の屋上" in response.text
    assert 'id="calendar-ics"' not in response.text  # no public feed for an unpublished field


# --- invalid parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "message"), [
    ("view=year", "Choose the month view or the week view."),
    ("date=2030-02-30", "Enter the date as YYYY-MM-DD, for example 2026-11-01."),
    ("date=yesterday", "Enter the date as YYYY-MM-DD, for example 2026-11-01."),
    ("date=2030-13-01", "Enter the date as YYYY-MM-DD, for example 2026-11-01."),
    ("date=9999-12-31", "Enter the date as YYYY-MM-DD, for example 2026-11-01."),  # only 2000 to 2100
    ("date=" + "9" * 5000, "Enter the date as YYYY-MM-DD, for example 2026-11-01."),
])
def test_invalid_view_or_date_is_a_400_with_a_message(world: World, client: TestClient[Litestar], query: str,
                                                      message: str) -> None:
    expected = ja(message, first=calendar.MIN_YEAR, last=calendar.MAX_YEAR)
    for base in ("/calendar", f"/fields/{world.field.id}/calendar"):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 400, (base, query)
        assert html.escape(expected, quote=False) in response.text
        assert f'href="{base}" id="calendar-this-month"' in response.text


def test_a_date_is_read_as_the_other_forms_read_dates(world: World, client: TestClient[Litestar]) -> None:
    for day in ("2030-3-1", "2030/03/01", "2030年3月1日", "２０３０-０３-０１"):
        response = client.get("/calendar", params={"date": day, "view": "week"})
        assert response.status_code == 200 and 'value="2030-03-01"' in response.text, day


@pytest.mark.parametrize("value", ["abc", "999999", "-1"])
def test_unknown_field_filter_is_a_400(world: World, client: TestClient[Litestar], value: str) -> None:
    response = client.get(f"/calendar?field_id={value}")
    assert response.status_code == 400
    assert ja("Choose a test field from the list.") in response.text
    hidden = client.get(f"/calendar?field_id={world.hidden_field.id}")
    assert hidden.status_code == 400


# --- hostile input -------------------------------------------------------------------------------


def test_hostile_titles_are_escaped(session: Session, world: World, client: TestClient[Litestar],
                                    xss_payloads: list[str]) -> None:
    hostile = [p for p in xss_payloads if "<" in p][:8]
    for index, payload in enumerate(hostile):
        book(session, world, tokyo(2030, 3, 2 + index, 10), tokyo(2030, 3, 2 + index, 11), title=payload[:200])
    blackout(session, world.field, tokyo(2030, 3, 25), tokyo(2030, 3, 26), "<script>alert('reason')</script>")
    for url in ("/calendar?date=2030-03-01", f"/fields/{world.field.id}/calendar?date=2030-03-01&view=month",
                f"/fields/{world.field.id}/calendar?date=2030-03-25&view=week"):
        text = client.get(url).text
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg/onload" not in text
    month = client.get("/calendar?date=2030-03-01").text
    for payload in hostile:
        assert str(escape(payload[:200])) in month


def test_a_huge_title_and_many_entries_on_one_day_render(session: Session, world: World,
                                                         client: TestClient[Litestar]) -> None:
    for hour in range(9, 17):
        book(session, world, tokyo(2030, 3, 4, hour), tokyo(2030, 3, 4, hour, 30), title="長" * 200)  # 30 min buffer
    response = client.get("/calendar?date=2030-03-04")
    assert response.status_code == 200 and response.text.count("長" * 200) == 8


# --- the field page section ----------------------------------------------------------------------


def test_field_section_lists_the_next_bookings(session: Session, world: World, client: TestClient[Litestar]) -> None:
    first = book(session, world, tokyo(2030, 3, 4, 10), tokyo(2030, 3, 4, 11), title="次の実験")
    pending = book(session, world, tokyo(2030, 3, 5, 10), tokyo(2030, 3, 5, 11), title="審査待ち",
                   status=BookingStatus.SUBMITTED)
    book(session, world, tokyo(2020, 3, 5, 10), tokyo(2020, 3, 5, 11), title="過去の実験")
    book(session, world, tokyo(2030, 3, 6, 10), tokyo(2030, 3, 6, 11), title="取り消し", status=BookingStatus.CANCELLED)
    result = calendar_routes.field_section(session, anonymous(), world.field)
    assert result is not None and result[0] == "labs/_calendar_field_section.html"
    assert [e.title for e in result[1]["calendar_upcoming"]] == ["次の実験"]
    managed = calendar_routes.field_section(session, actor(session, world.coordinator), world.field)
    assert managed is not None and [e.title for e in managed[1]["calendar_upcoming"]] == ["次の実験", "審査待ち"]

    text = client.get(f"/fields/{world.field.id}").text
    assert 'id="field-calendar"' in text and "次の実験" in text and "審査待ち" not in text
    assert f'href="/bookings/{first.id}/notice"' in text
    assert f'href="/fields/{world.field.id}/calendar"' in text and f'href="/fields/{world.field.id}/calendar.ics"' in text
    sign_in(client, world.coordinator)
    text = client.get(f"/fields/{world.field.id}").text
    assert "審査待ち" in text and f'href="/bookings/{pending.id}"' in text


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="time ranges and ordering in SQL")
def test_calendar_queries_do_not_grow_with_entries(session: Session, world: World, client: TestClient[Litestar],
                                                   query_log: QueryLog) -> None:
    sign_in(client, world.coordinator)
    urls = ["/calendar?date=2030-03-01", f"/fields/{world.field.id}/calendar?date=2030-03-01",
            f"/fields/{world.field.id}/calendar?date=2030-03-04&view=week", f"/fields/{world.field.id}/calendar.ics",
            f"/api/v1/test-fields/{world.field.id}/bookings?from=2030-03-01&to=2030-03-31"]
    book(session, world, tokyo(2030, 3, 4, 10), tokyo(2030, 3, 4, 11))
    counts = {}
    for url in urls:
        query_log.statements.clear()
        assert client.get(url).status_code == 200
        counts[url] = query_log.count
    for day in range(5, 10):
        book(session, world, tokyo(2030, 3, day, 10), tokyo(2030, 3, day, 11), title=f"実験{day}")
        book(session, world, tokyo(2030, 3, day, 13), tokyo(2030, 3, day, 14), title=f"申請{day}",
             status=BookingStatus.SUBMITTED)
        blackout(session, world.field, tokyo(2030, 3, day, 20), tokyo(2030, 3, day, 21), f"点検{day}")
    for url in urls:
        query_log.statements.clear()
        assert client.get(url).status_code == 200
        assert query_log.count == counts[url], f"{url}\n{query_log}"
