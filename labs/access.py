"""The facts the labs permission rules read, and the loaders that read them (no rules here).

The rules are in :mod:`labs.permissions` and answer :func:`cocreate.permissions.can`. They never read
the database: their target carries what they need about the actor and the thing acted on, read here
once by the service or the page's view-model:

- :class:`OnField`: a test field (published; the actor is one of its assigned coordinators);
- :class:`OnBooking`: a booking request, or one not made yet (its status; the actor is a member of its
  organisation, which is verified or not; the actor coordinates its field);
- :class:`OnTrial`, :class:`OnCall`: a trial (published; its department; the actor is a member of one
  of its organisations) and a call for participants of it;
- :class:`OnProposal`: a proposal a trial may start from (the actor is staff of a department that owns
  its challenge).

A loader does not read a fact the actor's roles make moot for every rule that reads it (whether a site
admin coordinates a field, say: admins manage every field); such a fact is False. Each reads at most one
query, no more than the checks it replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.models import Organisation, OrganisationMember, Role
from cocreate.accounts.permissions import Principal
from labs.models import (
    Booking,
    BookingStatus,
    RecruitmentCall,
    RecruitmentStatus,
    TestFieldCoordinator,
    Trial,
    TrialOrganisation,
)
from proposals import api as proposals

# --- test fields ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnField:
    """A test field as the rules see it for one actor."""

    published: bool
    coordinates: bool
    """The actor is one of the field's assigned coordinators (not read for site admins and for people
    without the coordinator role, whom it does not concern)."""


def coordinates_field(session: Session, actor: Principal, field_id: int) -> bool:
    """Whether the actor is assigned to coordinate the field (read only for holders of the coordinator
    role who are not site admins)."""
    if actor.user_id is None or actor.is_admin or not actor.has_role(Role.COORDINATOR):
        return False
    return session.exec(select(TestFieldCoordinator.field_id).where(
        TestFieldCoordinator.field_id == field_id, TestFieldCoordinator.user_id == actor.user_id)).first() is not None


def on_field(session: Session, actor: Principal, field_id: int, *, published: bool) -> OnField:
    return OnField(published=published, coordinates=coordinates_field(session, actor, field_id))


def coordinated_field_ids(session: Session, actor: Principal) -> set[int]:
    """The fields the actor is assigned to coordinate."""
    if actor.user_id is None:
        return set()
    return set(session.exec(select(TestFieldCoordinator.field_id).where(
        TestFieldCoordinator.user_id == actor.user_id)).all())


def field_scope(actor: Principal, action: str = "field.edit") -> str:
    """On which fields ``actor`` may do ``action`` (a rule of :class:`OnField`), as the rule answers:
    ``"every"`` (it allows them a field they do not coordinate), ``"coordinated"`` (the fields they
    coordinate) or ``"none"``. For the lists and calendars of the fields someone manages."""
    if permissions.can(actor, action, OnField(published=False, coordinates=False)):
        return "every"
    if permissions.can(actor, action, OnField(published=False, coordinates=True)):
        return "coordinated"
    return "none"


def managed_field_ids(session: Session, actor: Principal, action: str = "field.edit") -> set[int] | None:
    """The fields on which ``actor`` may do ``action`` (:func:`field_scope`; None means every field),
    in one query at most."""
    scope = field_scope(actor, action)
    if scope == "every":
        return None
    return coordinated_field_ids(session, actor) if scope == "coordinated" else set()


# --- organisations and booking requests ----------------------------------------------------------


def member_organisation_ids(session: Session, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    return set(session.exec(select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user_id)).all())


def organisations_of(session: Session, actor: Principal) -> list[Organisation]:
    """The organisations the actor is a member of, by name (one query)."""
    if actor.user_id is None:
        return []
    return list(session.exec(select(Organisation).join(
        OrganisationMember, col(OrganisationMember.organisation_id) == col(Organisation.id))
        .where(OrganisationMember.user_id == actor.user_id).order_by(col(Organisation.name))).all())


@dataclass(frozen=True)
class OnBooking:
    """A booking request as the rules see it for one actor; ``status`` None is a request not made yet."""

    status: BookingStatus | None
    member_of_organisation: bool
    """The actor is a member of the organisation that makes the request (of one of theirs, for a new one)."""
    organisation_verified: bool
    """That organisation is verified by the ward (one of them, for a new request)."""
    coordinates_field: bool = False
    """The actor is one of the field's assigned coordinators (see :class:`OnField`)."""


def new_booking(organisations: Iterable[Organisation]) -> OnBooking:
    """A request not made yet, by a member of ``organisations`` (the actor's, already read)."""
    chosen = list(organisations)
    return OnBooking(status=None, member_of_organisation=bool(chosen),
                     organisation_verified=any(o.is_verified for o in chosen))


def on_booking(session: Session, actor: Principal, booking: Booking) -> OnBooking:
    """The facts of a stored request: one query for the organisation (kept in the session, where the
    page finds it again) and the actor's membership of it, one more for a coordinator's assignment."""
    member = sa.and_(col(OrganisationMember.organisation_id) == col(Organisation.id),
                     col(OrganisationMember.user_id) == actor.user_id)
    row = session.exec(select(Organisation, OrganisationMember.user_id).outerjoin(OrganisationMember, member)
                       .where(Organisation.id == booking.organisation_id)).first()
    organisation, member_id = row if row is not None else (None, None)
    return OnBooking(status=booking.status,
                     member_of_organisation=actor.user_id is not None and member_id is not None,
                     organisation_verified=organisation is not None and organisation.is_verified,
                     coordinates_field=coordinates_field(session, actor, booking.field_id))


# --- trials and recruitment ----------------------------------------------------------------------


def trial_organisation_ids(session: Session, trial_id: int) -> set[int]:
    return set(session.exec(select(TrialOrganisation.organisation_id).where(
        TrialOrganisation.trial_id == trial_id)).all())


@dataclass(frozen=True)
class OnTrial:
    """A trial as the rules see it for one actor."""

    published: bool
    department_id: int | None
    member_of_organisation: bool
    """The actor is a member of one of the organisations running the trial."""


def is_trial_member(session: Session, actor: Principal, trial_id: int) -> bool:
    """Whether the actor is a member of one of the trial's organisations (one query)."""
    if actor.user_id is None:
        return False
    return session.exec(select(TrialOrganisation.organisation_id).join(
        OrganisationMember, col(OrganisationMember.organisation_id) == col(TrialOrganisation.organisation_id))
        .where(TrialOrganisation.trial_id == trial_id, OrganisationMember.user_id == actor.user_id)).first() is not None


def on_trial(session: Session, actor: Principal, trial: Trial, *, membership: bool = True) -> OnTrial:
    """The trial's facts; ``membership=False`` leaves the actor's membership unread (False), for a first
    question the rules can answer without it (they allow members more, never less)."""
    assert trial.id is not None
    return OnTrial(published=trial.published, department_id=trial.department_id,
                   member_of_organisation=membership and is_trial_member(session, actor, trial.id))


@dataclass(frozen=True)
class OnCall:
    """A call for participants as the rules see it for one actor: its status and its trial."""

    status: RecruitmentStatus
    trial: OnTrial


def on_call(session: Session, actor: Principal, call: RecruitmentCall, trial: Trial) -> OnCall:
    return OnCall(status=call.status, trial=on_trial(session, actor, trial))


@dataclass(frozen=True)
class OnProposal:
    """A proposal a trial may start from, as the rules see it for one actor."""

    owns_challenge: bool
    """The actor is staff of a department that owns (or co-owns) the proposal's challenge (not read for
    coordinators and site admins, who start trials anyway)."""


def on_proposal(session: Session, actor: Principal, challenge_id: int) -> OnProposal:
    if actor.user_id is None or actor.is_admin or actor.has_role(Role.COORDINATOR):
        return OnProposal(owns_challenge=False)
    return OnProposal(owns_challenge=proposals.owns_challenge(session, actor, challenge_id))


# --- asking before the form is read --------------------------------------------------------------


def require_who(actor: Principal, action: str, target: object) -> None:
    """Refuse whoever may not do ``action`` to ``target`` whatever its state (403, or sign in), as routes
    do before they read a form; a refusal because of the target's state (a :class:`Decision` with a
    ``field``) is left to the service, which reports it beside the form's own errors."""
    decision = permissions.can(actor, action, target)
    if not decision and decision.field is None:
        decision.require()
