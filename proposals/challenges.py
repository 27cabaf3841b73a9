"""Challenges: staff draft, edit, preview and publish them; edits after publication are public.

Every function takes the acting :class:`Principal` and checks it: only staff of a department that
owns a challenge change it; drafts are visible to those staff only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, col, select

from cocreate import audit
from cocreate.accounts.models import Department, Organisation, OrganisationMember
from cocreate.accounts.permissions import Forbidden, Principal, require, require_signed_in
from cocreate.accounts.services import EMAIL_RE
from cocreate.db.base import utcnow
from cocreate.db.together import Together
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.notifications import services as notifications
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from proposals import lifecycle, phases
from proposals.models import (
    Category,
    Challenge,
    ChallengeAttachment,
    ChallengeCriterion,
    ChallengeDepartment,
    ChallengeKpi,
    ChallengePhaseDate,
    ChallengeRevision,
    Phase,
    PhaseChange,
)

TITLE_MAX = 200
SUMMARY_MAX = 1000
LONG_TEXT_MAX = 20_000
AREA_MAX = 100
BUDGET_MAX = 1_000_000_000_000
MAX_CRITERIA = 10
MAX_KPIS = 10
MAX_CO_OWNERS = 10
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine

LONG_FIELDS = ("background", "current_situation", "desired_outcome", "constraints", "eligibility",
               "support_facilities", "support_data", "support_other")
TRACKED_FIELDS = ("title", "summary", "category", "area", "contact_name", "contact_email", "contact_phone",
                  *LONG_FIELDS, "budget_cap_yen")
"""Public fields whose edits after publication are listed in the change history."""


@dataclass
class CriterionInput:
    name: str
    weight: int | None
    description: str = ""


@dataclass
class KpiInput:
    indicator: str
    target: str
    baseline: str = ""
    unit: str = ""


@dataclass
class ChallengeInput:
    """What the staff form sends, already split into fields (strings as typed)."""

    title: str = ""
    summary: str = ""
    category: str = ""
    area: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    background: str = ""
    current_situation: str = ""
    desired_outcome: str = ""
    constraints: str = ""
    eligibility: str = ""
    support_facilities: str = ""
    support_data: str = ""
    support_other: str = ""
    budget_cap_yen: int | None = None
    co_owner_department_ids: list[int] = field(default_factory=list)
    criteria: list[CriterionInput] = field(default_factory=list)
    kpis: list[KpiInput] = field(default_factory=list)
    schedule: dict[Phase, datetime | None] = field(default_factory=dict)

    @classmethod
    def from_challenge(cls, session: Session, challenge: Challenge) -> ChallengeInput:
        assert challenge.id is not None
        data = cls(**{name: getattr(challenge, name) for name in TRACKED_FIELDS})
        data.category = challenge.category.value
        data.co_owner_department_ids = sorted(lifecycle.owning_department_ids(session, challenge.id)
                                              - {challenge.department_id})
        data.criteria = [CriterionInput(c.name, c.weight, c.description) for c in criteria_of(session, challenge.id)]
        data.kpis = [KpiInput(k.indicator, k.target, k.baseline, k.unit) for k in kpis_of(session, challenge.id)]
        data.schedule = dict(lifecycle.schedule_of(session, challenge.id))
        return data


def _text_error(value: str, limit: int, *, required: bool, single_line: bool = False) -> str | None:
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=limit)
    if CONTROL_CHARS.search(value) or (single_line and ("\n" in value or "\r" in value)):
        return _("This field contains characters that cannot be used.")
    return None


def validate(session: Session, data: ChallengeInput, *, complete: bool) -> dict[str, str]:
    """Errors by form field. Drafts need only a title and a category; ``complete`` (publishing, or editing a
    published challenge) needs everything residents and proposers rely on."""
    errors: dict[str, str] = {}

    def check(name: str, limit: int, *, required: bool = False, single_line: bool = False) -> None:
        if message := _text_error(getattr(data, name), limit, required=required, single_line=single_line):
            errors[name] = message

    check("title", TITLE_MAX, required=True, single_line=True)
    check("summary", SUMMARY_MAX, required=complete)
    check("area", AREA_MAX, single_line=True)
    check("contact_name", 100, required=complete, single_line=True)
    check("contact_phone", 40, single_line=True)
    for name in LONG_FIELDS:
        check(name, LONG_TEXT_MAX, required=complete and name in ("background", "desired_outcome"))
    if data.contact_email and (len(data.contact_email) > 254 or not EMAIL_RE.match(data.contact_email)):
        errors["contact_email"] = _("Enter an e-mail address like name@example.jp.")
    elif complete and not data.contact_email:
        errors["contact_email"] = _("This field is required.")
    if data.category not in {c.value for c in Category}:  # the column is required, drafts too
        errors["category"] = _("Choose a category.")
    if data.budget_cap_yen is not None and not 0 <= data.budget_cap_yen <= BUDGET_MAX:
        errors["budget_cap_yen"] = _("Enter an amount in yen between 0 and %(max)s.", max=f"{BUDGET_MAX:,}")

    if len(data.co_owner_department_ids) > MAX_CO_OWNERS:
        errors["co_owners"] = _("Choose at most %(max)s departments.", max=MAX_CO_OWNERS)
    elif data.co_owner_department_ids:
        found = session.exec(select(Department.id).where(col(Department.id).in_(data.co_owner_department_ids))).all()
        if len(set(found)) != len(set(data.co_owner_department_ids)):
            errors["co_owners"] = _("Choose departments from the list.")

    _validate_criteria(data.criteria, errors, complete=complete)
    _validate_kpis(data.kpis, errors)
    errors.update(lifecycle.validate_schedule(data.schedule))
    return errors


def _validate_criteria(criteria: Sequence[CriterionInput], errors: dict[str, str], *, complete: bool) -> None:
    if len(criteria) > MAX_CRITERIA:
        errors["criteria"] = _("Use at most %(max)s criteria.", max=MAX_CRITERIA)
        return
    for i, criterion in enumerate(criteria):
        if message := _text_error(criterion.name, 200, required=True, single_line=True):
            errors[f"criteria-{i}-name"] = message
        if message := _text_error(criterion.description, 2000, required=False):
            errors[f"criteria-{i}-description"] = message
        if criterion.weight is None or not 0 <= criterion.weight <= 100:
            errors[f"criteria-{i}-weight"] = _("Enter a whole number from 0 to 100.")
    if complete and not criteria:
        errors["criteria"] = _("Add at least one evaluation criterion.")
    elif criteria and not any(key.startswith("criteria-") for key in errors):
        total = sum(c.weight or 0 for c in criteria)
        if total != 100:
            errors["criteria"] = _("The weights add up to %(total)s; they must add up to 100.", total=total)


def _validate_kpis(kpis: Sequence[KpiInput], errors: dict[str, str]) -> None:
    if len(kpis) > MAX_KPIS:
        errors["kpis"] = _("Use at most %(max)s KPIs.", max=MAX_KPIS)
        return
    for i, kpi in enumerate(kpis):
        for name, limit, required in (("indicator", 200, True), ("target", 100, True), ("baseline", 100, False),
                                      ("unit", 50, False)):
            if message := _text_error(getattr(kpi, name), limit, required=required, single_line=True):
                errors[f"kpis-{i}-{name}"] = message


# --- reading -------------------------------------------------------------------------------------


def criteria_of(session: Session, challenge_id: int) -> Sequence[ChallengeCriterion]:
    return session.exec(select(ChallengeCriterion).where(ChallengeCriterion.challenge_id == challenge_id)
                        .order_by(ChallengeCriterion.position, ChallengeCriterion.id)).all()


def kpis_of(session: Session, challenge_id: int) -> Sequence[ChallengeKpi]:
    return session.exec(select(ChallengeKpi).where(ChallengeKpi.challenge_id == challenge_id)
                        .order_by(ChallengeKpi.position, ChallengeKpi.id)).all()


def owners_of(session: Session, challenge_id: int) -> Sequence[Department]:
    return session.exec(select(Department).join(ChallengeDepartment,
                                                ChallengeDepartment.department_id == Department.id)
                        .where(ChallengeDepartment.challenge_id == challenge_id).order_by(Department.id)).all()


def revisions_of(session: Session, challenge_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(ChallengeRevision).where(ChallengeRevision.challenge_id == challenge_id)
                        .order_by(col(ChallengeRevision.number).desc())).all()
    return [{"number": r.number, "changed_at": r.changed_at, "note": r.note,
             "changes": json.loads(r.changes_json)} for r in rows]


def visible_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge | None:
    """The challenge if ``actor`` may see it (public, or a draft of their department); else None."""
    challenge = session.exec(select(Challenge).where(Challenge.id == challenge_id)
                             .options(selectinload(Challenge.department))).first()  # type: ignore[arg-type]
    if challenge is None:
        return None
    if challenge.phase is Phase.DRAFT and not lifecycle.is_owner(session, actor, challenge):
        return None
    return challenge


# --- the challenge page: the challenge, its rows and its viewer in a fixed number of queries -------


@dataclass(frozen=True)
class ChallengeViewer:
    """Who looks at a challenge page, read once with the challenge and handed to each section, so
    that no section asks again whether they own it, follow it or belong to organisations."""

    actor: Principal
    is_owner: bool
    following: bool = False
    follower_count: int = 0
    organisations: Sequence[Organisation] = ()
    """Every organisation the viewer is a member of, verified or not, by name."""

    @property
    def organisation_ids(self) -> set[int]:
        return {o.id for o in self.organisations if o.id is not None}

    @property
    def verified_organisations(self) -> list[Organisation]:
        return [o for o in self.organisations if o.verified_at is not None]


def page_challenge(session: Session, actor: Principal, challenge_id: int) -> tuple[Challenge, ChallengeViewer] | None:
    """The challenge (with its lead department) if ``actor`` may see it, and what the page needs to know
    about the actor: in one query, and one more for the organisations of a viewer who has any."""
    user_id = actor.user_id
    staff_of = sorted(actor.staff_department_ids)
    owner: Any = sa.false()
    if staff_of:
        owner = sa.or_(col(Challenge.department_id).in_(staff_of), sa.exists().where(
            col(ChallengeDepartment.challenge_id) == Challenge.id,
            col(ChallengeDepartment.department_id).in_(staff_of)))
    member = (sa.exists().where(col(OrganisationMember.user_id) == user_id) if user_id is not None
              else sa.false())
    row = session.execute(
        select(Challenge, owner.label("is_owner"), member.label("member"),
               *notifications.follow_columns(user_id, "challenge", Challenge.id))
        .where(Challenge.id == challenge_id).options(joinedload(Challenge.department, innerjoin=True))  # type: ignore[arg-type]
    ).first()
    if row is None:
        return None
    challenge, is_owner, is_member, follower_count, following = row
    if challenge.phase is Phase.DRAFT and not is_owner:
        return None
    organisations: Sequence[Organisation] = ()
    if is_member:
        organisations = session.exec(
            select(Organisation).join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
            .where(OrganisationMember.user_id == user_id).order_by(col(Organisation.name), col(Organisation.id))
        ).all()
    return challenge, ChallengeViewer(actor, bool(is_owner), bool(following), int(follower_count), organisations)


@dataclass(frozen=True)
class ChallengeRows:
    """The rows of a challenge's own tables that its page shows."""

    owners: Sequence[Department]
    criteria: Sequence[ChallengeCriterion]
    kpis: Sequence[ChallengeKpi]
    schedule: dict[Phase, datetime]
    phase_changes: Sequence[PhaseChange]
    attachments: Sequence[ChallengeAttachment]


_OF_CHALLENGE = sa.bindparam("challenge_id")
_ROWS = Together([
    (Department, select(Department).join(ChallengeDepartment, ChallengeDepartment.department_id == Department.id)
     .where(ChallengeDepartment.challenge_id == _OF_CHALLENGE), (col(Department.id),)),
    (ChallengeCriterion, select(ChallengeCriterion).where(ChallengeCriterion.challenge_id == _OF_CHALLENGE),
     (col(ChallengeCriterion.position), col(ChallengeCriterion.id))),
    (ChallengeKpi, select(ChallengeKpi).where(ChallengeKpi.challenge_id == _OF_CHALLENGE),
     (col(ChallengeKpi.position), col(ChallengeKpi.id))),
    (ChallengePhaseDate, select(ChallengePhaseDate).where(ChallengePhaseDate.challenge_id == _OF_CHALLENGE),
     (col(ChallengePhaseDate.phase),)),
    (PhaseChange, select(PhaseChange).where(PhaseChange.challenge_id == _OF_CHALLENGE),
     (col(PhaseChange.changed_at), col(PhaseChange.id))),
    (ChallengeAttachment, select(ChallengeAttachment).where(ChallengeAttachment.challenge_id == _OF_CHALLENGE),
     (col(ChallengeAttachment.created_at), col(ChallengeAttachment.id))),
])


def rows_of(session: Session, challenge_id: int) -> ChallengeRows:
    """Owners, criteria, KPIs, planned phase dates, phase changes and attachments in one query, each in the
    order its own reader (:func:`owners_of`, :func:`criteria_of`, …) gives."""
    owners, criteria, kpis, dates, changes, attachments = _ROWS.load(session, {"challenge_id": challenge_id})
    return ChallengeRows(owners=owners, criteria=criteria, kpis=kpis,
                         schedule={row.phase: row.starts_at for row in dates}, phase_changes=changes,
                         attachments=attachments)


# --- writing -------------------------------------------------------------------------------------


def _apply(session: Session, challenge: Challenge, data: ChallengeInput) -> dict[str, list[Any]]:
    """Copy ``data`` onto the challenge and its rows; returns the tracked changes."""
    changes: dict[str, list[Any]] = {}
    for name in TRACKED_FIELDS:
        new = getattr(data, name)
        if name == "category":
            new = Category(new) if new else challenge.category
        elif isinstance(new, str):
            new = new.strip() if name not in LONG_FIELDS else new.replace("\r\n", "\n")
        old = getattr(challenge, name)
        if old != new:
            changes[name] = [old.value if isinstance(old, Category) else old,
                             new.value if isinstance(new, Category) else new]
            setattr(challenge, name, new)
    session.flush()
    assert challenge.id is not None

    owners = {challenge.department_id, *data.co_owner_department_ids}
    current = lifecycle.owning_department_ids(session, challenge.id)
    for department_id in owners - current:
        session.add(ChallengeDepartment(challenge_id=challenge.id, department_id=department_id))
    for department_id in current - owners:
        row = session.get(ChallengeDepartment, (challenge.id, department_id))
        if row is not None:
            session.delete(row)
    if owners != current and current:
        changes["owners"] = [sorted(current), sorted(owners)]

    old_criteria = [(c.name, c.weight, c.description) for c in criteria_of(session, challenge.id)]
    new_criteria = [(c.name.strip(), c.weight, c.description) for c in data.criteria]
    if old_criteria != new_criteria:
        for row in criteria_of(session, challenge.id):
            session.delete(row)
        for position, (name, weight, description) in enumerate(new_criteria):
            session.add(ChallengeCriterion(challenge_id=challenge.id, position=position, name=name,
                                           weight=weight or 0, description=description))
        changes["criteria"] = [[list(c) for c in old_criteria], [list(c) for c in new_criteria]]

    old_kpis = [(k.indicator, k.baseline, k.target, k.unit) for k in kpis_of(session, challenge.id)]
    new_kpis = [(k.indicator.strip(), k.baseline.strip(), k.target.strip(), k.unit.strip()) for k in data.kpis]
    if old_kpis != new_kpis:
        for row in kpis_of(session, challenge.id):
            session.delete(row)
        for position, (indicator, baseline, target, unit) in enumerate(new_kpis):
            session.add(ChallengeKpi(challenge_id=challenge.id, position=position, indicator=indicator,
                                     baseline=baseline, target=target, unit=unit))
        changes["kpis"] = [[list(k) for k in old_kpis], [list(k) for k in new_kpis]]

    old_schedule = {p.value: d.isoformat() for p, d in lifecycle.schedule_of(session, challenge.id).items()}
    lifecycle.set_schedule(session, challenge, data.schedule)
    new_schedule = {p.value: d.isoformat() for p, d in data.schedule.items() if d is not None}
    if old_schedule != new_schedule:
        changes["schedule"] = [old_schedule, new_schedule]
    return changes


def create_draft(session: Session, actor: Principal, department_id: int, data: ChallengeInput) -> Challenge:
    """A new draft owned by ``department_id``, which the actor must be staff of."""
    user = require_signed_in(actor)
    require(actor.is_staff_of(department_id), _("You can create challenges only for your own department."))
    if errors := validate(session, data, complete=False):
        session.rollback()
        raise Invalid(errors)
    challenge = Challenge(title=data.title.strip(), summary="", category=Category(data.category),
                          department_id=department_id, phase=Phase.DRAFT, created_by_id=user.id)
    session.add(challenge)
    session.flush()
    _apply(session, challenge, data)
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.created",
                 target_type="challenge", target_id=str(challenge.id),
                 details={"title": challenge.title, "department_id": department_id})
    follows.follow_as_author(session, [user.id], "challenge", challenge.id)  # type: ignore[arg-type]
    session.commit()
    return challenge


def _load_owned(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=True)
    if challenge is None:
        raise Invalid({"challenge": _("This challenge does not exist.")})
    lifecycle.require_owner(session, actor, challenge)
    return challenge


def update(session: Session, actor: Principal, challenge_id: int, data: ChallengeInput, note: str = "") -> Challenge:
    """Save edits. After publication every change is kept as a public revision (field, before, after)."""
    challenge = _load_owned(session, actor, challenge_id)
    if challenge.phase in phases.TERMINAL:
        session.rollback()
        raise Forbidden(_("This challenge has ended and can no longer be edited."))
    published = challenge.phase is not Phase.DRAFT
    errors = validate(session, data, complete=published)
    if len(note) > 500:
        errors["note"] = _("Use at most %(max)s characters.", max=500)
    if errors:
        session.rollback()
        raise Invalid(errors)
    changes = _apply(session, challenge, data)
    if published and changes:
        challenge.revision += 1
        session.add(ChallengeRevision(challenge_id=challenge.id, number=challenge.revision,  # type: ignore[arg-type]
                                      changed_by_id=actor.user_id, note=note.strip(),
                                      changes_json=json.dumps(changes, ensure_ascii=False, default=str)))
    if changes:
        assert actor.user is not None
        audit.record(session, actor_id=actor.user_id, actor_label=actor.user.display_name,
                     action="challenge.updated", target_type="challenge", target_id=str(challenge.id),
                     details={"fields": sorted(changes), "revision": challenge.revision if published else None})
    session.commit()
    return challenge


def publish(session: Session, actor: Principal, challenge_id: int, now: datetime | None = None) -> Challenge:
    """Make a complete draft public (Q&A opens); recorded in the audit log."""
    now = now or utcnow()
    challenge = _load_owned(session, actor, challenge_id)
    if challenge.phase is not Phase.DRAFT:
        session.rollback()
        raise Invalid({"phase": _("This challenge is already published.")})
    data = ChallengeInput.from_challenge(session, challenge)
    if errors := validate(session, data, complete=True):
        session.rollback()
        raise Invalid(errors)
    challenge.phase = Phase.PUBLISHED
    challenge.published_at = now
    challenge.phase_changed_at = now
    session.add(PhaseChange(challenge_id=challenge.id, from_phase=Phase.DRAFT, to_phase=Phase.PUBLISHED,  # type: ignore[arg-type]
                            changed_at=now, changed_by_id=actor.user_id))
    lifecycle.refresh_next_transition(session, challenge, now)
    assert actor.user is not None
    audit.record(session, actor_id=actor.user_id, actor_label=actor.user.display_name,
                 action="challenge.published", target_type="challenge", target_id=str(challenge.id),
                 details={"title": challenge.title})
    session.commit()
    return challenge


def departments_for_form(session: Session) -> Sequence[Department]:
    return session.exec(select(Department).order_by(Department.code)).all()


def owned_challenges(session: Session, actor: Principal, limit: int = 100) -> Sequence[Challenge]:
    """Challenges of the actor's departments, drafts included, newest first (the staff dashboard)."""
    if not actor.staff_department_ids:
        return []
    owned = select(ChallengeDepartment.challenge_id).where(
        col(ChallengeDepartment.department_id).in_(actor.staff_department_ids))
    return session.exec(select(Challenge).where(col(Challenge.id).in_(owned))
                        .options(selectinload(Challenge.department))  # type: ignore[arg-type]
                        .order_by(col(Challenge.updated_at).desc()).limit(limit)).all()


def owned_challenges_page(session: Session, actor: Principal, page: int = 1,
                          per_page: int = DEFAULT_PER_PAGE) -> Page[Challenge]:
    """One page of :func:`owned_challenges` (the staff list), paginated in the database."""
    if not actor.staff_department_ids:
        return Page(items=[], page=1, per_page=per_page, total=0)
    owned = select(ChallengeDepartment.challenge_id).where(
        col(ChallengeDepartment.department_id).in_(actor.staff_department_ids))
    statement = (select(Challenge).where(col(Challenge.id).in_(owned))
                 .options(selectinload(Challenge.department))  # type: ignore[arg-type]
                 .order_by(col(Challenge.updated_at).desc(), col(Challenge.id).desc()))
    return paginate(session, statement, page, per_page)


def field_labels() -> Mapping[str, str]:
    """Translated names of the tracked fields, for the public change history."""
    return {
        "title": _("Title"), "summary": _("Summary"), "category": _("Category"), "area": _("Area"),
        "contact_name": _("Contact"), "contact_email": _("Contact e-mail"), "contact_phone": _("Contact phone"),
        "background": _("Background"), "current_situation": _("Current situation"),
        "desired_outcome": _("Desired outcome"), "constraints": _("Constraints"), "eligibility": _("Eligibility"),
        "support_facilities": _("Facilities offered"), "support_data": _("Data sets offered"),
        "support_other": _("Other support"), "budget_cap_yen": _("Budget cap"), "owners": _("Owning departments"),
        "criteria": _("Evaluation criteria"), "kpis": _("KPI targets"), "schedule": _("Schedule"),
    }
