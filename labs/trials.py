"""Trials (実証プロジェクト): started from a selected proposal or run by the ward, with KPIs, progress
updates with photos and a final results report ("you said, we did").

Who may do what is the labs policy's (:mod:`labs.permissions`, asked with :class:`labs.access.OnTrial`):
the trial's organisations, the staff of its owning department, coordinators and site admins edit, post
updates and write the results; only coordinators change the organisations and the owning department
(``trial.assign``, :class:`CoordinatorTrialForm`). An unpublished trial is seen by its editors only
(404 for everybody else). Every change is audited in the same unit of work; what
the forms can check without the database is checked when they are built (every field's problem at
once), and a refusal raises :class:`Invalid` and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Self

import sqlalchemy as sa
from pydantic import Field, ValidationInfo, field_validator, model_validator
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import Department, Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.files import images, storage
from cocreate.forms import (
    Choice,
    Date,
    Flag,
    FormModel,
    Line,
    PhotoSlot,
    Problems,
    RowId,
    RowIds,
    Rows,
    Text,
    WholeNumber,
    as_text,
    check_photo_slots,
    photo_slots,
    refuse,
    text_error,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import follows
from cocreate.settings import Settings
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from labs import access, events
from labs.kpi_values import Number, number_in_text
from labs.models import (
    Trial,
    TrialKpi,
    TrialKpiMeasurement,
    TrialOrganisation,
    TrialStatus,
    TrialUpdate,
    TrialUpdatePhoto,
)
from proposals import api as proposals

log = logging.getLogger(__name__)

TITLE_MAX = 200
SUMMARY_MAX = 500
LONG_TEXT_MAX = 100_000
UPDATE_BODY_MAX = 20_000
KPI_LIMITS = {"indicator": 200, "unit": 50, "baseline": 100, "target": 100}
RESULT_MAX = 100
RESULT_NOTE_MAX = 2000
MAX_KPIS = 20
MAX_ORGANISATIONS = 20
MAX_PHOTOS = 5
PHOTO_MAX_BYTES = 5 * 1024 * 1024
ALT_MAX = 200
RETENTION_MIN = 1
RETENTION_MAX = 3650
STORAGE_FOLDER = "trials"
REQUIRED = lazy_gettext("This field is required.")
A_DATE = lazy_gettext("Enter a date like 2026-12-01.")
RESULT_KEY = re.compile(r"^kpi-(\d{1,12})-result$")


class TrialExists(Invalid):
    """The proposal already has its trial (one trial per proposal)."""

    def __init__(self, trial_id: int | None) -> None:
        super().__init__({"trial": _("A trial has already been started from this proposal.")})
        self.trial_id = trial_id


# --- input ---------------------------------------------------------------------------------------


class KpiRow(FormModel):
    """One KPI of a trial (``kpis-N-indicator`` …): what is measured, its unit, the value before and the aim.
    Not the shape of a proposal's KPI rows: a trial's target may be left open.

    ``baseline_value`` and ``target_value`` are the numbers its chart draws; left empty, they are read
    from the texts (``"1,150人"`` → 1150). ``id`` is the stored KPI the row shows (a hidden field), so that
    a KPI whose texts change keeps its measurements."""


    indicator: Annotated[str, Line(KPI_LIMITS["indicator"], required=REQUIRED)] = ""
    unit: Annotated[str, Line(KPI_LIMITS["unit"])] = ""
    baseline: Annotated[str, Line(KPI_LIMITS["baseline"])] = ""
    target: Annotated[str, Line(KPI_LIMITS["target"])] = ""
    baseline_value: Annotated[float | None, Number()] = None
    target_value: Annotated[float | None, Number()] = None
    id: Annotated[int | None, RowId(lazy_gettext("Choose one from the list."))] = None

    @property
    def values(self) -> tuple[float | None, float | None]:
        """The baseline and target as numbers: as entered, else read from the texts."""
        return (self.baseline_value if self.baseline_value is not None else number_in_text(self.baseline),
                self.target_value if self.target_value is not None else number_in_text(self.target))


class TrialForm(FormModel):
    """What every editor of a trial sends (the coordinators' form adds who runs it)."""


    title: Annotated[str, Line(TITLE_MAX, required=REQUIRED)] = ""
    summary: Annotated[str, Text(SUMMARY_MAX)] = ""
    description: Annotated[str, Text(LONG_TEXT_MAX, strip=False)] = ""
    status: Annotated[TrialStatus, Choice(TrialStatus, lazy_gettext("Choose planned, running or completed."))] = \
        TrialStatus.PLANNED
    starts_on: Annotated[date | None, Date(message=A_DATE)] = None
    ends_on: Annotated[date | None, Date(message=A_DATE)] = None
    published: Annotated[bool, Flag()] = False
    retention_days: Annotated[int, WholeNumber(
        lazy_gettext("Enter a whole number of days between %(min)s and %(max)s.", min=RETENTION_MIN,
                     max=f"{RETENTION_MAX:,}"), minimum=RETENTION_MIN, maximum=RETENTION_MAX,
        required=lazy_gettext("Enter a whole number of days between %(min)s and %(max)s.", min=RETENTION_MIN,
                              max=f"{RETENTION_MAX:,}"))] = 90
    kpis: Annotated[list[KpiRow], Rows(KpiRow, max_rows=MAX_KPIS,
                                       message=lazy_gettext("Use at most %(max)s KPIs."))] = Field(default_factory=list)

    @field_validator("ends_on")
    @classmethod
    def _not_before_the_start(cls, ends_on: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise refuse(_("The end date must not be before the start date."))
        return ends_on


class CoordinatorTrialForm(TrialForm):
    """The coordinators' trial form: also the department in charge and the organisations that run it."""

    department_id: Annotated[int | None, RowId(lazy_gettext("Choose the department in charge."), required=True)] = None
    organisation_ids: Annotated[list[int], RowIds(lazy_gettext("Choose organisations from the list."))] = \
        Field(default_factory=list)
    lead_organisation_id: Annotated[int | None, RowId(lazy_gettext(
        "The lead organisation must be one of the chosen organisations."))] = None

    @field_validator("organisation_ids")
    @classmethod
    def _not_too_many(cls, ids: list[int]) -> list[int]:
        if len(ids) > MAX_ORGANISATIONS:
            raise refuse(_("Choose at most %(max)s organisations.", max=MAX_ORGANISATIONS))
        return ids

    @field_validator("lead_organisation_id")
    @classmethod
    def _one_of_the_chosen(cls, lead: int | None, info: ValidationInfo) -> int | None:
        if lead is not None and "organisation_ids" in info.data and lead not in info.data["organisation_ids"]:
            raise refuse(_("The lead organisation must be one of the chosen organisations."))
        return lead

    @property
    def chosen(self) -> list[tuple[int, bool]]:
        """The organisations as (id, is_lead); the lead is the first chosen unless one was named."""
        lead = self.lead_organisation_id if self.lead_organisation_id is not None else next(
            iter(self.organisation_ids), None)
        return [(value, value == lead) for value in self.organisation_ids]


def form_for(actor: Principal) -> type[TrialForm]:
    """The trial form ``actor`` sends: coordinators' includes who runs the trial (``trial.assign``)."""
    return CoordinatorTrialForm if permissions.can(actor, "trial.assign") else TrialForm


def form_values(session: Session, trial: Trial) -> dict[str, Any]:
    """A saved trial as its form shows it (and as code changing it starts from)."""
    assert trial.id is not None
    organisations = organisations_of(session, trial.id)
    return {"title": trial.title, "summary": trial.summary, "description": trial.description,
            "status": trial.status.value, "starts_on": trial.starts_on.isoformat() if trial.starts_on else "",
            "ends_on": trial.ends_on.isoformat() if trial.ends_on else "", "published": trial.published,
            "retention_days": str(trial.participant_data_retention_days),
            "kpis": [kpi_form_row(k) for k in kpis_of(session, trial.id)],
            "department_id": str(trial.department_id or ""),
            "organisation_ids": [str(o.id) for o, _lead in organisations],
            "lead_organisation_id": next((str(o.id) for o, is_lead in organisations if is_lead), "")}


def _shown_value(value: float | None, text: str) -> str:
    """A stored number as its form field shows it: empty when it is the one read from the text anyway."""
    if value is None or value == number_in_text(text):
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def kpi_form_row(kpi: TrialKpi) -> dict[str, str]:
    """A stored KPI as its row of the trial form shows it."""
    return {"indicator": kpi.indicator, "unit": kpi.unit, "baseline": kpi.baseline, "target": kpi.target,
            "baseline_value": _shown_value(kpi.baseline_value, kpi.baseline),
            "target_value": _shown_value(kpi.target_value, kpi.target), "id": str(kpi.id)}


class UpdateForm(FormModel):
    """A dated progress update with up to :data:`MAX_PHOTOS` photos, each with its description."""

    posted_on: Annotated[date, Date(lazy_gettext("Enter the date of the update."), A_DATE)] = ""  # type: ignore[assignment]
    title: Annotated[str, Line(TITLE_MAX, required=REQUIRED)] = ""
    body: Annotated[str, Text(UPDATE_BODY_MAX, required=REQUIRED, strip=False)] = ""
    photos: list[PhotoSlot] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _gather_photos(cls, data: Any) -> Any:
        return photo_slots(data, MAX_PHOTOS)

    @model_validator(mode="after")
    def _each_photo_described(self) -> Self:
        """Each photo has its description and each description its photo (checked once the rest reads)."""
        problems = Problems()
        if len([slot for slot in self.photos if slot.has_file]) > MAX_PHOTOS:
            problems.add("photos", _("Add at most %(max)s photos.", max=MAX_PHOTOS))
        check_photo_slots(self.photos, ALT_MAX, problems)
        problems.raise_any()
        return self


@dataclass
class KpiResult:
    """The result of one KPI and a comment on it, as typed (``kpi-<id>-result``, ``kpi-<id>-note``)."""

    kpi_id: int
    result: str = ""
    note: str = ""


class ResultsForm(FormModel):
    """The final report and the KPI results; ``action`` is ``publish`` to make them public.

    The KPI results are keyed by the KPI's id; which of them belong to the trial, and their texts, are
    checked by :func:`save_results` (results of another trial's KPIs are ignored)."""


    action: Annotated[str, Line(20)] = ""
    results: Annotated[str, Text(LONG_TEXT_MAX, strip=False)] = ""
    kpi_results: list[KpiResult] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _gather_results(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "kpi_results" in data:
            return data
        rows = [KpiResult(int(match.group(1)), as_text(value), as_text(data.get(f"kpi-{match.group(1)}-note")))
                for key, value in data.items() if (match := RESULT_KEY.match(str(key)))]
        return {**data, "kpi_results": rows[:MAX_KPIS * 2]}

    @property
    def publish(self) -> bool:
        return self.action == "publish"


# --- reading -------------------------------------------------------------------------------------


def kpis_of(session: Session, trial_id: int) -> Sequence[TrialKpi]:
    return session.exec(select(TrialKpi).where(TrialKpi.trial_id == trial_id)
                        .order_by(col(TrialKpi.position), col(TrialKpi.id))).all()


def organisations_of(session: Session, trial_id: int) -> list[tuple[Organisation, bool]]:
    """The trial's organisations (lead first) with their lead flag."""
    return organisations_by_trial(session, [trial_id]).get(trial_id, [])


def organisations_by_trial(session: Session, trial_ids: Sequence[int]) -> dict[int, list[tuple[Organisation, bool]]]:
    """Organisations of many trials in one query (lists without N+1)."""
    if not trial_ids:
        return {}
    rows = session.exec(select(TrialOrganisation, Organisation)
                        .join(Organisation, col(Organisation.id) == col(TrialOrganisation.organisation_id))
                        .where(col(TrialOrganisation.trial_id).in_(list(trial_ids)))
                        .order_by(col(TrialOrganisation.is_lead).desc(), col(Organisation.name),
                                  col(Organisation.id))).all()
    result: dict[int, list[tuple[Organisation, bool]]] = {}
    for link, organisation in rows:
        result.setdefault(link.trial_id, []).append((organisation, link.is_lead))
    return result


def departments_by_id(session: Session, ids: Sequence[int | None]) -> dict[int, Department]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {d.id: d for d in session.exec(select(Department).where(col(Department.id).in_(wanted))).all()}  # type: ignore[misc]


def departments_for_form(session: Session) -> Sequence[Department]:
    return session.exec(select(Department).order_by(col(Department.code))).all()


def verified_organisations(session: Session, limit: int = 500) -> Sequence[Organisation]:
    return session.exec(select(Organisation).where(col(Organisation.verified_at).is_not(None))
                        .order_by(col(Organisation.name), col(Organisation.id)).limit(limit)).all()


def can_see(session: Session, actor: Principal, trial: Trial) -> bool:
    return bool(permissions.can(actor, "trial.see", access.on_trial(session, actor, trial, ("trial.see",))))


def visible_trial(session: Session, actor: Principal, trial_id: int) -> Trial | None:
    """The trial if ``actor`` may see it (unpublished: its editors only)."""
    trial = session.get(Trial, trial_id)
    if trial is None or not can_see(session, actor, trial):
        return None
    return trial


def editable_trial(session: Session, actor: Principal, trial_id: int, action: str = "trial.edit", *,
                   lock: bool = False) -> Trial:
    """The trial for one who may do ``action`` to it; 404 when ``actor`` may not even see it, the rule's
    refusal (403) when they only see it."""
    require_signed_in(actor)
    trial = session.get(Trial, trial_id, with_for_update=lock, populate_existing=lock)
    if trial is None:
        raise NotFound()
    facts = access.on_trial(session, actor, trial, ("trial.see", action))
    if not permissions.can(actor, "trial.see", facts):
        raise NotFound()
    permissions.require(actor, action, facts)
    return trial


def find_public(session: Session, status: TrialStatus | None = None, page: int = 1,
                per_page: int = DEFAULT_PER_PAGE) -> Page[Trial]:
    """Published trials, running first, then planned, then completed; newest first within each."""
    order = sa.case({TrialStatus.RUNNING.value: 0, TrialStatus.PLANNED.value: 1}, value=col(Trial.status), else_=2)
    statement = select(Trial).where(col(Trial.published).is_(True))
    if status is not None:
        statement = statement.where(Trial.status == status)
    statement = statement.order_by(order, col(Trial.starts_on).desc(), col(Trial.id).desc())
    return paginate(session, statement, page, per_page)  # type: ignore[arg-type]


@dataclass
class ListItem:
    trial: Trial
    organisations: list[tuple[Organisation, bool]]
    department: Department | None


def list_items(session: Session, trials: Sequence[Trial]) -> list[ListItem]:
    """Trials with their organisations and department, in two queries whatever their number."""
    ids = [t.id for t in trials if t.id is not None]
    organisations = organisations_by_trial(session, ids)
    departments = departments_by_id(session, [t.department_id for t in trials])
    return [ListItem(t, organisations.get(t.id, []), departments.get(t.department_id)  # type: ignore[arg-type]
                     if t.department_id is not None else None) for t in trials]


@dataclass
class UpdateItem:
    update: TrialUpdate
    photos: list[TrialUpdatePhoto]


def updates_of(session: Session, trial_id: int) -> list[UpdateItem]:
    """Progress updates newest first with their photos, in two queries."""
    updates = session.exec(select(TrialUpdate).where(TrialUpdate.trial_id == trial_id)
                           .order_by(col(TrialUpdate.posted_on).desc(), col(TrialUpdate.id).desc())).all()
    ids = [u.id for u in updates]
    photos: dict[int, list[TrialUpdatePhoto]] = {}
    if ids:
        for photo in session.exec(select(TrialUpdatePhoto).where(col(TrialUpdatePhoto.update_id).in_(ids))
                                  .order_by(col(TrialUpdatePhoto.position), col(TrialUpdatePhoto.id))).all():
            photos.setdefault(photo.update_id, []).append(photo)
    return [UpdateItem(u, photos.get(u.id, [])) for u in updates]  # type: ignore[arg-type]


PAGE_ACTIONS = ("trial.edit", "trial.post_update", "trial.record_results")
"""What the trial page asks about the trial for its reader."""


@dataclass
class Detail:
    trial: Trial
    organisations: list[tuple[Organisation, bool]]
    department: Department | None
    kpis: Sequence[TrialKpi]
    updates: list[UpdateItem]
    challenge: proposals.ChallengeRef | None
    proposal: proposals.ProposalRef | None
    target: access.OnTrial
    """The trial as the rules see it for the reader (the page asks ``can("trial.edit", d.target)``)."""

    @property
    def results_public(self) -> bool:
        return self.trial.results_published_at is not None


def detail(session: Session, actor: Principal, trial: Trial) -> Detail:
    assert trial.id is not None
    return Detail(trial=trial, organisations=organisations_of(session, trial.id),
                  department=session.get(Department, trial.department_id) if trial.department_id else None,
                  kpis=kpis_of(session, trial.id), updates=updates_of(session, trial.id),
                  challenge=proposals.challenge(session, trial.challenge_id),
                  proposal=proposals.proposal(session, trial.proposal_id),
                  target=access.on_trial(session, actor, trial, PAGE_ACTIONS))


def published_trials_of_challenge(session: Session, challenge_id: int) -> Sequence[Trial]:
    return session.exec(select(Trial).where(Trial.challenge_id == challenge_id, col(Trial.published).is_(True))
                        .order_by(col(Trial.id))).all()


def trial_of_proposal(session: Session, proposal_id: int) -> Trial | None:
    return session.exec(select(Trial).where(Trial.proposal_id == proposal_id)).first()


# --- writing -------------------------------------------------------------------------------------


def _label(user: User) -> str:
    return user.display_name


def _replace_kpis(session: Session, trial: Trial, kpis: Sequence[KpiRow]) -> bool:
    """Replace the KPI rows (True if anything changed). A row whose four texts are unchanged keeps its
    result; a row naming a stored KPI of this trial (its hidden ``id``) is changed in place and keeps its
    measurements (its result goes if its texts changed); other rows are new. A KPI that has measurements
    cannot be removed (:class:`Invalid`, nothing changes)."""
    assert trial.id is not None
    existing = list(kpis_of(session, trial.id))
    texts = [(k.indicator, k.unit, k.baseline, k.target) for k in existing]
    wanted = [(k.indicator, k.unit, k.baseline, k.target) for k in kpis]
    numbers = [(k.baseline_value, k.target_value) for k in existing]
    if texts == wanted and numbers == [k.values for k in kpis]:
        return False
    by_id = {row.id: row for row in existing}
    pool: dict[tuple[str, str, str, str], list[TrialKpi]] = {}
    for row in existing:
        pool.setdefault((row.indicator, row.unit, row.baseline, row.target), []).append(row)
    chosen: list[TrialKpi | None] = []
    taken: set[int | None] = set()
    for kpi, values in zip(kpis, wanted, strict=True):  # the same texts first: those keep their results
        row = next((r for r in pool.get(values, []) if r.id not in taken and kpi.id in (None, r.id)), None)
        chosen.append(row)
        taken.add(row.id if row else None)
    for index, kpi in enumerate(kpis):  # then by the row's stored id
        if chosen[index] is None and kpi.id in by_id and kpi.id not in taken:
            chosen[index] = by_id[kpi.id]
            taken.add(kpi.id)
    removed = [row for row in existing if row.id not in taken]
    if removed and session.exec(select(TrialKpiMeasurement.id).where(
            col(TrialKpiMeasurement.kpi_id).in_([row.id for row in removed])).limit(1)).first() is not None:
        raise Invalid({"kpis": _("A KPI that has measurements cannot be removed.")})
    for row in removed:
        session.delete(row)
    session.flush()
    for position, (kpi, row) in enumerate(zip(kpis, chosen, strict=True)):
        baseline_value, target_value = kpi.values
        if row is None:
            session.add(TrialKpi(trial_id=trial.id, position=position, indicator=kpi.indicator, unit=kpi.unit,
                                 baseline=kpi.baseline, target=kpi.target, baseline_value=baseline_value,
                                 target_value=target_value))
            continue
        if (row.indicator, row.unit, row.baseline, row.target) != wanted[position]:
            row.indicator, row.unit, row.baseline, row.target = wanted[position]
            row.result, row.result_note = "", ""
        row.position, row.baseline_value, row.target_value = position, baseline_value, target_value
    return True


def _set_organisations(session: Session, trial: Trial, chosen: Sequence[tuple[int, bool]]) -> bool:
    assert trial.id is not None
    existing = {row.organisation_id: row for row in session.exec(
        select(TrialOrganisation).where(TrialOrganisation.trial_id == trial.id)).all()}
    if {k: v.is_lead for k, v in existing.items()} == dict(chosen):
        return False
    for organisation_id, row in existing.items():
        if organisation_id not in dict(chosen):
            session.delete(row)
    for organisation_id, is_lead in chosen:
        row = existing.get(organisation_id)
        if row is None:
            session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation_id, is_lead=is_lead))
        else:
            row.is_lead = is_lead
    return True


def _check_who_runs_it(session: Session, form: CoordinatorTrialForm) -> None:
    """The department exists and the organisations are verified (the form checked the rest)."""
    problems = Problems()
    if form.department_id is None or session.get(Department, form.department_id) is None:
        problems.add("department_id", _("Choose the department in charge."))
    if form.organisation_ids:
        verified = set(session.exec(select(Organisation.id).where(
            col(Organisation.id).in_(form.organisation_ids), col(Organisation.verified_at).is_not(None))).all())
        if set(form.organisation_ids) - verified:
            problems.add("organisation_ids", _("Only verified organisations can run a trial."))
    problems.raise_any()


@transactional
def create(session: Session, actor: Principal, form: CoordinatorTrialForm) -> Trial:
    """A ward-run trial, by a coordinator (audited). Starts unpublished unless said otherwise."""
    user = require_signed_in(actor)
    permissions.require(actor, "trial.create")
    _check_who_runs_it(session, form)
    trial = Trial(title=form.title, summary=form.summary, description=form.description, status=form.status,
                  starts_on=form.starts_on, ends_on=form.ends_on, published=form.published,
                  participant_data_retention_days=form.retention_days, department_id=form.department_id,
                  created_by_id=user.id)
    session.add(trial)
    session.flush()
    _replace_kpis(session, trial, form.kpis)
    _set_organisations(session, trial, form.chosen)
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.created", target_type="trial",
                 target_id=str(trial.id), details={"title": trial.title, "department_id": form.department_id,
                                                   "organisations": [o for o, _lead in form.chosen],
                                                   "published": trial.published, "kpis": len(form.kpis)})
    follows.follow_as_author(session, [user.id], "trial", trial.id)  # type: ignore[arg-type]
    return trial


@transactional
def create_from_proposal(session: Session, actor: Principal, proposal_id: int) -> Trial:
    """Start the trial of a selected proposal (owning staff or coordinators; audited).

    Takes over the proposal's title, summary, description, organisations (lead marked) and KPIs, the
    challenge's lead department; starts planned and unpublished. A challenge in "decided" moves to
    "trial". One trial per proposal: a second attempt raises :class:`TrialExists`.
    """
    user = require_signed_in(actor)
    source = proposals.lock_trial_source(session, proposal_id)
    if source is None:
        raise NotFound()
    permissions.require(actor, "trial.start", access.on_proposal(session, actor, source.challenge_id, ("trial.start",)))
    existing = trial_of_proposal(session, proposal_id)
    if existing is not None:
        raise TrialExists(existing.id)
    if not source.startable:
        raise Invalid({"trial": _("A trial can be started only from a selected proposal, once the "
                                  "decisions have been published.")})
    try:
        # A savepoint: when another request started it a moment ago, the unique proposal_id says so here.
        with unit_of_work(session):
            trial = Trial(proposal_id=source.proposal_id, challenge_id=source.challenge_id,
                          department_id=source.department_id, created_by_id=user.id, title=source.title[:TITLE_MAX],
                          summary=source.summary[:SUMMARY_MAX], description=source.description,
                          status=TrialStatus.PLANNED, published=False)
            session.add(trial)
            session.flush()
    except sa.exc.IntegrityError:
        raise TrialExists(getattr(trial_of_proposal(session, proposal_id), "id", None)) from None
    for position, kpi in enumerate(source.kpis):
        session.add(TrialKpi(trial_id=trial.id, position=position, indicator=kpi.indicator, unit=kpi.unit,  # type: ignore[arg-type]
                             baseline=kpi.baseline, target=kpi.target, baseline_value=number_in_text(kpi.baseline),
                             target_value=number_in_text(kpi.target)))
    for organisation_id in source.organisation_ids:
        session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation_id,  # type: ignore[arg-type]
                                      is_lead=organisation_id == source.lead_organisation_id))
    moved = proposals.enter_trial_phase(session, source.challenge_id, actor,
                                        _("A trial started from a selected proposal."))
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.created_from_proposal",
                 target_type="trial", target_id=str(trial.id),
                 details={"proposal_id": source.proposal_id, "challenge_id": source.challenge_id,
                          "kpis": len(source.kpis), "organisations": list(source.organisation_ids),
                          "challenge_moved": moved})
    # The trial's creator and whoever created and submitted the proposal it grew from follow it.
    follows.follow_as_author(session, [user.id, *source.author_ids], "trial", trial.id)  # type: ignore[arg-type]
    return trial


@transactional
def update(session: Session, actor: Principal, trial_id: int, form: TrialForm) -> Trial:
    """Change a trial (its editors; audited). The department and organisations change only when a
    coordinator sends them (a :class:`CoordinatorTrialForm`); everybody else's form leaves them."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id, lock=True)
    links = form if isinstance(form, CoordinatorTrialForm) and permissions.can(actor, "trial.assign") else None
    if links is not None:
        _check_who_runs_it(session, links)
    changes: dict[str, Any] = {}
    for name, value in (("title", form.title), ("summary", form.summary), ("description", form.description),
                        ("status", form.status), ("starts_on", form.starts_on), ("ends_on", form.ends_on),
                        ("published", form.published), ("participant_data_retention_days", form.retention_days),
                        ("department_id", links.department_id if links else trial.department_id)):
        before = getattr(trial, name)
        if before != value:
            changes[name] = [_audit_value(before), _audit_value(value)] if name != "description" else "changed"
            setattr(trial, name, value)
    if _replace_kpis(session, trial, form.kpis):
        changes["kpis"] = [[k.indicator, k.unit, k.baseline, k.target, *k.values] for k in form.kpis]
    if links is not None and _set_organisations(session, trial, links.chosen):
        changes["organisations"] = [[o, lead] for o, lead in links.chosen]
    if changes:
        trial.updated_at = utcnow()
        audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.updated",
                     target_type="trial", target_id=str(trial.id), details={"changes": changes})
    return trial


def _audit_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, TrialStatus):
        return value.value
    return value


# --- progress updates ----------------------------------------------------------------------------


def path_of(settings: Settings, photo: TrialUpdatePhoto) -> Path:
    """Where a photo's file lives (its key is checked, so a bad row cannot point elsewhere)."""
    return storage.stored_path(settings, photo.storage_key, STORAGE_FOLDER)


def _receive_photos(settings: Settings, form: UpdateForm) -> list[tuple[PhotoSlot, storage.ReceivedFile]]:
    """Copy the chosen photos into storage without where they were taken (EXIF GPS); a photo that is no image (or too large) is refused, and then
    no file is kept."""
    problems = Problems()
    received: list[tuple[PhotoSlot, storage.ReceivedFile]] = []
    for slot in form.photos:
        if not slot.has_file:
            continue
        try:
            stored = storage.receive(settings, slot.source, PHOTO_MAX_BYTES, folder=STORAGE_FOLDER)  # type: ignore[arg-type]
        except Invalid as failed:
            problems.add(f"photo-{slot.index}", failed.errors.get("file", ""))
            continue
        if not stored.file_type.is_image:
            storage.remove_file(stored.path)
            problems.add(f"photo-{slot.index}", _("Choose a PNG, JPEG, GIF or WebP image."))
            continue
        try:
            size, digest = images.strip_location(stored.path, stored.file_type)  # where it was taken: not kept
        except Invalid as failed:
            storage.remove_file(stored.path)
            problems.add(f"photo-{slot.index}", failed.errors.get("file", ""))
            continue
        received.append((slot, replace(stored, size_bytes=size, sha256=digest)))
    if problems:
        for _slot, stored in received:
            storage.remove_file(stored.path)
        problems.raise_any()
    return received


def add_update(session: Session, settings: Settings, actor: Principal, trial_id: int, form: UpdateForm) -> TrialUpdate:
    """Post a dated progress update with up to five photos (PNG, JPEG, GIF or WebP; each with alt text).

    Two units of work: the first checks the actor and ends, so no transaction is held open while the
    files are copied; the second writes the update. The files go again if that fails."""
    with unit_of_work(session):
        editable_trial(session, actor, trial_id, "trial.post_update")
    received = _receive_photos(settings, form)
    try:
        with unit_of_work(session):
            user = require_signed_in(actor)
            trial = editable_trial(session, actor, trial_id, "trial.post_update", lock=True)
            entry = TrialUpdate(trial_id=trial.id, posted_on=form.posted_on, title=form.title, body=form.body,  # type: ignore[arg-type]
                                author_id=user.id)
            session.add(entry)
            session.flush()
            for position, (slot, stored) in enumerate(received):
                session.add(TrialUpdatePhoto(
                    update_id=entry.id, position=position, alt_text=slot.alt_text,  # type: ignore[arg-type]
                    filename=storage.clean_filename(slot.filename, stored.file_type),
                    content_type=stored.file_type.content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
                    storage_key=stored.storage_key, uploaded_by_id=user.id))
            audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.update_posted",
                         target_type="trial", target_id=str(trial.id),
                         details={"update_id": entry.id, "title": form.title, "posted_on": form.posted_on.isoformat(),
                                  "photos": [stored.sha256 for _slot, stored in received]})
            events.announce(session, events.UPDATE_POSTED, entry.id, actor_id=user.id)  # type: ignore[arg-type]
    except BaseException:
        for _slot, stored in received:
            storage.remove_file(stored.path)
        raise
    return entry


def delete_update(session: Session, settings: Settings, actor: Principal, trial_id: int, update_id: int) -> None:
    """Remove a progress update and its photos (editors; audited); files go after the commit."""
    with unit_of_work(session):
        user = require_signed_in(actor)
        trial = editable_trial(session, actor, trial_id, "trial.post_update", lock=True)
        entry = session.get(TrialUpdate, update_id)
        if entry is None or entry.trial_id != trial.id:
            raise Invalid({"update": _("This update does not exist (it may have been deleted already).")})
        photos = session.exec(select(TrialUpdatePhoto).where(TrialUpdatePhoto.update_id == update_id)).all()
        paths = [path_of(settings, p) for p in photos]
        session.execute(sa.delete(TrialUpdatePhoto).where(col(TrialUpdatePhoto.update_id) == update_id))
        session.delete(entry)
        audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.update_deleted",
                     target_type="trial", target_id=str(trial.id),
                     details={"update_id": update_id, "title": entry.title, "photos": len(photos)})
    for path in paths:
        storage.remove_file(path)


def photo_for_download(session: Session, settings: Settings, actor: Principal, trial_id: int, update_id: int,
                       photo_id: int) -> tuple[TrialUpdatePhoto, Trial, Path] | None:
    trial = visible_trial(session, actor, trial_id)
    if trial is None:
        return None
    entry = session.get(TrialUpdate, update_id)
    photo = session.get(TrialUpdatePhoto, photo_id)
    if entry is None or entry.trial_id != trial_id or photo is None or photo.update_id != update_id:
        return None
    path = path_of(settings, photo)
    if not path.is_file():
        log.error("photo %s of trial update %s has no file at %s", photo_id, update_id, path)
        return None
    return photo, trial, path


# --- results -------------------------------------------------------------------------------------


@transactional
def save_results(session: Session, actor: Principal, trial_id: int, form: ResultsForm) -> Trial:
    """Write the final report and the KPI results; publishing makes them public and completes the trial."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id, "trial.record_results", lock=True)
    assert trial.id is not None
    problems = Problems()
    if form.publish and not form.results.strip():
        problems.add("results", REQUIRED)
    kpis = {k.id: k for k in kpis_of(session, trial.id)}
    given = {row.kpi_id: (row.result.strip(), row.note.strip()) for row in form.kpi_results if row.kpi_id in kpis}
    for kpi_id, (result, note) in given.items():
        if message := text_error(result, RESULT_MAX, single_line=True):
            problems.add(f"kpi-{kpi_id}-result", message)
        if message := text_error(note, RESULT_NOTE_MAX):
            problems.add(f"kpi-{kpi_id}-note", message)
    problems.raise_any()
    changed: dict[str, Any] = {}
    if trial.results != form.results:
        trial.results = form.results
        changed["results"] = "changed"
    for kpi_id, (result, note) in given.items():
        kpi = kpis[kpi_id]
        if (kpi.result, kpi.result_note) != (result, note):
            changed[f"kpi-{kpi_id}"] = [kpi.result, result]
            kpi.result, kpi.result_note = result, note
    if form.publish and trial.results_published_at is None:
        trial.results_published_at = utcnow()
        changed["published"] = True
    if form.publish and trial.status is not TrialStatus.COMPLETED:
        changed["status"] = [trial.status.value, TrialStatus.COMPLETED.value]
        trial.status = TrialStatus.COMPLETED
    if changed:
        trial.updated_at = utcnow()
        audit.record(session, actor_id=user.id, actor_label=_label(user),
                     action="trial.results_published" if form.publish else "trial.results_saved",
                     target_type="trial", target_id=str(trial.id), details=changed)
    if changed.get("published"):
        events.announce(session, events.RESULTS_PUBLISHED, trial.id, actor_id=user.id)
    return trial
