"""The labs policy (labs/permissions.py), rule by rule: per role (coordinator, member of the organisation,
member of another one, resident, visitor, site admin, staff) and per booking, trial and call state; the
facts its targets carry, read only when they change an answer (labs/access.py); and asking before a form
is read. The routes' side of the same rules is the permission matrix
(tests/cocreate/accounts/test_permission_matrix.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlmodel import Session

from cocreate import components, permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal
from cocreate.errors import Forbidden, SignInRequired
from cocreate.i18n import using_locale
from labs import access
from labs.access import OnBooking, OnCall, OnField, OnProposal, OnTrial
from labs.models import (
    Area,
    Booking,
    BookingStatus,
    FieldKind,
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    TestFieldCoordinator,
    Trial,
    TrialOrganisation,
)
from tests.factories import create_department, create_organisation, create_user
from tests.helpers import count_queries

pytestmark = pytest.mark.databases("sqlite", why="the rules read no database; the loaders' queries are counted")

S = BookingStatus
DEPARTMENT = 7


@pytest.fixture
def people(session: Session) -> Iterator[dict[str, Principal]]:
    """The personas: a user each (the rules read only roles and facts, so members and non-members differ
    by the facts the test gives, not by rows); the refusals read in English."""
    components.load()

    def user(email: str, *roles: tuple[Role, int | None], confirmed: bool = True) -> Principal:
        return Principal(user=create_user(session, email, confirmed=confirmed), roles=frozenset(roles))

    personas = {
        "visitor": Principal.anonymous(),
        "resident": user("resident@example.jp"),
        "unconfirmed": user("new@example.jp", confirmed=False),
        "member": user("member@example.jp"),
        "other_member": user("other@example.jp"),
        "coordinator": user("coordinator@example.jp", (Role.COORDINATOR, None)),
        "admin": user("admin@example.jp", (Role.ADMIN, None)),
        "staff": user("staff@example.jp", (Role.STAFF, DEPARTMENT)),
        "other_staff": user("roads@example.jp", (Role.STAFF, DEPARTMENT + 1)),
    }
    with using_locale("en"):
        yield personas


def allowed(actor: Principal, action: str, target: object = None) -> bool:
    return bool(permissions.can(actor, action, target))


def test_the_manifest_declares_the_labs_actions(people: dict[str, Principal]) -> None:
    labs_actions = {a for a in permissions.actions() if a.split(".")[0] in
                    {"field", "booking", "calendar", "trial", "recruitment", "notice"}}
    assert labs_actions == {
        "field.create", "field.see", "field.edit", "field.manage_blackouts", "field.manage_coordinators",
        "booking.request", "booking.see", "booking.edit", "booking.submit", "booking.cancel",
        "booking.upload_document", "booking.review", "booking.approve", "booking.request_changes", "booking.reject",
        "booking.reschedule", "booking.manager_cancel", "booking.queue",
        "calendar.see_pending", "calendar.export",
        "trial.create", "trial.assign", "trial.start", "trial.see", "trial.edit", "trial.post_update",
        "trial.record_results",
        "recruitment.see", "recruitment.create", "recruitment.edit", "recruitment.open", "recruitment.close",
        "recruitment.apply", "recruitment.see_applications", "recruitment.decide",
        "notice.subscribe",
    }


# --- test fields ---------------------------------------------------------------------------------

MANAGING = ("field.edit", "field.manage_blackouts", "field.manage_coordinators", "calendar.see_pending")


def test_coordinators_and_admins_create_fields_and_manage_theirs(people: dict[str, Principal]) -> None:
    assert [p for p in people if allowed(people[p], "field.create")] == ["coordinator", "admin"]
    refused = permissions.can(people["resident"], "field.create")
    assert refused.reason == "Only field coordinators can create test fields."
    assert permissions.can(people["visitor"], "field.create").sign_in
    theirs, other = OnField(published=False, coordinates=True), OnField(published=False, coordinates=False)
    for action in MANAGING:
        assert allowed(people["coordinator"], action, theirs) and not allowed(people["coordinator"], action, other)
        assert allowed(people["admin"], action, other)  # site admins manage every field
        # an assignment left behind when the role was taken away manages nothing
        assert not allowed(people["resident"], action, theirs) and not allowed(people["staff"], action, theirs)
        assert permissions.can(people["visitor"], action, theirs).sign_in


def test_published_fields_are_public_and_unpublished_ones_their_managers(people: dict[str, Principal]) -> None:
    published = OnField(published=True, coordinates=False)
    assert all(allowed(actor, "field.see", published) for actor in people.values())
    hidden = OnField(published=False, coordinates=False)
    assert [p for p in people if allowed(people[p], "field.see", hidden)] == ["admin"]
    assert allowed(people["coordinator"], "field.see", replace(hidden, coordinates=True))


# --- bookings ------------------------------------------------------------------------------------

MEMBER_STATES = {
    "booking.edit": {S.DRAFT, S.CHANGES_REQUESTED},
    "booking.submit": {S.DRAFT, S.CHANGES_REQUESTED},
    "booking.upload_document": {S.DRAFT, S.CHANGES_REQUESTED},
    "booking.cancel": {S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.APPROVED},
}
MANAGER_STATES = {
    "booking.review": {S.SUBMITTED},
    "booking.approve": {S.SUBMITTED, S.UNDER_REVIEW},
    "booking.request_changes": {S.SUBMITTED, S.UNDER_REVIEW},
    "booking.reject": {S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED},
    "booking.reschedule": {S.APPROVED},
    "booking.manager_cancel": {S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.APPROVED},
}


def booking(status: BookingStatus | None, *, member: bool = False, verified: bool = True,
            coordinates: bool = False) -> OnBooking:
    return OnBooking(status=status, member_of_organisation=member, organisation_verified=verified,
                     coordinates_field=coordinates)


@pytest.mark.parametrize("status", list(BookingStatus))
def test_the_organisation_acts_on_its_request_in_the_states_that_allow_it(people: dict[str, Principal],
                                                                          status: BookingStatus) -> None:
    member = people["member"]
    for action, states in MEMBER_STATES.items():
        decision = permissions.can(member, action, booking(status, member=True))
        assert decision.allowed is (status in states), (action, status)
        if not decision:  # the state refuses, under the form's field
            assert decision.field == ("file" if action == "booking.upload_document" else "status")
        # a member of another organisation, and the field's managers, are refused who they are
        for other in (booking(status), booking(status, coordinates=True)):
            for actor in (people["other_member"], people["coordinator"], people["admin"]):
                refused = permissions.can(actor, action, other)
                assert not refused and refused.field is None
                assert refused.reason == "Only members of the organisation that made this request can do this."
    assert permissions.can(people["visitor"], "booking.edit", booking(status, member=True)).sign_in


def test_only_a_verified_organisation_submits(people: dict[str, Principal]) -> None:
    unverified = booking(S.DRAFT, member=True, verified=False)
    assert allowed(people["member"], "booking.edit", unverified)
    refused = permissions.can(people["member"], "booking.submit", unverified)
    assert not refused and refused.field is None
    assert refused.reason == "Your organisation must be verified by the ward before it can do this."
    assert allowed(people["member"], "booking.submit", booking(None, member=True))  # a new request
    assert not allowed(people["member"], "booking.submit", booking(None, member=True, verified=False))


@pytest.mark.parametrize("status", list(BookingStatus))
def test_the_fields_managers_act_on_submitted_requests(people: dict[str, Principal], status: BookingStatus) -> None:
    for action, states in MANAGER_STATES.items():
        for actor, target in ((people["coordinator"], booking(status, coordinates=True)),
                              (people["admin"], booking(status))):
            decision = permissions.can(actor, action, target)
            assert decision.allowed is (status in states), (action, status)
            if not decision and status is not S.DRAFT:
                assert decision.field == "status"
        # coordinators of other fields, members of the organisation, residents: who they are
        for actor, target in ((people["coordinator"], booking(status)),
                              (people["member"], booking(status, member=True)),
                              (people["resident"], booking(status, coordinates=True))):
            refused = permissions.can(actor, action, target)
            assert not refused and refused.field is None, (action, status)


@pytest.mark.parametrize("status", list(BookingStatus))
def test_who_sees_a_request(people: dict[str, Principal], status: BookingStatus) -> None:
    assert allowed(people["member"], "booking.see", booking(status, member=True))
    managers_see = status is not S.DRAFT  # a draft is the organisation's alone
    assert allowed(people["coordinator"], "booking.see", booking(status, coordinates=True)) is managers_see
    assert allowed(people["admin"], "booking.see", booking(status)) is managers_see
    assert not allowed(people["coordinator"], "booking.see", booking(status))
    assert not allowed(people["other_member"], "booking.see", booking(status))
    assert not allowed(people["visitor"], "booking.see", booking(status))


def test_members_of_an_organisation_request_and_coordinators_have_a_queue(people: dict[str, Principal]) -> None:
    new = booking(None, member=True, verified=False)
    assert allowed(people["member"], "booking.request", new)
    refused = permissions.can(people["resident"], "booking.request", booking(None))
    assert refused.reason.startswith("Only members of an organisation can request a booking.")
    assert permissions.can(people["visitor"], "booking.request", booking(None)).sign_in
    for action in ("booking.queue", "calendar.export"):
        assert [p for p in people if allowed(people[p], action)] == ["coordinator", "admin"]
    assert permissions.can(people["staff"], "calendar.export").reason == \
        "Only field coordinators can use a private calendar feed."


# --- trials --------------------------------------------------------------------------------------


def trial(*, published: bool = True, member: bool = False) -> OnTrial:
    return OnTrial(published=published, department_id=DEPARTMENT, member_of_organisation=member)


EDITORS = ["member", "coordinator", "admin", "staff"]
"""Who edits a trial of the member's organisation owned by the staff persona's department."""


def editors(people: dict[str, Principal], action: str, **facts: bool) -> list[str]:
    return [p for p in people if allowed(people[p], action, trial(member=p == "member", **facts))]


@pytest.mark.parametrize("action", ["trial.edit", "trial.post_update", "trial.record_results",
                                    "recruitment.create", "recruitment.edit", "recruitment.open", "recruitment.close"])
def test_the_trials_organisations_department_and_coordinators_edit_it(people: dict[str, Principal],
                                                                      action: str) -> None:
    assert editors(people, action) == EDITORS
    assert editors(people, action, published=False) == EDITORS
    assert permissions.can(people["visitor"], action, trial()).sign_in
    assert permissions.can(people["other_staff"], action, trial()).reason.startswith("Only the trial's organisations")


def test_unpublished_trials_are_seen_by_their_editors_only(people: dict[str, Principal]) -> None:
    assert editors(people, "trial.see") == list(people)
    assert editors(people, "trial.see", published=False) == EDITORS


def test_coordinators_start_ward_run_trials_and_owners_start_one_from_a_proposal(people: dict[str, Principal]) -> None:
    for action in ("trial.create", "trial.assign"):
        assert [p for p in people if allowed(people[p], action)] == ["coordinator", "admin"]
    assert permissions.can(people["staff"], "trial.create").reason == "Only coordinators can start a ward-run trial."
    owned, other = OnProposal(owns_challenge=True), OnProposal(owns_challenge=False)
    assert [p for p in people if allowed(people[p], "trial.start", other)] == ["coordinator", "admin"]
    assert allowed(people["staff"], "trial.start", owned)
    assert not allowed(people["visitor"], "trial.start", owned)


# --- recruitment ---------------------------------------------------------------------------------


def call(status: RecruitmentStatus, *, published: bool = True, member: bool = False) -> OnCall:
    return OnCall(published=published, department_id=DEPARTMENT, member_of_organisation=member, call_status=status)


@pytest.mark.parametrize("status", list(RecruitmentStatus))
@pytest.mark.parametrize("published", [True, False])
def test_who_sees_a_call(people: dict[str, Principal], status: RecruitmentStatus, published: bool) -> None:
    seen = [p for p in people if allowed(people[p], "recruitment.see", call(status, published=published,
                                                                                member=p == "member"))]
    assert seen == (list(people) if published and status is not RecruitmentStatus.DRAFT else EDITORS)


def test_residents_apply_but_not_the_trials_organisations(people: dict[str, Principal]) -> None:
    open_call = call(RecruitmentStatus.OPEN)
    assert allowed(people["resident"], "recruitment.apply", open_call)
    assert allowed(people["coordinator"], "recruitment.apply", open_call)  # not a member: a resident like others
    refused = permissions.can(people["member"], "recruitment.apply", replace(open_call, member_of_organisation=True))
    assert refused.reason == "Members of the organisations running this trial cannot apply to its calls."
    assert permissions.can(people["unconfirmed"], "recruitment.apply", open_call).reason == \
        "Confirm your e-mail address before applying."
    nobody = permissions.can(people["visitor"], "recruitment.apply", open_call)
    assert nobody.sign_in and nobody.reason == "Sign in to apply."


@pytest.mark.parametrize("action", ["recruitment.see_applications", "recruitment.decide"])
def test_applicants_are_seen_by_the_trials_organisations_and_coordinators_only(people: dict[str, Principal],
                                                                               action: str) -> None:
    # not the department's staff, not site admins without the coordinator role
    assert editors(people, action) == ["member", "coordinator"]
    assert permissions.can(people["staff"], action, trial()).reason == \
        "Only the trial's organisations and coordinators can see the applicants."


def test_signed_in_people_subscribe_to_notices(people: dict[str, Principal]) -> None:
    assert [p for p in people if not allowed(people[p], "notice.subscribe")] == ["visitor"]


# --- the facts, read when they matter ------------------------------------------------------------


def test_a_fact_is_read_only_when_it_changes_an_answer(session: Session, people: dict[str, Principal]) -> None:
    department = create_department(session)
    member = people["member"]
    organisation = create_organisation(session, admin=member.user, verified=True)
    field = TestField(name="広場", kind=FieldKind.PARK, area=Area.TAKASHIMADAIRA, address="板橋区", published=True)
    unpublished = Trial(title="実証", department_id=department.id, published=False)
    session.add_all([field, unpublished])
    session.commit()
    session.add_all([TestFieldCoordinator(field_id=field.id, user_id=people["coordinator"].user_id),  # type: ignore[arg-type]
                     TrialOrganisation(trial_id=unpublished.id, organisation_id=organisation.id)])  # type: ignore[arg-type]
    draft = Booking(field_id=field.id, organisation_id=organisation.id, title="下書き", status=S.DRAFT)  # type: ignore[arg-type]
    session.add(draft)
    session.commit()
    engine = session.get_bind()

    def reads(load):  # type: ignore[no-untyped-def]
        with count_queries(engine) as log:  # type: ignore[arg-type]
            value = load()
        return value, log.count

    assert field.id is not None
    # a site admin manages every field, a resident none: whether they coordinate it is not asked
    for persona in ("admin", "resident", "visitor"):
        facts, count = reads(lambda p=persona: access.on_field(session, people[p], field.id, published=True,
                                                                 actions=("field.edit",)))
        assert count == 0 and not facts.coordinates
    facts, count = reads(lambda: access.on_field(session, people["coordinator"], field.id, published=True,
                                                 actions=("field.edit",)))
    assert count == 1 and facts.coordinates
    # everybody sees a published field: nobody's assignment is read for that
    assert reads(lambda: access.on_field(session, people["coordinator"], field.id, published=True,
                                         actions=("field.see",)))[1] == 0
    # a draft is its organisation's alone: the coordinator's assignment does not matter
    facts_b, count = reads(lambda: access.on_booking(session, people["coordinator"], draft, ("booking.see",)))
    assert count == 1 and not facts_b.member_of_organisation and not permissions.can(
        people["coordinator"], "booking.see", facts_b)
    facts_b, _count = reads(lambda: access.on_booking(session, member, draft, ("booking.see", "booking.submit")))
    assert facts_b.member_of_organisation and facts_b.organisation_verified
    # a visitor's memberships are never read; a coordinator edits without them, but may apply only if not a member
    assert reads(lambda: access.on_trial(session, people["visitor"], unpublished, ("trial.edit",)))[1] == 0
    assert reads(lambda: access.on_trial(session, people["coordinator"], unpublished, ("trial.edit",)))[1] == 0
    facts_t, count = reads(lambda: access.on_trial(session, member, unpublished, ("trial.edit",)))
    assert count == 1 and facts_t.member_of_organisation
    assert reads(lambda: access.on_trial(session, people["coordinator"], unpublished,
                                         ("trial.edit", "recruitment.apply")))[1] == 1
    recruiting = RecruitmentCall(trial_id=unpublished.id, title="募集", places=3, consent_text="同意")  # type: ignore[arg-type]
    facts_c = access.on_call(session, member, recruiting, unpublished, ("recruitment.see",))
    assert isinstance(facts_c, OnTrial) and permissions.can(member, "recruitment.see", facts_c)


def test_routes_refuse_who_may_never_act_before_the_form_and_leave_the_state_to_the_service(
        people: dict[str, Principal]) -> None:
    approved = booking(S.APPROVED, member=True)
    access.require_who(people["member"], "booking.edit", approved)  # the service says why, under "status"
    with pytest.raises(Forbidden):
        access.require_who(people["other_member"], "booking.edit", booking(S.DRAFT))
    with pytest.raises(SignInRequired):
        access.require_who(people["visitor"], "booking.approve", booking(S.SUBMITTED))
    with pytest.raises(Forbidden):
        access.require_who(people["coordinator"], "booking.approve", booking(S.SUBMITTED))  # not their field
    access.require_who(people["coordinator"], "booking.approve", booking(S.APPROVED, coordinates=True))
