"""Test fields (実証フィールド): the coordinators' editor, photos, blackouts, coordinators and the public pages.

Most tests run on SQLite only (the rules live in Python); the happy path of creating and editing a
field runs on both databases.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from sqlmodel import Session, col, select

from cocreate.accounts.models import Role, User
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.files import images
from labs.models import (
    Area,
    Blackout,
    DocumentKind,
    FieldKind,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldPhoto,
    TestFieldRequirement,
)
from tests.helpers import QueryLog, csrf_token
from tests.labs.helpers import create_field, create_user, sign_in
from tests.proposals.staff_helpers import EXECUTABLE, HTML_PAGE, SVG_IMAGE, png_bytes
from tests.proposals.voices.helpers import gps_jpeg

pytestmark = pytest.mark.databases("sqlite", why="test field rules and pages are Python")



@pytest.fixture
def coordinator(session: Session) -> User:
    return create_user(session, "coordinator@example.jp", display_name="調整 花子", roles=[Role.COORDINATOR])


@pytest.fixture
def other_coordinator(session: Session) -> User:
    return create_user(session, "other-coordinator@example.jp", display_name="別の調整役", roles=[Role.COORDINATOR])


def valid_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "高島平プラザ", "kind": "park", "area": "takashimadaira", "address": "東京都板橋区高島平8丁目",
        "latitude": "35.789", "longitude": "139.661", "summary": "駅前の広場です。",
        "description": "## 広場\n\n**舗装**されています。", "rules": "- 火気厳禁", "cancellation_rule": "前日までにご連絡ください。",
        "contact": "地域振興課 03-0000-0000", "capacity": "50", "min_booking_minutes": "60",
        "max_booking_minutes": "480", "buffer_minutes": "30", "min_notice_hours": "48", "max_notice_days": "180",
        "approval_required": "yes", "published": "yes", "requirements": ["safety_plan", "insurance"],
    }
    for weekday in range(7):
        form[f"hours-{weekday}-opens"] = "09:00" if weekday < 5 else ""
        form[f"hours-{weekday}-closes"] = "17:00" if weekday < 5 else ""
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def post(client: TestClient[Litestar], url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False, **kwargs)


def fields_in_db(session: Session) -> list[TestField]:
    session.expire_all()
    return list(session.exec(select(TestField).order_by(col(TestField.id))).all())


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


def assert_unique_ids(html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def field_state(session: Session, field_id: int) -> tuple[Any, ...]:
    """Everything about a field, to prove that a refused change changed nothing."""
    session.expire_all()
    test_field = session.get(TestField, field_id)
    assert test_field is not None
    return (test_field.model_dump(exclude={"updated_at"}),
            sorted((h.weekday, h.opens_minute, h.closes_minute) for h in session.exec(
                select(TestFieldHours).where(TestFieldHours.field_id == field_id))),
            sorted(r.document for r in session.exec(select(TestFieldRequirement).where(
                TestFieldRequirement.field_id == field_id))),
            len(session.exec(select(Blackout).where(Blackout.field_id == field_id)).all()),
            len(session.exec(select(TestFieldPhoto).where(TestFieldPhoto.field_id == field_id)).all()),
            len(session.exec(select(TestFieldCoordinator).where(TestFieldCoordinator.field_id == field_id)).all()))


# --- creating and editing ------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="the stored field round-trips through each database's types")
def test_create_and_edit_a_field(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    sign_in(client, coordinator)
    form_page = client.get("/coordinate/fields/new")
    assert form_page.status_code == 200
    assert 'name="hours-0-opens"' in form_page.text and 'value="09:00"' in form_page.text

    response = post(client, "/coordinate/fields/new", valid_form())
    assert response.status_code == 303, response.text[:3000]
    [test_field] = fields_in_db(session)
    assert response.headers["location"] == f"/coordinate/fields/{test_field.id}/edit"
    assert (test_field.name, test_field.kind, test_field.area) == ("高島平プラザ", FieldKind.PARK, Area.TAKASHIMADAIRA)
    assert (test_field.latitude, test_field.longitude, test_field.capacity) == (35.789, 139.661, 50)
    assert (test_field.min_booking_minutes, test_field.max_booking_minutes, test_field.buffer_minutes,
            test_field.min_notice_hours, test_field.max_notice_days) == (60, 480, 30, 48, 180)
    assert test_field.approval_required and test_field.published and test_field.created_by_id == coordinator.id
    assert test_field.description == "## 広場\n\n**舗装**されています。"
    assert field_state(session, test_field.id)[1] == [(d, 540, 1020) for d in range(5)]  # type: ignore[arg-type]
    assert field_state(session, test_field.id)[2] == [DocumentKind.INSURANCE, DocumentKind.SAFETY_PLAN]  # type: ignore[arg-type]
    assert session.get(TestFieldCoordinator, (test_field.id, coordinator.id)) is not None
    assert audit_actions(session) == ["test_field.created"]

    edit = client.get(f"/coordinate/fields/{test_field.id}/edit")
    assert edit.status_code == 200 and 'value="高島平プラザ"' in edit.text
    assert 'value="35.789"' in edit.text and 'value="139.661"' in edit.text and 'value="17:00"' in edit.text
    assert_unique_ids(edit.text)
    changed = valid_form(**{"name": "高島平プラザ（北側）", "hours-2-opens": "", "hours-2-closes": "",
                            "hours-5-opens": "10:30", "hours-5-closes": "24:00", "requirements": ["road_use_permit"],
                            "approval_required": None, "published": None, "latitude": "", "longitude": "",
                            "max_booking_minutes": "", "max_notice_days": "", "capacity": ""})
    response = post(client, f"/coordinate/fields/{test_field.id}/edit", changed)
    assert response.status_code == 303, response.text[:3000]
    [test_field] = fields_in_db(session)
    assert test_field.name == "高島平プラザ（北側）" and not test_field.approval_required and not test_field.published
    assert test_field.latitude is None and test_field.longitude is None
    assert test_field.max_booking_minutes is None and test_field.max_notice_days is None and test_field.capacity is None
    state = field_state(session, test_field.id)  # type: ignore[arg-type]
    assert state[1] == [(0, 540, 1020), (1, 540, 1020), (3, 540, 1020), (4, 540, 1020), (5, 630, 1440)]
    assert state[2] == [DocumentKind.ROAD_USE_PERMIT]
    assert audit_actions(session) == ["test_field.created", "test_field.updated"]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "test_field.updated")).one()
    assert entry.target_id == str(test_field.id) and entry.actor_id == coordinator.id


def test_admin_creates_a_field(session: Session, client: TestClient[Litestar]) -> None:
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    sign_in(client, admin)
    assert post(client, "/coordinate/fields/new", valid_form()).status_code == 303
    [test_field] = fields_in_db(session)
    assert session.get(TestFieldCoordinator, (test_field.id, admin.id)) is not None


INVALID = [
    ({"name": ""}, "name", "入力してください"),
    ({"name": "a\nb"}, "name", "使用できない文字"),
    ({"kind": "castle"}, "kind", None),
    ({"area": "shinjuku"}, "area", None),
    ({"address": "  "}, "address", "入力してください"),
    ({"latitude": "abc"}, "latitude", None),
    ({"latitude": "91"}, "latitude", None),
    ({"longitude": "-180.5"}, "longitude", None),
    ({"longitude": ""}, "longitude", None),
    ({"latitude": "nan"}, "latitude", None),
    ({"capacity": "-1"}, "capacity", None),
    ({"capacity": "lots"}, "capacity", None),
    ({"min_booking_minutes": "0"}, "min_booking_minutes", None),
    ({"min_booking_minutes": ""}, "min_booking_minutes", "入力してください"),
    ({"max_booking_minutes": "30"}, "max_booking_minutes", None),
    ({"buffer_minutes": "-5"}, "buffer_minutes", None),
    ({"min_notice_hours": "1.5"}, "min_notice_hours", None),
    ({"max_notice_days": "0"}, "max_notice_days", None),
    ({"min_notice_hours": "100", "max_notice_days": "2"}, "max_notice_days", None),
    ({"hours-0-opens": "17:00", "hours-0-closes": "09:00"}, "hours-0", None),
    ({"hours-1-opens": "09:00", "hours-1-closes": "09:00"}, "hours-1", None),
    ({"hours-2-closes": ""}, "hours-2", None),
    ({"hours-3-opens": "25:00"}, "hours-3", None),
    ({"hours-4-opens": "nine"}, "hours-4", None),
    ({"requirements": ["safety_plan", "passport"]}, "requirements", None),
    ({"summary": "x" * 501}, "summary", "500"),
    ({"description": "x" * 20_001}, "description", "20000"),
]


def test_the_field_form_reads_hours_as_typed_or_as_built_in_code() -> None:
    from cocreate.errors import Invalid
    from labs.fields import FieldForm

    base = {"name": "広場", "kind": "park", "area": "itabashi", "address": "板橋区"}
    typed = FieldForm.parse({**base, "hours-0-opens": "09:00:00", "hours-0-closes": "24:00",
                             "hours-3-opens": "９時３０分", "hours-3-closes": "12:00",
                             "hours-5": "ignored: only the -opens and -closes fields are read"})
    assert typed.hours == [(0, 540, 1440), (3, 570, 720)]
    assert (typed.approval_required, typed.published, typed.min_booking_minutes) == (False, False, 60)
    built = FieldForm(**base, hours=[(4, 600, 900), (1, 540, 1020)])
    assert built.hours == [(1, 540, 1020), (4, 600, 900)]
    for week in ([(1, 540, 600), (1, 700, 800)], [(7, 540, 600)]):
        with pytest.raises(Invalid) as refused:
            FieldForm(**base, hours=week)
        assert set(refused.value.errors) == {"hours"}
    with pytest.raises(Invalid) as refused:  # rules between two fields, once each reads
        FieldForm(**base, longitude="139.661", min_booking_minutes="90", max_booking_minutes="60")
    assert set(refused.value.errors) == {"max_booking_minutes"}
    with pytest.raises(Invalid) as refused:
        FieldForm(**base, longitude="139.661")
    assert set(refused.value.errors) == {"latitude"}


def test_the_new_field_form_starts_with_weekday_hours_and_approval(session: Session, client: TestClient[Litestar],
                                                                   coordinator: User) -> None:
    sign_in(client, coordinator)
    page = client.get("/coordinate/fields/new").text
    assert re.search(r'<input[^>]*name="approval_required"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="published"[^>]*checked', page)
    assert page.count('value="09:00"') == 5 and page.count('value="17:00"') == 5


def test_each_validation_rule(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    sign_in(client, coordinator)  # one app for all cases: each case is one request
    for overrides, error_field, text in INVALID:
        response = post(client, "/coordinate/fields/new", valid_form(**overrides))
        assert response.status_code == 400, (overrides, response.text[:2000])
        assert f'href="#field-{error_field}"' in response.text, overrides
        assert f'id="field-{error_field}-error"' in response.text, overrides
        if text:
            assert text in response.text.replace(",", ""), overrides
    assert fields_in_db(session) == []
    assert audit_actions(session) == []


def test_all_errors_at_once_and_edit_changes_nothing(session: Session, client: TestClient[Litestar],
                                                      coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    before = field_state(session, test_field.id)  # type: ignore[arg-type]
    sign_in(client, coordinator)
    bad = valid_form(name="", latitude="abc", capacity="-1", min_booking_minutes="0", kind="x",
                     **{"hours-0-opens": "18:00", "hours-0-closes": "08:00"})
    response = post(client, f"/coordinate/fields/{test_field.id}/edit", bad)
    assert response.status_code == 400
    for name in ("name", "latitude", "capacity", "min_booking_minutes", "kind", "hours-0"):
        assert f'href="#field-{name}"' in response.text, name
    assert 'value="abc"' in response.text  # what was typed is shown again
    assert field_state(session, test_field.id) == before  # type: ignore[arg-type]
    assert audit_actions(session) == []


def test_wrong_types_and_huge_input(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    sign_in(client, coordinator)
    huge = valid_form(name="長" * 100_000, description="x" * 2_000_000, capacity="9" * 50, latitude="1e400",
                      requirements=["safety_plan"] * 500)
    response = post(client, "/coordinate/fields/new", huge)
    assert response.status_code == 400
    for name in ("name", "description", "capacity", "latitude"):
        assert f'href="#field-{name}"' in response.text, name
    assert fields_in_db(session) == []


def test_hostile_text_is_stored_verbatim_and_shown_escaped(session: Session, client: TestClient[Litestar],
                                                           coordinator: User, xss_payloads: list[str]) -> None:
    sign_in(client, coordinator)
    payloads = [p for p in xss_payloads if "\n" not in p and "\r" not in p and len(p) <= 190][:40]
    for payload in payloads:
        form = valid_form(name=payload[:200], address=payload[:300], summary=payload, description=payload,
                          rules=payload, cancellation_rule=payload, contact=payload)
        response = post(client, "/coordinate/fields/new", form)
        if response.status_code == 400:  # control characters are refused, never stored
            assert "使用できない文字" in response.text or "characters that cannot be used" in response.text
            continue
        assert response.status_code == 303, (payload, response.text[:2000])
        test_field = fields_in_db(session)[-1]
        assert test_field.name == payload.strip() and test_field.description == payload
        page = client.get(f"/fields/{test_field.id}")
        assert page.status_code == 200
        body = page.text
        assert "<script>alert" not in body
        assert re.search(r'<[^>]*\s(href|src|action)\s*=\s*"\s*javascript:', body, re.I) is None
        assert "<svg/onload" not in body and "<img src=x" not in body
    assert len(fields_in_db(session)) >= 10


# --- permissions ---------------------------------------------------------------------------------


def test_permissions_per_role(session: Session, client: TestClient[Litestar], coordinator: User,
                              other_coordinator: User) -> None:
    test_field = create_field(session, coordinator, published=False)
    edit_url = f"/coordinate/fields/{test_field.id}/edit"
    for url in ("/coordinate/fields", "/coordinate/fields/new", edit_url):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]

    resident = create_user(session, "resident@example.jp")
    sign_in(client, resident)
    assert client.get("/coordinate/fields/new").status_code == 403
    assert post(client, "/coordinate/fields/new", valid_form()).status_code == 403
    assert client.get(f"/fields/{test_field.id}").status_code == 404  # unpublished
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})

    sign_in(client, other_coordinator)
    before = field_state(session, test_field.id)  # type: ignore[arg-type]
    assert client.get(edit_url).status_code == 403
    assert post(client, edit_url, valid_form(name="乗っ取り")).status_code == 403
    assert post(client, f"/coordinate/fields/{test_field.id}/blackouts",
                {"starts_at": "2030-01-01T09:00", "ends_at": "2030-01-02T09:00", "reason": "x"}).status_code == 403
    assert post(client, f"/coordinate/fields/{test_field.id}/coordinators",
                {"email": other_coordinator.email}).status_code == 403
    assert client.get(f"/fields/{test_field.id}").status_code == 404
    listing = client.get("/coordinate/fields")
    assert listing.status_code == 200 and f'id="field-{test_field.id}"' not in listing.text
    assert field_state(session, test_field.id) == before  # type: ignore[arg-type]
    assert client.get("/coordinate/fields/999999/edit").status_code == 404
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})

    sign_in(client, coordinator)
    assert client.get(edit_url).status_code == 200
    page = client.get(f"/fields/{test_field.id}")
    assert page.status_code == 200 and 'id="unpublished-notice"' in page.text
    assert f'id="field-{test_field.id}"' in client.get("/coordinate/fields").text
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})

    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    sign_in(client, admin)
    assert client.get(edit_url).status_code == 200
    assert f'id="field-{test_field.id}"' in client.get("/coordinate/fields").text


def test_coordinator_list_query_count(session: Session, client: TestClient[Litestar], coordinator: User,
                                      query_log: QueryLog) -> None:
    for n in range(3):
        create_field(session, coordinator, name=f"フィールド{n}")
    sign_in(client, coordinator)
    query_log.statements.clear()
    assert client.get("/coordinate/fields").status_code == 200
    with_three = query_log.count
    for n in range(3, 12):
        create_field(session, coordinator, name=f"フィールド{n}", published=False)
    query_log.statements.clear()
    page = client.get("/coordinate/fields")
    assert page.status_code == 200 and page.text.count('<tr id="field-') == 12
    assert query_log.count == with_three, str(query_log)


# --- assigning coordinators ----------------------------------------------------------------------


def test_assign_a_coordinator(session: Session, client: TestClient[Litestar], coordinator: User,
                              other_coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    resident = create_user(session, "resident@example.jp")
    sign_in(client, coordinator)
    url = f"/coordinate/fields/{test_field.id}/coordinators"
    for email in ("", "nobody@example.jp", resident.email, coordinator.email):
        response = post(client, url, {"email": email})
        assert response.status_code == 400, email
        assert 'href="#field-email"' in response.text
    assert audit_actions(session) == []
    response = post(client, url, {"email": "  Other-Coordinator@Example.JP "})
    assert response.status_code == 303
    assert session.get(TestFieldCoordinator, (test_field.id, other_coordinator.id)) is not None
    assert audit_actions(session) == ["test_field.coordinator_assigned"]
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    sign_in(client, other_coordinator)  # now manages the field
    edit = client.get(f"/coordinate/fields/{test_field.id}/edit")
    assert edit.status_code == 200 and "別の調整役" in edit.text


def test_remove_a_coordinator_but_never_the_last(session: Session, client: TestClient[Litestar], coordinator: User,
                                                 other_coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    stranger = create_field(session, other_coordinator, name="別のフィールド")
    sign_in(client, coordinator)
    only = post(client, f"/coordinate/fields/{test_field.id}/coordinators/{coordinator.id}/remove", {})
    assert only.status_code == 400 and "少なくとも1人" in only.text  # the last one stays
    assert 'id="remove-coordinator-' not in client.get(f"/coordinate/fields/{test_field.id}/edit").text
    not_one = post(client, f"/coordinate/fields/{test_field.id}/coordinators/{other_coordinator.id}/remove", {})
    assert not_one.status_code == 400
    # A coordinator of another field cannot touch this one's list.
    assert post(client, f"/coordinate/fields/{stranger.id}/coordinators/{other_coordinator.id}/remove",
                {}).status_code == 403
    assert audit_actions(session) == []

    session.add(TestFieldCoordinator(field_id=test_field.id, user_id=other_coordinator.id))  # type: ignore[arg-type]
    session.commit()
    edit = client.get(f"/coordinate/fields/{test_field.id}/edit").text
    assert f'id="remove-coordinator-{other_coordinator.id}"' in edit
    removed = post(client, f"/coordinate/fields/{test_field.id}/coordinators/{other_coordinator.id}/remove", {})
    assert removed.status_code == 303
    assert session.get(TestFieldCoordinator, (test_field.id, other_coordinator.id)) is None
    assert audit_actions(session) == ["test_field.coordinator_removed"]

    session.add(TestFieldCoordinator(field_id=test_field.id, user_id=other_coordinator.id))  # type: ignore[arg-type]
    session.commit()
    stepped_down = post(client, f"/coordinate/fields/{test_field.id}/coordinators/{coordinator.id}/remove", {})
    assert stepped_down.status_code == 303 and stepped_down.headers["location"] == f"/fields/{test_field.id}"
    assert client.get(f"/coordinate/fields/{test_field.id}/edit").status_code == 403  # no longer theirs


# --- blackouts -----------------------------------------------------------------------------------


def test_blackouts(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    session.add(Blackout(field_id=test_field.id, starts_at=utcnow() - timedelta(days=3),  # type: ignore[arg-type]
                         ends_at=utcnow() - timedelta(days=2), reason="終わった清掃"))
    session.commit()
    sign_in(client, coordinator)
    url = f"/coordinate/fields/{test_field.id}/blackouts"
    year = utcnow().year + 1
    response = post(client, url, {"starts_at": f"{year}-08-01T09:00", "ends_at": f"{year}-08-02T21:00",
                                  "reason": "高島平まつり"})
    assert response.status_code == 303
    blackout = session.exec(select(Blackout).where(Blackout.reason == "高島平まつり")).one()
    blackout_id = blackout.id
    assert blackout.starts_at == datetime(year, 8, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert blackout.ends_at == datetime(year, 8, 2, 12, 0, tzinfo=UTC)
    assert audit_actions(session) == ["test_field.blackout_added"]

    page = client.get(f"/fields/{test_field.id}")
    assert "高島平まつり" in page.text and "終わった清掃" not in page.text  # only upcoming ones
    edit = client.get(f"/coordinate/fields/{test_field.id}/edit")
    assert "高島平まつり" in edit.text and "終わった清掃" in edit.text
    assert_unique_ids(edit.text)

    for form, name in [
        ({"starts_at": f"{year}-08-02T09:00", "ends_at": f"{year}-08-01T09:00", "reason": "x"}, "ends_at"),
        ({"starts_at": f"{year}-08-02T09:00", "ends_at": f"{year}-08-02T09:00", "reason": "x"}, "ends_at"),
        ({"starts_at": "tomorrow", "ends_at": f"{year}-08-02T09:00", "reason": "x"}, "starts_at"),
        ({"starts_at": "", "ends_at": f"{year}-08-02T09:00", "reason": "x"}, "starts_at"),
        ({"starts_at": f"{year}-08-01T09:00", "ends_at": f"{year}-08-02T09:00", "reason": ""}, "reason"),
        ({"starts_at": f"{year}-08-01T09:00", "ends_at": f"{year}-08-02T09:00", "reason": "x" * 201}, "reason"),
    ]:
        response = post(client, url, form)
        assert response.status_code == 400, form
        assert f'href="#field-{name}"' in response.text, form
    assert len(session.exec(select(Blackout)).all()) == 2

    other = create_field(session, None, name="他のフィールド")
    assert post(client, f"/coordinate/fields/{test_field.id}/blackouts/{blackout.id + 1000}/delete",  # type: ignore[operator]
                {}).status_code == 400
    assert post(client, f"/coordinate/fields/{other.id}/blackouts/{blackout.id}/delete", {}).status_code == 403
    response = post(client, f"/coordinate/fields/{test_field.id}/blackouts/{blackout.id}/delete", {})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Blackout, blackout_id) is None
    assert audit_actions(session) == ["test_field.blackout_added", "test_field.blackout_deleted"]


# --- photos --------------------------------------------------------------------------------------


def upload(client: TestClient[Litestar], field_id: int, content: bytes, *, alt: str = "駅側から見た広場",
           filename: str = "plaza.png", content_type: str = "image/png") -> Any:
    return client.post(f"/coordinate/fields/{field_id}/photos",
                       data={"alt_text": alt, "_csrf_token": csrf_token(client)},
                       files={"file": (filename, content, content_type)}, follow_redirects=False)


def test_a_field_photo_loses_where_it_was_taken(session: Session, client: TestClient[Litestar],
                                               coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    sign_in(client, coordinator)
    original = gps_jpeg(camera="FieldCam")
    assert upload(client, test_field.id, original, filename="plaza.jpg",  # type: ignore[arg-type]
                  content_type="image/jpeg").status_code == 303
    photo = session.exec(select(TestFieldPhoto)).one()
    served = client.get(f"/fields/{test_field.id}/photos/{photo.id}").content
    with Image.open(io.BytesIO(served)) as image:
        exif = image.getexif()
    assert images.GPS_IFD not in exif and exif[0x0110] == "FieldCam"  # the camera stays, the place goes
    assert (photo.size_bytes, photo.sha256) == (len(served), hashlib.sha256(served).hexdigest())


def test_photos(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    sign_in(client, coordinator)
    content = png_bytes()
    response = upload(client, test_field.id, content)  # type: ignore[arg-type]
    assert response.status_code == 303, response.text[:2000]
    photo = session.exec(select(TestFieldPhoto)).one()
    assert photo.alt_text == "駅側から見た広場" and photo.content_type == "image/png"
    assert re.fullmatch(r"fields/[0-9a-f]{32}", photo.storage_key)
    assert audit_actions(session) == ["test_field.photo_added"]

    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    served = client.get(f"/fields/{test_field.id}/photos/{photo.id}")
    assert served.status_code == 200 and served.content == content
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]
    page = client.get(f"/fields/{test_field.id}")
    assert f'src="/fields/{test_field.id}/photos/{photo.id}" alt="駅側から見た広場"' in page.text
    assert client.get(f"/fields/{test_field.id + 1}/photos/{photo.id}").status_code == 404  # type: ignore[operator]

    test_field.published = False
    session.add(test_field)
    session.commit()
    assert client.get(f"/fields/{test_field.id}/photos/{photo.id}").status_code == 404
    sign_in(client, coordinator)
    private = client.get(f"/fields/{test_field.id}/photos/{photo.id}")
    assert private.status_code == 200 and "private" in private.headers["cache-control"]

    path = session.exec(select(TestFieldPhoto)).one().storage_key
    response = post(client, f"/coordinate/fields/{test_field.id}/photos/{photo.id}/delete", {})
    assert response.status_code == 303
    assert session.exec(select(TestFieldPhoto)).all() == []
    assert not (client.app.state.settings.upload_dir / path).exists()  # type: ignore[attr-defined]
    assert audit_actions(session) == ["test_field.photo_added", "test_field.photo_deleted"]


BAD_UPLOADS = [
    (EXECUTABLE, "photo.png", "説明", "file"),
    (HTML_PAGE, "photo.png", "説明", "file"),
    (SVG_IMAGE, "photo.svg", "説明", "file"),
    (b"%PDF-1.4\n%%EOF\n" * 2, "photo.pdf", "説明", "file"),
    (b"", "photo.png", "説明", "file"),
    (None, "", "説明", "file"),
    (png_bytes(), "photo.png", "", "alt_text"),
    (png_bytes(), "photo.png", "x" * 201, "alt_text"),
    (png_bytes(), "photo.png", "改行\nあり", "alt_text"),
]


def test_photo_upload_is_checked(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    sign_in(client, coordinator)
    folder = client.app.state.settings.upload_dir / "fields"  # type: ignore[attr-defined]
    for content, filename, alt, error in BAD_UPLOADS:
        if content is None:
            response = post(client, f"/coordinate/fields/{test_field.id}/photos", {"alt_text": alt})
        else:
            response = upload(client, test_field.id, content, alt=alt, filename=filename)  # type: ignore[arg-type]
        assert response.status_code == 400, (filename, alt)
        assert f'href="#field-{error}"' in response.text, (filename, alt)
    assert session.exec(select(TestFieldPhoto)).all() == []
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing left on disk
    assert audit_actions(session) == []


def test_photo_size_and_count_limits(session: Session, client: TestClient[Litestar], coordinator: User) -> None:
    test_field = create_field(session, coordinator)
    sign_in(client, coordinator)
    too_big = png_bytes() + b"\x00" * (10 * 1024 * 1024)
    response = upload(client, test_field.id, too_big)  # type: ignore[arg-type]
    assert response.status_code == 400 and 'href="#field-file"' in response.text
    for _ in range(10):
        assert upload(client, test_field.id, png_bytes()).status_code == 303  # type: ignore[arg-type]
    response = upload(client, test_field.id, png_bytes())  # type: ignore[arg-type]
    assert response.status_code == 400 and 'href="#field-file"' in response.text
    assert len(session.exec(select(TestFieldPhoto)).all()) == 10
    assert len(list((client.app.state.settings.upload_dir / "fields").glob("*"))) == 10  # type: ignore[attr-defined]


# --- public pages --------------------------------------------------------------------------------


def test_public_list_filters_and_pages(session: Session, client: TestClient[Litestar], coordinator: User,
                                       query_log: QueryLog) -> None:
    create_field(session, coordinator, name="A 公園", kind=FieldKind.PARK, area=Area.TAKASHIMADAIRA)
    create_field(session, coordinator, name="B 道路", kind=FieldKind.ROAD, area=Area.ITABASHI)
    create_field(session, coordinator, name="C 非公開", published=False)
    query_log.statements.clear()
    page = client.get("/fields")
    assert page.status_code == 200
    with_two = query_log.count
    assert "A 公園" in page.text and "B 道路" in page.text and "C 非公開" not in page.text
    assert "C 非公開" not in client.get("/fields?kind=park").text
    roads = client.get("/fields?kind=road").text
    assert "B 道路" in roads and "A 公園" not in roads
    itabashi = client.get("/fields?area=itabashi&kind=").text
    assert "B 道路" in itabashi and "A 公園" not in itabashi
    assert client.get("/fields?kind=<script>&area=9&page=abc").status_code == 200  # junk is ignored

    for n in range(25):
        create_field(session, coordinator, name=f"D {n:02d}")
    query_log.statements.clear()
    first = client.get("/fields")
    assert query_log.count == with_two, str(query_log)
    assert first.text.count('<li class="card" id="field-') == 20 and 'rel="next"' in first.text
    second = client.get("/fields?page=2")
    assert second.text.count('<li class="card" id="field-') == 7


def test_field_page(session: Session, client: TestClient[Litestar], coordinator: User, app: Litestar) -> None:
    test_field = create_field(session, coordinator, description="## 概要\n\n[危険](javascript:alert(1)) **太字**",
                              rules="- 火気厳禁", cancellation_rule="前日17時まで", contact="地域振興課\n03-1234-5678",
                              capacity=40, hours=[(0, 540, 1020), (5, 600, 900)],
                              requirements=[DocumentKind.INSURANCE, DocumentKind.DRONE_FLIGHT_PLAN])
    session.add(Blackout(field_id=test_field.id, starts_at=utcnow() + timedelta(days=3),  # type: ignore[arg-type]
                         ends_at=utcnow() + timedelta(days=4), reason="芝生の養生"))
    session.commit()
    page = client.get(f"/fields/{test_field.id}")
    assert page.status_code == 200
    text = page.text
    assert "<h3>概要</h3>" in text and "<strong>太字</strong>" in text and 'href="javascript:' not in text
    assert "火気厳禁" in text and "前日17時まで" in text and "03-1234-5678" in text and "芝生の養生" in text
    assert "09:00–17:00" in text and "10:00–15:00" in text
    assert text.count("休み") + text.count("Closed all day") >= 5
    for label in ("保険", "ドローン") if "保険" in text else ("Insurance certificate", "Drone flight plan"):
        assert label in text
    assert "東京都板橋区高島平8丁目" in text
    link = "https://www.openstreetmap.org/?mlat=35.789000&amp;mlon=139.661000#map=17/35.789000/139.661000"
    assert link in text
    settings = app.state.settings
    assert 'data-lat="35.789"' in text and 'data-lng="139.661"' in text
    assert f'data-tile-url="{settings.map_tile_url}"' in text
    assert "leaflet-1.9.4/leaflet.js" in text and "leaflet-1.9.4/leaflet.css" in text and "js/field-map.js" in text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) is None  # no inline scripts (CSP)
    assert " style=" not in text
    assert_unique_ids(text)
    assert "leaflet" not in client.get("/fields").text  # only the field page loads the map


def test_field_page_without_coordinates_or_tiles(session: Session, client: TestClient[Litestar],
                                                 coordinator: User) -> None:
    test_field = create_field(session, coordinator, latitude=None, longitude=None)
    page = client.get(f"/fields/{test_field.id}")
    assert page.status_code == 200
    assert "東京都板橋区高島平8丁目" in page.text and 'id="field-map"' not in page.text
    assert "openstreetmap.org/?mlat" not in page.text
    assert client.get("/fields/999999").status_code == 404
