"""KPI tracking over time: dated measurements of a trial's KPIs, their confirmation, the chart per KPI and
the overview of every trial's KPIs.

- **Entering**: members of the trial's organisations enter a measurement of a KPI (the date it was
  measured, the value, a note); it is *submitted*. The department that owns the trial (its department in
  charge, or a department owning its challenge) *confirms* it or *sends it back* with a reason; the
  organisation corrects a sent-back one, which is then submitted again. Confirmed measurements are final
  and public with the trial. Who may do what is the labs policy's (``kpi.measure``, ``kpi.confirm``,
  ``kpi.see_pending``, asked with :class:`labs.access.OnKpi`); every change is audited in the same unit of
  work and tells the other side (notification kinds :data:`SUBMITTED_KIND`, :data:`DECIDED_KIND`).
- **Values**: a number as people type it (``1,234.5``, full-width digits, a leading sign), finite and
  within ±:data:`VALUE_LIMIT`; the date is not in the future (Tokyo's today) and not long before the trial
  (:data:`EARLIEST_BEFORE_START` days before its start, never before 2000).
- **Charts**: the confirmed measurements of a KPI as a line against its baseline and target
  (``TrialKpi.baseline_value``/``target_value``, :func:`number_in_text` reads them from the texts when the
  trial's editors give no number), with the data table and CSV (:mod:`cocreate.charts`).
- **Overview**: the KPIs of a page of published trials with the latest confirmed value and the progress
  from the baseline towards the target, in a fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import OrganisationMember, Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.charts import Chart, Reference, Series
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Date, FormModel, Line, Text
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page
from labs import access, paths, trials
from labs.kpi_values import Number
from labs.models import KpiMeasurementStatus, Trial, TrialKpi, TrialKpiMeasurement, TrialOrganisation

S = KpiMeasurementStatus

NOTE_MAX = 1000
REASON_MAX = 1000
EARLIEST_BEFORE_START = 366
TARGET = "trial_kpi_measurement"
"""``target_type`` of the audit entries and notifications of a measurement."""
SUBMITTED_KIND = "kpi.submitted"
DECIDED_KIND = "kpi.decided"

A_DATE = lazy_gettext("Enter a date like 2026-12-01.")


def show_number(value: float | None) -> str:
    """A value as the pages show it: thousands separated, at most two decimals (``1,250``, ``12.5``)."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def progress(baseline: float | None, target: float | None, latest: float | None) -> float | None:
    """How far ``latest`` has come from the baseline (0 when there is none) towards the target, in percent
    (may be below 0 or above 100); None when it cannot be said."""
    if target is None or latest is None:
        return None
    start = baseline if baseline is not None else 0.0
    if target == start:
        return None
    return (latest - start) / (target - start) * 100


# --- forms ---------------------------------------------------------------------------------------


class MeasurementForm(FormModel):
    """A measurement as the organisation enters (or corrects) it."""

    measured_on: Annotated[date, Date(lazy_gettext("Enter the date of the measurement."), A_DATE)] = ""  # type: ignore[assignment]
    value: Annotated[float, Number(required=lazy_gettext("Enter the measured value."))] = ""  # type: ignore[assignment]
    note: Annotated[str, Text(NOTE_MAX)] = ""


class DecisionForm(FormModel):
    """The department's decision: ``action`` ``confirm``, or ``reject`` (send back) with a reason."""

    action: Annotated[str, Line(20)] = ""
    reason: Annotated[str, Text(REASON_MAX)] = ""


def local_today() -> date:
    return utcnow().astimezone(WARD_TIMEZONE).date()


def _check_date(trial: Trial, measured_on: date) -> None:
    if measured_on > local_today():
        raise Invalid({"measured_on": _("The date of a measurement cannot be in the future.")})
    earliest = (trial.starts_on - timedelta(days=EARLIEST_BEFORE_START)) if trial.starts_on else date(2000, 1, 1)
    if measured_on < earliest:
        raise Invalid({"measured_on": _("The date is too long before the trial: enter a date from %(date)s.",
                                        date=earliest.isoformat())})


# --- reading -------------------------------------------------------------------------------------


def _trial(session: Session, actor: Principal, trial_id: int) -> Trial:
    """The trial if ``actor`` may see it; 404 otherwise."""
    trial = trials.visible_trial(session, actor, trial_id)
    if trial is None:
        raise NotFound()
    return trial


def _kpi(session: Session, trial: Trial, kpi_id: int) -> TrialKpi:
    kpi = session.get(TrialKpi, kpi_id)
    if kpi is None or kpi.trial_id != trial.id:
        raise NotFound()
    return kpi


def trial_for_entry(session: Session, actor: Principal, trial_id: int, kpi_id: int) -> tuple[Trial, TrialKpi]:
    """The trial and KPI for one who may enter its measurements (404 for who may not see the trial, the
    rule's refusal for the others)."""
    require_signed_in(actor)
    trial = _trial(session, actor, trial_id)
    kpi = _kpi(session, trial, kpi_id)
    permissions.require(actor, "kpi.measure", access.on_kpi(session, actor, trial))
    return trial, kpi


@dataclass
class MeasurementView:
    measurement: TrialKpiMeasurement
    kpi: TrialKpi
    trial: Trial
    target: access.OnKpi
    entered_by: str
    reviewed_by: str


def measurement_for(session: Session, actor: Principal, trial_id: int, measurement_id: int, *,
                    lock: bool = False) -> MeasurementView:
    """A measurement of the trial, for who may see it: confirmed ones for who sees the trial, the others for
    the trial's organisations and its department (404 for everybody else)."""
    trial = _trial(session, actor, trial_id)
    measurement = session.get(TrialKpiMeasurement, measurement_id, with_for_update=lock, populate_existing=lock)
    if measurement is None:
        raise NotFound()
    kpi = _kpi(session, trial, measurement.kpi_id)
    target = access.on_kpi(session, actor, trial, status=measurement.status)
    if measurement.status is not S.CONFIRMED and not permissions.can(actor, "kpi.see_pending", target):
        raise NotFound()
    names = {u.id: u.display_name for u in session.exec(select(User).where(col(User.id).in_(
        [i for i in (measurement.entered_by_id, measurement.reviewed_by_id) if i is not None]))).all()}
    return MeasurementView(measurement, kpi, trial, target, names.get(measurement.entered_by_id, ""),  # type: ignore[arg-type]
                           names.get(measurement.reviewed_by_id, ""))  # type: ignore[arg-type]


def confirmed_by_kpi(session: Session, kpi_ids: Sequence[int]) -> dict[int, list[TrialKpiMeasurement]]:
    """The confirmed measurements of the KPIs, oldest first, in one query."""
    if not kpi_ids:
        return {}
    result: dict[int, list[TrialKpiMeasurement]] = {k: [] for k in kpi_ids}
    for row in session.exec(select(TrialKpiMeasurement).where(
            col(TrialKpiMeasurement.kpi_id).in_(list(kpi_ids)), TrialKpiMeasurement.status == S.CONFIRMED)
            .order_by(col(TrialKpiMeasurement.kpi_id), col(TrialKpiMeasurement.measured_on),
                      col(TrialKpiMeasurement.id))).all():
        result[row.kpi_id].append(row)
    return result


def chart_of(kpi: TrialKpi, measurements: Sequence[TrialKpiMeasurement]) -> Chart:
    """The KPI's confirmed measurements as a line against its baseline and target."""
    references = []
    if kpi.baseline_value is not None:
        references.append(Reference(_("Baseline"), kpi.baseline_value))
    if kpi.target_value is not None:
        references.append(Reference(_("Target"), kpi.target_value))
    unit = f" {kpi.unit}" if kpi.unit else ""
    if measurements:
        last = measurements[-1]
        summary = _("%(count)s confirmed measurements from %(first)s to %(last)s; the latest is %(value)s. "
                    "Baseline: %(baseline)s; target: %(target)s.",
                    count=len(measurements), first=measurements[0].measured_on.isoformat(),
                    last=last.measured_on.isoformat(), value=show_number(last.value) + unit,
                    baseline=show_number(kpi.baseline_value) + (unit if kpi.baseline_value is not None else ""),
                    target=show_number(kpi.target_value) + (unit if kpi.target_value is not None else ""))
    else:
        summary = _("No confirmed measurements yet.")
    return Chart("line", kpi.indicator, summary, [m.measured_on.isoformat() for m in measurements],
                 [Series(_("Measured value"), [m.value for m in measurements])], unit=kpi.unit,
                 label_heading=_("Date measured"), references=references)


@dataclass
class PendingItem:
    measurement: TrialKpiMeasurement
    kpi: TrialKpi
    entered_by: str


@dataclass
class KpiItem:
    kpi: TrialKpi
    chart: Chart
    latest: TrialKpiMeasurement | None

    @property
    def progress(self) -> float | None:
        return progress(self.kpi.baseline_value, self.kpi.target_value, self.latest.value if self.latest else None)


@dataclass
class Section:
    trial: Trial
    items: list[KpiItem]
    target: access.OnKpi
    pending: list[PendingItem] = field(default_factory=list)


def section(session: Session, actor: Principal, trial: Trial) -> Section | None:
    """The trial page's KPI charts, and, for the organisations and department, the measurements not
    confirmed yet (None: the trial has no KPIs). Four queries at most whatever the number of KPIs."""
    assert trial.id is not None
    kpis = list(trials.kpis_of(session, trial.id))
    if not kpis:
        return None
    target = access.on_kpi(session, actor, trial)
    confirmed = confirmed_by_kpi(session, [k.id for k in kpis])  # type: ignore[misc]
    items = [KpiItem(k, chart_of(k, confirmed[k.id]), confirmed[k.id][-1] if confirmed[k.id] else None)  # type: ignore[index]
             for k in kpis]
    pending: list[PendingItem] = []
    if permissions.can(actor, "kpi.see_pending", target):
        by_id = {k.id: k for k in kpis}
        rows = session.exec(select(TrialKpiMeasurement, User.display_name)
                            .outerjoin(User, col(User.id) == col(TrialKpiMeasurement.entered_by_id))
                            .where(col(TrialKpiMeasurement.kpi_id).in_(list(by_id)),
                                   TrialKpiMeasurement.status != S.CONFIRMED)
                            .order_by(col(TrialKpiMeasurement.measured_on).desc(),
                                      col(TrialKpiMeasurement.id).desc()).limit(200)).all()
        pending = [PendingItem(m, by_id[m.kpi_id], name or "") for m, name in rows]  # type: ignore[index]
    return Section(trial, items, target, pending)


def kpi_chart(session: Session, actor: Principal, trial_id: int, kpi_id: int) -> tuple[Trial, TrialKpi, Chart]:
    """One KPI's chart (for its CSV), for who may see the trial."""
    trial = _trial(session, actor, trial_id)
    kpi = _kpi(session, trial, kpi_id)
    return trial, kpi, chart_of(kpi, confirmed_by_kpi(session, [kpi_id])[kpi_id])


@dataclass
class OverviewKpi:
    kpi: TrialKpi
    latest: TrialKpiMeasurement | None
    count: int

    @property
    def progress(self) -> float | None:
        return progress(self.kpi.baseline_value, self.kpi.target_value, self.latest.value if self.latest else None)


@dataclass
class OverviewTrial:
    trial: Trial
    kpis: list[OverviewKpi]


def overview(session: Session, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> tuple[Page[Trial], list[OverviewTrial]]:
    """A page of published trials (as the trial list orders them) with their KPIs, each with its latest
    confirmed measurement and how many there are: four queries (count, page, KPIs, latest values)."""
    found = trials.find_public(session, None, page, per_page)
    ids = [t.id for t in found.items]
    kpis: dict[int, list[TrialKpi]] = {}
    if ids:
        for kpi in session.exec(select(TrialKpi).where(col(TrialKpi.trial_id).in_(ids))
                                .order_by(col(TrialKpi.trial_id), col(TrialKpi.position), col(TrialKpi.id))).all():
            kpis.setdefault(kpi.trial_id, []).append(kpi)
    latest = latest_confirmed(session, [k.id for rows in kpis.values() for k in rows])  # type: ignore[misc]
    return found, [OverviewTrial(t, [OverviewKpi(k, *latest.get(k.id, (None, 0))) for k in kpis.get(t.id, [])])  # type: ignore[arg-type, call-overload]
                   for t in found.items]


def latest_confirmed(session: Session, kpi_ids: Sequence[int]) -> dict[int, tuple[TrialKpiMeasurement, int]]:
    """Each KPI's latest confirmed measurement and the number of confirmed ones, in one query."""
    if not kpi_ids:
        return {}
    m = TrialKpiMeasurement.__table__
    ranked = (sa.select(m.c.id, sa.func.row_number().over(partition_by=m.c.kpi_id, order_by=(
                  m.c.measured_on.desc(), m.c.id.desc())).label("rank"),
                        sa.func.count().over(partition_by=m.c.kpi_id).label("total"))
              .where(m.c.kpi_id.in_(list(kpi_ids)), m.c.status == S.CONFIRMED.value).subquery())
    rows = session.exec(select(TrialKpiMeasurement, ranked.c.total)  # type: ignore[call-overload]
                        .join(ranked, ranked.c.id == col(TrialKpiMeasurement.id)).where(ranked.c.rank == 1)).all()
    return {row.kpi_id: (row, int(total)) for row, total in rows}


# --- writing -------------------------------------------------------------------------------------


def _department_staff(session: Session, trial: Trial) -> set[int]:
    """Staff of the trial's department (who confirm its measurements)."""
    if trial.department_id is None:
        return set()
    return set(session.exec(select(RoleAssignment.user_id).where(
        RoleAssignment.role == Role.STAFF, RoleAssignment.department_id == trial.department_id)).all())


def _organisation_members(session: Session, trial_id: int) -> set[int]:
    return set(session.exec(select(OrganisationMember.user_id).join(
        TrialOrganisation, col(TrialOrganisation.organisation_id) == col(OrganisationMember.organisation_id))
        .where(TrialOrganisation.trial_id == trial_id)).all())


def _params(trial: Trial, kpi: TrialKpi, measurement: TrialKpiMeasurement) -> dict[str, Any]:
    return {"trial_id": trial.id, "trial_title": trial.title, "indicator": kpi.indicator,
            "value": show_number(measurement.value), "unit": kpi.unit,
            "measured_on": measurement.measured_on.isoformat(), "status": measurement.status.value,
            "reason": measurement.review_reason}


def _tell(session: Session, settings: Settings, kind: str, user_ids: Iterable[int], by_id: int | None, trial: Trial,
          kpi: TrialKpi, measurement: TrialKpiMeasurement) -> None:
    wanted = set(user_ids) - {by_id}
    if not wanted:
        return
    assert measurement.id is not None
    notifications.notify(session, user_ids=wanted, kind=kind, target_type=TARGET, target_id=measurement.id,
                         params=_params(trial, kpi, measurement),
                         url=paths.kpi_measurement(trial.id, measurement.id),  # type: ignore[arg-type]
                         event_key=f"{kind}:{measurement.id}:{utcnow().isoformat()}", settings=settings)


def _audit(session: Session, user: User, action: str, measurement: TrialKpiMeasurement, **details: Any) -> None:
    audit.record(session, actor_id=user.id, actor_label=user.display_name or f"user #{user.id}", action=action,
                 target_type=TARGET, target_id=str(measurement.id),
                 details={"kpi_id": measurement.kpi_id, "measured_on": measurement.measured_on.isoformat(),
                          "value": measurement.value, "status": measurement.status.value, **details})


@transactional
def add_measurement(session: Session, settings: Settings, actor: Principal, trial_id: int, kpi_id: int,
                    form: MeasurementForm) -> TrialKpiMeasurement:
    """Enter a measurement of the trial's KPI (its organisations); the department is told."""
    user = require_signed_in(actor)
    trial, kpi = trial_for_entry(session, actor, trial_id, kpi_id)
    _check_date(trial, form.measured_on)
    measurement = TrialKpiMeasurement(kpi_id=kpi.id, measured_on=form.measured_on, value=form.value,  # type: ignore[arg-type]
                                      note=form.note, entered_by_id=user.id)
    session.add(measurement)
    session.flush()
    _audit(session, user, "kpi.measurement_submitted", measurement, note=form.note)
    _tell(session, settings, SUBMITTED_KIND, _department_staff(session, trial), user.id, trial, kpi, measurement)
    return measurement


@transactional
def correct_measurement(session: Session, settings: Settings, actor: Principal, trial_id: int, measurement_id: int,
                        form: MeasurementForm) -> TrialKpiMeasurement:
    """Correct a measurement that was sent back (its organisations): submitted again, the department told."""
    user = require_signed_in(actor)
    view = measurement_for(session, actor, trial_id, measurement_id, lock=True)
    permissions.require(actor, "kpi.measure", view.target)
    _check_date(view.trial, form.measured_on)
    measurement = view.measurement
    before = {"measured_on": measurement.measured_on.isoformat(), "value": measurement.value,
              "note": measurement.note, "review_reason": measurement.review_reason}
    measurement.measured_on, measurement.value, measurement.note = form.measured_on, form.value, form.note
    measurement.status = S.SUBMITTED
    measurement.entered_by_id = user.id
    measurement.updated_at = utcnow()
    session.flush()
    _audit(session, user, "kpi.measurement_corrected", measurement, before=before, note=form.note)
    _tell(session, settings, SUBMITTED_KIND, _department_staff(session, view.trial), user.id, view.trial, view.kpi,
          measurement)
    return measurement


@transactional
def decide(session: Session, settings: Settings, actor: Principal, trial_id: int, measurement_id: int,
           form: DecisionForm) -> TrialKpiMeasurement:
    """Confirm a submitted measurement, or send it back with a reason (the department that owns the trial);
    the trial's organisations are told."""
    user = require_signed_in(actor)
    view = measurement_for(session, actor, trial_id, measurement_id, lock=True)
    permissions.require(actor, "kpi.confirm", view.target, field="action")
    if form.action not in ("confirm", "reject"):
        raise Invalid({"action": _("Choose whether to confirm the measurement or send it back.")})
    if form.action == "reject" and not form.reason.strip():
        raise Invalid({"reason": _("Say why the measurement is sent back, so that it can be corrected.")})
    measurement = view.measurement
    measurement.status = S.CONFIRMED if form.action == "confirm" else S.REJECTED
    measurement.review_reason = form.reason if form.action == "reject" else ""
    measurement.reviewed_by_id = user.id
    measurement.reviewed_at = utcnow()
    measurement.updated_at = measurement.reviewed_at
    session.flush()
    _audit(session, user, "kpi.measurement_confirmed" if form.action == "confirm" else "kpi.measurement_sent_back",
           measurement, reason=measurement.review_reason)
    assert view.trial.id is not None
    members = _organisation_members(session, view.trial.id) | (
        {measurement.entered_by_id} if measurement.entered_by_id is not None else set())
    _tell(session, settings, DECIDED_KIND, members, user.id, view.trial, view.kpi, measurement)
    return measurement


# --- download my data ----------------------------------------------------------------------------


def export_measurements(session: Session, user: User) -> list[dict[str, Any]]:
    """The measurements the person entered (or last corrected), with their KPI and trial."""
    rows = session.exec(select(TrialKpiMeasurement, TrialKpi, Trial)
                        .join(TrialKpi, col(TrialKpi.id) == TrialKpiMeasurement.kpi_id)
                        .join(Trial, col(Trial.id) == TrialKpi.trial_id)
                        .where(TrialKpiMeasurement.entered_by_id == user.id)
                        .order_by(col(TrialKpiMeasurement.id))).all()
    return [{"id": m.id, "trial_id": trial.id, "trial_title": trial.title, "kpi_id": kpi.id,
             "indicator": kpi.indicator, "unit": kpi.unit, "measured_on": m.measured_on, "value": m.value,
             "note": m.note, "status": m.status, "review_reason": m.review_reason, "entered_at": m.created_at,
             "updated_at": m.updated_at, "reviewed_at": m.reviewed_at} for m, kpi, trial in rows]


# --- notification kinds --------------------------------------------------------------------------


def _submitted_message(params: dict[str, Any]) -> str:
    return _("A measurement of “%(indicator)s” (%(trial)s) waits for your confirmation.",
             indicator=str(params.get("indicator", "")), trial=str(params.get("trial_title", "")))


def _submitted_subject(params: dict[str, Any]) -> str:
    return _("KPI measurement to confirm: %(trial)s", trial=str(params.get("trial_title", "")))


def _decided_message(params: dict[str, Any]) -> str:
    if params.get("status") == S.CONFIRMED.value:
        return _("Your measurement of “%(indicator)s” (%(trial)s) was confirmed.",
                 indicator=str(params.get("indicator", "")), trial=str(params.get("trial_title", "")))
    return _("Your measurement of “%(indicator)s” (%(trial)s) was sent back.",
             indicator=str(params.get("indicator", "")), trial=str(params.get("trial_title", "")))


def _decided_subject(params: dict[str, Any]) -> str:
    return _("About your KPI measurement: %(trial)s", trial=str(params.get("trial_title", "")))


KINDS = {
    SUBMITTED_KIND: notifications.Kind(_submitted_message, _submitted_subject, "mail/kpi_submitted.txt",
                                       label=lazy_gettext("KPI measurements of your department's trials to confirm")),
    DECIDED_KIND: notifications.Kind(_decided_message, _decided_subject, "mail/kpi_decided.txt",
                                     label=lazy_gettext("Decisions on your organisations' KPI measurements")),
}
"""The notification kinds of KPI measurements (listed in the labs manifest)."""
