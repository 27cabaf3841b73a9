"""Participant recruitment (モニター募集): calls by the trial's editors, the public call page and the
apply form with versioned consent, who sees applicants' data, accepting under concurrency (SQLite and
PostgreSQL), withdrawal that removes the data, the deletion job, and the privacy hooks."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, func, select

from cocreate import permissions
from cocreate.accounts import self_service
from cocreate.accounts.models import Organisation, Role, User
from cocreate.accounts.permissions import Forbidden, Principal
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import gettext, using_locale
from cocreate.mail import OutboundEmail
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.web.sessions import StoredSession
from labs import recruitment, recruitment_routes
from labs.models import (
    ApplicationStatus,
    RecruitmentApplication,
    RecruitmentCall,
    RecruitmentStatus,
    Trial,
    TrialOrganisation,
)
from tests.factories import create_department, create_organisation, create_user
from tests.helpers import csrf_token, tasks_announced

pytestmark = pytest.mark.databases("sqlite", why="recruitment rules are Python; concurrent accepts run on both")

# --- helpers -------------------------------------------------------------------------------------






@dataclass
class World:
    trial: Trial
    call: RecruitmentCall
    organisation: Organisation
    member: User
    other_member: User
    staff: User
    other_staff: User
    coordinator: User
    admin: User
    resident: User
    neighbour: User


def make_call(session: Session, trial: Trial, **overrides: object) -> RecruitmentCall:
    values: dict[str, object] = {
        "trial_id": trial.id, "title": "電動キックボード試乗モニター", "eligibility": "区内在住の18歳以上の方",
        "activities": "週1回、30分の試乗", "places": 2, "consent_text": "走行データを研究に使います。",
        "status": RecruitmentStatus.OPEN, "apply_by": utcnow() + timedelta(days=10),
    } | overrides
    call = RecruitmentCall(**values)  # type: ignore[arg-type]
    session.add(call)
    session.commit()
    session.refresh(call)
    return call


@pytest.fixture
def world(session: Session) -> World:
    owner = create_department(session)
    other = create_department(session, "roads", division_ja="土木部", section_ja="計画課",
                              division_en="Civil Engineering", section_en="Planning")
    member = create_user(session, "member@example.jp", display_name="モビリティ 社員")
    other_member = create_user(session, "othermember@example.jp")
    organisation = create_organisation(session, admin=member, verified=True)
    create_organisation(session, "別の株式会社", admin=other_member, verified=True)
    trial = Trial(title="高島平モビリティ実証", department_id=owner.id, published=True,
                  starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    session.add(trial)
    session.commit()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    session.commit()
    return World(
        trial=trial, call=make_call(session, trial), organisation=organisation, member=member,
        other_member=other_member,
        staff=create_user(session, "staff@example.jp", roles=[(Role.STAFF, owner.id)]),  # type: ignore[list-item]
        other_staff=create_user(session, "other@example.jp", roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        coordinator=create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR]),
        admin=create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        resident=create_user(session, "resident@example.jp", display_name="区民 太郎"),
        neighbour=create_user(session, "neighbour@example.jp", display_name="区民 花子"),
    )


def actor(session: Session, user: User | None) -> Principal:
    return Principal.load(session, user) if user is not None else Principal.anonymous()


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


def reload_call(session: Session, call: RecruitmentCall) -> RecruitmentCall:
    session.expire_all()
    return session.get(RecruitmentCall, call.id)  # type: ignore[return-value]


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def sign_in_as(client: TestClient[Litestar], user: User) -> TestClient[Litestar]:
    """A session row for ``user`` in the real session store (the sign-in form has its own tests)."""
    key = secrets.token_hex(32)
    database = client.app.state.database
    with database.transaction() as db:
        db.add(StoredSession(key=key, data=json.dumps({"user_id": user.id, "epoch": user.session_epoch}).encode(),
                             expires_at=utcnow() + timedelta(hours=1)))
    client.cookies.set("cocreate_session", key, domain="testserver.local")
    return client


def post(client: TestClient[Litestar], path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"_csrf_token": csrf_token(client), **data}, follow_redirects=False)


def apply_form(**overrides: str) -> dict[str, str]:
    return {"full_name": "板橋 太郎", "contact": "taro@example.jp", "message": "平日の午後が空いています",
            "consent": "yes", "consent_version": "1"} | overrides


def call_form(**overrides: str) -> dict[str, str]:
    return {"title": "高齢者向け試乗会", "eligibility": "65歳以上の区民", "places": "10", "starts_on": "2027-01-10",
            "ends_on": "2027-01-20", "apply_by": "2027-01-05T17:00", "activities": "**試乗**と感想の記入",
            "consent_text": "同意文 第1版"} | overrides


def applied(session: Session, world: World, user: User, **overrides: str) -> RecruitmentApplication:
    data = apply_form(**overrides)
    application, created = recruitment.apply(session, actor(session, user), world.call.id,  # type: ignore[arg-type]
                                             recruitment.ApplyForm.parse(data))
    assert created
    return application


NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


# --- calls: the editors ---------------------------------------------------------------------------


def test_an_organisation_member_writes_a_call_and_opens_it(session: Session, world: World,
                                                          client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.member)
    page = client.get(f"/trials/{world.trial.id}/calls/new")
    assert page.status_code == 200 and 'id="field-consent_text"' in page.text
    response = post(client, f"/trials/{world.trial.id}/calls/new", **call_form())
    assert response.status_code == 303
    call = session.exec(select(RecruitmentCall).where(RecruitmentCall.title == "高齢者向け試乗会")).one()
    assert response.headers["location"] == f"/calls/{call.id}"
    assert (call.status, call.places, call.consent_version, call.created_by_id) == (
        RecruitmentStatus.DRAFT, 10, 1, world.member.id)
    assert call.starts_on == date(2027, 1, 10) and call.apply_by == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    assert client.get(f"/calls/{call.id}").status_code == 200  # the draft, for an editor
    with TestClient(client.app, base_url="http://testserver.local") as visitor:
        assert visitor.get(f"/calls/{call.id}").status_code == 404  # drafts are hidden
    assert post(client, f"/calls/{call.id}/open").status_code == 303
    assert reload_call(session, call).status is RecruitmentStatus.OPEN
    with TestClient(client.app, base_url="http://testserver.local") as visitor:
        text = visitor.get(f"/calls/{call.id}").text
        assert "<strong>試乗</strong>" in text and "65歳以上の区民" in text and 'id="apply-sign-in"' in text
    assert post(client, f"/calls/{call.id}/close").status_code == 303
    assert reload_call(session, call).status is RecruitmentStatus.CLOSED
    actions = session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    assert actions == ["recruitment_call.created", "recruitment_call.opened", "recruitment_call.closed"]


def test_editing_the_consent_text_raises_its_version(session: Session, world: World,
                                                    client: TestClient[Litestar]) -> None:
    applied(session, world, world.resident)
    sign_in_as(client, world.staff)  # staff of the owning department edit the trial's calls
    edit = client.get(f"/calls/{world.call.id}/edit")
    assert edit.status_code == 200 and "走行データを研究に使います。" in edit.text
    same = recruitment.call_form_values(world.call)
    assert tuple(same) == recruitment.CALL_FIELDS
    assert post(client, f"/calls/{world.call.id}/edit", **(same | {"places": "5"})).status_code == 303
    assert reload_call(session, world.call).consent_version == 1  # other changes keep the version
    assert post(client, f"/calls/{world.call.id}/edit", **(same | {"places": "5", "consent_text": "第2版の同意文"})).status_code == 303
    call = reload_call(session, world.call)
    assert (call.consent_version, call.consent_text, call.places) == (2, "第2版の同意文", 5)
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "recruitment_call.updated")
                         .order_by(AuditEntry.id.desc())).first()  # type: ignore[union-attr]
    assert entry is not None and '"consent_text"' in entry.details_json and '"consent_version":2' in entry.details_json
    # The existing application keeps the version it agreed to, and the applicants list says so.
    sign_in_as(client, world.member)
    page = client.get(f"/calls/{world.call.id}/applications")
    assert ja("Version %(version)s", version=1) in page.text and "application-" in page.text
    assert 'id="application-' in page.text and "-old-consent" in page.text
    # A form showing version 1 no longer counts as agreeing to version 2.
    sign_in_as(client, world.neighbour)
    detail = client.get(f"/calls/{world.call.id}")
    assert ja("I agree to the consent text (version %(version)s)", version=2) in detail.text
    response = post(client, f"/calls/{world.call.id}/apply", **apply_form(consent_version="1"))
    assert response.status_code == 400 and 'id="field-consent-error"' in response.text
    assert post(client, f"/calls/{world.call.id}/apply", **apply_form(consent_version="2")).status_code == 303
    versions = session.exec(select(RecruitmentApplication.consent_version).order_by(RecruitmentApplication.id)).all()  # type: ignore[arg-type]
    assert versions == [1, 2]


CALL_FIELD_CASES = [
    ("title", ""), ("title", "x" * 201), ("title", "改行\nあり"), ("eligibility", ""), ("eligibility", "x" * 20_001),
    ("activities", ""), ("activities", "制御\x00文字"), ("consent_text", ""), ("places", ""), ("places", "0"),
    ("places", "10001"), ("places", "abc"), ("places", "1.5"), ("places", "-3"), ("places", "9" * 5000),
    ("starts_on", "2026-13-01"), ("starts_on", "明日"), ("ends_on", "2027-01-01"), ("apply_by", "tomorrow"),
    ("apply_by", "2001-01-01T10:00"),
]


def test_each_call_field_is_checked(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.coordinator)
    for field, value in CALL_FIELD_CASES:
        response = post(client, f"/trials/{world.trial.id}/calls/new", **call_form(**{field: value}))
        assert response.status_code == 400, (field, value)
        assert f'id="field-{field}-error"' in response.text and 'id="error-summary"' in response.text, (field, value)
    response = post(client, f"/calls/{world.call.id}/edit", **call_form(places="0"))
    assert response.status_code == 400 and 'id="field-places-error"' in response.text
    assert count(session, RecruitmentCall) == 1 and count(session, AuditEntry) == 0
    assert reload_call(session, world.call).title == "電動キックボード試乗モニター"


def test_places_cannot_fall_below_the_accepted(session: Session, world: World) -> None:
    application = applied(session, world, world.resident)
    second = applied(session, world, world.neighbour, full_name="区民 花子")
    settings_free = Settings(env="test", secret_key="x")
    editor = actor(session, world.member)
    recruitment.decide(session, settings_free, editor, world.call.id, application.id, True)  # type: ignore[arg-type]
    recruitment.decide(session, settings_free, editor, world.call.id, second.id, True)  # type: ignore[arg-type]
    data = recruitment.CallForm.parse(recruitment.call_form_values(reload_call(session, world.call)) | {"places": "1"})
    with pytest.raises(Invalid) as refused:
        recruitment.update_call(session, editor, world.call.id, data)  # type: ignore[arg-type]
    assert refused.value.errors["places"] == ja(
        "%(count)s participants are already accepted: the places cannot be fewer.", count=2)
    assert reload_call(session, world.call).places == 2


def test_opening_needs_a_published_trial_and_a_future_deadline(session: Session, world: World) -> None:
    editor = actor(session, world.coordinator)
    past = make_call(session, world.trial, status=RecruitmentStatus.DRAFT, apply_by=utcnow() - timedelta(hours=1))
    with pytest.raises(Invalid) as refused:
        recruitment.set_status(session, editor, past.id, True)  # type: ignore[arg-type]
    assert refused.value.errors["status"] == ja("The apply-by time has passed. Change it before opening the call.")
    trial = session.get(Trial, world.trial.id)
    trial.published = False  # type: ignore[union-attr]
    session.commit()
    draft = make_call(session, world.trial, status=RecruitmentStatus.DRAFT)
    with pytest.raises(Invalid):
        recruitment.set_status(session, editor, draft.id, True)  # type: ignore[arg-type]
    assert reload_call(session, draft).status is RecruitmentStatus.DRAFT
    assert recruitment.set_status(session, editor, world.call.id, True) is False  # type: ignore[arg-type]


def test_a_refused_opening_is_told_on_the_call_page(session: Session, world: World,
                                                    client: TestClient[Litestar]) -> None:
    past = make_call(session, world.trial, status=RecruitmentStatus.DRAFT, apply_by=utcnow() - timedelta(hours=1))
    sign_in_as(client, world.member)
    response = post(client, f"/calls/{past.id}/open")
    assert response.status_code == 303 and response.headers["location"] == f"/calls/{past.id}"
    assert ja("The apply-by time has passed. Change it before opening the call.") in client.get(f"/calls/{past.id}").text
    assert reload_call(session, past).status is RecruitmentStatus.DRAFT


def test_only_editors_write_calls(session: Session, world: World, app: Litestar) -> None:
    for who in ("resident", "other_member", "other_staff", "anonymous"):
        with TestClient(app, base_url="http://testserver.local") as client:
            if who != "anonymous":
                sign_in_as(client, getattr(world, who))
            expected = 303 if who == "anonymous" else 403
            for path in (f"/trials/{world.trial.id}/calls/new", f"/calls/{world.call.id}/edit"):
                assert client.get(path, follow_redirects=False).status_code == expected, (who, path)
                assert post(client, path, **call_form()).status_code == expected, (who, path)
            assert post(client, f"/calls/{world.call.id}/close").status_code == expected
    assert reload_call(session, world.call).status is RecruitmentStatus.OPEN and count(session, RecruitmentCall) == 1
    with TestClient(app, base_url="http://testserver.local") as client:
        sign_in_as(client, world.member)
        assert client.get("/trials/999999/calls/new").status_code == 404
        assert client.get("/calls/999999/edit").status_code == 404


# --- the public page and applying ----------------------------------------------------------------


def test_a_resident_applies_with_consent(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.resident)
    page = client.get(f"/calls/{world.call.id}")
    assert page.status_code == 200 and 'id="apply-form"' in page.text
    assert ja("Consent text (version %(version)s)", version=1) in page.text and "走行データを研究に使います。" in page.text
    assert ja("%(left)s of %(places)s places left", left=2, places=2) in page.text
    response = post(client, f"/calls/{world.call.id}/apply", **apply_form(contact="０３−３９６４−１１１１"))
    assert response.status_code == 303 and response.headers["location"] == f"/calls/{world.call.id}#my-application"
    application = session.exec(select(RecruitmentApplication)).one()
    assert (application.user_id, application.status, application.consent_version) == (
        world.resident.id, ApplicationStatus.APPLIED, 1)
    assert application.contact == "03-3964-1111" and application.consented_at is not None
    page = client.get(f"/calls/{world.call.id}")
    assert 'id="my-application-status"' in page.text and 'id="apply-form"' not in page.text
    # Applying again is refused with a message; the one row stays.
    again = post(client, f"/calls/{world.call.id}/apply", **apply_form())
    assert again.status_code == 303 and count(session, RecruitmentApplication) == 1


APPLY_CASES = [
    ("full_name", {"full_name": ""}), ("full_name", {"full_name": "名" * 101}), ("full_name", {"full_name": "a\nb"}),
    ("contact", {"contact": ""}), ("contact", {"contact": "電話してね"}), ("contact", {"contact": "123"}),
    ("contact", {"contact": "x" * 400 + "@example.jp"}), ("message", {"message": "長" * 2001}),
    ("message", {"message": "制御\x07"}), ("consent", {"consent": ""}), ("consent", {"consent": "no"}),
]


def test_each_application_field_is_checked(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.resident)
    for field, overrides in APPLY_CASES:
        response = post(client, f"/calls/{world.call.id}/apply", **apply_form(**overrides))
        assert response.status_code == 400 and f'id="field-{field}-error"' in response.text, (field, overrides)
    assert count(session, RecruitmentApplication) == 0


def test_the_consent_box_is_required(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.resident)
    data = apply_form()
    del data["consent"]
    response = post(client, f"/calls/{world.call.id}/apply", **data)
    assert response.status_code == 400 and ja("Tick the box to agree to the consent text.") in response.text
    assert 'value="板橋 太郎"' in response.text  # what was typed stays
    assert count(session, RecruitmentApplication) == 0


def test_a_changed_consent_text_is_reported_beside_the_other_errors(session: Session, world: World,
                                                                   client: TestClient[Litestar]) -> None:
    call = session.get(RecruitmentCall, world.call.id)
    call.consent_text, call.consent_version = "第2版の同意文", 2  # type: ignore[union-attr]
    session.commit()
    sign_in_as(client, world.resident)
    response = post(client, f"/calls/{world.call.id}/apply", **apply_form(full_name="", consent_version="1"))
    assert response.status_code == 400
    assert 'id="field-full_name-error"' in response.text and 'id="field-consent-error"' in response.text
    assert str(escape(ja("The consent text changed while you were reading it. Read the new version (version "
                         "%(version)s) and agree to it again.", version=2))) in response.text
    assert count(session, RecruitmentApplication) == 0


def test_fields_left_out_of_a_post_are_missing(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.coordinator)
    response = post(client, f"/trials/{world.trial.id}/calls/new")
    assert response.status_code == 400
    for field in ("title", "eligibility", "places", "activities", "consent_text"):
        assert f'id="field-{field}-error"' in response.text, field
    assert ja("Enter the number of places.") in response.text
    sign_in_as(client, world.resident)
    response = post(client, f"/calls/{world.call.id}/apply")
    assert response.status_code == 400
    for field in ("full_name", "contact", "consent"):
        assert f'id="field-{field}-error"' in response.text, field
    assert count(session, RecruitmentApplication) == 0 and count(session, RecruitmentCall) == 1


def test_who_may_apply_is_decided_before_the_form_is_read(session: Session, world: World,
                                                          client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.member)  # the trial's own organisation: refused whatever the form says
    assert post(client, f"/calls/{world.call.id}/apply").status_code == 403
    applied(session, world, world.resident)
    sign_in_as(client, world.resident)  # an earlier application: told so, even with an empty form
    again = post(client, f"/calls/{world.call.id}/apply")
    assert again.status_code == 303 and again.headers["location"] == f"/calls/{world.call.id}#my-application"
    closed = make_call(session, world.trial, status=RecruitmentStatus.CLOSED)
    sign_in_as(client, world.neighbour)  # a closed call: its reason, not the form's errors
    response = post(client, f"/calls/{closed.id}/apply")
    assert response.status_code == 400 and 'id="field-full_name-error"' not in response.text
    assert str(escape(ja("This call is closed and no longer takes applications."))) in response.text
    assert count(session, RecruitmentApplication) == 1


@pytest.mark.databases("sqlite", "postgresql", why="the unique constraint ends the unit of work")
def test_a_double_submit_keeps_the_first_application(session: Session, world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = applied(session, world, world.resident)
    # The second submit got past the check for an earlier application: the unique constraint decides.
    monkeypatch.setattr(recruitment, "previous_application", lambda *args, **kwargs: None)
    application, created = recruitment.apply(session, actor(session, world.resident), world.call.id,  # type: ignore[arg-type]
                                             recruitment.ApplyForm.parse(apply_form()))
    assert (application.id, created) == (first.id, False)
    assert count(session, RecruitmentApplication) == 1


def test_no_form_when_the_call_takes_no_applications(session: Session, world: World,
                                                      client: TestClient[Litestar]) -> None:
    ended = Trial(title="終わった実証", published=True, participant_data_deleted_at=utcnow())
    session.add(ended)
    session.commit()
    cases = [
        (make_call(session, world.trial, status=RecruitmentStatus.CLOSED),
         "This call is closed and no longer takes applications."),
        (make_call(session, world.trial, apply_by=utcnow() - timedelta(minutes=1)), "The application period has ended."),
        (make_call(session, world.trial, places=3, accepted_count=3), "All places have been filled."),
        (make_call(session, ended), "This trial has ended and its participants' data has been deleted."),
    ]
    sign_in_as(client, world.resident)
    for call, message in cases:
        page = client.get(f"/calls/{call.id}")
        assert 'id="apply-form"' not in page.text and 'id="apply-closed"' in page.text, message
        assert str(escape(ja(message))) in page.text
        response = post(client, f"/calls/{call.id}/apply", **apply_form())
        assert response.status_code == 400 and str(escape(ja(message))) in response.text
    assert count(session, RecruitmentApplication) == 0


def test_who_may_apply(session: Session, world: World, client: TestClient[Litestar]) -> None:
    assert post(client, f"/calls/{world.call.id}/apply", **apply_form()).headers["location"].startswith(
        "/account/sign-in")
    sign_in_as(client, world.member)  # the trial's own organisation
    assert 'id="apply-refusal"' in client.get(f"/calls/{world.call.id}").text
    assert post(client, f"/calls/{world.call.id}/apply", **apply_form()).status_code == 403
    unconfirmed = create_user(session, "new@example.jp", confirmed=False)
    sign_in_as(client, unconfirmed)
    assert post(client, f"/calls/{world.call.id}/apply", **apply_form()).status_code == 403
    draft = make_call(session, world.trial, status=RecruitmentStatus.DRAFT)
    sign_in_as(client, world.resident)
    assert post(client, f"/calls/{draft.id}/apply", **apply_form()).status_code == 404
    assert client.get(f"/calls/{draft.id}").status_code == 404
    assert client.get("/calls/999999").status_code == 404 and client.get("/calls/abc").status_code == 404
    assert count(session, RecruitmentApplication) == 0
    sign_in_as(client, world.other_staff)  # ward staff are residents like anyone else here
    assert post(client, f"/calls/{world.call.id}/apply", **apply_form()).status_code == 303


def test_calls_of_unpublished_trials_are_hidden(session: Session, world: World, client: TestClient[Litestar]) -> None:
    trial = session.get(Trial, world.trial.id)
    trial.published = False  # type: ignore[union-attr]
    session.commit()
    sign_in_as(client, world.resident)
    assert client.get(f"/calls/{world.call.id}").status_code == 404
    sign_in_as(client, world.member)
    assert 'id="call-unpublished-notice"' in client.get(f"/calls/{world.call.id}").text


def test_hostile_text_is_stored_verbatim_and_shown_escaped(session: Session, world: World,
                                                           client: TestClient[Litestar],
                                                           xss_payloads: list[str]) -> None:
    payload = "<script>alert(1)</script>"
    sign_in_as(client, world.member)
    response = post(client, f"/trials/{world.trial.id}/calls/new",
                    **call_form(title=payload, eligibility="\n\n".join(xss_payloads[:30]), activities=payload))
    assert response.status_code == 303
    call = session.exec(select(RecruitmentCall).where(RecruitmentCall.title == payload)).one()
    assert call.activities == payload
    page = client.get(f"/calls/{call.id}").text
    assert payload not in page and "&lt;script&gt;" in page and '<a href="javascript:' not in page
    assert "<iframe" not in page and "<svg" not in page
    sign_in_as(client, world.resident)
    assert post(client, f"/calls/{world.call.id}/apply",
                **apply_form(full_name='"><img src=x onerror=alert(1)>', message=payload)).status_code == 303
    stored = session.exec(select(RecruitmentApplication)).one()
    assert stored.message == payload and stored.full_name == '"><img src=x onerror=alert(1)>'
    sign_in_as(client, world.member)
    listing = client.get(f"/calls/{world.call.id}/applications").text
    assert payload not in listing and "<img src=x" not in listing and "&lt;script&gt;" in listing


def test_wrong_types_do_not_break_anything(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.member)
    assert client.get(f"/calls/{world.call.id}/applications?page=abc").status_code == 200
    assert client.get(f"/calls/{world.call.id}/applications?page=-5").status_code == 200
    assert client.get("/my/participation?page=%00").status_code == 200
    assert post(client, f"/calls/{world.call.id}/applications/abc/accept").status_code in (400, 404)
    assert post(client, f"/calls/{world.call.id}/applications/999999/accept").status_code == 404
    response = client.post(f"/calls/{world.call.id}/edit", follow_redirects=False,
                           data={"_csrf_token": csrf_token(client), "places": ["3", "4"], "title": ["a", "b"]})
    assert response.status_code == 400


# --- who sees applicants -------------------------------------------------------------------------


def test_applicants_are_seen_only_by_the_organisation_and_coordinators(
        session: Session, world: World, app: Litestar) -> None:
    application = applied(session, world, world.neighbour, full_name="応募 花子", contact="hanako@example.jp")
    for who, status in [("staff", 403), ("other_staff", 403), ("other_member", 403), ("admin", 403),
                        ("resident", 403), ("member", 200), ("coordinator", 200)]:
        with TestClient(app, base_url="http://testserver.local") as client:
            sign_in_as(client, getattr(world, who))
            page = client.get(f"/calls/{world.call.id}/applications")
            assert page.status_code == status, who
            assert ("応募 花子" in page.text) is (status == 200) and ("hanako@example.jp" in page.text) is (status == 200)
            for action in ("accept", "decline"):
                response = post(client, f"/calls/{world.call.id}/applications/{application.id}/{action}")
                assert response.status_code == (303 if status == 200 else 403), (who, action)
            assert "応募 花子" not in client.get(f"/calls/{world.call.id}").text
        if status == 403:
            assert session.get(RecruitmentApplication, application.id).status is ApplicationStatus.APPLIED  # type: ignore[union-attr]


def test_anonymous_visitors_are_sent_to_sign_in(world: World, client: TestClient[Litestar]) -> None:
    for path in (f"/calls/{world.call.id}/applications", "/my/participation"):
        assert client.get(path, follow_redirects=False).headers["location"].startswith("/account/sign-in")


def test_the_applicants_list_does_not_grow_queries(session: Session, world: World, client: TestClient[Litestar],
                                                   query_log) -> None:  # type: ignore[no-untyped-def]
    call = make_call(session, world.trial, places=100)
    users = [create_user(session, f"applicant{i}@example.jp") for i in range(15)]
    for user in users[:3]:
        session.add(RecruitmentApplication(call_id=call.id, user_id=user.id, consent_version=1,  # type: ignore[arg-type]
                                           full_name="応募者", contact="a@example.jp"))
    session.commit()
    sign_in_as(client, world.member)
    client.get(f"/calls/{call.id}/applications")
    query_log.statements.clear()
    assert client.get(f"/calls/{call.id}/applications").status_code == 200
    few = query_log.count
    for user in users[3:]:
        session.add(RecruitmentApplication(call_id=call.id, user_id=user.id, consent_version=1,  # type: ignore[arg-type]
                                           full_name="応募者", contact="a@example.jp", status=ApplicationStatus.ACCEPTED))
    session.commit()
    query_log.statements.clear()
    assert client.get(f"/calls/{call.id}/applications").status_code == 200
    assert query_log.count == few <= 12, str(query_log)
    query_log.statements.clear()
    sign_in_as(client, users[0])
    query_log.statements.clear()
    assert client.get("/my/participation").status_code == 200
    assert query_log.count <= 8, str(query_log)


# --- deciding -----------------------------------------------------------------------------------


def test_accepting_and_declining_notify_the_applicant(session: Session, world: World, client: TestClient[Litestar]) -> None:
    first = applied(session, world, world.resident)
    second = applied(session, world, world.neighbour, full_name="区民 花子")
    third_user = create_user(session, "third@example.jp")
    third = applied(session, world, third_user, full_name="三番目")
    sign_in_as(client, world.coordinator)
    assert post(client, f"/calls/{world.call.id}/applications/{first.id}/accept").status_code == 303
    assert post(client, f"/calls/{world.call.id}/applications/{second.id}/accept").status_code == 303
    assert reload_call(session, world.call).accepted_count == 2
    full = post(client, f"/calls/{world.call.id}/applications/{third.id}/accept")
    assert full.status_code == 303
    assert session.get(RecruitmentApplication, third.id).status is ApplicationStatus.APPLIED  # type: ignore[union-attr]
    assert post(client, f"/calls/{world.call.id}/applications/{second.id}/decline").status_code == 303
    assert reload_call(session, world.call).accepted_count == 1  # declining an accepted person frees the place
    assert post(client, f"/calls/{world.call.id}/applications/{third.id}/accept").status_code == 303
    assert reload_call(session, world.call).accepted_count == 2
    kinds = session.exec(select(Notification.user_id, Notification.kind).order_by(Notification.id)).all()  # type: ignore[arg-type]
    assert kinds == [(world.resident.id, "recruitment.accepted"), (world.neighbour.id, "recruitment.accepted"),
                     (world.neighbour.id, "recruitment.declined"), (third_user.id, "recruitment.accepted")]
    mails = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "resident@example.jp")).all()
    assert len(mails) == 1 and "電動キックボード試乗モニター" in mails[0].subject
    assert "/my/participation" in mails[0].body_text
    actions = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "recruitment_application")).all()
    assert actions.count("recruitment_application.accepted") == 3


def race(settings: Settings, call_id: int, editor_id: int, application_ids: list[int]
         ) -> tuple[list[bool], list[str], list[BaseException]]:
    """Accept each application in its own thread and database session, all released at once."""
    racing = Database(settings, pool_size=len(application_ids) + 2, max_overflow=0)
    barrier = threading.Barrier(len(application_ids))
    results: list[bool] = []
    refusals: list[str] = []
    errors: list[BaseException] = []

    def attempt(application_id: int) -> None:
        try:
            with racing.session() as db:
                principal = Principal.load(db, db.get(User, editor_id))
                db.commit()
                barrier.wait(timeout=30)
                try:
                    results.append(recruitment.decide(db, settings, principal, call_id, application_id, True))
                except Invalid as failed:
                    refusals.append(failed.errors["decision"])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(application_id,)) for application_id in application_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    return results, refusals, errors


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_concurrent_accepts_for_the_last_place_let_exactly_one_in(session: Session, world: World, settings: Settings) -> None:
    call = make_call(session, world.trial, places=1)
    ids = []
    for index in range(8):
        user = create_user(session, f"racer{index}@example.jp")
        application = RecruitmentApplication(call_id=call.id, user_id=user.id, consent_version=1,  # type: ignore[arg-type]
                                             full_name=f"応募者{index}", contact="a@example.jp")
        session.add(application)
        session.commit()
        ids.append(application.id)
    results, refusals, errors = race(settings, call.id, world.member.id, ids)  # type: ignore[arg-type]
    assert errors == []
    assert results == [True] and len(refusals) == 7
    assert reload_call(session, call).accepted_count == 1
    accepted = session.exec(select(func.count()).select_from(RecruitmentApplication).where(
        RecruitmentApplication.call_id == call.id, RecruitmentApplication.status == ApplicationStatus.ACCEPTED)).one()
    assert accepted == 1


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_concurrent_accepts_of_one_application_count_once(session: Session, world: World, settings: Settings) -> None:
    application = applied(session, world, world.resident)
    results, refusals, errors = race(settings, world.call.id, world.coordinator.id, [application.id] * 6)  # type: ignore[arg-type, list-item]
    assert errors == [] and refusals == []
    assert sorted(results) == [False] * 5 + [True]
    assert reload_call(session, world.call).accepted_count == 1


# --- withdrawing ---------------------------------------------------------------------------------


def test_withdrawing_removes_the_data_and_frees_the_place(session: Session, world: World,
                                                          client: TestClient[Litestar]) -> None:
    application = applied(session, world, world.resident, full_name="撤回 太郎", contact="taro@example.jp",
                          message="よろしく")
    recruitment.decide(session, Settings(env="test", secret_key="x"), actor(session, world.member), world.call.id,  # type: ignore[arg-type]
                       application.id, True)  # type: ignore[arg-type]
    assert reload_call(session, world.call).accepted_count == 1
    sign_in_as(client, world.resident)
    mine = client.get("/my/participation")
    assert mine.status_code == 200 and f'id="participation-{application.id}-withdraw"' in mine.text
    assert ja("Accepted") in mine.text
    response = post(client, f"/calls/{world.call.id}/withdraw", next="/my/participation")
    assert response.status_code == 303 and response.headers["location"] == "/my/participation"
    session.expire_all()
    row = session.get(RecruitmentApplication, application.id)
    assert row is not None and row.status is ApplicationStatus.WITHDRAWN and row.withdrawn_at is not None
    assert (row.full_name, row.contact, row.message) == ("", "", "")
    assert reload_call(session, world.call).accepted_count == 0
    assert f'id="participation-{application.id}-withdraw"' not in client.get("/my/participation").text
    # Withdrawing twice is harmless; applying again is not allowed.
    assert post(client, f"/calls/{world.call.id}/withdraw").status_code == 303
    again = post(client, f"/calls/{world.call.id}/apply", **apply_form())
    assert again.status_code == 303 and count(session, RecruitmentApplication) == 1
    assert session.get(RecruitmentApplication, application.id).status is ApplicationStatus.WITHDRAWN  # type: ignore[union-attr]
    # The organisation sees only that someone withdrew.
    sign_in_as(client, world.member)
    page = client.get(f"/calls/{world.call.id}/applications").text
    assert "撤回 太郎" not in page and "taro@example.jp" not in page and "よろしく" not in page
    assert ja("Withdrawn (data removed)") in page
    assert post(client, f"/calls/{world.call.id}/applications/{application.id}/accept").status_code == 303
    assert reload_call(session, world.call).accepted_count == 0  # a withdrawn person cannot be accepted


def test_withdrawing_has_the_worker_empty_the_write_ahead_log(session: Session, world: World) -> None:
    """The blanked name and contact must not linger in SQLite's log: the service queues the same task as an
    account deletion, once, and only when something was withdrawn."""
    applied(session, world, world.resident, full_name="撤回 花子", contact="hanako@example.jp")
    with tasks_announced(session, "cocreate.erase_freed") as queued:
        assert recruitment.withdraw(session, actor(session, world.resident), world.call.id)
        assert not recruitment.withdraw(session, actor(session, world.resident), world.call.id)
    assert [task[0] for task in queued] == ["cocreate.erase_freed"]


def test_withdrawing_with_an_unreadable_return_address_changes_nothing(session: Session, world: World,
                                                                         client: TestClient[Litestar]) -> None:
    application = applied(session, world, world.resident)
    sign_in_as(client, world.resident)
    assert post(client, f"/calls/{world.call.id}/withdraw", next="/" + "x" * 600).status_code == 400
    session.expire_all()
    assert session.get(RecruitmentApplication, application.id).status is ApplicationStatus.APPLIED  # type: ignore[union-attr]
    response = post(client, f"/calls/{world.call.id}/withdraw", next="//evil.example/")
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_withdrawing_without_an_application_is_not_found(world: World, client: TestClient[Litestar]) -> None:
    sign_in_as(client, world.neighbour)
    assert post(client, f"/calls/{world.call.id}/withdraw").status_code == 404


# --- the trial page section ----------------------------------------------------------------------


def test_the_trial_section_lists_public_calls_and_drafts_for_editors(session: Session, world: World,
                                                                     app: Litestar) -> None:
    draft = make_call(session, world.trial, title="下書きの募集", status=RecruitmentStatus.DRAFT)
    nobody = Principal.anonymous()
    public = recruitment_routes.trial_section(session, nobody, world.trial)
    assert public is not None and public[0] == "labs/_call_section.html"
    assert [c.id for c in public[1]["section"].calls] == [world.call.id]
    assert not permissions.can(nobody, "recruitment.create", public[1]["section"].target)
    member = actor(session, world.member)
    editor = recruitment_routes.trial_section(session, member, world.trial)
    assert editor is not None and {c.id for c in editor[1]["section"].calls} == {world.call.id, draft.id}
    facts = editor[1]["section"].target
    assert permissions.can(member, "recruitment.create", facts) and permissions.can(
        member, "recruitment.see_applications", facts)
    staff_actor = actor(session, world.staff)
    staff = recruitment.section(session, staff_actor, world.trial)
    assert staff is not None and permissions.can(staff_actor, "recruitment.create", staff.target)
    assert not permissions.can(staff_actor, "recruitment.see_applications", staff.target)
    from cocreate.web.templating import render_standalone

    request = SimpleNamespace(scope={"principal": member})  # who reads, as the template's can() looks for it
    with using_locale("ja"):
        # Outside a request: the links the page's url_for would build, from the app's routes.
        html = render_standalone("labs/_call_section.html", ctx=editor[1], request=request,
                                 url_for=app.route_reverse)
    assert 'id="call-new-link"' in html and "下書きの募集" in html and f'href="/calls/{world.call.id}"' in html
    assert ja("%(left)s of %(places)s places left", left=2, places=2) in html
    other = Trial(title="別の実証", published=True)
    session.add(other)
    session.commit()
    assert recruitment_routes.trial_section(session, Principal.anonymous(), other) is None


# --- deleting participants' data -----------------------------------------------------------------


def test_the_job_deletes_applications_after_the_retention_time(session: Session, world: World) -> None:
    applied(session, world, world.resident)
    applied(session, world, world.neighbour)
    trial = session.get(Trial, world.trial.id)
    trial.ends_on = date(2026, 9, 1)  # type: ignore[union-attr]
    trial.participant_data_retention_days = 90  # type: ignore[union-attr]
    session.commit()
    other = Trial(title="続く実証", published=True, ends_on=date(2026, 11, 30))
    session.add(other)
    session.commit()
    kept = make_call(session, other)
    session.add(RecruitmentApplication(call_id=kept.id, user_id=world.resident.id, consent_version=1))  # type: ignore[arg-type]
    session.commit()
    # 2026-09-01 + 90 days = 2026-11-30: kept through that Tokyo day, deleted from 12-01 (Tokyo).
    assert recruitment.delete_expired_participant_data(session, datetime(2026, 11, 30, 14, 59, tzinfo=UTC)) == 0
    assert count(session, RecruitmentApplication) == 3
    assert recruitment.delete_expired_participant_data(session, datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == 2
    session.expire_all()
    assert count(session, RecruitmentApplication) == 1
    trial = session.get(Trial, world.trial.id)
    assert trial is not None and trial.participant_data_deleted_at is not None
    assert session.get(RecruitmentCall, world.call.id).status is RecruitmentStatus.CLOSED  # type: ignore[union-attr]
    assert recruitment.delete_expired_participant_data(session, datetime(2026, 12, 5, tzinfo=UTC)) == 0
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "recruitment.participant_data_deleted")).one()
    assert entry.target_id == str(world.trial.id) and '"applications":2' in entry.details_json


def test_the_deletion_task_runs_in_a_real_worker(session: Session, world: World,
                                                 smtp_worker_settings) -> None:  # type: ignore[no-untyped-def]
    from cocreate.tasks import configure_celery, enqueue
    from tests.servers import wait_until

    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    applied(session, world, world.resident)
    trial = session.get(Trial, world.trial.id)
    trial.ends_on = utcnow().date() - timedelta(days=10)  # type: ignore[union-attr]
    trial.participant_data_retention_days = 3  # type: ignore[union-attr]
    session.commit()
    with Session(session.get_bind()) as sending:
        enqueue(sending, "labs.delete_expired_participant_data")
        sending.commit()

    def deleted() -> bool:
        session.expire_all()
        return count(session, RecruitmentApplication) == 0

    try:
        wait_until(deleted, 30, "the applications to be deleted")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    assert session.get(Trial, world.trial.id).participant_data_deleted_at is not None  # type: ignore[union-attr]


# --- privacy -------------------------------------------------------------------------------------


def test_download_my_data_holds_my_applications(session: Session, world: World) -> None:
    applied(session, world, world.resident, full_name="輸出 太郎", message="メッセージ")
    applied(session, world, world.neighbour, full_name="他人 花子")
    data = self_service.export_data(session, actor(session, world.resident))
    rows = data["recruitment_applications"]
    assert len(rows) == 1 and rows[0]["full_name"] == "輸出 太郎" and rows[0]["consent_version"] == 1
    assert rows[0]["call_title"] == "電動キックボード試乗モニター"
    assert "他人 花子" not in self_service.export_json(data).decode()


def test_deleting_the_account_withdraws_the_applications(session: Session, settings: Settings, world: World) -> None:
    from tests.factories import PASSWORD

    application = applied(session, world, world.resident, full_name="退会 太郎")
    recruitment.decide(session, Settings(env="test", secret_key="x"), actor(session, world.coordinator),
                       world.call.id, application.id, True)  # type: ignore[arg-type]
    self_service.delete_account(session, settings, actor(session, session.get(User, world.resident.id)), PASSWORD, True)
    session.expire_all()
    row = session.get(RecruitmentApplication, application.id)
    assert row is not None and row.status is ApplicationStatus.WITHDRAWN and row.full_name == "" and row.contact == ""
    assert reload_call(session, world.call).accepted_count == 0


def test_services_refuse_people_without_the_right(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        recruitment.applications(session, actor(session, world.staff), world.call.id, 1, 20)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        recruitment.create_call(session, actor(session, world.resident), world.trial.id,  # type: ignore[arg-type]
                                recruitment.CallForm.parse(call_form()))
    with pytest.raises(NotFound):
        recruitment.editable_call(session, actor(session, world.member), 999_999)

