"""Open data of KPI tracking: the confirmed measurements of published trials' KPIs (:data:`DATASETS`,
listed in the labs manifest; see :mod:`cocreate.opendata.datasets`).

Public parts only: measurements still waiting for the department, sent back or of unpublished trials are
left out, and so are the notes, the reasons for sending back and who entered or confirmed a value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from cocreate.i18n import lazy_gettext
from cocreate.opendata.datasets import Column, Dataset
from labs.models import KpiMeasurementStatus, Trial, TrialKpi, TrialKpiMeasurement

CHUNK = 1000


def measurement_rows(session: Session) -> Iterator[dict[str, Any]]:
    """One row per confirmed measurement of a published trial's KPI, by id, read in chunks."""
    after = 0
    while True:
        rows = session.exec(select(TrialKpiMeasurement, TrialKpi, Trial)
                            .join(TrialKpi, col(TrialKpi.id) == TrialKpiMeasurement.kpi_id)
                            .join(Trial, col(Trial.id) == TrialKpi.trial_id)
                            .where(TrialKpiMeasurement.status == KpiMeasurementStatus.CONFIRMED,
                                   col(Trial.published).is_(True), col(TrialKpiMeasurement.id) > after)
                            .order_by(col(TrialKpiMeasurement.id)).limit(CHUNK)).all()
        for measurement, kpi, trial in rows:
            yield {"id": measurement.id, "trial_id": trial.id, "trial_title": trial.title, "kpi_id": kpi.id,
                   "indicator": kpi.indicator, "unit": kpi.unit, "measured_on": measurement.measured_on,
                   "value": measurement.value, "baseline": kpi.baseline_value, "target": kpi.target_value,
                   "confirmed_at": measurement.reviewed_at}
        if len(rows) < CHUNK:
            return
        after = rows[-1][0].id  # type: ignore[assignment]


DATASETS = [
    Dataset(
        name="kpi_measurements",
        title=lazy_gettext("KPI measurements of trials"),
        description=lazy_gettext(
            "One row per dated measurement of a published trial's KPI, entered by the organisation running "
            "the trial and confirmed by the department in charge. Measurements not confirmed (waiting or sent "
            "back) are left out, and so are notes and who entered or confirmed them."),
        columns=(
            Column("id", lazy_gettext("Number of the measurement"), "integer"),
            Column("trial_id", lazy_gettext("Number of the trial"), "integer"),
            Column("trial_title", lazy_gettext("Title of the trial")),
            Column("kpi_id", lazy_gettext("Number of the KPI"), "integer"),
            Column("indicator", lazy_gettext("What the KPI measures")),
            Column("unit", lazy_gettext("Unit of the values")),
            Column("measured_on", lazy_gettext("Date of the measurement"), "date"),
            Column("value", lazy_gettext("Measured value"), "number"),
            Column("baseline", lazy_gettext("The KPI's baseline as a number (empty if none)"), "number"),
            Column("target", lazy_gettext("The KPI's target as a number (empty if none)"), "number"),
            Column("confirmed_at", lazy_gettext("When the department confirmed the measurement"), "datetime"),
        ),
        rows=measurement_rows,
        keywords=("KPI", "実証", "重要業績評価指標", "板橋区"),
    ),
]
"""The labs component's KPI datasets."""
