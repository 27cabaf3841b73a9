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
  its challenge);
- :class:`OnKpi`: a trial's KPI measurements (the actor is a member of one of the trial's organisations, or
  staff of the department that owns the trial; the measurement's status).

A loader is told the actions its target will be asked about (by the service, or by the page and its
template) and reads a fact about the actor only when it changes one of those answers (:func:`settle`):
whether a site admin coordinates a field does not matter, admins manage every field. A fact left unread
is False. So a page reads no more than the checks these loaders replace did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.models import Organisation, OrganisationMember
from cocreate.accounts.permissions import Principal
from labs.models import (
    Booking,
    BookingStatus,
    KpiMeasurementStatus,
    RecruitmentCall,
    RecruitmentStatus,
    TestFieldCoordinator,
    Trial,
    TrialOrganisation,
)
from proposals import api as proposals

T = TypeVar("T")


def settle(actor: Principal, actions: Iterable[str], build: Callable[[bool], T], read: Callable[[], bool]) -> T:
    """The target ``build(fact)``, with the fact read (``read()``) only if one of ``actions`` is answered
    differently when it is true and when it is false; otherwise it does not matter and is not read."""
    unread, other = build(False), build(True)
    if any(permissions.can(actor, action, unread) != permissions.can(actor, action, other) for action in actions):
        return build(read())
    return unread


# --- test fields ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnField:
    """A test field as the rules see it for one actor."""

    published: bool
    coordinates: bool
    """The actor is one of the field's assigned coordinators."""


def coordinates_field(session: Session, actor: Principal, field_id: int) -> bool:
    """Whether the actor is assigned to coordinate the field (one query)."""
    if actor.user_id is None:
        return False
    return session.exec(select(TestFieldCoordinator.field_id).where(
        TestFieldCoordinator.field_id == field_id, TestFieldCoordinator.user_id == actor.user_id)).first() is not None


def on_field(session: Session, actor: Principal, field_id: int, *, published: bool,
             actions: Iterable[str]) -> OnField:
    """The field's facts for asking ``actions`` about it."""
    return settle(actor, actions, lambda coordinates: OnField(published=published, coordinates=coordinates),
                  lambda: coordinates_field(session, actor, field_id))


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


def on_booking(session: Session, actor: Principal, booking: Booking, actions: Iterable[str]) -> OnBooking:
    """The facts of a stored request for asking ``actions`` about it: one query for the organisation (kept
    in the session, where the page finds it again) and the actor's membership of it, one more for their
    assignment to the field if it matters."""
    member = sa.and_(col(OrganisationMember.organisation_id) == col(Organisation.id),
                     col(OrganisationMember.user_id) == actor.user_id)
    row = session.exec(select(Organisation, OrganisationMember.user_id).outerjoin(OrganisationMember, member)
                       .where(Organisation.id == booking.organisation_id)).first()
    organisation, member_id = row if row is not None else (None, None)
    return settle(actor, actions, lambda coordinates: OnBooking(
        status=booking.status, member_of_organisation=actor.user_id is not None and member_id is not None,
        organisation_verified=organisation is not None and organisation.is_verified, coordinates_field=coordinates),
        lambda: coordinates_field(session, actor, booking.field_id))


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


def on_trial(session: Session, actor: Principal, trial: Trial, actions: Iterable[str]) -> OnTrial:
    """The trial's facts for asking ``actions`` about it."""
    trial_id = trial.id
    assert trial_id is not None
    return settle(actor, actions, lambda member: OnTrial(published=trial.published, department_id=trial.department_id,
                                                         member_of_organisation=member),
                  lambda: is_trial_member(session, actor, trial_id))


@dataclass(frozen=True)
class OnCall(OnTrial):
    """A call for participants as the rules see it for one actor: its trial's facts and its status (the
    rules about the trial answer for it too)."""

    call_status: RecruitmentStatus


def on_call(session: Session, actor: Principal, call: RecruitmentCall, trial: Trial,
            actions: Iterable[str]) -> OnCall:
    """The call's facts for asking ``actions`` about it."""
    trial_id = trial.id
    assert trial_id is not None
    return settle(actor, actions, lambda member: OnCall(
        published=trial.published, department_id=trial.department_id, member_of_organisation=member,
        call_status=call.status), lambda: is_trial_member(session, actor, trial_id))


@dataclass(frozen=True)
class OnProposal:
    """A proposal a trial may start from, as the rules see it for one actor."""

    owns_challenge: bool
    """The actor is staff of a department that owns (or co-owns) the proposal's challenge."""


def on_proposal(session: Session, actor: Principal, challenge_id: int,
                actions: Iterable[str] = ("trial.start",)) -> OnProposal:
    return settle(actor, actions, OnProposal, lambda: proposals.owns_challenge(session, actor, challenge_id))


# --- KPI measurements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OnKpi:
    """A trial's KPI measurements as the rules see them for one actor; ``status`` is the measurement's
    (None: a measurement not made yet, or the trial's measurements in general)."""

    member_of_organisation: bool
    """The actor is a member of one of the organisations running the trial (they enter measurements)."""
    owns: bool
    """The actor is staff of the department in charge of the trial, or of a department that owns its
    challenge (they confirm measurements)."""
    status: KpiMeasurementStatus | None = None


def owns_trial(session: Session, actor: Principal, trial: Trial) -> bool:
    """Staff of the trial's department (no query), or of a department owning its challenge (one query,
    for staff only)."""
    if actor.is_staff_of(trial.department_id):
        return True
    return bool(actor.is_staff and trial.challenge_id is not None
                and proposals.owns_challenge(session, actor, trial.challenge_id))


def on_kpi(session: Session, actor: Principal, trial: Trial, *, status: KpiMeasurementStatus | None = None) -> OnKpi:
    """The facts of the trial's measurements for ``actor`` (at most two queries, none for visitors)."""
    trial_id = trial.id
    assert trial_id is not None
    if actor.user_id is None:
        return OnKpi(member_of_organisation=False, owns=False, status=status)
    return OnKpi(member_of_organisation=is_trial_member(session, actor, trial_id),
                 owns=owns_trial(session, actor, trial), status=status)


# --- asking before the form is read --------------------------------------------------------------


def require_who(actor: Principal, action: str, target: object) -> None:
    """Refuse whoever may not do ``action`` to ``target`` whatever its state (403, or sign in), as routes
    do before they read a form; a refusal because of the target's state (a :class:`Decision` with a
    ``field``) is left to the service, which reports it beside the form's own errors."""
    decision = permissions.can(actor, action, target)
    if not decision and decision.field is None:
        decision.require()
