"""The statistics: numbers equal to hand-counted rows planted in the database (on SQLite and PostgreSQL, whose
month truncation differs), small counts of people suppressed with their complements, the pages in at most ten
queries, CSV downloads, who sees the staff's numbers, the refresh task and the open dataset."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate import components
from cocreate.accounts.models import AgeBand, User
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE, using_locale
from cocreate.stats import snapshot, views
from cocreate.stats.compute import BANDS, compute, months_ending, suppress
from cocreate.stats.models import StatsSnapshot
from labs.models import (
    Blackout,
    Booking,
    BookingPeriod,
    BookingStatus,
    FieldKind,
    TestField,
    TestFieldHours,
    Trial,
    TrialStatus,
)
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    DecisionOutcome,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Voice,
    Vote,
)
from tests.factories import Ward, actor, create_proposal, create_user, create_ward, sign_in
from tests.helpers import count_queries, csrf_token, tasks_announced

BOTH = pytest.mark.databases("sqlite", "postgresql", why="month truncation and the aggregates are dialect SQL")
SQLITE = pytest.mark.databases("sqlite", why="pages and permissions; the aggregates run on both in other tests")


def _month_start(months_back: int) -> datetime:
    """Noon on the 10th of the month ``months_back`` before this one, in the ward's time zone (UTC)."""
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    year, month = today.year, today.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.combine(date(year, month, 10), time(12), tzinfo=WARD_TIMEZONE).astimezone(UTC)


def _user(session: Session, email: str, *, created_at: datetime | None = None, area: str = "",
          age_band: AgeBand | None = None) -> User:
    user = User(email=email, display_name=email.split("@")[0], area=area, age_band=age_band,
                created_at=created_at or utcnow())
    session.add(user)
    session.flush()
    return user


def _plant(session: Session) -> Ward:
    """The ward's cast (six accounts this month, one proposal submitted this month) and, by hand:
    two months ago: 3 accounts, 1 voice; last month: 2 accounts, 3 comments on the challenge (and a hidden
    one), 1 private open question, 1 public question; this month: 1 comment on the proposal, 2 votes, a hidden
    proposal and a draft one (neither counted), 2 briefing registrations (and a cancelled one)."""
    ward = create_ward(session, phase="voting")
    two, one = _month_start(2), _month_start(1)
    for index in range(3):
        _user(session, f"old{index}@example.jp", created_at=two)
    recent = [_user(session, f"recent{index}@example.jp", created_at=one) for index in range(2)]
    session.add(Voice(title="段差", body="歩道の段差", category=ward.challenge.category, created_at=two))
    for index in range(3):
        session.add(Comment(target_type="challenge", target_id=ward.challenge.id, author_id=ward.resident.id,
                            body=f"意見{index}", created_at=one))
    session.add(Comment(target_type="challenge", target_id=ward.challenge.id, author_id=ward.resident.id,
                        body="spam", created_at=one, hidden_at=one))
    session.add(Comment(target_type="proposal", target_id=ward.proposal.id, author_id=ward.resident.id, body="賛成"))
    session.add(Question(challenge_id=ward.challenge.id, asker_id=ward.member.id, visibility=QuestionVisibility.PUBLIC,
                         status=QuestionStatus.OPEN, body="予算は？", created_at=one))
    session.add(Question(challenge_id=ward.challenge.id, asker_id=ward.member.id,
                         visibility=QuestionVisibility.PRIVATE, status=QuestionStatus.OPEN, body="内密に", created_at=one))
    for voter in (ward.resident, recent[0]):
        session.add(Vote(proposal_id=ward.proposal.id, challenge_id=ward.challenge.id, user_id=voter.id))
    hidden = create_proposal(session, ward.challenge, ward.organisation, title="隠された提案")
    hidden.hidden_at = utcnow()
    session.add(hidden)
    create_proposal(session, ward.challenge, ward.organisation, status="draft", title="下書き")
    briefing = BriefingSession(challenge_id=ward.challenge.id, starts_at=one, ends_at=one + timedelta(hours=1),
                               capacity=30, registered_count=2)
    session.add(briefing)
    session.flush()
    for person in (ward.resident, recent[0]):
        session.add(BriefingRegistration(session_id=briefing.id, user_id=person.id))
    session.add(BriefingRegistration(session_id=briefing.id, user_id=recent[1].id, cancelled_at=utcnow()))
    session.commit()
    return ward


@BOTH
def test_participation_by_month_and_per_challenge_equal_the_planted_rows(session: Session) -> None:
    ward = _plant(session)
    data = compute(session, staff=False)
    assert data["months"] == list(months_ending(utcnow()))
    last3 = {key: values[-3:] for key, values in data["monthly"].items()}
    assert last3 == {"accounts": [3, 2, 6], "comments": [0, 3, 1], "proposals": [0, 0, 1], "votes": [0, 0, 2],
                     "voices": [1, 0, 0]}
    assert all(sum(values[:-3]) == 0 for values in data["monthly"].values())
    row = next(row for row in data["challenges"] if row["id"] == ward.challenge.id)
    assert row == {"id": ward.challenge.id, "title": ward.challenge.title, "questions": 1, "proposals": 1,
                   "comments": 4, "votes": 2, "briefing": 2}
    staff_row = next(row for row in compute(session, staff=True)["challenges"] if row["id"] == ward.challenge.id)
    assert staff_row["questions"] == 2  # the private question still open counts for staff only

    # Every chart's table says the same numbers.
    with using_locale("en"):
        charts = views.charts(data)
        table = charts["participation"].rows()
        assert [row[1:] for row in table[-3:]] == [["3", "0", "0", "0", "1"], ["2", "3", "0", "0", "0"],
                                                   ["6", "1", "1", "2", "0"]]
        assert charts["participation"].headings() == ["Month", "New accounts", "Comments", "Proposals", "Votes",
                                                      "Residents' voices"]
        challenge_rows = {r[0]: r[1:] for r in charts["challenges"].rows()}
        assert challenge_rows[ward.challenge.title] == ["1", "1", "4", "2", "2"]


def _trial_world(session: Session, ward: Ward) -> None:
    ward.proposal.decision = DecisionOutcome.SELECTED
    session.add(ward.proposal)
    session.add(Trial(proposal_id=ward.proposal.id, challenge_id=ward.challenge.id, title="実証", published=True,
                      status=TrialStatus.COMPLETED, results="結果", results_published_at=utcnow()))
    session.add(Trial(title="区の自主実証", published=True))  # not from a proposal: not in the funnel
    session.commit()


@BOTH
def test_the_funnel_counts_public_steps_for_the_public_and_everything_for_staff(session: Session) -> None:
    ward = _plant(session)
    _trial_world(session, ward)
    assert compute(session, staff=False)["funnel"] == {"challenges": 1, "proposals": 1, "selected": 0, "trials": 1,
                                                       "results": 1}
    assert compute(session, staff=True)["funnel"]["selected"] == 1  # decisions not yet published
    ward.challenge.decisions_published_at = utcnow()
    session.add(ward.challenge)
    session.commit()
    data = compute(session, staff=False)
    assert data["funnel"]["selected"] == 1
    with using_locale("en"):
        assert views.funnel(data).rows() == [["Challenges published", "1"], ["Proposals", "1"], ["Selected", "1"],
                                             ["Trials", "1"], ["Results published", "1"]]


@BOTH
def test_utilisation_counts_booked_days_against_the_bookable_ones(session: Session) -> None:
    ward = _plant(session)
    field = TestField(name="高島平テストコース", kind=FieldKind.ROAD, area="takashimadaira", address="高島平", published=True)
    hidden_field = TestField(name="非公開の場", kind=FieldKind.PARK, area="akatsuka", address="赤塚")
    session.add_all([field, hidden_field])
    session.flush()
    session.add(TestFieldHours(field_id=field.id, weekday=0, opens_minute=540, closes_minute=1020))  # Mondays
    # Last month: its Mondays, one closed all day, one booked from Monday to Tuesday, one booking rejected.
    first = _month_start(1).astimezone(WARD_TIMEZONE).date().replace(day=1)
    mondays = [first + timedelta(days=offset) for offset in range(31)
               if (first + timedelta(days=offset)).month == first.month and (first + timedelta(days=offset)).weekday() == 0]

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=WARD_TIMEZONE).astimezone(UTC)

    session.add(Blackout(field_id=field.id, starts_at=at(mondays[0], 0), ends_at=at(mondays[0] + timedelta(days=1), 0),
                         reason="祭り"))
    for status, day in ((BookingStatus.APPROVED, mondays[1]), (BookingStatus.REJECTED, mondays[2])):
        booking = Booking(field_id=field.id, organisation_id=ward.organisation.id, status=status, title="走行試験")
        session.add(booking)
        session.flush()
        session.add(BookingPeriod(booking_id=booking.id, field_id=field.id, starts_at=at(day, 9),
                                  ends_at=at(day + timedelta(days=1), 12), blocked_until=at(day + timedelta(days=1), 12),
                                  blocks=status == BookingStatus.APPROVED))
    session.commit()
    data = compute(session, staff=False)
    assert [f["name"] for f in data["fields"]] == ["高島平テストコース"]
    fields = data["fields"][0]
    assert fields["booked"][-2] == 2  # Monday and Tuesday
    assert fields["available"][-2] == len(mondays) - 1
    assert [f["name"] for f in compute(session, staff=True)["fields"]] == ["高島平テストコース", "非公開の場"]
    with using_locale("en"):
        rows = views.field_days(data).rows()
    assert rows[0][0] == "高島平テストコース" and rows[0][1] == "2"


# --- suppression ---------------------------------------------------------------------------------


def _exactly_one_hidden(cells: list[list[Any]], row_totals: list[Any], column_totals: list[Any], total: Any) -> bool:
    grid = [[*row, row_total] for row, row_total in zip(cells, row_totals, strict=True)] + [[*column_totals, total]]
    relations = grid + [list(column) for column in zip(*grid, strict=True)]
    return any(sum(value is None for value in relation) == 1 for relation in relations)


@pytest.mark.parametrize("table", [
    [[3, 20, 30], [40, 50, 60]],
    [[12, 0, 0], [0, 3, 15], [11, 11, 2]],
    [[9, 9], [9, 9]],
    [[100]],
    [[5]],
])
def test_suppression_hides_small_counts_and_what_would_give_them_away(table: list[list[int]]) -> None:
    cells, row_totals, column_totals, total = suppress(table, 10)
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if 0 < value < 10:
                assert cells[r][c] is None
            elif cells[r][c] is not None:
                assert cells[r][c] == value
    assert not _exactly_one_hidden(cells, row_totals, column_totals, total)
    assert all(value is None or value == 0 or value >= 10
               for value in [*(v for row in cells for v in row), *row_totals, *column_totals, total])


@SQLITE
def test_people_by_area_and_age_band_never_show_a_small_count(session: Session) -> None:
    for index in range(12):
        _user(session, f"t30-{index}@example.jp", area="高島平三丁目", age_band=AgeBand.AGE_30S)
    for index in range(3):  # the cell of 3 that must never appear
        _user(session, f"t40-{index}@example.jp", area="高島平", age_band=AgeBand.AGE_40S)
    for index in range(15):
        _user(session, f"a30-{index}@example.jp", area="板橋区赤塚新町", age_band=AgeBand.AGE_30S)
    for index in range(11):
        _user(session, f"a40-{index}@example.jp", area="赤塚", age_band=AgeBand.AGE_40S)
    for index in range(2):  # a place as written, too few: grouped into "other places"
        _user(session, f"x-{index}@example.jp", area="173-0004", age_band=AgeBand.AGE_30S)
    _user(session, "nobody@example.jp")  # gave nothing: not counted
    session.commit()
    data = compute(session, staff=False)
    areas = data["areas"]
    rows = {(row["kind"], row["key"]): row for row in areas["rows"]}
    assert list(rows) == [("area", "akatsuka"), ("area", "takashimadaira"), ("other", "")]
    thirties, forties = BANDS.index("30s"), BANDS.index("40s")
    taka = rows[("area", "takashimadaira")]
    assert taka["cells"][forties] is None
    assert taka["cells"][thirties] is None  # the complement in its row
    assert rows[("area", "akatsuka")]["cells"][forties] is None  # and in its column
    assert rows[("other", "")]["total"] is None
    # The column of row totals would give "other" away (43 - 26 - 15): Takashimadaira's total goes too.
    assert taka["total"] is None and rows[("area", "akatsuka")]["total"] == 26 and areas["total"] == 43
    assert not _exactly_one_hidden([row["cells"] for row in areas["rows"]], [row["total"] for row in areas["rows"]],
                                   areas["totals"], areas["total"])
    with using_locale("en"):
        chart = views.areas(data)
        body = chart.csv().decode()
    table = list(csv.reader(io.StringIO(body)))
    assert table[0][0] == "Area" and table[0][-1] == "Total"
    values = [cell for row in table[1:] for cell in row[1:]]
    assert "3" not in values and "2" not in values
    assert "fewer than 10" in values
    assert [row[0] for row in table[1:]] == ["Akatsuka area", "Takashimadaira area", "Other places", "Total"]
    assert table[1][-1] == "26" and table[-1][-1] == "43"


# --- the pages -----------------------------------------------------------------------------------


@SQLITE
def test_the_public_page_reads_the_snapshot_in_few_queries_in_both_languages(
    client: TestClient[Litestar], app: Litestar, session: Session, query_log: Any
) -> None:
    ward = _plant(session)
    snapshot.refresh(session, now=utcnow())
    for language in ("ja", "en"):
        query_log.statements.clear()
        response = client.get("/stats", headers={"accept-language": language})
        assert response.status_code == 200
        assert query_log.count <= 10, str(query_log)
        for name in views.CHARTS:
            assert f'id="stats-{name}"' in response.text
        assert 'id="stats-participation-table"' in response.text and "<svg" in response.text
        assert 'id="stats-as-of"' in response.text and 'href="/stats/participation.csv"' in response.text
        assert ward.challenge.title in response.text
        assert "<script" not in response.text.split("<main", 1)[1]
    assert 'lang="en"' in client.get("/stats", headers={"accept-language": "en"}).text
    # Staff see a link to their page; the public does not.
    assert 'id="stats-staff-link"' not in response.text
    sign_in(client, ward.staff)
    query_log.statements.clear()
    staff_page = client.get("/staff/stats")
    assert staff_page.status_code == 200
    assert query_log.count <= 10, str(query_log)
    assert 'id="stats-refresh"' in staff_page.text, staff_page.text.split("<main", 1)[1][:3000]
    assert 'href="/staff/stats/participation.csv"' in staff_page.text
    assert 'id="stats-staff-link"' in client.get("/stats").text


@SQLITE
def test_pages_show_fresh_numbers_before_the_first_refresh(client: TestClient[Litestar], session: Session) -> None:
    ward = _plant(session)
    assert session.get(StatsSnapshot, "public") is None
    response = client.get("/stats", headers={"accept-language": "en"})
    assert response.status_code == 200 and ward.challenge.title in response.text
    assert session.get(StatsSnapshot, "public") is None  # a read stores nothing


@SQLITE
def test_the_page_shows_the_snapshot_not_newer_rows(client: TestClient[Litestar], session: Session) -> None:
    ward = _plant(session)
    snapshot.refresh(session)
    session.add(Vote(proposal_id=ward.proposal.id, challenge_id=ward.challenge.id, user_id=ward.moderator.id))
    session.commit()
    rows = list(csv.reader(io.StringIO(client.get("/stats/challenges.csv").text)))
    assert rows[1][4] == "2"  # votes as of the snapshot
    snapshot.refresh(session)
    rows = list(csv.reader(io.StringIO(client.get("/stats/challenges.csv").text)))
    assert rows[1][4] == "3"


@SQLITE
def test_each_chart_downloads_as_csv_with_an_optional_bom(client: TestClient[Litestar], session: Session) -> None:
    _plant(session)
    snapshot.refresh(session)
    for name in views.CHARTS:
        response = client.get(f"/stats/{name}.csv", headers={"accept-language": "en"})
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/csv")
        assert f"{name}.csv" in response.headers["content-disposition"]
        assert not response.content.startswith(b"\xef\xbb\xbf")
    with_bom = client.get("/stats/participation.csv?bom=1", headers={"accept-language": "en"})
    assert with_bom.content.startswith(b"\xef\xbb\xbf")
    assert with_bom.content.decode("utf-8-sig").startswith("Month,New accounts,Comments")
    for bad in ("nothing.csv", "participation.json", "participation", "..csv"):
        response = client.get(f"/stats/{bad}", headers={"accept-language": "en"})
        assert response.status_code == 404, bad


@SQLITE
def test_only_ward_staff_and_administrators_see_the_staff_statistics(
    client: TestClient[Litestar], session: Session
) -> None:
    ward = _plant(session)
    response = client.get("/staff/stats", follow_redirects=False)
    assert response.status_code in (302, 303) and "/account/sign-in" in response.headers["location"]
    assert client.get("/staff/stats/areas.csv", follow_redirects=False).status_code in (302, 303)
    sign_in(client, ward.resident)
    assert client.get("/staff/stats").status_code == 403
    assert client.get("/staff/stats/areas.csv").status_code == 403
    refused = client.post("/staff/stats/refresh", data={"_csrf_token": csrf_token(client)})
    assert refused.status_code == 403
    with TestClient(client.app, base_url="http://testserver.local") as admin_client:
        sign_in(admin_client, ward.admin)
        assert admin_client.get("/staff/stats").status_code == 200
        dashboard = admin_client.get("/admin")
        assert 'href="/staff/stats"' in dashboard.text


@SQLITE
def test_staff_ask_for_a_refresh_which_the_task_does(client: TestClient[Litestar], session: Session) -> None:
    ward = _plant(session)
    sign_in(client, ward.staff)
    assert client.post("/staff/stats/refresh", data={}).status_code == 403  # no CSRF token
    with tasks_announced(session, snapshot.TASK) as tasks:
        snapshot.request_refresh(session, actor(session, ward.staff))
    assert [task[0] for task in tasks] == [snapshot.TASK]
    response = client.post("/staff/stats/refresh", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/stats"


@BOTH
def test_the_computation_takes_a_fixed_number_of_queries(session: Session) -> None:
    _plant(session)
    engine = session.get_bind()
    with count_queries(engine) as small:  # type: ignore[arg-type]
        compute(session, staff=False)
    ward_two = create_user(session, "more@example.jp")
    for index in range(5):
        _user(session, f"more{index}@example.jp", area="志村", age_band=AgeBand.AGE_20S)
        session.add(Comment(target_type="challenge", target_id=1, author_id=ward_two.id, body=str(index)))
    session.commit()
    with count_queries(engine) as large:  # type: ignore[arg-type]
        compute(session, staff=True)
    assert small.count == large.count <= 10, str(large)


@BOTH
def test_the_statistics_dataset_has_the_public_numbers_suppressed_as_on_the_page(session: Session) -> None:
    _plant(session)
    for index in range(3):
        _user(session, f"t40-{index}@example.jp", area="高島平", age_band=AgeBand.AGE_40S)
    session.commit()
    snapshot.refresh(session)
    snapshot.refresh(session)  # stored again over the first
    assert snapshot.latest(session, snapshot.STAFF).data["staff"] is True  # type: ignore[union-attr]
    dataset = next(d for d in components.datasets() if d.name == "statistics")
    rows = list(dataset.rows(session))
    assert {column.name for column in dataset.columns} == set(rows[0])
    this_month = months_ending(utcnow())[-1]
    assert {"table": "participation", "period": this_month, "group": "", "measure": "votes", "value": 2,
            "suppressed": False} in rows
    assert {"table": "funnel", "period": "", "group": "", "measure": "proposals", "value": 1,
            "suppressed": False} in rows
    people = [row for row in rows if row["table"] == "people_by_area_and_age_band"]
    assert people and all(row["value"] is None or row["value"] == 0 or row["value"] >= 10 for row in people)
    assert any(row["suppressed"] for row in people)
