"""Challenges: staff draft, edit, preview and publish them; edits after publication are public.

Every function takes the acting :class:`Principal` and checks it: only staff of a department that
owns a challenge change it; drafts are visible to those staff only. What the editor sends is a
:class:`ChallengeForm`; building one checks each field on its own, and :func:`validate` the rules
that depend on the database or on whether the challenge is (to be) public.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field, model_validator
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import Department, Organisation, OrganisationMember
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.accounts.services import EMAIL_RE
from cocreate.analysis.models import AnalysisRun
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.db.together import Together
from cocreate.errors import Invalid, NotFound
from cocreate.forms import (
    Choice,
    FormModel,
    KpiRow,
    Line,
    LocalDateTime,
    Problems,
    RowIds,
    Rows,
    Text,
    WholeNumber,
    Yen,
    refuse,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import follows
from cocreate.notifications import services as notifications
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from proposals import phases
from proposals.challenges import lifecycle
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
    Voice,
    VoiceStatus,
)
from proposals.permissions import OnChallenge, on_challenge, visible

TITLE_MAX = 200
SUMMARY_MAX = 1000
LONG_TEXT_MAX = 20_000
AREA_MAX = 100
BUDGET_MAX = 1_000_000_000_000
NOTE_MAX = 500
MAX_CRITERIA = 10
MAX_KPIS = 10
MAX_CO_OWNERS = 10

LONG_FIELDS = ("background", "current_situation", "desired_outcome", "constraints", "eligibility",
               "support_facilities", "support_data", "support_other")
TRACKED_FIELDS = ("title", "summary", "category", "area", "contact_name", "contact_email", "contact_phone",
                  *LONG_FIELDS, "budget_cap_yen")
"""Public fields whose edits after publication are listed in the change history."""
NEEDED_TO_PUBLISH = ("summary", "contact_name", "contact_email", "background", "desired_outcome")
"""Text fields a public challenge must have (drafts need only a title and a category)."""

REQUIRED = lazy_gettext("This field is required.")
WEIGHT = lazy_gettext("Enter a whole number from 0 to 100.")


# --- what the editor sends -----------------------------------------------------------------------


@dataclass(frozen=True)
class EmailAddress(Text):
    """An e-mail address to write to, or empty."""

    def parse(self, value: Any) -> str:
        address = super().parse(value)
        if address and (len(address) > 254 or not EMAIL_RE.match(address)):
            raise refuse(_("Enter an e-mail address like name@example.jp."))
        return address


@dataclass(frozen=True)
class BudgetCap(WholeNumber):
    """An amount in yen from 0 to :data:`BUDGET_MAX`, or empty; what is no amount at all and an amount
    out of range are told apart."""

    def parse(self, value: Any) -> int | None:
        amount = super().parse(value)
        if amount is not None and not 0 <= amount <= BUDGET_MAX:
            raise refuse(_("Enter an amount in yen between 0 and %(max)s.", max=f"{BUDGET_MAX:,}"))
        return amount


class CriterionRow(FormModel):
    """One evaluation criterion (``criteria-0-name``, ``criteria-0-weight``, ``criteria-0-description``)."""


    name: Annotated[str, Line(200, required=REQUIRED)] = ""
    weight: Annotated[int | None, WholeNumber(WEIGHT, maximum=100, allow="%", required=WEIGHT)] = None
    description: Annotated[str, Text(2000, strip=False)] = ""


def _long_text() -> Text:
    return Text(LONG_TEXT_MAX, strip=False)  # Markdown: leading spaces can matter


DATE_AND_TIME = lazy_gettext("Enter a date and time, for example 2026-12-01 10:00.")


class ChallengeForm(FormModel):
    """What the staff editor sends (and what services, the demo and tests build in code).

    The schedule is one field per schedulable phase (``phase_accepting`` …, entered in the ward's time);
    in code, ``schedule={Phase.ACCEPTING: when, …}`` fills them."""


    title: Annotated[str, Line(TITLE_MAX, required=REQUIRED)] = ""
    summary: Annotated[str, Text(SUMMARY_MAX)] = ""
    category: Annotated[Category | None, Choice(Category, lazy_gettext("Choose a category."))] = None
    """Required, drafts too (the column is): the form refuses to be built without one."""
    area: Annotated[str, Line(AREA_MAX)] = ""
    contact_name: Annotated[str, Line(100)] = ""
    contact_email: Annotated[str, EmailAddress(254, single_line=True)] = ""
    contact_phone: Annotated[str, Line(40)] = ""
    background: Annotated[str, _long_text()] = ""
    current_situation: Annotated[str, _long_text()] = ""
    desired_outcome: Annotated[str, _long_text()] = ""
    constraints: Annotated[str, _long_text()] = ""
    eligibility: Annotated[str, _long_text()] = ""
    support_facilities: Annotated[str, _long_text()] = ""
    support_data: Annotated[str, _long_text()] = ""
    support_other: Annotated[str, _long_text()] = ""
    budget_cap_yen: Annotated[int | None, BudgetCap(Yen().message, minimum=-(10**16), maximum=10**16,
                                                    allow="円¥")] = None
    co_owners: Annotated[list[int], RowIds(lazy_gettext("Choose departments from the list."))] = Field(
        default_factory=list)
    criteria: Annotated[list[CriterionRow], Rows(CriterionRow, max_rows=MAX_CRITERIA,
                                                 message=lazy_gettext("Use at most %(max)s criteria."))] = Field(
        default_factory=list)
    kpis: Annotated[list[KpiRow], Rows(KpiRow, max_rows=MAX_KPIS,
                                                message=lazy_gettext("Use at most %(max)s KPIs."))] = Field(
        default_factory=list)
    phase_accepting: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    phase_voting: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    phase_review: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    phase_decided: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    phase_trial: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    phase_completed: Annotated[datetime | None, LocalDateTime(message=DATE_AND_TIME)] = None
    note: Annotated[str, Text(NOTE_MAX)] = ""
    """For the public change history (edits after publication)."""

    @model_validator(mode="before")
    @classmethod
    def _schedule_by_phase(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("schedule"), Mapping):
            data = dict(data)
            for phase, when in data.pop("schedule").items():
                data[schedule_field(Phase(phase))] = when
        return data

    @property
    def schedule(self) -> dict[Phase, datetime | None]:
        """The planned start of each schedulable phase (None: not planned)."""
        return {phase: getattr(self, schedule_field(phase)) for phase in phases.SCHEDULABLE}

    @classmethod
    def from_challenge(cls, session: Session, challenge: Challenge, *, check: bool = True) -> ChallengeForm:
        """The challenge as it is stored, as the editor would send it: checked like a sent form (Invalid
        when a stored value breaks a field's rule), or, with ``check=False``, as it is (to show it)."""
        assert challenge.id is not None
        criteria = [{"name": c.name, "weight": c.weight, "description": c.description}
                    for c in criteria_of(session, challenge.id)]
        kpis = [{"indicator": k.indicator, "baseline": k.baseline, "target": k.target, "unit": k.unit}
                for k in kpis_of(session, challenge.id)]
        values: dict[str, Any] = {
            **{name: getattr(challenge, name) for name in TRACKED_FIELDS},
            "co_owners": sorted(lifecycle.owning_department_ids(session, challenge.id) - {challenge.department_id}),
            **{schedule_field(phase): when for phase, when in lifecycle.schedule_of(session, challenge.id).items()},
        }
        if not check:
            return cls.model_construct(**values, criteria=[CriterionRow.model_construct(**c) for c in criteria],
                                       kpis=[KpiRow.model_construct(**k) for k in kpis])
        return cls(**values, criteria=criteria, kpis=kpis)


def schedule_field(phase: Phase) -> str:
    """The editor's field for the planned start of ``phase``."""
    return f"phase_{phase.value}"


assert all(schedule_field(phase) in ChallengeForm.model_fields for phase in phases.SCHEDULABLE)


def validate(session: Session, form: ChallengeForm, *, complete: bool) -> dict[str, str]:
    """Errors by form field of the rules beyond each field's own: ``complete`` (publishing, or editing a
    published challenge) needs everything residents and proposers rely on; co-owners must exist; the
    criteria's weights add up to 100; the schedule follows the phase order."""
    problems = Problems()
    if complete:
        for name in NEEDED_TO_PUBLISH:
            if not getattr(form, name).strip():
                problems.add(name, REQUIRED)

    if len(form.co_owners) > MAX_CO_OWNERS:
        problems.add("co_owners", _("Choose at most %(max)s departments.", max=MAX_CO_OWNERS))
    elif form.co_owners:
        found = session.exec(select(Department.id).where(col(Department.id).in_(form.co_owners))).all()
        if len(set(found)) != len(set(form.co_owners)):
            problems.add("co_owners", _("Choose departments from the list."))

    if complete and not form.criteria:
        problems.add("criteria", _("Add at least one evaluation criterion."))
    elif form.criteria:
        total = sum(c.weight or 0 for c in form.criteria)
        if total != 100:
            problems.add("criteria", _("The weights add up to %(total)s; they must add up to 100.", total=total))
    problems.extend(lifecycle.validate_schedule(form.schedule))
    return problems.errors


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
    return challenge if visible(session, actor, challenge) else None


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
    voice_count: int = 0
    """How many shown residents' voices cite the challenge (its "born from" section reads them only then)."""
    heard: tuple[int, datetime] | None = None
    """The id and publication time of the challenge's latest published "what we heard" analysis."""

    def on(self, challenge: Challenge) -> OnChallenge:
        """The challenge as the permission rules see it for this viewer."""
        return OnChallenge.of(challenge, owned=self.is_owner)

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
    voices = (select(sa.func.count()).select_from(Voice)
              .where(col(Voice.challenge_id) == Challenge.id, col(Voice.hidden_at).is_(None),
                     col(Voice.status) != VoiceStatus.MERGED).scalar_subquery())
    def latest_published(column: Any) -> Any:
        run = sa.orm.aliased(AnalysisRun)
        return (select(getattr(run, column))
                .where(run.source == "challenge", col(run.subject_id) == Challenge.id, col(run.published_at).is_not(None))
                .order_by(col(run.published_at).desc(), col(run.id).desc()).limit(1).scalar_subquery())

    row = session.execute(
        select(Challenge, owner.label("is_owner"), member.label("member"),
               *notifications.follow_columns(user_id, "challenge", Challenge.id), voices.label("voice_count"),
               latest_published("id").label("heard_id"), latest_published("published_at").label("heard_at"))
        .where(Challenge.id == challenge_id).options(joinedload(Challenge.department, innerjoin=True))  # type: ignore[arg-type]
    ).first()
    if row is None:
        return None
    challenge, is_owner, is_member, follower_count, following, voice_count, heard_id, heard_at = row
    if challenge.phase is Phase.DRAFT and not is_owner:
        return None
    organisations: Sequence[Organisation] = ()
    if is_member:
        organisations = session.exec(
            select(Organisation).join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
            .where(OrganisationMember.user_id == user_id).order_by(col(Organisation.name), col(Organisation.id))
        ).all()
    return challenge, ChallengeViewer(actor, bool(is_owner), bool(following), int(follower_count), organisations,
                                      int(voice_count), (heard_id, heard_at) if heard_id is not None else None)


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


def _apply(session: Session, challenge: Challenge, form: ChallengeForm) -> dict[str, list[Any]]:
    """Copy ``form`` onto the challenge and its rows; returns the tracked changes."""
    changes: dict[str, list[Any]] = {}
    for name in TRACKED_FIELDS:
        new = getattr(form, name)
        if name == "category":
            new = new or challenge.category
        old = getattr(challenge, name)
        if old != new:
            changes[name] = [old.value if isinstance(old, Category) else old,
                             new.value if isinstance(new, Category) else new]
            setattr(challenge, name, new)
    session.flush()
    assert challenge.id is not None

    owners = {challenge.department_id, *form.co_owners}
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
    new_criteria = [(c.name, c.weight, c.description) for c in form.criteria]
    if old_criteria != new_criteria:
        for row in criteria_of(session, challenge.id):
            session.delete(row)
        for position, (name, weight, description) in enumerate(new_criteria):
            session.add(ChallengeCriterion(challenge_id=challenge.id, position=position, name=name,
                                           weight=weight or 0, description=description))
        changes["criteria"] = [[list(c) for c in old_criteria], [list(c) for c in new_criteria]]

    old_kpis = [(k.indicator, k.baseline, k.target, k.unit) for k in kpis_of(session, challenge.id)]
    new_kpis = [(k.indicator, k.baseline, k.target, k.unit) for k in form.kpis]
    if old_kpis != new_kpis:
        for row in kpis_of(session, challenge.id):
            session.delete(row)
        for position, (indicator, baseline, target, unit) in enumerate(new_kpis):
            session.add(ChallengeKpi(challenge_id=challenge.id, position=position, indicator=indicator,
                                     baseline=baseline, target=target, unit=unit))
        changes["kpis"] = [[list(k) for k in old_kpis], [list(k) for k in new_kpis]]

    old_schedule = {p.value: d.isoformat() for p, d in lifecycle.schedule_of(session, challenge.id).items()}
    lifecycle.set_schedule(session, challenge, form.schedule)
    new_schedule = {p.value: d.isoformat() for p, d in form.schedule.items() if d is not None}
    if old_schedule != new_schedule:
        changes["schedule"] = [old_schedule, new_schedule]
    return changes


@transactional
def create_draft(session: Session, actor: Principal, department_id: int, form: ChallengeForm) -> Challenge:
    """A new draft owned by ``department_id``, which the actor must be staff of."""
    user = require_signed_in(actor)
    permissions.require(actor, "challenge.create", department_id)
    if errors := validate(session, form, complete=False):
        raise Invalid(errors)
    assert form.category is not None
    challenge = Challenge(title=form.title, summary="", category=form.category,
                          department_id=department_id, phase=Phase.DRAFT, created_by_id=user.id)
    session.add(challenge)
    session.flush()
    _apply(session, challenge, form)
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.created",
                 target_type="challenge", target_id=str(challenge.id),
                 details={"title": challenge.title, "department_id": department_id})
    follows.follow_as_author(session, [user.id], "challenge", challenge.id)  # type: ignore[arg-type]
    return challenge


def load_owned(session: Session, actor: Principal, challenge_id: int, *, lock: bool = False,
               action: str = "challenge.manage") -> Challenge:
    """The challenge, if the actor may do ``action`` to it (by default, as staff of an owning department:
    NotFound when there is none, Forbidden when it is not theirs); ``lock`` locks its row until the unit
    of work ends."""
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=lock)
    if challenge is None:
        raise NotFound()
    permissions.require(actor, action, on_challenge(session, actor, challenge))
    return challenge


@transactional
def update(session: Session, actor: Principal, challenge_id: int, form: ChallengeForm) -> Challenge:
    """Save edits. After publication every change is kept as a public revision (field, before, after),
    with ``form.note`` as its note."""
    challenge = load_owned(session, actor, challenge_id, lock=True, action="challenge.edit")
    published = challenge.phase is not Phase.DRAFT
    if errors := validate(session, form, complete=published):
        raise Invalid(errors)
    changes = _apply(session, challenge, form)
    if published and changes:
        challenge.revision += 1
        session.add(ChallengeRevision(challenge_id=challenge.id, number=challenge.revision,  # type: ignore[arg-type]
                                      changed_by_id=actor.user_id, note=form.note,
                                      changes_json=json.dumps(changes, ensure_ascii=False, default=str)))
    if changes:
        assert actor.user is not None
        audit.record(session, actor_id=actor.user_id, actor_label=actor.user.display_name,
                     action="challenge.updated", target_type="challenge", target_id=str(challenge.id),
                     details={"fields": sorted(changes), "revision": challenge.revision if published else None})
    return challenge


@transactional
def publish(session: Session, actor: Principal, challenge_id: int, now: datetime | None = None) -> Challenge:
    """Make a complete draft public (Q&A opens); recorded in the audit log."""
    now = now or utcnow()
    challenge = load_owned(session, actor, challenge_id, lock=True, action="challenge.publish")
    if errors := validate(session, ChallengeForm.from_challenge(session, challenge), complete=True):
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
