"""KPI tracking over time through the real app: the organisation enters dated measurements, the department
in charge confirms them or sends them back, the organisation corrects them; the chart per KPI with its table
and CSV; the overview of every trial's KPIs; the trial form's numeric baseline and target; open data,
download my data, notifications; who may do what; hostile input; query counts."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, func, select

from cocreate import components
from cocreate.accounts import self_service
from cocreate.accounts.models import Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE
from cocreate.mail import OutboundEmail
from cocreate.notifications.models import Notification
from labs import kpis
from labs.kpi_values import number_in_text, parse_number
from labs.models import (
    KpiMeasurementStatus,
    Trial,
    TrialKpi,
    TrialKpiMeasurement,
    TrialOrganisation,
    TrialStatus,
)
from tests.factories import Ward, create_organisation, create_user, create_ward, sign_in
from tests.helpers import QueryLog, assert_no_live_markup, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="KPI rules are Python; the SQL that differs runs on both below")

S = KpiMeasurementStatus
XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))'


@dataclass
class World(Ward):
    other_member: User
    other_organisation: Organisation
    english: User
    coordinator: User
    trial: Trial
    kpi: TrialKpi


def today() -> date:
    return utcnow().astimezone(WARD_TIMEZONE).date()


@pytest.fixture
def w(session: Session, app: Litestar) -> World:
    ward = create_ward(session, phase="decided")
    other_member = create_user(session, "other-member@example.jp")
    other_organisation = create_organisation(session, "別会社株式会社", admin=other_member, verified=True)
    english = create_user(session, "english@example.jp", display_name="Emma", locale="en")
    from cocreate.accounts.models import OrganisationMember
    session.add(OrganisationMember(organisation_id=ward.organisation.id, user_id=english.id))  # type: ignore[arg-type]
    trial = make_trial(session, ward.department.id, ward.organisation.id, ward.challenge.id)  # type: ignore[arg-type]
    kpi = session.exec(select(TrialKpi).where(TrialKpi.trial_id == trial.id)).first()
    assert kpi is not None
    return World(**vars(ward), other_member=other_member, other_organisation=other_organisation, english=english,
                 coordinator=create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR]),
                 trial=trial, kpi=kpi)


def make_trial(session: Session, department_id: int, organisation_id: int, challenge_id: int | None = None, *,
               title: str = "高島平モビリティ実証", published: bool = True, kpi_count: int = 1) -> Trial:
    trial = Trial(title=title, summary="概要", status=TrialStatus.RUNNING, published=published,
                  department_id=department_id, challenge_id=challenge_id, starts_on=today() - timedelta(days=60),
                  ends_on=today() + timedelta(days=60))
    session.add(trial)
    session.flush()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation_id, is_lead=True))  # type: ignore[arg-type]
    for position in range(kpi_count):
        session.add(TrialKpi(trial_id=trial.id, position=position, indicator=f"月間の利用回数{position or ''}",  # type: ignore[arg-type]
                             unit="回", baseline="400", target="2,000", baseline_value=400, target_value=2000))
    session.commit()
    session.refresh(trial)
    return trial


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False)


def entry_url(w: World) -> str:
    return f"/trials/{w.trial.id}/kpis/{w.kpi.id}/measurements/new"


def measurement_url(w: World, measurement_id: int | None, action: str = "") -> str:
    return f"/trials/{w.trial.id}/kpis/measurements/{measurement_id}" + (f"/{action}" if action else "")


def add(session: Session, kpi: TrialKpi, day: date, value: float, status: KpiMeasurementStatus = S.CONFIRMED,
        **overrides: Any) -> TrialKpiMeasurement:
    measurement = TrialKpiMeasurement(kpi_id=kpi.id, measured_on=day, value=value, status=status, **overrides)  # type: ignore[arg-type]
    session.add(measurement)
    session.commit()
    session.refresh(measurement)
    return measurement


def measurements(session: Session) -> list[TrialKpiMeasurement]:
    session.expire_all()
    return list(session.exec(select(TrialKpiMeasurement).order_by(col(TrialKpiMeasurement.id))).all())


def actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.exec(select(AuditEntry.action).where(AuditEntry.target_type == kpis.TARGET)
                             .order_by(col(AuditEntry.id))).all())


def table_rows(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table is not None, table_id
    body = table.group(1).split("<tbody>", 1)[1]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


# --- the whole flow ------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="row locks, the float column and the notifications' upsert")
def test_the_organisation_enters_and_the_department_confirms(client: TestClient[Litestar], session: Session,
                                                             w: World) -> None:
    sign_in(client, w.member)
    page = client.get(f"/trials/{w.trial.id}")
    assert f'id="kpi-{w.kpi.id}-measure"' in page.text and 'id="kpi-pending-none"' in page.text
    form = client.get(entry_url(w))
    assert form.status_code == 200 and 'name="measured_on"' in form.text
    day = today() - timedelta(days=3)
    response = post(client, entry_url(w), {"measured_on": day.isoformat(), "value": "１，２５０", "note": "駅前ポートの集計"})
    assert response.status_code == 303, response.text[:3000]
    [measurement] = measurements(session)
    assert (measurement.value, measurement.measured_on, measurement.status, measurement.entered_by_id) == (
        1250.0, day, S.SUBMITTED, w.member.id)
    assert actions(session) == ["kpi.measurement_submitted"]
    told = session.exec(select(Notification.user_id, Notification.kind).where(
        Notification.kind == kpis.SUBMITTED_KIND)).all()
    assert told == [(w.staff.id, kpis.SUBMITTED_KIND)]  # the department in charge, not other staff

    # Not public yet: the visitor's chart has no data; the organisation's own list shows it waiting.
    assert f'id="measurement-{measurement.id}"' in client.get(f"/trials/{w.trial.id}").text
    with TestClient(client.app, base_url="http://testserver.local") as visitor:
        public = visitor.get(f"/trials/{w.trial.id}").text
        assert f'id="kpi-{w.kpi.id}-chart-empty"' in public and "kpi-pending" not in public
        assert visitor.get(measurement_url(w, measurement.id), follow_redirects=False).status_code == 303

    # The department confirms it.
    client.cookies.clear()
    sign_in(client, w.staff)
    review = client.get(measurement_url(w, measurement.id))
    assert review.status_code == 200 and 'id="confirm-measurement"' in review.text
    assert 'id="correction-form"' not in review.text
    assert post(client, measurement_url(w, measurement.id, "decide"), {"action": "confirm"}).status_code == 303
    session.refresh(measurement)
    assert (measurement.status, measurement.reviewed_by_id) == (S.CONFIRMED, w.staff.id)
    assert actions(session) == ["kpi.measurement_submitted", "kpi.measurement_confirmed"]
    told = set(session.exec(select(Notification.user_id).where(Notification.kind == kpis.DECIDED_KIND)).all())
    assert told == {w.member.id, w.english.id}
    english = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == w.english.email)).one()
    assert "confirmed" in english.body_text and "月間の利用回数" in english.body_text
    assert f"/trials/{w.trial.id}/kpis/measurements/{measurement.id}" in english.body_text

    # Now public: the chart's table and CSV hold it, with the baseline and the target.
    with TestClient(client.app, base_url="http://testserver.local") as visitor:
        public = visitor.get(f"/trials/{w.trial.id}").text
        assert table_rows(public, f"kpi-{w.kpi.id}-chart-table") == [[day.isoformat(), "1250", "400", "2000"]]
        assert f'id="kpi-{w.kpi.id}-latest"' in public and "1,250" in public
        assert "53%" in public  # (1250 - 400) / (2000 - 400)
        data = visitor.get(f"/trials/{w.trial.id}/kpis/{w.kpi.id}.csv")
        assert data.status_code == 200 and data.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(data.content.decode("utf-8"))))
        assert rows[1:] == [[day.isoformat(), "1250", "400", "2000"]] and len(rows[0]) == 4
        assert visitor.get(f"/trials/{w.trial.id}/kpis/{w.kpi.id}.csv?bom=1").content.startswith(b"\xef\xbb\xbf")
    client.cookies.clear()
    sign_in(client, w.resident)
    assert client.get(measurement_url(w, measurement.id)).status_code == 200  # confirmed: public


def test_sent_back_with_a_reason_then_corrected(client: TestClient[Litestar], session: Session, w: World) -> None:
    measurement = add(session, w.kpi, today() - timedelta(days=1), 9999, S.SUBMITTED, entered_by_id=w.member.id)
    sign_in(client, w.staff)
    refused = post(client, measurement_url(w, measurement.id, "decide"), {"action": "reject", "reason": "  "})
    assert refused.status_code == 400 and 'id="field-reason-error"' in refused.text
    assert post(client, measurement_url(w, measurement.id, "decide"), {"action": "maybe"}).status_code == 400
    assert measurements(session)[0].status is S.SUBMITTED and actions(session) == []
    assert post(client, measurement_url(w, measurement.id, "decide"),
                {"action": "reject", "reason": "桁が違うようです。"}).status_code == 303
    session.refresh(measurement)
    assert (measurement.status, measurement.review_reason) == (S.REJECTED, "桁が違うようです。")
    again = post(client, measurement_url(w, measurement.id, "decide"), {"action": "confirm"})
    assert again.status_code == 400 and "すでに確認または差し戻し" in again.text  # decided once
    member_told = session.exec(select(Notification).where(Notification.user_id == w.member.id)).one()
    assert member_told.kind == kpis.DECIDED_KIND and member_told.url == measurement_url(w, measurement.id)

    client.cookies.clear()
    sign_in(client, w.member)
    page = client.get(measurement_url(w, measurement.id))
    assert "桁が違うようです。" in page.text and 'id="correction-form"' in page.text
    assert 'id="decision-form"' not in page.text
    day = today() - timedelta(days=2)
    assert post(client, measurement_url(w, measurement.id, "correct"),
                {"measured_on": day.isoformat(), "value": "999.9", "note": "訂正"}).status_code == 303
    session.refresh(measurement)
    assert (measurement.status, measurement.value, measurement.measured_on) == (S.SUBMITTED, 999.9, day)
    assert actions(session) == ["kpi.measurement_sent_back", "kpi.measurement_corrected"]
    # Submitted again: not correctable until it is sent back again.
    refused = post(client, measurement_url(w, measurement.id, "correct"), {"measured_on": day.isoformat(), "value": "1"})
    assert refused.status_code == 400 and "差し戻された計測値だけ" in refused.text
    session.refresh(measurement)
    assert measurement.value == 999.9


# --- who may do what -----------------------------------------------------------------------------

PERSONAS = ("member", "other_member", "staff", "other_staff", "resident", "coordinator", "admin", None)


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_enters_measurements(client: TestClient[Litestar], session: Session, w: World, persona: str | None) -> None:
    if persona:
        sign_in(client, getattr(w, persona))
    allowed = persona == "member"
    page = client.get(entry_url(w), follow_redirects=False)
    expected = 200 if allowed else (303 if persona is None else 403)
    assert page.status_code == expected
    response = post(client, entry_url(w), {"measured_on": today().isoformat(), "value": "10"})
    assert response.status_code == (303 if allowed or persona is None else 403)
    if persona is None:
        assert response.headers["location"].startswith("/account/sign-in")
    assert len(measurements(session)) == int(allowed)
    trial_page = client.get(f"/trials/{w.trial.id}").text
    assert (f'id="kpi-{w.kpi.id}-measure"' in trial_page) == allowed


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_confirms_and_who_sees_pending_ones(client: TestClient[Litestar], session: Session, w: World,
                                                persona: str | None) -> None:
    measurement = add(session, w.kpi, today(), 10, S.SUBMITTED, entered_by_id=w.member.id)
    if persona:
        sign_in(client, getattr(w, persona))
    sees = persona in ("member", "staff")
    assert client.get(measurement_url(w, measurement.id), follow_redirects=False).status_code == (
        200 if sees else 303 if persona is None else 404)
    assert ('id="kpi-pending"' in client.get(f"/trials/{w.trial.id}").text) == sees
    response = post(client, measurement_url(w, measurement.id, "decide"), {"action": "confirm"})
    if persona == "staff":
        assert response.status_code == 303
    elif persona is None:
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    else:
        assert response.status_code == (403 if sees else 404)
    assert measurements(session)[0].status is (S.CONFIRMED if persona == "staff" else S.SUBMITTED)


def test_staff_of_a_department_co_owning_the_challenge_confirm(client: TestClient[Litestar], session: Session,
                                                              w: World) -> None:
    from proposals.models import ChallengeDepartment
    session.add(ChallengeDepartment(challenge_id=w.challenge.id, department_id=w.other_department.id))
    session.commit()
    measurement = add(session, w.kpi, today(), 10, S.SUBMITTED)
    sign_in(client, w.other_staff)
    assert post(client, measurement_url(w, measurement.id, "decide"), {"action": "confirm"}).status_code == 303


def test_a_measurement_of_another_trial_is_not_found(client: TestClient[Litestar], session: Session, w: World) -> None:
    other = make_trial(session, w.department.id, w.other_organisation.id, title="別の実証")  # type: ignore[arg-type]
    other_kpi = session.exec(select(TrialKpi).where(TrialKpi.trial_id == other.id)).one()
    measurement = add(session, other_kpi, today(), 10, S.SUBMITTED)
    sign_in(client, w.member)
    assert client.get(f"/trials/{w.trial.id}/kpis/{other_kpi.id}/measurements/new").status_code == 404
    assert client.get(measurement_url(w, measurement.id)).status_code == 404
    client.cookies.clear()
    sign_in(client, w.staff)
    assert post(client, measurement_url(w, measurement.id, "decide"), {"action": "confirm"}).status_code == 404
    assert measurements(session)[0].status is S.SUBMITTED


def test_unpublished_trials_hide_their_kpis(client: TestClient[Litestar], session: Session, w: World) -> None:
    w.trial.published = False
    session.add(w.trial)
    session.commit()
    add(session, w.kpi, today(), 10)
    assert client.get(f"/trials/{w.trial.id}/kpis/{w.kpi.id}.csv").status_code == 404
    assert f"overview-trial-{w.trial.id}" not in client.get("/trials/kpis").text
    assert list(next(d for d in components.datasets() if d.name == "kpi_measurements").rows(session)) == []


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "field"), [
    ({"value": "abc"}, "value"),
    ({"value": "NaN"}, "value"),
    ({"value": "inf"}, "value"),
    ({"value": "-Infinity"}, "value"),
    ({"value": "1e5"}, "value"),
    ({"value": "9" * 14}, "value"),
    ({"value": "0x10"}, "value"),
    ({"value": ""}, "value"),
    ({"measured_on": ""}, "measured_on"),
    ({"measured_on": "tomorrow"}, "measured_on"),
    ({"measured_on": "1999-12-31"}, "measured_on"),
    ({"note": "x" * 1001}, "note"),
    ({"note": "制御\x00文字"}, "note"),
])
def test_bad_input_is_refused_and_changes_nothing(client: TestClient[Litestar], session: Session, w: World,
                                                  data: dict[str, str], field: str) -> None:
    sign_in(client, w.member)
    response = post(client, entry_url(w), {"measured_on": today().isoformat(), "value": "10", **data})
    assert response.status_code == 400, response.text[:2000]
    assert f'id="field-{field}-error"' in response.text
    assert measurements(session) == [] and actions(session) == []


@pytest.mark.parametrize(("offset", "ok"), [(1, False), (0, True), (-60 - 366, True), (-60 - 367, False)])
def test_dates_not_in_the_future_nor_long_before_the_trial(client: TestClient[Litestar], session: Session, w: World,
                                                           offset: int, ok: bool) -> None:
    sign_in(client, w.member)
    response = post(client, entry_url(w), {"measured_on": (today() + timedelta(days=offset)).isoformat(), "value": "1"})
    assert response.status_code == (303 if ok else 400)
    if not ok:
        assert 'id="field-measured_on-error"' in response.text
    assert len(measurements(session)) == int(ok)


def test_hostile_notes_stay_text(client: TestClient[Litestar], session: Session, w: World) -> None:
    sign_in(client, w.member)
    assert post(client, entry_url(w), {"measured_on": today().isoformat(), "value": "-12.5", "note": XSS}
                ).status_code == 303
    [measurement] = measurements(session)
    assert measurement.note == XSS and measurement.value == -12.5
    page = client.get(measurement_url(w, measurement.id)).text
    assert_no_live_markup(page)
    assert "<script>alert(1)" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    trial_page = client.get(f"/trials/{w.trial.id}").text
    assert "<script>alert(1)" not in trial_page
    client.cookies.clear()
    sign_in(client, w.staff)
    assert post(client, measurement_url(w, measurement.id, "decide"), {"action": "reject", "reason": XSS}
                ).status_code == 303
    client.cookies.clear()
    sign_in(client, w.member)
    assert_no_live_markup(client.get(measurement_url(w, measurement.id)).text)


def test_numbers_as_people_type_them() -> None:
    assert parse_number("1,250") == 1250 and parse_number("１２．５") == 12.5 and parse_number(" -3 ") == -3
    assert parse_number("+7") == 7 and parse_number("-0") == 0 and str(parse_number("-0")) == "0.0"
    for bad in ("nan", "inf", "1e3", "", "1.2.3", "1,2a", "½", "1" * 14, "--1"):
        assert parse_number(bad) is None, bad
    assert number_in_text("1,150人/日") == 1150 and number_in_text("未計測") is None
    assert number_in_text("約８０％") == 80 and number_in_text("") is None
    assert kpis.progress(400, 2000, 1200) == 50 and kpis.progress(None, 80, 40) == 50
    assert kpis.progress(10, 10, 12) is None and kpis.progress(1, 2, None) is None


# --- the trial form's numbers --------------------------------------------------------------------


def trial_form(**overrides: Any) -> dict[str, Any]:
    data = {"title": "高島平モビリティ実証", "summary": "概要", "description": "説明", "status": "running",
            "starts_on": "2026-12-01", "ends_on": "2027-03-31", "retention_days": "90", "published": "yes",
            "kpis-0-indicator": "月間の利用回数", "kpis-0-unit": "回", "kpis-0-baseline": "約400回",
            "kpis-0-target": "２，０００回"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_trial_form_sets_the_numbers_of_baseline_and_target(client: TestClient[Litestar], session: Session,
                                                                w: World) -> None:
    sign_in(client, w.member)
    kept = add(session, w.kpi, today(), 900)
    # Texts changed on the KPI's own row: it stays the same KPI with its measurements; numbers from the texts.
    assert post(client, f"/trials/{w.trial.id}/edit", trial_form(**{"kpis-0-id": str(w.kpi.id)})).status_code == 303
    session.expire_all()
    [kpi] = session.exec(select(TrialKpi).where(TrialKpi.trial_id == w.trial.id)).all()
    assert (kpi.id, kpi.baseline, kpi.baseline_value, kpi.target_value) == (w.kpi.id, "約400回", 400, 2000)
    assert session.get(TrialKpiMeasurement, kept.id) is not None
    form = client.get(f"/trials/{w.trial.id}/edit").text
    assert f'name="kpis-0-id" value="{w.kpi.id}"' in form and 'name="kpis-0-target_value"' in form
    # Numbers entered win over the texts, and are shown again in the form.
    assert post(client, f"/trials/{w.trial.id}/edit", trial_form(**{
        "kpis-0-id": str(w.kpi.id), "kpis-0-baseline": "未計測", "kpis-0-baseline_value": "３５０．５",
        "kpis-0-target_value": "1,800"})).status_code == 303
    session.expire_all()
    kpi = session.get(TrialKpi, w.kpi.id)  # type: ignore[assignment]
    assert (kpi.baseline_value, kpi.target_value) == (350.5, 1800)
    assert 'value="350.5"' in client.get(f"/trials/{w.trial.id}/edit").text
    # A bad number is refused under its field; a KPI with measurements cannot be removed.
    bad = post(client, f"/trials/{w.trial.id}/edit", trial_form(**{"kpis-0-id": str(w.kpi.id),
                                                                   "kpis-0-target_value": "NaN"}))
    assert bad.status_code == 400 and 'id="field-kpis-0-target_value-error"' in bad.text
    removed = post(client, f"/trials/{w.trial.id}/edit", trial_form(**{
        "kpis-0-id": str(w.kpi.id), "kpis-0-remove": "yes", "kpis-1-indicator": "満足度"}))
    assert removed.status_code == 400 and "削除できません" in removed.text
    session.expire_all()
    assert [k.id for k in session.exec(select(TrialKpi).where(TrialKpi.trial_id == w.trial.id))] == [w.kpi.id]


def test_a_kpi_id_of_another_trial_makes_a_new_kpi(client: TestClient[Litestar], session: Session, w: World) -> None:
    other = make_trial(session, w.department.id, w.other_organisation.id, title="別の実証")  # type: ignore[arg-type]
    other_kpi = session.exec(select(TrialKpi).where(TrialKpi.trial_id == other.id)).one()
    sign_in(client, w.member)
    assert post(client, f"/trials/{w.trial.id}/edit", trial_form(**{
        "kpis-0-id": str(other_kpi.id), "kpis-0-indicator": "乗っ取り"})).status_code == 303
    session.expire_all()
    assert session.get(TrialKpi, other_kpi.id).indicator == "月間の利用回数"  # type: ignore[union-attr]
    assert [k.indicator for k in session.exec(select(TrialKpi).where(TrialKpi.trial_id == w.trial.id))] == ["乗っ取り"]


# --- charts, overview, query counts --------------------------------------------------------------


def test_the_chart_table_equals_the_confirmed_data(client: TestClient[Litestar], session: Session, w: World) -> None:
    start = today() - timedelta(days=50)
    for month, value in enumerate((450, 700.25, 1100)):
        add(session, w.kpi, start + timedelta(days=month * 20), value)
    add(session, w.kpi, today(), 5000, S.SUBMITTED)
    add(session, w.kpi, today(), 6000, S.REJECTED)
    page = client.get(f"/trials/{w.trial.id}").text
    expected = [[(start + timedelta(days=20 * i)).isoformat(), shown, "400", "2000"]
                for i, shown in enumerate(("450", "700.2", "1100"))]
    assert table_rows(page, f"kpi-{w.kpi.id}-chart-table") == expected
    assert f'id="kpi-{w.kpi.id}-chart"' in page and "<svg" in page and "5000" not in page and "6000" not in page
    rows = list(csv.reader(io.StringIO(client.get(f"/trials/{w.trial.id}/kpis/{w.kpi.id}.csv").text)))
    assert rows[1:] == expected
    assert client.get(f"/trials/{w.trial.id}/kpis/{w.kpi.id}.json").status_code == 404
    assert client.get(f"/trials/{w.trial.id}/kpis/abc.csv").status_code == 404


def test_the_trial_page_reads_kpis_without_n_plus_1(client: TestClient[Litestar], session: Session, w: World,
                                                     query_log: QueryLog) -> None:
    sign_in(client, w.staff)
    add(session, w.kpi, today(), 1)
    add(session, w.kpi, today(), 2, S.SUBMITTED)
    client.get(f"/trials/{w.trial.id}")
    query_log.statements.clear()
    client.get(f"/trials/{w.trial.id}")
    one = query_log.count
    for position in range(1, 6):
        kpi = TrialKpi(trial_id=w.trial.id, position=position, indicator=f"指標{position}", baseline="0", target="10",  # type: ignore[arg-type]
                       baseline_value=0, target_value=10)
        session.add(kpi)
        session.commit()
        for day in range(6):
            add(session, kpi, today() - timedelta(days=day), day)
            add(session, kpi, today() - timedelta(days=day), day + 100, S.SUBMITTED)
    query_log.statements.clear()
    page = client.get(f"/trials/{w.trial.id}").text
    assert query_log.count == one, str(query_log)
    assert page.count('class="kpi-track"') == 6 and page.count("<svg") >= 6


@pytest.mark.databases("sqlite", "postgresql", why="the window query of the latest values and the paging SQL")
def test_the_overview_pages_in_the_database_in_at_most_ten_queries(client: TestClient[Litestar], session: Session,
                                                                   w: World, query_log: QueryLog) -> None:
    add(session, w.kpi, today() - timedelta(days=10), 800)
    add(session, w.kpi, today(), 1200)
    add(session, w.kpi, today(), 1999, S.SUBMITTED)
    client.get("/trials/kpis")
    query_log.statements.clear()
    page = client.get("/trials/kpis")
    assert page.status_code == 200 and query_log.count <= 10, str(query_log)
    one = query_log.count
    assert re.search(rf'id="overview-kpi-{w.kpi.id}-latest">1,200', page.text)
    assert f'id="overview-kpi-{w.kpi.id}-percent">50%' in page.text and "<meter" in page.text
    for i in range(24):
        trial = make_trial(session, w.department.id, w.organisation.id, title=f"実証 {i}", kpi_count=3)  # type: ignore[arg-type]
        kpi = session.exec(select(TrialKpi).where(TrialKpi.trial_id == trial.id)).first()
        add(session, kpi, today(), i)  # type: ignore[arg-type]
    make_trial(session, w.department.id, w.organisation.id, title="非公開の実証", published=False)  # type: ignore[arg-type]
    query_log.statements.clear()
    first = client.get("/trials/kpis").text
    assert query_log.count == one, str(query_log)
    assert first.count('class="kpi-overview-trial"') == 20 and "非公開の実証" not in first
    second = client.get("/trials/kpis?page=2").text
    assert second.count('class="kpi-overview-trial"') == 5
    assert client.get("/trials/kpis?page=abc").status_code == 200


# --- open data, download my data, demo-free services ---------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="the dataset's chunked query")
def test_the_dataset_holds_confirmed_measurements_of_published_trials_only(session: Session, w: World) -> None:
    confirmed = add(session, w.kpi, today(), 1234.5, note="秘密のメモ", reviewed_at=utcnow())
    add(session, w.kpi, today(), 99, S.SUBMITTED, note="未確認")
    add(session, w.kpi, today(), 98, S.REJECTED, review_reason="差し戻し理由")
    hidden = make_trial(session, w.department.id, w.organisation.id, title="非公開", published=False)  # type: ignore[arg-type]
    add(session, session.exec(select(TrialKpi).where(TrialKpi.trial_id == hidden.id)).one(), today(), 7)
    [dataset] = [d for d in components.datasets() if d.name == "kpi_measurements"]
    rows = list(dataset.rows(session))
    assert [(r["id"], r["value"], r["baseline"], r["target"], r["trial_title"]) for r in rows] == [
        (confirmed.id, 1234.5, 400, 2000, w.trial.title)]
    assert set(rows[0]) == {c.name for c in dataset.columns}
    assert "秘密のメモ" not in str(rows) and "差し戻し理由" not in str(rows)


def test_download_my_data_holds_my_measurements(session: Session, w: World) -> None:
    mine = add(session, w.kpi, today(), 5, S.REJECTED, entered_by_id=w.member.id, note="私のメモ", review_reason="理由")
    add(session, w.kpi, today(), 6, S.SUBMITTED, entered_by_id=w.english.id, note="他人のメモ")
    data = self_service.export_data(session, Principal.load(session, w.member))
    rows = data["kpi_measurements"]
    assert [(r["id"], r["note"], r["status"], r["review_reason"]) for r in rows] == [(mine.id, "私のメモ", S.REJECTED, "理由")]
    assert "他人のメモ" not in self_service.export_json(data).decode()


def test_services_refuse_the_wrong_people_directly(session: Session, settings: Any, w: World) -> None:
    from cocreate.errors import Forbidden
    form = kpis.MeasurementForm(measured_on=today().isoformat(), value="3")
    with pytest.raises(Forbidden):
        kpis.add_measurement(session, settings, Principal.load(session, w.staff), w.trial.id, w.kpi.id, form)  # type: ignore[arg-type]
    made = kpis.add_measurement(session, settings, Principal.load(session, w.member), w.trial.id, w.kpi.id, form)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        kpis.decide(session, settings, Principal.load(session, w.member), w.trial.id, made.id,  # type: ignore[arg-type]
                    kpis.DecisionForm(action="confirm"))
    assert session.exec(select(func.count()).select_from(TrialKpiMeasurement)).one() == 1
