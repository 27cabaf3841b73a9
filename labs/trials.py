"""Trials (実証プロジェクト): started from a selected proposal or run by the ward, with KPIs, progress
updates with photos and a final results report ("you said, we did").

Who may do what is in :mod:`labs.access` (``can_edit_trial``): the trial's organisations, the staff
of its owning department, coordinators and site admins edit; only coordinators change the
organisations and the owning department. An unpublished trial is seen by its editors only (404 for
everybody else). Every change is audited in the same transaction.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from litestar.exceptions import NotFoundException
from sqlmodel import Session, col, select

from cocreate import audit
from cocreate.accounts.models import Department, Organisation, User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.settings import Settings
from cocreate.web.forms import parse_id
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from labs import access, events
from labs.models import Trial, TrialKpi, TrialOrganisation, TrialStatus, TrialUpdate, TrialUpdatePhoto
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
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class TrialExists(Invalid):
    """The proposal already has its trial (one trial per proposal)."""

    def __init__(self, trial_id: int | None) -> None:
        super().__init__({"trial": _("A trial has already been started from this proposal.")})
        self.trial_id = trial_id


# --- input ---------------------------------------------------------------------------------------


@dataclass
class KpiInput:
    indicator: str = ""
    unit: str = ""
    baseline: str = ""
    target: str = ""


@dataclass
class TrialInput:
    """What the trial forms send, as typed (dates, numbers and ids still text)."""

    title: str = ""
    summary: str = ""
    description: str = ""
    status: str = TrialStatus.PLANNED.value
    starts_on: str = ""
    ends_on: str = ""
    published: bool = False
    retention_days: str = "90"
    kpis: list[KpiInput] = field(default_factory=list)
    department_id: str = ""
    organisation_ids: list[str] = field(default_factory=list)
    lead_organisation_id: str = ""

    @classmethod
    def from_trial(cls, session: Session, trial: Trial) -> TrialInput:
        assert trial.id is not None
        organisations = organisations_of(session, trial.id)
        lead = next((str(o.id) for o, is_lead in organisations if is_lead), "")
        return cls(title=trial.title, summary=trial.summary, description=trial.description,
                   status=trial.status.value, starts_on=trial.starts_on.isoformat() if trial.starts_on else "",
                   ends_on=trial.ends_on.isoformat() if trial.ends_on else "", published=trial.published,
                   retention_days=str(trial.participant_data_retention_days),
                   kpis=[KpiInput(k.indicator, k.unit, k.baseline, k.target) for k in kpis_of(session, trial.id)],
                   department_id=str(trial.department_id or ""),
                   organisation_ids=[str(o.id) for o, _lead in organisations], lead_organisation_id=lead)


@dataclass
class UpdateInput:
    posted_on: str = ""
    title: str = ""
    body: str = ""


@dataclass
class PhotoInput:
    """One photo slot of the update form (``index`` names its fields ``photo-N`` / ``alt-N``)."""

    index: int
    source: BinaryIO | None
    filename: str
    alt_text: str


@dataclass
class KpiResultInput:
    kpi_id: int
    result: str = ""
    note: str = ""


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n").replace("\r", "\n")


def _text_error(value: str, limit: int, *, required: bool = False, single_line: bool = False) -> str | None:
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=f"{limit:,}")
    if CONTROL_CHARS.search(value) or (single_line and "\n" in value):
        return _("This field contains characters that cannot be used.")
    return None


def parse_date(raw: str) -> date | None:
    """``2026-12-01`` (full-width digits too) -> a date; None when it is not one or out of range."""
    text = unicodedata.normalize("NFKC", raw or "").strip().replace("/", "-")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if EARLIEST <= value <= LATEST else None


@dataclass
class _Checked:
    title: str
    summary: str
    description: str
    status: TrialStatus
    starts_on: date | None
    ends_on: date | None
    retention_days: int
    kpis: list[KpiInput]


def _check(data: TrialInput, errors: dict[str, str]) -> _Checked:
    title, summary, description = _clean(data.title).strip(), _clean(data.summary).strip(), _clean(data.description)
    for name, value, limit, required, single in (("title", title, TITLE_MAX, True, True),
                                                ("summary", summary, SUMMARY_MAX, False, False),
                                                ("description", description, LONG_TEXT_MAX, False, False)):
        if message := _text_error(value, limit, required=required, single_line=single):
            errors[name] = message
    try:
        status = TrialStatus(data.status)
    except ValueError:
        status = TrialStatus.PLANNED
        errors["status"] = _("Choose planned, running or completed.")
    starts_on = ends_on = None
    for name in ("starts_on", "ends_on"):
        raw = getattr(data, name).strip()
        if not raw:
            continue
        value = parse_date(raw)
        if value is None:
            errors[name] = _("Enter a date like 2026-12-01.")
        elif name == "starts_on":
            starts_on = value
        else:
            ends_on = value
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The end date must not be before the start date.")
    retention = RETENTION_MIN - 1
    raw_retention = unicodedata.normalize("NFKC", data.retention_days or "").strip()
    if re.fullmatch(r"\d{1,5}", raw_retention):
        retention = int(raw_retention)
    if not RETENTION_MIN <= retention <= RETENTION_MAX:
        errors["retention_days"] = _("Enter a whole number of days between %(min)s and %(max)s.",
                                     min=RETENTION_MIN, max=f"{RETENTION_MAX:,}")
    kpis = [KpiInput(*(_clean(getattr(k, part)).strip() for part in ("indicator", "unit", "baseline", "target")))
            for k in data.kpis]
    kpis = [k for k in kpis if k.indicator or k.unit or k.baseline or k.target]
    if len(kpis) > MAX_KPIS:
        errors["kpis"] = _("Use at most %(max)s KPIs.", max=MAX_KPIS)
    else:
        for i, kpi in enumerate(kpis):
            for part, limit in KPI_LIMITS.items():
                if message := _text_error(getattr(kpi, part), limit, required=part == "indicator", single_line=True):
                    errors[f"kpis-{i}-{part}"] = message
    return _Checked(title, summary, description, status, starts_on, ends_on, retention, kpis)


def _check_organisations(session: Session, data: TrialInput, errors: dict[str, str]) -> list[tuple[int, bool]]:
    """The chosen verified organisations as (id, is_lead); the lead defaults to the first chosen."""
    ids: list[int] = []
    for raw in data.organisation_ids[:MAX_ORGANISATIONS + 1]:
        value = parse_id(raw)
        if value is None:
            errors["organisation_ids"] = _("Choose organisations from the list.")
            return []
        if value not in ids:
            ids.append(value)
    if len(ids) > MAX_ORGANISATIONS:
        errors["organisation_ids"] = _("Choose at most %(max)s organisations.", max=MAX_ORGANISATIONS)
        return []
    if ids:
        verified = set(session.exec(select(Organisation.id).where(
            col(Organisation.id).in_(ids), col(Organisation.verified_at).is_not(None))).all())
        if set(ids) - verified:
            errors["organisation_ids"] = _("Only verified organisations can run a trial.")
            return []
    lead = parse_id(data.lead_organisation_id) if data.lead_organisation_id.strip() else None
    if data.lead_organisation_id.strip() and (lead is None or lead not in ids):
        errors["lead_organisation_id"] = _("The lead organisation must be one of the chosen organisations.")
        return []
    if lead is None and ids:
        lead = ids[0]
    return [(value, value == lead) for value in ids]


def _check_department(session: Session, raw: str, errors: dict[str, str]) -> int | None:
    if not raw.strip():
        errors["department_id"] = _("Choose the department in charge.")
        return None
    value = parse_id(raw)
    if value is None or session.get(Department, value) is None:
        errors["department_id"] = _("Choose the department in charge.")
        return None
    return value


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
    return trial.published or access.can_edit_trial(session, actor, trial)


def visible_trial(session: Session, actor: Principal, trial_id: int) -> Trial | None:
    """The trial if ``actor`` may see it (unpublished: its editors only)."""
    trial = session.get(Trial, trial_id)
    if trial is None or not can_see(session, actor, trial):
        return None
    return trial


def editable_trial(session: Session, actor: Principal, trial_id: int, *, lock: bool = False) -> Trial:
    """The trial for an editor; 404 when ``actor`` may not even see it, 403 when they only see it."""
    require_signed_in(actor)
    trial = session.get(Trial, trial_id, with_for_update=lock, populate_existing=lock)
    if trial is None or not can_see(session, actor, trial):
        session.rollback()
        raise NotFoundException()
    if not access.can_edit_trial(session, actor, trial):
        session.rollback()
        raise Forbidden(_("Only the trial's organisations, the department in charge and coordinators can do this."))
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


@dataclass
class Detail:
    trial: Trial
    organisations: list[tuple[Organisation, bool]]
    department: Department | None
    kpis: Sequence[TrialKpi]
    updates: list[UpdateItem]
    challenge: proposals.ChallengeRef | None
    proposal: proposals.ProposalRef | None
    can_edit: bool

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
                  can_edit=access.can_edit_trial(session, actor, trial))


def published_trials_of_challenge(session: Session, challenge_id: int) -> Sequence[Trial]:
    return session.exec(select(Trial).where(Trial.challenge_id == challenge_id, col(Trial.published).is_(True))
                        .order_by(col(Trial.id))).all()


def trial_of_proposal(session: Session, proposal_id: int) -> Trial | None:
    return session.exec(select(Trial).where(Trial.proposal_id == proposal_id)).first()


def can_start_from(session: Session, actor: Principal, challenge_id: int) -> bool:
    """Whether ``actor`` may start a trial from a proposal on the challenge (its rules, not whether the
    proposal is startable or a trial exists): coordinators and staff of an owning department."""
    if actor.user_id is None:
        return False
    return access.is_coordinator(actor) or proposals.owns_challenge(session, actor, challenge_id)


# --- writing -------------------------------------------------------------------------------------


def _label(user: User) -> str:
    return user.display_name


def _replace_kpis(session: Session, trial: Trial, kpis: Sequence[KpiInput]) -> bool:
    """Replace the KPI rows; rows whose four values are unchanged keep their results. True if changed."""
    assert trial.id is not None
    existing = list(kpis_of(session, trial.id))
    key = [(k.indicator, k.unit, k.baseline, k.target) for k in existing]
    wanted = [(k.indicator, k.unit, k.baseline, k.target) for k in kpis]
    if key == wanted:
        return False
    pool = {}
    for row in existing:
        pool.setdefault((row.indicator, row.unit, row.baseline, row.target), []).append(row)
    kept = []
    for position, values in enumerate(wanted):
        rows = pool.get(values)
        if rows:
            row = rows.pop(0)
            row.position = position
            kept.append(row)
        else:
            session.add(TrialKpi(trial_id=trial.id, position=position, indicator=values[0], unit=values[1],
                                 baseline=values[2], target=values[3]))
    for rows in pool.values():
        for row in rows:
            session.delete(row)
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


def create(session: Session, actor: Principal, data: TrialInput) -> Trial:
    """A ward-run trial, by a coordinator (audited). Starts unpublished unless said otherwise."""
    user = require_signed_in(actor)
    if not access.is_coordinator(actor):
        raise Forbidden(_("Only coordinators can start a ward-run trial."))
    errors: dict[str, str] = {}
    checked = _check(data, errors)
    department_id = _check_department(session, data.department_id, errors)
    chosen = _check_organisations(session, data, errors)
    if errors:
        session.rollback()
        raise Invalid(errors)
    trial = Trial(title=checked.title, summary=checked.summary, description=checked.description,
                  status=checked.status, starts_on=checked.starts_on, ends_on=checked.ends_on,
                  published=data.published, participant_data_retention_days=checked.retention_days,
                  department_id=department_id, created_by_id=user.id)
    session.add(trial)
    session.flush()
    _replace_kpis(session, trial, checked.kpis)
    _set_organisations(session, trial, chosen)
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.created", target_type="trial",
                 target_id=str(trial.id), details={"title": trial.title, "department_id": department_id,
                                                   "organisations": [o for o, _lead in chosen],
                                                   "published": trial.published, "kpis": len(checked.kpis)})
    follows.follow_as_author(session, [user.id], "trial", trial.id)  # type: ignore[arg-type]
    session.commit()
    return trial


def create_from_proposal(session: Session, actor: Principal, proposal_id: int) -> Trial:
    """Start the trial of a selected proposal (owning staff or coordinators; audited).

    Takes over the proposal's title, summary, description, organisations (lead marked) and KPIs, the
    challenge's lead department; starts planned and unpublished. A challenge in "decided" moves to
    "trial". One trial per proposal: a second attempt raises :class:`TrialExists`.
    """
    user = require_signed_in(actor)
    source = proposals.lock_trial_source(session, proposal_id)
    if source is None:
        session.rollback()
        raise NotFoundException()
    if not can_start_from(session, actor, source.challenge_id):
        session.rollback()
        raise Forbidden(_("Only staff of a department that owns the challenge and coordinators can start a trial."))
    existing = trial_of_proposal(session, proposal_id)
    if existing is not None:
        session.rollback()
        raise TrialExists(existing.id)
    if not source.startable:
        session.rollback()
        raise Invalid({"trial": _("A trial can be started only from a selected proposal, once the "
                                           "decisions have been published.")})
    trial = Trial(proposal_id=source.proposal_id, challenge_id=source.challenge_id, department_id=source.department_id,
                  created_by_id=user.id, title=source.title[:TITLE_MAX], summary=source.summary[:SUMMARY_MAX],
                  description=source.description, status=TrialStatus.PLANNED, published=False)
    session.add(trial)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # another request started it a moment ago
        session.rollback()
        raise TrialExists(getattr(trial_of_proposal(session, proposal_id), "id", None)) from None
    for position, kpi in enumerate(source.kpis):
        session.add(TrialKpi(trial_id=trial.id, position=position, indicator=kpi.indicator, unit=kpi.unit,  # type: ignore[arg-type]
                             baseline=kpi.baseline, target=kpi.target))
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
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise TrialExists(getattr(trial_of_proposal(session, proposal_id), "id", None)) from None
    return trial


def update(session: Session, actor: Principal, trial_id: int, data: TrialInput) -> Trial:
    """Change a trial (its editors; organisations and department by coordinators only; audited)."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id, lock=True)
    coordinator = access.is_coordinator(actor)
    errors: dict[str, str] = {}
    checked = _check(data, errors)
    department_id = _check_department(session, data.department_id, errors) if coordinator else trial.department_id
    chosen = _check_organisations(session, data, errors) if coordinator else []
    if errors:
        session.rollback()
        raise Invalid(errors)
    changes: dict[str, Any] = {}
    for name, value in (("title", checked.title), ("summary", checked.summary), ("description", checked.description),
                        ("status", checked.status), ("starts_on", checked.starts_on), ("ends_on", checked.ends_on),
                        ("published", data.published), ("participant_data_retention_days", checked.retention_days),
                        ("department_id", department_id)):
        before = getattr(trial, name)
        if before != value:
            changes[name] = [_audit_value(before), _audit_value(value)] if name != "description" else "changed"
            setattr(trial, name, value)
    if _replace_kpis(session, trial, checked.kpis):
        changes["kpis"] = [[k.indicator, k.unit, k.baseline, k.target] for k in checked.kpis]
    if coordinator and _set_organisations(session, trial, chosen):
        changes["organisations"] = [[o, lead] for o, lead in chosen]
    if changes:
        trial.updated_at = utcnow()
        audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.updated",
                     target_type="trial", target_id=str(trial.id), details={"changes": changes})
    session.commit()
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


def photo_url(trial_id: int, photo: TrialUpdatePhoto) -> str:
    return f"/trials/{trial_id}/updates/{photo.update_id}/photos/{photo.id}"


def add_update(session: Session, settings: Settings, actor: Principal, trial_id: int, data: UpdateInput,
               photos: Sequence[PhotoInput]) -> TrialUpdate:
    """Post a dated progress update with up to five photos (PNG, JPEG, GIF or WebP; each with alt text)."""
    editable_trial(session, actor, trial_id)
    session.rollback()  # hold no transaction open while files are copied
    errors: dict[str, str] = {}
    title, body = _clean(data.title).strip(), _clean(data.body)
    posted_on = parse_date(data.posted_on) if data.posted_on.strip() else None
    if not data.posted_on.strip():
        errors["posted_on"] = _("Enter the date of the update.")
    elif posted_on is None:
        errors["posted_on"] = _("Enter a date like 2026-12-01.")
    if message := _text_error(title, TITLE_MAX, required=True, single_line=True):
        errors["title"] = message
    if message := _text_error(body, UPDATE_BODY_MAX, required=True):
        errors["body"] = message
    chosen = [p for p in photos if p.source is not None and p.filename]
    if len(chosen) > MAX_PHOTOS:
        errors["photos"] = _("Add at most %(max)s photos.", max=MAX_PHOTOS)
    received: list[tuple[PhotoInput, storage.ReceivedFile]] = []
    for photo in photos:
        alt = _clean(photo.alt_text).strip()
        has_file = photo.source is not None and bool(photo.filename)
        if not has_file:
            if alt:
                errors[f"photo-{photo.index}"] = _("Choose the photo this description belongs to.")
            continue
        if message := (_("Describe the photo in a few words; this text is read out to people who cannot see it.")
                       if not alt else _text_error(alt, ALT_MAX, single_line=True)):
            errors[f"alt-{photo.index}"] = message
        if "photos" in errors:
            continue
        try:
            stored = storage.receive(settings, photo.source, PHOTO_MAX_BYTES, folder=STORAGE_FOLDER)  # type: ignore[arg-type]
        except Invalid as failed:
            errors[f"photo-{photo.index}"] = failed.errors.get("file", "")
            continue
        if not stored.file_type.is_image:
            storage.remove_file(stored.path)
            errors[f"photo-{photo.index}"] = _("Choose a PNG, JPEG, GIF or WebP image.")
            continue
        received.append((photo, stored))
    if errors:
        for _photo, stored in received:
            storage.remove_file(stored.path)
        raise Invalid(errors)
    try:
        user = require_signed_in(actor)
        trial = editable_trial(session, actor, trial_id, lock=True)
        entry = TrialUpdate(trial_id=trial.id, posted_on=posted_on, title=title, body=body, author_id=user.id)  # type: ignore[arg-type]
        session.add(entry)
        session.flush()
        for position, (photo, stored) in enumerate(received):
            session.add(TrialUpdatePhoto(
                update_id=entry.id, position=position, alt_text=_clean(photo.alt_text).strip(),  # type: ignore[arg-type]
                filename=storage.clean_filename(photo.filename, stored.file_type),
                content_type=stored.file_type.content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
                storage_key=stored.storage_key, uploaded_by_id=user.id))
        audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.update_posted",
                     target_type="trial", target_id=str(trial.id),
                     details={"update_id": entry.id, "title": title, "posted_on": posted_on.isoformat(),  # type: ignore[union-attr]
                              "photos": [stored.sha256 for _photo, stored in received]})
        events.announce(session, events.UPDATE_POSTED, entry.id, actor_id=user.id)  # type: ignore[arg-type]
        session.commit()
    except BaseException:
        session.rollback()
        for _photo, stored in received:
            storage.remove_file(stored.path)
        raise
    return entry


def delete_update(session: Session, settings: Settings, actor: Principal, trial_id: int, update_id: int) -> None:
    """Remove a progress update and its photos (editors; audited); files go after the commit."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id, lock=True)
    entry = session.get(TrialUpdate, update_id)
    if entry is None or entry.trial_id != trial.id:
        session.rollback()
        raise Invalid({"update": _("This update does not exist (it may have been deleted already).")})
    photos = session.exec(select(TrialUpdatePhoto).where(TrialUpdatePhoto.update_id == update_id)).all()
    paths = [path_of(settings, p) for p in photos]
    session.execute(sa.delete(TrialUpdatePhoto).where(col(TrialUpdatePhoto.update_id) == update_id))
    session.delete(entry)
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="trial.update_deleted",
                 target_type="trial", target_id=str(trial.id),
                 details={"update_id": update_id, "title": entry.title, "photos": len(photos)})
    session.commit()
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


def save_results(session: Session, actor: Principal, trial_id: int, results: str,
                 kpi_results: Sequence[KpiResultInput], *, publish: bool) -> Trial:
    """Write the final report and the KPI results; ``publish`` makes them public and completes the trial."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id, lock=True)
    assert trial.id is not None
    text = _clean(results)
    errors: dict[str, str] = {}
    if message := _text_error(text, LONG_TEXT_MAX, required=publish):
        errors["results"] = message
    kpis = {k.id: k for k in kpis_of(session, trial.id)}
    given = {row.kpi_id: row for row in kpi_results if row.kpi_id in kpis}
    for kpi_id, row in given.items():
        result, note = _clean(row.result).strip(), _clean(row.note).strip()
        if message := _text_error(result, RESULT_MAX, single_line=True):
            errors[f"kpi-{kpi_id}-result"] = message
        if message := _text_error(note, RESULT_NOTE_MAX):
            errors[f"kpi-{kpi_id}-note"] = message
    if errors:
        session.rollback()
        raise Invalid(errors)
    changed: dict[str, Any] = {}
    if trial.results != text:
        trial.results = text
        changed["results"] = "changed"
    for kpi_id, row in given.items():
        kpi = kpis[kpi_id]
        result, note = _clean(row.result).strip(), _clean(row.note).strip()
        if (kpi.result, kpi.result_note) != (result, note):
            changed[f"kpi-{kpi_id}"] = [kpi.result, result]
            kpi.result, kpi.result_note = result, note
    if publish and trial.results_published_at is None:
        trial.results_published_at = utcnow()
        changed["published"] = True
    if publish and trial.status is not TrialStatus.COMPLETED:
        changed["status"] = [trial.status.value, TrialStatus.COMPLETED.value]
        trial.status = TrialStatus.COMPLETED
    if changed:
        trial.updated_at = utcnow()
        audit.record(session, actor_id=user.id, actor_label=_label(user),
                     action="trial.results_published" if publish else "trial.results_saved",
                     target_type="trial", target_id=str(trial.id), details=changed)
    if changed.get("published"):
        events.announce(session, events.RESULTS_PUBLISHED, trial.id, actor_id=user.id)
    session.commit()
    return trial
