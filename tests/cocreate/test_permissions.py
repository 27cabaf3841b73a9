"""The one permission question: declared actions, decisions that compose, refusals as domain errors,
and the same answer in templates."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from cocreate import components, permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal
from cocreate.errors import Forbidden, Invalid, SignInRequired
from cocreate.permissions import ALLOW, Decision, Policy, deny
from cocreate.web.templating import make_environment
from proposals.models import Phase
from proposals.permissions import OnChallenge
from tests.factories import create_user

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
