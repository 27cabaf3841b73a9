"""What people may do in the proposals component, answered by :func:`cocreate.permissions.can`.

Targets carry the facts the rules need, read once by the caller: an :class:`OnChallenge` is a
challenge's phase and whether the actor is among its owning departments' staff. The phase rules
themselves stay in :mod:`proposals.phases`; a rule here adds who may act.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cocreate.accounts.permissions import Principal
from cocreate.i18n import gettext as _
from cocreate.permissions import Decision, Policy, confirmed, signed_in, when
from proposals import lifecycle, phases
from proposals.models import Challenge, Phase
from proposals.phases import Action

POLICY = Policy("proposals")


@dataclass(frozen=True)
class OnChallenge:
    """A challenge as the rules see it for one actor."""

    phase: Phase
    owned: bool
    """The actor is staff of a department that owns or co-owns the challenge."""


def on_challenge(session: Session, actor: Principal, challenge: Challenge) -> OnChallenge:
    return OnChallenge(challenge.phase, lifecycle.is_owner(session, actor, challenge))


def _owner(actor: Principal, target: OnChallenge) -> Decision:
    return signed_in(actor) & when(target.owned, lambda: _("Only staff of a department that owns this challenge "
                                                            "can do this."))


# --- dialogue (questions and answers) --------------------------------------------------------------


@POLICY.rule("question.ask")
def _ask(actor: Principal, target: OnChallenge) -> Decision:
    return confirmed(actor, lambda: _("Confirm your e-mail address before you ask a question.")) \
        & phases.check(target.phase, Action.ASK)


@POLICY.rule("question.answer")
def _answer(actor: Principal, target: OnChallenge) -> Decision:
    return _owner(actor, target) & phases.check(target.phase, Action.ANSWER)


@POLICY.rule("question.moderate")
def _moderate_questions(actor: Principal, target: OnChallenge) -> Decision:
    """Pin, merge and hide questions."""
    return _owner(actor, target)
