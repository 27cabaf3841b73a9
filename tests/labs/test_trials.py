"""Trials (実証プロジェクト) through the real app: starting one from a selected proposal or as a ward-run
trial, editing, progress updates with photos, the results report, the public pages with "you said, we
did", the read API, and who may do what."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Organisation, Role, User
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.files import images
from labs.models import Trial, TrialKpi, TrialOrganisation, TrialStatus, TrialUpdate, TrialUpdatePhoto
from proposals.models import (
    Challenge,
    DecisionOutcome,
    Phase,
    PhaseChange,
    ProposalKpi,
    ProposalOrganisation,
)
from tests.factories import (
    Ward,
    create_organisation,
    create_user,
    create_ward,
    sign_in,
)
from tests.helpers import QueryLog, assert_no_live_markup, csrf_token
from tests.proposals.staff_helpers import png_bytes
from tests.proposals.voices.helpers import gps_jpeg

pytestmark = pytest.mark.databases("sqlite", why="trial rules are Python; constraints and paging SQL run on both")

PNG = png_bytes()
JPEG = gps_jpeg()  # a real photo that says where it was taken
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"






@dataclass
class World(Ward):
    """The usual cast on a decided challenge whose proposal was selected (with a partner and KPIs), a
    coordinator, and organisations around it: another one, an unverified one."""

    coordinator: User
    other_member: User
    partner: Organisation
    other_organisation: Organisation
    unverified: Organisation


@pytest.fixture
def w(session: Session, app: Litestar) -> World:
    ward = create_ward(session, phase="decided", staff_email="staff@example.jp", member_name="モビリティ担当")
    ward.organisation.corporate_number = "7000012050002"
    other_member = create_user(session, "other-member@example.jp")
    partner = create_organisation(session, "板橋大学", verified=True)
    other_organisation = create_organisation(session, "別会社株式会社", admin=other_member, verified=True)
    unverified = create_organisation(session, "未確認株式会社")
    challenge, proposal = ward.challenge, ward.proposal
    challenge.decisions_published_at = utcnow()
    proposal.decision = DecisionOutcome.SELECTED
    proposal.decided_at = utcnow()
    session.add_all([ward.organisation, challenge, proposal,
                     ProposalOrganisation(proposal_id=proposal.id, organisation_id=partner.id, is_lead=False,
                                          confirmed_at=utcnow()),
                     ProposalKpi(proposal_id=proposal.id, position=0, indicator="利用者数", baseline="0",
                                 target="500", unit="人/月"),
                     ProposalKpi(proposal_id=proposal.id, position=1, indicator="満足度", baseline="",
                                 target="80", unit="%")])
    session.commit()
    return World(**vars(ward), coordinator=create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR]),
                 other_member=other_member, partner=partner, other_organisation=other_organisation,
                 unverified=unverified)


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False,
                       **kwargs)


def make_trial(session: Session, w: World, *, published: bool = True, title: str = "高島平モビリティ実証",
               status: TrialStatus = TrialStatus.RUNNING, organisation: Organisation | None = None,
               challenge: Challenge | None = None, **overrides: Any) -> Trial:
    trial = Trial(title=title, summary="概要です。", description="## 内容\n\n実証します。", status=status,
                  published=published, department_id=w.department.id, starts_on=date(2026, 12, 1),
                  ends_on=date(2027, 3, 31), challenge_id=challenge.id if challenge else None, **overrides)
    session.add(trial)
    session.flush()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=(organisation or w.organisation).id,  # type: ignore[arg-type]
                                  is_lead=True))
    session.add(TrialKpi(trial_id=trial.id, position=0, indicator="利用者数", unit="人", baseline="0", target="500"))  # type: ignore[arg-type]
    session.commit()
    session.refresh(trial)
    return trial


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def audit_actions(session: Session, trial_id: int | None) -> list[str]:
    session.expire_all()
    return list(session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "trial",
                                                             AuditEntry.target_id == str(trial_id))
                             .order_by(col(AuditEntry.id))).all())


def trial_count(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Trial)).one()


def edit_form(**overrides: Any) -> dict[str, Any]:
    data = {"title": "高島平モビリティ実証", "summary": "概要", "description": "説明", "status": "running",
            "starts_on": "2026-12-01", "ends_on": "2027-03-31", "retention_days": "120", "published": "yes",
            "kpis-0-indicator": "利用者数", "kpis-0-unit": "人", "kpis-0-baseline": "0", "kpis-0-target": "500"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- starting a trial from a selected proposal ---------------------------------------------------


def test_owning_staff_start_a_trial_from_a_selected_proposal(client: TestClient[Litestar], session: Session,
                                                              w: World) -> None:
    sign_in(client, w.staff)
    page = client.get(f"/proposals/{w.proposal.id}")
    assert 'id="start-trial"' in page.text

    response = post(client, f"/proposals/{w.proposal.id}/trial")
    assert response.status_code == 303, response.text
    trial = session.exec(select(Trial)).one()
    assert response.headers["location"] == f"/trials/{trial.id}/edit"
    assert (trial.proposal_id, trial.challenge_id, trial.department_id) == (w.proposal.id, w.challenge.id,
                                                                           w.department.id)
    assert (trial.title, trial.summary, trial.description) == (w.proposal.title, w.proposal.summary,
                                                               w.proposal.description)
    assert trial.status is TrialStatus.PLANNED and not trial.published
    organisations = {row.organisation_id: row.is_lead for row in session.exec(select(TrialOrganisation))}
    assert organisations == {w.organisation.id: True, w.partner.id: False}
    kpis = session.exec(select(TrialKpi).order_by(col(TrialKpi.position))).all()
    assert [(k.indicator, k.unit, k.baseline, k.target) for k in kpis] == [("利用者数", "人/月", "0", "500"),
                                                                          ("満足度", "%", "", "80")]
    session.refresh(w.challenge)
    assert w.challenge.phase is Phase.TRIAL
    change = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == w.challenge.id)).one()
    assert (change.from_phase, change.to_phase, change.changed_by_id) == (Phase.DECIDED, Phase.TRIAL, w.staff.id)
    assert audit_actions(session, trial.id) == ["trial.created_from_proposal"]

    # one trial per proposal: a second attempt says so and links to it
    again = post(client, f"/proposals/{w.proposal.id}/trial")
    assert again.status_code == 409
    assert "既に" in again.text or "already" in again.text
    assert f'href="/trials/{trial.id}"' in again.text
    assert trial_count(session) == 1

    # the proposal page links to the (unpublished) trial for editors, not for the public
    assert f'href="/trials/{trial.id}"' in client.get(f"/proposals/{w.proposal.id}").text
    with TestClient(client.app, base_url="http://testserver.local") as anonymous:
        assert f'href="/trials/{trial.id}"' not in anonymous.get(f"/proposals/{w.proposal.id}").text
        assert anonymous.get(f"/trials/{trial.id}").status_code == 404


def test_a_coordinator_may_start_it_and_a_challenge_in_trial_stays(client: TestClient[Litestar],
                                                                   session: Session, w: World) -> None:
    w.challenge.phase = Phase.TRIAL
    session.add(w.challenge)
    session.commit()
    sign_in(client, w.coordinator)
    assert post(client, f"/proposals/{w.proposal.id}/trial").status_code == 303
    session.refresh(w.challenge)
    assert w.challenge.phase is Phase.TRIAL
    assert session.exec(select(func.count()).select_from(PhaseChange)).one() == 0


@pytest.mark.parametrize("case", ["not_selected", "undecided", "unpublished_decision"])
def test_only_selected_proposals_with_published_decisions_start_trials(
        client: TestClient[Litestar], session: Session, w: World, case: str) -> None:
    if case == "not_selected":
        w.proposal.decision = DecisionOutcome.NOT_SELECTED
    elif case == "undecided":
        w.proposal.decision = None
    else:
        w.challenge.decisions_published_at = None
    session.add_all([w.proposal, w.challenge])
    session.commit()
    sign_in(client, w.staff)
    assert 'id="start-trial"' not in client.get(f"/proposals/{w.proposal.id}").text
    response = post(client, f"/proposals/{w.proposal.id}/trial")
    assert response.status_code == 400
    assert 'id="refusal-reason"' in response.text
    assert trial_count(session) == 0


@pytest.mark.parametrize("persona", ["resident", "other_staff", "member"])
def test_others_cannot_start_a_trial(client: TestClient[Litestar], session: Session, w: World, persona: str) -> None:
    sign_in(client, getattr(w, persona))
    assert 'id="start-trial"' not in client.get(f"/proposals/{w.proposal.id}").text
    assert post(client, f"/proposals/{w.proposal.id}/trial").status_code == 403
    assert trial_count(session) == 0


def test_anonymous_is_sent_to_sign_in(client: TestClient[Litestar], session: Session, w: World) -> None:
    response = post(client, f"/proposals/{w.proposal.id}/trial")
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    assert trial_count(session) == 0


@pytest.mark.databases("sqlite", "postgresql", why="constraints and paging SQL")
def test_one_trial_per_proposal_holds_in_the_database(session: Session, w: World) -> None:
    from cocreate.accounts.permissions import Principal
    from labs import trials

    actor = Principal.load(session, w.staff)
    first = trials.create_from_proposal(session, actor, w.proposal.id)  # type: ignore[arg-type]
    with pytest.raises(trials.TrialExists) as caught:
        trials.create_from_proposal(session, actor, w.proposal.id)  # type: ignore[arg-type]
    assert caught.value.trial_id == first.id
    # even code that skips the check cannot add a second one
    session.add(Trial(title="二つ目", proposal_id=w.proposal.id))
    with pytest.raises(Exception, match=r"(?i)unique"):
        session.commit()
    session.rollback()
    assert trial_count(session) == 1


@pytest.mark.databases("sqlite", "postgresql", why="the unique proposal_id is what catches a start a moment ago")
def test_a_trial_started_a_moment_ago_is_reported_and_nothing_is_kept(session: Session, w: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from cocreate.accounts.permissions import Principal
    from labs import trials

    actor = Principal.load(session, w.staff)
    first = trials.create_from_proposal(session, actor, w.proposal.id)  # type: ignore[arg-type]
    looked_up = trials.trial_of_proposal
    lookups: list[int] = []

    def not_seen_yet(session: Session, proposal_id: int) -> Trial | None:
        """The first look misses the trial another request is committing right now."""
        lookups.append(proposal_id)
        return None if len(lookups) == 1 else looked_up(session, proposal_id)

    monkeypatch.setattr(trials, "trial_of_proposal", not_seen_yet)
    with pytest.raises(trials.TrialExists) as caught:
        trials.create_from_proposal(session, actor, w.proposal.id)  # type: ignore[arg-type]
    assert caught.value.trial_id == first.id and len(lookups) == 2
    assert trial_count(session) == 1
    assert audit_actions(session, first.id) == ["trial.created_from_proposal"]
    assert session.exec(select(func.count()).select_from(PhaseChange)).one() == 1  # moved once


# --- ward-run trials -----------------------------------------------------------------------------


def test_a_coordinator_starts_a_ward_run_trial(client: TestClient[Litestar], session: Session, w: World) -> None:
    sign_in(client, w.coordinator)
    page = client.get("/trials/new")
    assert page.status_code == 200 and 'name="department_id"' in page.text
    assert w.unverified.name not in page.text  # only verified organisations can be chosen
    response = post(client, "/trials/new", edit_form(
        department_id=str(w.other_department.id), organisation_ids=[str(w.partner.id), str(w.organisation.id)],
        lead_organisation_id=str(w.organisation.id), **{"kpis-1-indicator": "CO2削減量", "kpis-1-target": "10"}))
    assert response.status_code == 303, response.text
    trial = session.exec(select(Trial)).one()
    assert (trial.title, trial.department_id, trial.status, trial.published) == (
        "高島平モビリティ実証", w.other_department.id, TrialStatus.RUNNING, True)
    assert trial.proposal_id is None and trial.participant_data_retention_days == 120
    assert (trial.starts_on, trial.ends_on) == (date(2026, 12, 1), date(2027, 3, 31))
    organisations = {row.organisation_id: row.is_lead for row in session.exec(select(TrialOrganisation))}
    assert organisations == {w.organisation.id: True, w.partner.id: False}
    assert [k.indicator for k in session.exec(select(TrialKpi).order_by(col(TrialKpi.position)))] == [
        "利用者数", "CO2削減量"]
    assert audit_actions(session, trial.id) == ["trial.created"]


def test_a_ward_run_trial_needs_no_organisation(client: TestClient[Litestar], session: Session, w: World) -> None:
    sign_in(client, w.coordinator)
    assert post(client, "/trials/new", edit_form(department_id=str(w.department.id))).status_code == 303
    trial = session.exec(select(Trial)).one()
    assert session.exec(select(TrialOrganisation)).all() == []
    assert "区が自ら" in client.get(f"/trials/{trial.id}").text or "ward runs" in client.get(f"/trials/{trial.id}").text


def test_new_trial_reports_every_problem_at_once(client: TestClient[Litestar], session: Session, w: World) -> None:
    sign_in(client, w.coordinator)
    response = post(client, "/trials/new", edit_form(
        title="", status="finished", starts_on="abc", ends_on="2027-13-40", retention_days="-1", department_id="",
        organisation_ids=[str(w.unverified.id)], **{"kpis-0-indicator": "", "kpis-0-target": "500"}))
    assert response.status_code == 400
    for field in ("title", "status", "starts_on", "ends_on", "retention_days", "department_id", "kpis-0-indicator"):
        assert f'href="#field-{field}"' in response.text, field
    assert 'value="abc"' in response.text and 'value="500"' in response.text  # what was typed is shown again
    # What needs the database (the department exists, the organisations are verified) is checked once the
    # form reads: both problems at once, and what was ticked stays ticked.
    response = post(client, "/trials/new", edit_form(department_id="999999", organisation_ids=[str(w.unverified.id)]))
    assert response.status_code == 400
    for field in ("department_id", "organisation_ids"):
        assert f'href="#field-{field}"' in response.text, field
    assert trial_count(session) == 0


@pytest.mark.parametrize("persona", ["staff", "member", "resident"])
def test_only_coordinators_start_ward_run_trials(client: TestClient[Litestar], session: Session, w: World,
                                                 persona: str) -> None:
    sign_in(client, getattr(w, persona))
    assert client.get("/trials/new").status_code == 403
    assert post(client, "/trials/new", edit_form(department_id=str(w.department.id))).status_code == 403
    assert trial_count(session) == 0


# --- editing -------------------------------------------------------------------------------------


def test_the_organisation_edits_its_trial(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w, published=False, status=TrialStatus.PLANNED)
    sign_in(client, w.member)
    page = client.get(f"/trials/{trial.id}/edit")
    assert page.status_code == 200
    assert 'name="organisation_ids"' not in page.text  # organisations: coordinators only
    response = post(client, f"/trials/{trial.id}/edit", edit_form(
        description="**新しい説明**", organisation_ids=[str(w.other_organisation.id)],
        department_id=str(w.other_department.id), lead_organisation_id="junk",  # not the organisation's to send
        **{"kpis-0-remove": "yes", "kpis-1-indicator": "満足度", "kpis-1-unit": "%", "kpis-1-target": "80"}))
    assert response.status_code == 303, response.text
    session.refresh(trial)
    assert (trial.description, trial.status, trial.published, trial.participant_data_retention_days) == (
        "**新しい説明**", TrialStatus.RUNNING, True, 120)
    assert trial.department_id == w.department.id  # not changed by an organisation
    assert [row.organisation_id for row in session.exec(select(TrialOrganisation))] == [w.organisation.id]
    assert [(k.indicator, k.unit, k.target) for k in session.exec(select(TrialKpi))] == [("満足度", "%", "80")]
    assert audit_actions(session, trial.id) == ["trial.updated"]
    assert "<strong>新しい説明</strong>" in client.get(f"/trials/{trial.id}").text


def test_coordinators_change_the_organisations(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.coordinator)
    assert post(client, f"/trials/{trial.id}/edit", edit_form(
        department_id=str(w.other_department.id),
        organisation_ids=[str(w.partner.id), str(w.other_organisation.id)],
        lead_organisation_id=str(w.other_organisation.id))).status_code == 303
    session.refresh(trial)
    assert trial.department_id == w.other_department.id
    assert {row.organisation_id: row.is_lead for row in session.exec(select(TrialOrganisation))} == {
        w.partner.id: False, w.other_organisation.id: True}


def test_unchanged_kpis_keep_their_results(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    kpi = session.exec(select(TrialKpi)).one()
    kpi.result = "620"
    session.add(kpi)
    session.commit()
    sign_in(client, w.staff)
    assert post(client, f"/trials/{trial.id}/edit", edit_form(**{"kpis-1-indicator": "満足度", "kpis-1-target": "80"})
                ).status_code == 303
    session.expire_all()
    assert {k.indicator: k.result for k in session.exec(select(TrialKpi))} == {"利用者数": "620", "満足度": ""}


@pytest.mark.parametrize(("overrides", "fields"), [
    ({"starts_on": "abc", "ends_on": "2026-01-01", "retention_days": "-1"}, ["starts_on", "retention_days"]),
    ({"starts_on": "2027-04-01", "ends_on": "2027-03-31"}, ["ends_on"]),
    ({"retention_days": "3651", "status": "cancelled"}, ["retention_days", "status"]),
    ({"retention_days": "abc", "title": "x" * 201}, ["retention_days", "title"]),
    ({"title": "改行\nあり", "summary": "y" * 501}, ["title", "summary"]),
    ({"description": "z" * 100_001}, ["description"]),
    ({"kpis-0-indicator": "", "kpis-0-unit": "u" * 51}, ["kpis-0-indicator", "kpis-0-unit"]),
])
def test_edit_validation(client: TestClient[Litestar], session: Session, w: World, overrides: dict[str, str],
                         fields: list[str]) -> None:
    trial = make_trial(session, w)
    before = (trial.title, trial.summary, trial.starts_on, trial.ends_on, trial.participant_data_retention_days,
              trial.status)
    sign_in(client, w.staff)
    response = post(client, f"/trials/{trial.id}/edit", edit_form(**overrides))
    assert response.status_code == 400
    for field in fields:
        assert f'href="#field-{field}"' in response.text, field
    session.refresh(trial)
    assert (trial.title, trial.summary, trial.starts_on, trial.ends_on, trial.participant_data_retention_days,
            trial.status) == before
    assert audit_actions(session, trial.id) == []


def test_full_width_dates_and_numbers_are_read(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.staff)
    assert post(client, f"/trials/{trial.id}/edit", edit_form(starts_on="２０２６/１２/０５", retention_days="３０")
                ).status_code == 303
    session.refresh(trial)
    assert (trial.starts_on, trial.participant_data_retention_days) == (date(2026, 12, 5), 30)


@pytest.mark.parametrize(("persona", "published", "expected"), [
    ("other_member", True, 403), ("other_staff", True, 403), ("resident", True, 403),
    ("other_member", False, 404), ("resident", False, 404),
    ("staff", False, 200), ("coordinator", False, 200), ("member", False, 200),
])
def test_who_may_edit(client: TestClient[Litestar], session: Session, w: World, persona: str, published: bool,
                      expected: int) -> None:
    trial = make_trial(session, w, published=published)
    sign_in(client, getattr(w, persona))
    assert client.get(f"/trials/{trial.id}/edit").status_code == expected
    assert client.get(f"/trials/{trial.id}/results").status_code == expected
    assert client.get(f"/trials/{trial.id}/updates/new").status_code == expected
    assert client.get(f"/trials/{trial.id}").status_code == (200 if published or expected == 200 else 404)
    if expected != 200:
        assert post(client, f"/trials/{trial.id}/edit", edit_form(title="乗っ取り")).status_code == expected
        session.refresh(trial)
        assert trial.title == "高島平モビリティ実証"


def test_anonymous_visitors(client: TestClient[Litestar], session: Session, w: World) -> None:
    hidden = make_trial(session, w, published=False)
    for url in (f"/trials/{hidden.id}/edit", f"/trials/{hidden.id}/results", f"/trials/{hidden.id}/updates/new",
                "/trials/new"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in"), url
    assert client.get(f"/trials/{hidden.id}").status_code == 404
    assert client.get(f"/api/v1/trials/{hidden.id}").status_code == 404
    assert client.get("/trials/999999").status_code == 404


def test_hostile_text_is_stored_verbatim_and_shown_as_text(client: TestClient[Litestar], session: Session, w: World,
                                                           xss_payloads: list[str]) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.staff)
    for payload in xss_payloads[:40]:
        single = payload.replace("\n", " ").replace("\r", " ")[:100]
        response = post(client, f"/trials/{trial.id}/edit", edit_form(
            title=single, summary=payload[:500], description=payload,
            **{"kpis-0-indicator": single, "kpis-0-target": single}))
        if response.status_code == 400:  # control characters are refused, and nothing is stored
            assert re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", payload), payload
            continue
        assert response.status_code == 303, payload
        session.refresh(trial)
        assert trial.title == single.strip() and trial.description == payload.replace("\r\n", "\n").replace("\r", "\n")
        page = client.get(f"/trials/{trial.id}")
        assert page.status_code == 200
        assert_no_live_markup(page.text)
        assert_no_live_markup(client.get("/trials").text)


def test_hostile_updates_and_results_stay_text(client: TestClient[Litestar], session: Session, w: World,
                                              xss_payloads: list[str]) -> None:
    trial = make_trial(session, w, challenge=w.challenge)
    kpi = session.exec(select(TrialKpi)).one()
    hostile = '"><img src=x onerror=alert(1)>'
    body = "\n\n".join(xss_payloads[:30])
    sign_in(client, w.staff)
    assert client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": hostile, "body": body,
        "alt-0": hostile}, files={"photo-0": ("<script>.png", PNG, "image/png")},
        follow_redirects=False).status_code == 303
    assert post(client, f"/trials/{trial.id}/results", {"results": body, f"kpi-{kpi.id}-result": hostile,
                                                        f"kpi-{kpi.id}-note": hostile, "action": "publish"}
                ).status_code == 303
    entry = session.exec(select(TrialUpdate)).one()
    assert (entry.title, entry.body) == (hostile, body)
    for url in (f"/trials/{trial.id}", f"/challenges/{w.challenge.id}", f"/trials/{trial.id}/results"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert_no_live_markup(page.text)
    assert client.get(f"/api/v1/trials/{trial.id}").json()["updates"][0]["title"] == hostile


# --- progress updates ----------------------------------------------------------------------------


def test_post_an_update_with_photos(client: TestClient[Litestar], session: Session, w: World, app: Litestar) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.member)
    response = client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": "初回走行", "body": "**走行**しました。",
        "alt-0": "走行中の車両", "alt-1": "説明会の様子"}, files={
        "photo-0": ("car.png", PNG, "image/png"), "photo-1": ("meeting.jpg", JPEG, "image/jpeg")},
        follow_redirects=False)
    assert response.status_code == 303, response.text
    entry = session.exec(select(TrialUpdate)).one()
    assert (entry.posted_on, entry.title, entry.author_id) == (date(2026, 12, 10), "初回走行", w.member.id)
    photos = session.exec(select(TrialUpdatePhoto).order_by(col(TrialUpdatePhoto.position))).all()
    assert [(p.alt_text, p.content_type, p.filename) for p in photos] == [
        ("走行中の車両", "image/png", "car.png"), ("説明会の様子", "image/jpeg", "meeting.jpg")]
    assert all(re.fullmatch(r"trials/[0-9a-f]{32}", p.storage_key) for p in photos)
    assert audit_actions(session, trial.id) == ["trial.update_posted"]

    page = client.get(f"/trials/{trial.id}")
    url = f"/trials/{trial.id}/updates/{entry.id}/photos/{photos[0].id}"
    assert f'src="{url}"' in page.text and 'alt="走行中の車両"' in page.text
    assert "<strong>走行</strong>" in page.text
    with TestClient(app, base_url="http://testserver.local") as anonymous:
        served = anonymous.get(url)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]
    # the photo belongs to this update of this trial only
    assert client.get(f"/trials/{trial.id}/updates/{entry.id + 1}/photos/{photos[0].id}").status_code == 404

    files = [app.state.settings.upload_dir / p.storage_key for p in photos]
    entry_id = entry.id
    assert all(path.is_file() for path in files)
    assert post(client, f"/trials/{trial.id}/updates/{entry.id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(TrialUpdate)).all() == [] and session.exec(select(TrialUpdatePhoto)).all() == []
    assert not any(path.exists() for path in files)
    assert audit_actions(session, trial.id)[-1] == "trial.update_deleted"
    again = post(client, f"/trials/{trial.id}/updates/{entry_id}/delete")
    assert again.status_code == 400 and 'id="refusal-reason"' in again.text


def test_an_update_photo_loses_where_it_was_taken(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.member)
    response = client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": "訪問", "body": "参加者宅",
        "alt-0": "玄関先"}, files={"photo-0": ("door.jpg", gps_jpeg(), "image/jpeg")}, follow_redirects=False)
    assert response.status_code == 303, response.text
    photo = session.exec(select(TrialUpdatePhoto)).one()
    served = client.get(f"/trials/{trial.id}/updates/{photo.update_id}/photos/{photo.id}").content
    with Image.open(io.BytesIO(served)) as image:
        assert images.GPS_IFD not in image.getexif()
    assert (photo.size_bytes, photo.sha256) == (len(served), hashlib.sha256(served).hexdigest())


def test_updates_are_shown_newest_first(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    session.add_all([TrialUpdate(trial_id=trial.id, posted_on=date(2026, 12, 1), title="最初の報告", body="a"),  # type: ignore[arg-type]
                     TrialUpdate(trial_id=trial.id, posted_on=date(2027, 1, 15), title="二回目の報告", body="b")])  # type: ignore[arg-type]
    session.commit()
    page = client.get(f"/trials/{trial.id}").text
    assert page.index("二回目の報告") < page.index("最初の報告")


def test_update_validation_reports_everything_and_keeps_no_file(client: TestClient[Litestar], session: Session,
                                                                 w: World, app: Litestar) -> None:
    trial = make_trial(session, w)
    sign_in(client, w.staff)
    def send(texts: dict[str, str]) -> Any:
        return client.post(f"/trials/{trial.id}/updates/new", data={
            "_csrf_token": csrf_token(client), **texts, "alt-0": "", "alt-1": "資料", "alt-3": "説明だけ"}, files={
            "photo-0": ("a.png", PNG, "image/png"), "photo-1": ("doc.png", PDF, "image/png")}, follow_redirects=False)

    # The form's own fields first; each photo's description once they read; a file's content once it is read.
    response = send({"posted_on": "abc", "title": "", "body": ""})
    assert response.status_code == 400
    for field in ("posted_on", "title", "body"):
        assert f'href="#field-{field}"' in response.text, field
    response = send({"posted_on": "2026-12-10", "title": "報告", "body": "本文"})
    assert response.status_code == 400
    for field in ("alt-0", "photo-3"):
        assert f'href="#field-{field}"' in response.text, field
    assert 'value="資料"' in response.text and "本文" in response.text  # what was typed is shown again
    response = client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": "報告", "body": "本文",
        "alt-0": "写真", "alt-1": "資料"}, files={
        "photo-0": ("a.png", PNG, "image/png"), "photo-1": ("doc.png", PDF, "image/png")}, follow_redirects=False)
    assert response.status_code == 400
    assert 'href="#field-photo-1"' in response.text and 'href="#field-photo-0"' not in response.text
    assert session.exec(select(TrialUpdate)).all() == []
    folder = app.state.settings.upload_dir / "trials"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_unpublished_trial_photos_are_private(client: TestClient[Litestar], session: Session, w: World,
                                              app: Litestar) -> None:
    trial = make_trial(session, w, published=False)
    sign_in(client, w.staff)
    client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": "準備", "body": "準備中",
        "alt-0": "準備の様子"}, files={"photo-0": ("p.png", PNG, "image/png")})
    photo = session.exec(select(TrialUpdatePhoto)).one()
    entry = session.exec(select(TrialUpdate)).one()
    url = f"/trials/{trial.id}/updates/{entry.id}/photos/{photo.id}"
    served = client.get(url)
    assert served.status_code == 200 and served.headers["cache-control"] == "private, no-store"
    with TestClient(app, base_url="http://testserver.local") as anonymous:
        assert anonymous.get(url).status_code == 404


def test_other_organisations_cannot_post_or_delete_updates(client: TestClient[Litestar], session: Session,
                                                           w: World) -> None:
    trial = make_trial(session, w)
    entry = TrialUpdate(trial_id=trial.id, posted_on=date(2026, 12, 1), title="報告", body="本文")  # type: ignore[arg-type]
    session.add(entry)
    session.commit()
    sign_in(client, w.other_member)
    assert post(client, f"/trials/{trial.id}/updates/{entry.id}/delete").status_code == 403
    response = client.post(f"/trials/{trial.id}/updates/new", data={
        "_csrf_token": csrf_token(client), "posted_on": "2026-12-10", "title": "偽", "body": "偽"},
        follow_redirects=False)
    assert response.status_code == 403
    session.expire_all()
    assert [u.title for u in session.exec(select(TrialUpdate))] == ["報告"]


# --- results -------------------------------------------------------------------------------------


def test_results_are_saved_then_published(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w, challenge=w.challenge, proposal_id=w.proposal.id)
    kpi = session.exec(select(TrialKpi)).one()
    sign_in(client, w.member)
    assert "利用者数" in client.get(f"/trials/{trial.id}/results").text
    data = {"results": "## 成果\n\n**目標を達成**しました。", f"kpi-{kpi.id}-result": "月620人",
            f"kpi-{kpi.id}-note": "冬季も安定", "action": "save"}
    assert post(client, f"/trials/{trial.id}/results", data).status_code == 303
    session.refresh(trial)
    session.refresh(kpi)
    assert (trial.results_published_at, kpi.result, kpi.result_note) == (None, "月620人", "冬季も安定")
    with TestClient(client.app, base_url="http://testserver.local") as anonymous:
        public = anonymous.get(f"/trials/{trial.id}").text
        assert "目標を達成" not in public and "月620人" not in public
        assert anonymous.get(f"/api/v1/trials/{trial.id}").json()["kpis"][0]["result"] == ""

    assert post(client, f"/trials/{trial.id}/results", data | {"action": "publish"}).status_code == 303
    session.refresh(trial)
    assert trial.results_published_at is not None and trial.status is TrialStatus.COMPLETED
    assert audit_actions(session, trial.id) == ["trial.results_saved", "trial.results_published"]
    with TestClient(client.app, base_url="http://testserver.local") as anonymous:
        public = anonymous.get(f"/trials/{trial.id}").text
        assert "<strong>目標を達成</strong>" in public and "月620人" in public and "冬季も安定" in public
        # "you said, we did": the challenge page shows the trial with its results
        challenge_page = anonymous.get(f"/challenges/{w.challenge.id}").text
        assert f'href="/trials/{trial.id}"' in challenge_page and "目標を達成" in challenge_page
        assert f'href="/challenges/{w.challenge.id}"' in public and f'href="/proposals/{w.proposal.id}"' in public
        api = anonymous.get(f"/api/v1/trials/{trial.id}").json()
        assert api["kpis"][0]["result"] == "月620人" and "目標を達成" in api["results"]


def test_publishing_results_needs_a_report(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    kpi = session.exec(select(TrialKpi)).one()
    sign_in(client, w.staff)
    response = post(client, f"/trials/{trial.id}/results", {"results": " ", f"kpi-{kpi.id}-result": "r" * 101,
                                                            f"kpi-{kpi.id}-note": "n" * 2001, "action": "publish"})
    assert response.status_code == 400
    for field in ("results", f"kpi-{kpi.id}-result", f"kpi-{kpi.id}-note"):
        assert f'href="#field-{field}"' in response.text, field
    session.refresh(trial)
    assert trial.results_published_at is None and trial.status is TrialStatus.RUNNING


def test_results_of_another_trials_kpi_are_ignored(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    other = make_trial(session, w, title="別の実証", organisation=w.other_organisation)
    other_kpi = session.exec(select(TrialKpi).where(TrialKpi.trial_id == other.id)).one()
    sign_in(client, w.member)
    assert post(client, f"/trials/{trial.id}/results", {"results": "報告", f"kpi-{other_kpi.id}-result": "999",
                                                        "action": "save"}).status_code == 303
    session.refresh(other_kpi)
    assert other_kpi.result == ""


def test_the_challenge_page_has_no_trial_section_without_published_trials(
        client: TestClient[Litestar], session: Session, w: World) -> None:
    make_trial(session, w, published=False, challenge=w.challenge)
    assert 'id="trials"' not in client.get(f"/challenges/{w.challenge.id}").text


# --- the public list and the API -----------------------------------------------------------------


def test_the_list_shows_published_trials_with_a_status_filter(client: TestClient[Litestar], session: Session,
                                                              w: World) -> None:
    running = make_trial(session, w, title="走行中の実証")
    planned = make_trial(session, w, title="計画中の実証", status=TrialStatus.PLANNED)
    hidden = make_trial(session, w, title="非公開の実証", published=False)
    page = client.get("/trials").text
    assert running.title in page and planned.title in page and hidden.title not in page
    assert page.index(running.title) < page.index(planned.title)  # running first
    filtered = client.get("/trials?status=planned").text
    assert planned.title in filtered and running.title not in filtered
    assert running.title in client.get("/trials?status=nonsense&page=abc").text
    assert w.organisation.name in page


@pytest.mark.databases("sqlite", "postgresql", why="constraints and paging SQL")
def test_the_list_paginates_in_the_database_without_n_plus_1(client: TestClient[Litestar], session: Session,
                                                             w: World, query_log: QueryLog) -> None:
    make_trial(session, w, title="実証 0")
    client.get("/trials")
    query_log.statements.clear()
    client.get("/trials")
    one = query_log.count
    for i in range(1, 25):
        make_trial(session, w, title=f"実証 {i}", organisation=w.partner if i % 2 else w.organisation)
    query_log.statements.clear()
    first = client.get("/trials")
    assert query_log.count == one, str(query_log)
    assert first.text.count('class="card trial-card"') == 20
    second = client.get("/trials?page=2")
    assert second.text.count('class="card trial-card"') == 5
    query_log.statements.clear()
    api = client.get("/api/v1/trials?per_page=10&page=2").json()
    assert query_log.count <= one, str(query_log)
    assert len(api["items"]) == 10 and api["page"]["total"] == 25 and api["page"]["next"].endswith("page=3&per_page=10")


def test_the_api(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w, challenge=w.challenge, proposal_id=w.proposal.id)
    make_trial(session, w, title="非公開", published=False)
    session.add(TrialUpdate(trial_id=trial.id, posted_on=date(2026, 12, 1), title="報告", body="本文"))  # type: ignore[arg-type]
    session.commit()
    listing = client.get("/api/v1/trials").json()
    assert [item["id"] for item in listing["items"]] == [trial.id]
    item = listing["items"][0]
    assert item["status"] == "running" and item["organisations"] == [
        {"id": w.organisation.id, "name": w.organisation.name, "lead": True}]
    detail = client.get(f"/api/v1/trials/{trial.id}").json()
    assert detail["description"] == trial.description and detail["results"] == ""
    assert detail["kpis"] == [{"indicator": "利用者数", "unit": "人", "baseline": "0", "target": "500", "result": "",
                               "result_note": ""}]
    assert [u["title"] for u in detail["updates"]] == ["報告"]
    assert detail["links"]["challenge"] == f"/challenges/{w.challenge.id}"
    assert detail["links"]["proposal"] == f"/proposals/{w.proposal.id}"
    assert "participant_data_retention_days" not in detail and "created_by_id" not in detail
    assert client.get("/api/v1/trials?status=planned").json()["items"] == []
    assert client.get("/api/v1/trials?status=bogus").status_code == 400
    assert client.get("/api/v1").json()["resources"]["trials"] == "/api/v1/trials"


def test_dates_and_statuses_show_on_the_page(client: TestClient[Litestar], session: Session, w: World) -> None:
    trial = make_trial(session, w)
    page = text_of(client.get(f"/trials/{trial.id}").text)
    assert "2026年12月1日" in page and "2027年3月31日" in page
    assert "実施中" in page or "Running" in page
    assert w.department.display_name("ja") in page or w.department.section_ja in page
