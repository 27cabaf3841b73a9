"""Booking pages: the request form (several periods, every problem shown at once, 400 and nothing saved),
the detail page with its checklist and actions, documents, cancelling, the coordinators' queue and
actions, permissions per role, hostile and huge input, query counts, and the field/trial sections."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate import permissions
from cocreate.accounts.models import Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.audit.models import AuditEntry
from labs import booking_routes
from labs.models import (
    Booking,
    BookingDocument,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    TestField,
    Trial,
    TrialOrganisation,
)
from tests.helpers import QueryLog, csrf_token
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user, sign_in
from tests.labs.test_bookings import at, typed

pytestmark = pytest.mark.databases("sqlite", why="booking pages; the rules are Python")

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"




@dataclass
class World:
    field: TestField
    organisation: Organisation
    member: User
    coordinator: User
    other_coordinator: User
    other_member: User
    resident: User


@pytest.fixture
def world(session: Session) -> World:
    member = create_user(session, "member@example.jp", display_name="申請 一郎")
    coordinator = create_user(session, "coord@example.jp", display_name="調整 花子", roles=[Role.COORDINATOR])
    other_member = create_user(session, "rival@example.jp")
    create_organisation(session, "他社株式会社", admin=other_member, verified=True)
    return World(field=create_field(session, coordinator, cancellation_rule="**3日前まで**に連絡してください。"),
                 organisation=create_organisation(session, admin=member, verified=True), member=member,
                 coordinator=coordinator,
                 other_coordinator=create_user(session, "coord2@example.jp", roles=[Role.COORDINATOR]),
                 other_member=other_member, resident=create_user(session, "resident@example.jp"))


def post(client: TestClient[Litestar], path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"_csrf_token": csrf_token(client), **data}, follow_redirects=False)


def form(world: World, **values: str) -> dict[str, str]:
    data = {"field_id": str(world.field.id), "organisation_id": str(world.organisation.id), "title": "走行試験",
            "purpose": "性能確認", "public_description": "ロボットが走ります。", "expected_people": "4",
            "equipment": "ロボット", "period-1-start": typed(at(0, 10)), "period-1-end": typed(at(0, 12)),
            "action": "save"}
    data.update(values)
    return data


def booking_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Booking)).one()


def reload(session: Session, booking: Booking) -> Booking:
    session.expire_all()
    return session.get(Booking, booking.id)  # type: ignore[return-value]


@pytest.fixture
def login(client: TestClient[Litestar]) -> Callable[[User], TestClient[Litestar]]:
    """The test's browser, signed out and signed in again as ``user``."""

    def sign_in_as(user: User) -> TestClient[Litestar]:
        client.cookies.clear()
        sign_in(client, user)
        return client

    return sign_in_as


# --- the request form -----------------------------------------------------------------------------


def test_a_member_requests_a_field_with_several_periods(session: Session, world: World,
                                                        client: TestClient[Litestar]) -> None:
    sign_in(client, world.member)
    page = client.get(f"/bookings/new?field_id={world.field.id}")
    assert page.status_code == 200
    for n in range(1, 6):
        assert f'name="period-{n}-start"' in page.text and f'for="field-period-{n}-end-input"' in page.text
    assert "Mon–Fri 9:00–17:00" in page.text or "月–金 9:00–17:00" in page.text
    response = post(client, "/bookings/new", **form(world, **{
        "period-3-start": typed(at(1, 9)), "period-3-end": typed(at(1, 17))}))  # row 2 left blank
    assert response.status_code == 303
    booking = session.exec(select(Booking)).one()
    assert response.headers["location"] == f"/bookings/{booking.id}"
    assert booking.status is BookingStatus.DRAFT and booking.created_by_id == world.member.id
    periods = session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).all()
    assert sorted(p.starts_at for p in periods) == [at(0, 10), at(1, 9)]
    detail = client.get(f"/bookings/{booking.id}")
    assert detail.status_code == 200 and 'id="document-safety_plan"' in detail.text
    assert 'class="booking-missing"' in detail.text and 'id="submit-booking"' in detail.text
    assert 'id="field-document-safety_plan"' in detail.text  # the missing document is listed as a problem


def test_a_request_breaking_two_rules_shows_both_and_saves_nothing(session: Session, world: World,
                                                                   client: TestClient[Litestar]) -> None:
    sign_in(client, world.member)
    response = post(client, "/bookings/new", **form(world, action="submit", **{
        "period-1-start": typed(at(0, 8)), "period-1-end": typed(at(0, 10)),
        "period-2-start": typed(at(1, 10)), "period-2-end": typed(at(1, 10, 30))}))
    assert response.status_code == 400
    assert 'id="field-period-1-hours"' in response.text and 'id="field-period-2-length"' in response.text
    assert 'href="#field-period-1-hours"' in response.text  # the error summary links to each
    assert "期間1：利用できる時間帯（月–金 9:00–17:00）の外です。" in response.text  # in plain Japanese
    assert "期間2：短すぎます（1時間以上）。" in response.text
    assert 'id="field-document-safety_plan"' in response.text
    assert 'value="走行試験"' in response.text  # what was typed is kept
    assert booking_count(session) == 0


@pytest.mark.parametrize(("values", "error_id"), [
    ({"period-1-start": "abc"}, "field-period-1-start"),
    ({"expected_people": "-5"}, "field-expected_people-error"),
    ({"expected_people": "9" * 5000}, "field-expected_people-error"),
    ({"title": ""}, "field-title-error"),
    ({"title": "x" * 100_000}, "field-title-error"),
    ({"field_id": "abc"}, "field-field_id-error"),
    ({"trial_id": "<script>"}, "field-trial_id-error"),
])
def test_wrong_types_and_huge_input(session: Session, world: World, client: TestClient[Litestar],
                                    values: dict[str, str], error_id: str) -> None:
    sign_in(client, world.member)
    response = post(client, "/bookings/new", **form(world, **values))
    assert response.status_code == 400 and f'id="{error_id}"' in response.text
    assert "<script>" not in response.text.split("<body", 1)[1].replace("<script src=", "")
    assert booking_count(session) == 0


def test_hostile_text_is_stored_verbatim_and_shown_escaped(session: Session, world: World,
                                                           client: TestClient[Litestar], xss_payloads: list[str]) -> None:
    sign_in(client, world.member)
    for payload in [*xss_payloads[:8], '<script>alert(1)</script>']:
        response = post(client, "/bookings/new", **form(world, title=payload[:200], purpose=payload,
                                                        public_description=payload, equipment=payload))
        assert response.status_code == 303, response.text[:500]
        booking_id = int(response.headers["location"].rsplit("/", 1)[1])
        stored = session.get(Booking, booking_id)
        assert stored is not None and stored.purpose == payload.strip()
        page = client.get(f"/bookings/{booking_id}").text
        assert "<script>alert(1)</script>" not in page and "<img src=x onerror" not in page
        assert "<svg/onload" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/bookings").text


def test_editing_and_submitting(session: Session, world: World, client: TestClient[Litestar]) -> None:
    booking = create_booking(session, world.field, world.organisation, status=BookingStatus.DRAFT,
                             periods=[(at(0, 10), at(0, 12))], author=world.member)
    sign_in(client, world.member)
    page = client.get(f"/bookings/{booking.id}/edit")
    assert page.status_code == 200 and f'value="{typed(at(0, 10))}"' in page.text
    response = post(client, f"/bookings/{booking.id}/edit", **form(world, title="変更後", action="submit"))
    assert response.status_code == 400 and 'id="field-document-safety_plan"' in response.text
    assert reload(session, booking).title != "変更後"
    upload = client.post(f"/bookings/{booking.id}/documents", data={"_csrf_token": csrf_token(client),
                                                                    "document": "safety_plan"},
                         files={"file": ("安全計画.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert upload.status_code == 303
    document = session.exec(select(BookingDocument)).one()
    assert document.filename == "安全計画.pdf"
    download = client.get(f"/bookings/{booking.id}/documents/{document.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["x-content-type-options"] == "nosniff" and "private" in download.headers["cache-control"]
    response = post(client, f"/bookings/{booking.id}/edit", **form(world, title="変更後", action="submit"))
    assert response.status_code == 303
    assert reload(session, booking).status is BookingStatus.SUBMITTED and reload(session, booking).title == "変更後"
    # submitted: no more editing
    assert client.get(f"/bookings/{booking.id}/edit", follow_redirects=False).status_code == 303
    assert post(client, f"/bookings/{booking.id}/edit", **form(world)).status_code == 400
    assert post(client, f"/bookings/{booking.id}/documents/{document.id}/delete").status_code == 400


def test_documents_are_checked_and_private(session: Session, world: World, client: TestClient[Litestar],
                                           login: Callable[[User], TestClient[Litestar]]) -> None:
    booking = create_booking(session, world.field, world.organisation, status=BookingStatus.DRAFT,
                             periods=[(at(0, 10), at(0, 12))])
    sign_in(client, world.member)
    path = f"/bookings/{booking.id}/documents"
    fake = client.post(path, data={"_csrf_token": csrf_token(client), "document": "safety_plan"},
                       files={"file": ("plan.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")})
    assert fake.status_code == 400 and 'id="field-file-error"' in fake.text
    big = client.post(path, data={"_csrf_token": csrf_token(client), "document": "safety_plan"},
                      files={"file": ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")})
    assert big.status_code == 400
    wrong_kind = client.post(path, data={"_csrf_token": csrf_token(client), "document": "passport"},
                             files={"file": ("plan.pdf", PDF, "application/pdf")})
    assert wrong_kind.status_code == 400
    assert session.exec(select(func.count()).select_from(BookingDocument)).one() == 0
    client.post(path, data={"_csrf_token": csrf_token(client), "document": "insurance"},
                files={"file": ("保険.pdf", PDF, "application/pdf")})
    document = session.exec(select(BookingDocument)).one()
    url = f"{path}/{document.id}"
    for user, status in ((world.other_member, 404), (world.resident, 404), (world.coordinator, 404)):  # a draft
        assert login(user).get(url).status_code == status
    post(client, f"/bookings/{booking.id}/submit")
    booking_row = reload(session, booking)
    booking_row.status = BookingStatus.SUBMITTED  # submit refused (safety plan missing): move it by hand
    session.add(booking_row)
    session.commit()
    assert login(world.coordinator).get(url).status_code == 200
    assert login(world.other_coordinator).get(url).status_code == 404
    anonymous = TestClient(client.app, base_url="http://testserver.local")
    with anonymous:
        assert anonymous.get(url, follow_redirects=False).headers["location"].startswith("/account/sign-in")


def test_deleting_a_document(session: Session, world: World, client: TestClient[Litestar],
                             login: Callable[[User], TestClient[Litestar]]) -> None:
    booking = create_booking(session, world.field, world.organisation, status=BookingStatus.DRAFT)
    sign_in(client, world.member)
    client.post(f"/bookings/{booking.id}/documents", data={"_csrf_token": csrf_token(client), "document": "insurance"},
                files={"file": ("保険.pdf", PDF, "application/pdf")})
    document = session.exec(select(BookingDocument)).one()
    assert login(world.other_member).post(
        f"/bookings/{booking.id}/documents/{document.id}/delete",
        data={"_csrf_token": csrf_token(client)}).status_code in (403, 404)
    login(world.member)
    response = post(client, f"/bookings/{booking.id}/documents/{document.id}/delete")
    assert response.status_code == 303
    assert session.exec(select(func.count()).select_from(BookingDocument)).one() == 0


def test_cancelling_shows_the_fields_rule(session: Session, world: World, client: TestClient[Litestar]) -> None:
    booking = create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                             periods=[(at(0, 10), at(0, 12))])
    sign_in(client, world.member)
    page = client.get(f"/bookings/{booking.id}/cancel")
    assert page.status_code == 200 and "<strong>3日前まで</strong>" in page.text
    response = post(client, f"/bookings/{booking.id}/cancel", reason="")
    assert response.status_code == 400 and 'id="field-reason-error"' in response.text
    assert reload(session, booking).status is BookingStatus.APPROVED
    response = post(client, f"/bookings/{booking.id}/cancel", reason="雨天のため")
    assert response.status_code == 303
    assert reload(session, booking).status is BookingStatus.CANCELLED
    assert not session.exec(select(BookingPeriod)).one().blocks
    assert post(client, f"/bookings/{booking.id}/cancel", reason="二度目").status_code == 400


# --- coordinators ---------------------------------------------------------------------------------


def test_the_coordinator_reviews_and_approves_on_the_booking_page(session: Session, world: World,
                                                                  client: TestClient[Litestar]) -> None:
    booking = create_booking(session, world.field, world.organisation, periods=[(at(0, 10), at(0, 12))])
    session.add(BookingDocument(booking_id=booking.id, document=DocumentKind.SAFETY_PLAN, filename="p.pdf",  # type: ignore[arg-type]
                                content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                storage_key="bookings/" + "a" * 32))
    session.commit()
    sign_in(client, world.coordinator)
    queue = client.get("/coordinate/bookings")
    assert queue.status_code == 200 and f'id="queue-booking-{booking.id}"' in queue.text
    page = client.get(f"/bookings/{booking.id}")
    assert page.status_code == 200
    for button in ("start-review", "approve-booking", "request-changes", "reject-booking", "manager-cancel"):
        assert f'id="{button}"' in page.text
    assert 'id="edit-booking"' not in page.text
    assert post(client, f"/coordinate/bookings/{booking.id}/review").status_code == 303
    response = post(client, f"/coordinate/bookings/{booking.id}/reject", note="")
    assert response.status_code == 400 and 'id="field-note-error"' in response.text
    response = post(client, f"/coordinate/bookings/{booking.id}/approve", note="よろしくお願いします")
    assert response.status_code == 303
    assert reload(session, booking).status is BookingStatus.APPROVED
    approved_page = client.get(f"/bookings/{booking.id}").text
    assert 'id="reschedule-booking"' in approved_page and "よろしくお願いします" in approved_page
    response = post(client, f"/coordinate/bookings/{booking.id}/reschedule", note="変更",
                    **{"period-1-start": typed(at(1, 7)), "period-1-end": typed(at(1, 9))})
    assert response.status_code == 400 and 'id="field-period-1-hours"' in response.text
    response = post(client, f"/coordinate/bookings/{booking.id}/reschedule", note="変更",
                    **{"period-1-start": typed(at(1, 10)), "period-1-end": typed(at(1, 12))})
    assert response.status_code == 303 and reload(session, booking).revision == 1
    assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 3


def test_an_overlapping_approval_is_refused_on_the_page(session: Session, world: World,
                                                        client: TestClient[Litestar]) -> None:
    create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                   periods=[(at(0, 9), at(0, 11))])
    booking = create_booking(session, world.field, world.organisation, periods=[(at(0, 11), at(0, 12))])
    sign_in(client, world.coordinator)
    page = client.get(f"/bookings/{booking.id}")
    assert 'id="booking-problems"' in page.text  # the coordinator sees why before pressing approve
    response = post(client, f"/coordinate/bookings/{booking.id}/approve")
    assert response.status_code == 400 and 'href="#field-period-1-overlap"' in response.text
    assert reload(session, booking).status is BookingStatus.SUBMITTED


def test_permissions_per_role(session: Session, world: World, client: TestClient[Litestar],
                              login: Callable[[User], TestClient[Litestar]]) -> None:
    booking = create_booking(session, world.field, world.organisation, periods=[(at(0, 10), at(0, 12))])
    for path in ("/bookings", "/bookings/new", f"/bookings/{booking.id}", "/coordinate/bookings"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in"), path
    rival = login(world.other_member)
    assert rival.get(f"/bookings/{booking.id}").status_code == 404
    assert rival.get(f"/bookings/{booking.id}/cancel").status_code == 404
    assert post(rival, f"/bookings/{booking.id}/cancel", reason="x").status_code == 404
    assert post(rival, f"/coordinate/bookings/{booking.id}/approve").status_code == 403
    resident = login(world.resident)
    assert resident.get("/bookings/new").status_code == 403
    assert resident.get("/bookings").status_code == 200
    assert resident.get("/coordinate/bookings").status_code == 403
    stranger = login(world.other_coordinator)
    assert stranger.get(f"/bookings/{booking.id}").status_code == 404
    for action in ("review", "approve", "reject", "request-changes", "cancel", "reschedule"):
        assert post(stranger, f"/coordinate/bookings/{booking.id}/{action}", note="x", reason="x").status_code == 403
    assert f'queue-booking-{booking.id}' not in stranger.get("/coordinate/bookings?status=all").text
    assert reload(session, booking).status is BookingStatus.SUBMITTED


# --- lists: filters, pagination and query counts ---------------------------------------------------


def many(session: Session, world: World, count: int, start: int) -> None:
    other_field = create_field(session, world.coordinator, name=f"フィールド{start}")
    for i in range(count):
        create_booking(session, other_field if i % 2 else world.field, world.organisation,
                       periods=[(at(i % 5, 9), at(i % 5, 10)), (at(i % 5, 11), at(i % 5, 12))],
                       title=f"申請{start + i}")


def test_my_bookings_list_query_count(session: Session, world: World, client: TestClient[Litestar],
                                      query_log: QueryLog) -> None:
    many(session, world, 3, 0)
    sign_in(client, world.member)
    query_log.statements.clear()
    page = client.get("/bookings")
    assert page.status_code == 200 and page.text.count('<tr id="booking-') == 3
    with_three = query_log.count
    many(session, world, 30, 100)
    query_log.statements.clear()
    page = client.get("/bookings")
    assert page.text.count('<tr id="booking-') == 20 and 'rel="next"' in page.text
    assert query_log.count == with_three, str(query_log)
    assert client.get("/bookings?page=2").text.count('<tr id="booking-') == 13
    assert client.get("/bookings?status=approved").text.count('<tr id="booking-') == 0
    assert client.get("/bookings?status=<b>&page=abc").status_code == 200


def test_the_queue_filters_paginates_and_keeps_its_query_count(session: Session, world: World,
                                                                client: TestClient[Litestar],
                                                                query_log: QueryLog) -> None:
    many(session, world, 3, 0)
    create_booking(session, world.field, world.organisation, status=BookingStatus.DRAFT, title="下書き")
    unmanaged = create_field(session, world.other_coordinator, name="他のフィールド")
    create_booking(session, unmanaged, world.organisation, title="他の申請")
    sign_in(client, world.coordinator)
    query_log.statements.clear()
    page = client.get("/coordinate/bookings")
    assert page.text.count('<tr id="queue-booking-') == 3 and "下書き" not in page.text and "他の申請" not in page.text
    with_three = query_log.count
    many(session, world, 30, 100)
    query_log.statements.clear()
    page = client.get("/coordinate/bookings")
    assert page.text.count('<tr id="queue-booking-') == 20
    assert query_log.count == with_three, str(query_log)
    filtered = client.get(f"/coordinate/bookings?field_id={world.field.id}&status=submitted")
    assert filtered.text.count('<tr id="queue-booking-') == 17
    assert client.get("/coordinate/bookings?status=approved").text.count('<tr id="queue-booking-') == 0
    assert client.get(f"/coordinate/bookings?field_id={unmanaged.id}").text.count('<tr id="queue-booking-') == 20
    assert client.get("/coordinate/bookings?field_id=abc&status=<x>&page=-3").status_code == 200


# --- sections of the field and trial pages ---------------------------------------------------------


def test_field_and_trial_sections(session: Session, world: World) -> None:
    member = Principal.load(session, world.member)
    template, ctx = booking_routes.field_section(session, member, world.field)  # type: ignore[misc]
    assert template == "labs/_booking_field_section.html" and permissions.can(member, "booking.submit", ctx["requesting"])
    resident = Principal.load(session, world.resident)
    refused = permissions.can(resident, "booking.request", booking_routes.field_section(  # type: ignore[index]
        session, resident, world.field)[1]["requesting"])
    assert not refused and not refused.sign_in
    trial = Trial(title="実証")
    session.add(trial)
    session.commit()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=world.organisation.id))  # type: ignore[arg-type]
    session.commit()
    assert booking_routes.trial_section(session, member, trial) is None
    create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED, trial_id=trial.id,
                   periods=[(at(1, 10), at(1, 12)), (at(0, 10), at(0, 12))], title="承認済み")
    create_booking(session, world.field, world.organisation, status=BookingStatus.SUBMITTED, trial_id=trial.id,
                   title="審査中")
    template, ctx = booking_routes.trial_section(session, member, trial)  # type: ignore[misc]
    assert [b.title for b, _name, _periods in ctx["bookings"]] == ["承認済み"]
    assert [p.starts_at for p in ctx["bookings"][0][2]] == [at(0, 10), at(1, 10)]


def test_the_sections_render_on_the_field_page(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.member)
    page = client.get(f"/fields/{world.field.id}")
    if page.status_code == 404:
        pytest.skip("the field page is not there yet")
    assert f'href="/bookings/new?field_id={world.field.id}"' in page.text


def test_times_are_shown_in_japan_time(session: Session, world: World, client: TestClient[Litestar]) -> None:
    booking = create_booking(session, world.field, world.organisation, periods=[(at(0, 10), at(0, 12))])
    sign_in(client, world.member)
    text = client.get(f"/bookings/{booking.id}").text
    item = re.search(r'<li id="booking-period-1">(.*?)</li>', text, re.S)
    assert item is not None and "10:00" in item.group(1) and "12:00" in item.group(1)
    assert at(0, 10) - timedelta(hours=9) != at(0, 10)
