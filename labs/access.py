"""Who may do what in the labs component; every labs service asks here.

- Coordinators (and site admins) create test fields. A field is managed, and its bookings reviewed,
  by the coordinators assigned to it (:class:`TestFieldCoordinator`) and by site admins.
- Organisations request bookings through their members; only verified organisations
  (``require_verified_organisation``) can submit.
- A trial is edited by its organisations' members, the staff of its owning department, coordinators
  and site admins.
- Participants' personal data is seen only by the trial's organisations' members and coordinators.
"""

from __future__ import annotations

from sqlmodel import Session, select

from cocreate.accounts.models import OrganisationMember, Role
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from labs.models import TestFieldCoordinator, Trial, TrialOrganisation


def is_coordinator(actor: Principal) -> bool:
    """Holds the coordinator role (site admins count as coordinators for field management)."""
    return actor.has_role(Role.COORDINATOR) or actor.is_admin


def manages_field(session: Session, actor: Principal, field_id: int) -> bool:
    if actor.user_id is None:
        return False
    if actor.is_admin:
        return True
    if not actor.has_role(Role.COORDINATOR):
        return False
    return session.exec(select(TestFieldCoordinator.field_id).where(
        TestFieldCoordinator.field_id == field_id, TestFieldCoordinator.user_id == actor.user_id)).first() is not None


def require_field_manager(session: Session, actor: Principal, field_id: int) -> None:
    require_signed_in(actor)
    if not manages_field(session, actor, field_id):
        raise Forbidden()


def managed_field_ids(session: Session, actor: Principal) -> set[int] | None:
    """Fields ``actor`` manages: None means every field (site admins); empty for non-coordinators."""
    if actor.is_admin:
        return None
    if actor.user_id is None or not actor.has_role(Role.COORDINATOR):
        return set()
    return set(session.exec(select(TestFieldCoordinator.field_id).where(
        TestFieldCoordinator.user_id == actor.user_id)).all())


def member_organisation_ids(session: Session, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    return set(session.exec(select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user_id)).all())


def trial_organisation_ids(session: Session, trial_id: int) -> set[int]:
    return set(session.exec(select(TrialOrganisation.organisation_id).where(
        TrialOrganisation.trial_id == trial_id)).all())


def is_trial_member(session: Session, actor: Principal, trial: Trial) -> bool:
    """A member of one of the trial's organisations."""
    assert trial.id is not None
    return bool(member_organisation_ids(session, actor.user_id) & trial_organisation_ids(session, trial.id))


def can_edit_trial(session: Session, actor: Principal, trial: Trial) -> bool:
    if actor.user_id is None:
        return False
    if is_coordinator(actor) or actor.is_staff_of(trial.department_id):
        return True
    return is_trial_member(session, actor, trial)


def can_see_participants(session: Session, actor: Principal, trial: Trial) -> bool:
    """Applicants' personal data: the trial's organisations and coordinators, nobody else."""
    if actor.user_id is None:
        return False
    if actor.has_role(Role.COORDINATOR):
        return True
    return is_trial_member(session, actor, trial)
