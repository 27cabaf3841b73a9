"""The one permission question: declared actions, decisions that compose, refusals as domain errors,
and the same answer in templates."""

from __future__ import annotations

import pytest
from litestar import Litestar
from sqlmodel import Session

from cocreate import components, permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import OnOrganisation, Principal, on_organisation
from cocreate.errors import Forbidden, Invalid, SignInRequired
from cocreate.permissions import ALLOW, Decision, Policy, deny
from cocreate.web.templating import make_environment, navigation
from proposals.models import Phase
from proposals.permissions import OnChallenge
from tests.factories import create_organisation, create_user

pytestmark = pytest.mark.databases("sqlite", why="the rules read no database; users come from the factories")


def test_the_first_refusal_is_the_answer() -> None:
    assert (ALLOW & ALLOW).allowed
    assert (deny("first") & deny("second")).reason == "first"
    assert (ALLOW & deny("second")).reason == "second"
    assert not Decision(False, "x")


@pytest.mark.parametrize(("decision", "error"), [
    (Decision(False, "sign in", sign_in=True), SignInRequired),
    (Decision(False, "not yours"), Forbidden),
    (Decision(False, "closed", field="phase"), Invalid),
])
def test_a_refusal_raises_the_domain_error_it_stands_for(decision: Decision, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        decision.require()
    assert decision.reason in str(raised.value)
    ALLOW.require()  # nothing raised


def test_a_state_refusal_is_shown_under_the_field_the_caller_names() -> None:
    with pytest.raises(Invalid) as raised:
        Decision(False, "closed", field="phase").require("answer")
    assert raised.value.errors == {"answer": "closed"}


def test_an_action_has_one_rule_and_an_undeclared_action_is_an_error() -> None:
    policy = Policy("test")
    policy.rule("thing.do")(lambda actor, target: ALLOW)
    with pytest.raises(ValueError, match="two rules"):
        policy.rule("thing.do")(lambda actor, target: ALLOW)
    with pytest.raises(LookupError):
        permissions.can(Principal.anonymous(), "thing.never-declared")


def test_the_components_declare_their_actions_in_their_manifests() -> None:
    components.load()
    assert {"question.ask", "question.answer", "question.moderate"} <= permissions.actions()


def test_the_dialogue_rules_answer_by_role_and_phase(session: Session) -> None:
    components.load()
    resident = Principal.load(session, create_user(session, "asker@example.jp"))
    unconfirmed = Principal.load(session, create_user(session, "new@example.jp", confirmed=False))
    staff = Principal(user=resident.user, roles=frozenset({(Role.STAFF, 1)}))
    open_challenge = OnChallenge(Phase.ACCEPTING, owned=False)
    owned = OnChallenge(Phase.ACCEPTING, owned=True)

    assert permissions.can(resident, "question.ask", open_challenge)
    nobody = permissions.can(Principal.anonymous(), "question.ask", open_challenge)
    assert not nobody and nobody.sign_in
    assert not permissions.can(unconfirmed, "question.ask", open_challenge)
    closed = permissions.can(resident, "question.ask", OnChallenge(Phase.VOTING, owned=False))
    assert not closed and closed.field == "phase"
    assert not permissions.can(resident, "question.answer", open_challenge)
    assert not permissions.can(staff, "question.answer", open_challenge)  # staff, but not of an owner
    assert permissions.can(staff, "question.answer", owned)
    assert not permissions.can(staff, "question.answer", OnChallenge(Phase.CLOSED, owned=True))
    assert permissions.can(staff, "question.moderate", OnChallenge(Phase.CLOSED, owned=True))


def test_templates_ask_the_same_question_for_the_acting_person(session: Session) -> None:
    components.load()
    template = make_environment().from_string(
        '{% if can("question.moderate", on) %}staff{% else %}{{ can("question.moderate", on).reason }}{% endif %}')
    owner = Principal(user=create_user(session, "owner@example.jp"), roles=frozenset({(Role.STAFF, 1)}))

    class Request:
        def __init__(self, principal: Principal | None) -> None:
            self.scope = {"principal": principal}

    assert template.render(request=Request(owner), on=OnChallenge(Phase.ACCEPTING, owned=True)) == "staff"
    refused = template.render(request=Request(None), on=OnChallenge(Phase.ACCEPTING, owned=True))
    assert refused and refused != "staff"


# --- the core's rules (cocreate/accounts/policy.py) ------------------------------------------------

ADMINISTRATION = ("admin.access", "user.manage", "role.assign", "department.manage", "staff.invite", "audit.read",
                  "page.edit", "organisation.verify")


@pytest.fixture
def people(session: Session) -> dict[str, Principal]:
    """One of each: a ward administrator, staff of department 1, a resident, and a visitor."""
    components.load()

    def person(email: str, *roles: tuple[Role, int | None]) -> Principal:
        return Principal(user=create_user(session, email), roles=frozenset(roles))

    return {"admin": person("admin@example.jp", (Role.ADMIN, None)),
            "staff": person("staff@example.jp", (Role.STAFF, 1)),
            "moderator": person("moderator@example.jp", (Role.MODERATOR, None), (Role.REVIEWER, None)),
            "resident": person("resident@example.jp"),
            "visitor": Principal.anonymous()}


def test_the_core_declares_its_actions_in_its_manifest() -> None:
    components.load()
    assert {*ADMINISTRATION, "residency.manage", "residency.verify", "identity.unlink", "organisation.view",
            "organisation.see_members", "organisation.edit", "organisation.manage_members", "organisation.leave",
            "organisation.draft_for", "organisation.act_for"} <= permissions.actions()


@pytest.mark.parametrize("action", ADMINISTRATION)
def test_administration_is_for_ward_administrators(people: dict[str, Principal], action: str) -> None:
    assert permissions.can(people["admin"], action)
    for name in ("staff", "moderator", "resident"):
        refused = permissions.can(people[name], action)
        assert not refused and not refused.sign_in and refused.reason
        with pytest.raises(Forbidden):
            permissions.require(people[name], action)
    with pytest.raises(SignInRequired):
        permissions.require(people["visitor"], action)


def test_residency_checks_are_for_any_ward_staff_and_administrators(people: dict[str, Principal]) -> None:
    allowed = {name for name, person in people.items() if permissions.can(person, "residency.manage")}
    assert allowed == {"admin", "staff"}
    assert permissions.can(people["visitor"], "residency.manage").sign_in
    resident = people["resident"].user
    staff = people["staff"]
    assert permissions.can(staff, "residency.verify", resident)
    assert permissions.can(people["admin"], "residency.verify", resident)
    assert not permissions.can(people["moderator"], "residency.verify", resident)
    with pytest.raises(Forbidden, match="ご自身の区民確認"):  # nobody verifies their own residency, staff included
        permissions.require(staff, "residency.verify", staff.user)


ORGANISATION_RULES = {
    # action: who may, among an organisation's admin and member, a site admin, an outsider and a visitor
    "organisation.edit": {"org_admin"},
    "organisation.manage_members": {"org_admin"},
    "organisation.see_members": {"org_admin", "org_member", "admin"},
    "organisation.leave": {"org_admin", "org_member"},
    "organisation.draft_for": {"org_admin", "org_member"},
}


@pytest.mark.parametrize("verified", [False, True])
def test_organisation_rules_read_the_actors_membership(people: dict[str, Principal], verified: bool) -> None:
    resident = people["resident"]
    as_org_admin = OnOrganisation(is_verified=verified, is_member=True, is_org_admin=True)
    as_member = OnOrganisation(is_verified=verified, is_member=True, is_org_admin=False)
    as_outsider = OnOrganisation(is_verified=verified, is_member=False, is_org_admin=False)
    cases = {"org_admin": (resident, as_org_admin), "org_member": (resident, as_member),
             "admin": (people["admin"], as_outsider), "outsider": (resident, as_outsider),
             "visitor": (people["visitor"], as_outsider)}
    for action, expected in ORGANISATION_RULES.items():
        allowed = {name for name, (actor, facts) in cases.items() if permissions.can(actor, action, facts)}
        assert allowed == expected, action
    act_for = {name for name, (actor, facts) in cases.items() if permissions.can(actor, "organisation.act_for", facts)}
    assert act_for == ({"org_admin", "org_member"} if verified else set())
    view = {name for name, (actor, facts) in cases.items() if permissions.can(actor, "organisation.view", facts)}
    assert view == (set(cases) if verified else {"org_admin", "org_member", "admin"})
    assert permissions.can(people["visitor"], "organisation.edit", as_outsider).sign_in
    with pytest.raises(Forbidden, match="管理者"):
        permissions.require(resident, "organisation.manage_members", as_member)
    if not verified:
        with pytest.raises(Forbidden, match="区による組織の確認"):
            permissions.require(resident, "organisation.act_for", as_member)


def test_the_facts_about_an_organisation_are_read_once(session: Session) -> None:
    components.load()
    admin = create_user(session, "org-admin@example.jp")
    member = create_user(session, "org-member@example.jp")
    outsider = create_user(session, "outsider@example.jp")
    organisation = create_organisation(session, admin=admin, members=[member], verified=True)
    assert organisation.id is not None

    def facts(user: object) -> OnOrganisation:
        return on_organisation(session, Principal.load(session, user) if user else Principal.anonymous(),
                               organisation.id)  # type: ignore[arg-type]

    assert facts(admin) == OnOrganisation(is_verified=True, is_member=True, is_org_admin=True)
    assert facts(member) == OnOrganisation(is_verified=True, is_member=True, is_org_admin=False)
    assert facts(outsider) == OnOrganisation(is_verified=True, is_member=False, is_org_admin=False)
    assert facts(None) == OnOrganisation(is_verified=True, is_member=False, is_org_admin=False)
    assert on_organisation(session, Principal.load(session, admin), organisation.id + 1000) == OnOrganisation(
        is_verified=False, is_member=False, is_org_admin=False)  # no such organisation: nobody's


def test_header_links_name_the_action_they_need(people: dict[str, Principal], app: Litestar) -> None:
    def links(name: str) -> dict[str, str]:
        shown = navigation("account", people[name])
        assert len({item.id for item in shown}) == len(shown)  # one link per DOM id
        return {item.id: item.href(app) for item in shown}

    assert links("admin")["nav-admin"] == "/admin"
    assert links("admin")["nav-staff"] == "/staff/residency"  # no staff area of their own: the residency checks
    assert links("staff")["nav-staff"] == "/staff/challenges"  # the staff area, which links to the checks
    assert "nav-admin" not in links("staff")
    assert not {"nav-admin", "nav-staff"} & set(links("resident"))
    assert not {"nav-admin", "nav-staff"} & {item.id for item in navigation("account")}
