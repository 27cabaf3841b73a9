"""What the labs component publishes as open data (its manifest's ``datasets``; see
:mod:`cocreate.opendata.datasets`): test fields, approved bookings, trials and their KPIs, the public part only.

- test fields: published ones; never the contact line, the booking rules' internals or the coordinators;
- bookings: the periods of approved and completed bookings of published fields, as the public calendar
  shows them (the title, what residents will see happen, the organisation); never the purpose, equipment,
  documents, the coordinator's notes or who asked;
- trials: published ones; the results report only once published;
- trial KPIs: the KPIs of published trials; the result only once the results are published.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.accounts.models import Department, Organisation
from cocreate.i18n import lazy_gettext as _l
from cocreate.opendata.datasets import Column, Dataset, stream
from labs import paths
from labs.calendar import PUBLIC_STATUSES
from labs.models import Booking, BookingPeriod, TestField, Trial, TrialKpi, TrialOrganisation

ID = Column("id", _l("Identifier on this site (stable)."), "integer")
URL = Column("url", _l("Its page on this site."), "url")
TRIAL_ID = Column("trial_id", _l("The trial's identifier (see the trials dataset)."), "integer")


def _department(department: Department | None) -> str:
    return department.display_name("ja") if department is not None else ""


def field_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(TestField.id, TestField, Department)
                 .join(Department, col(Department.id) == TestField.department_id, isouter=True)
                 .where(col(TestField.published).is_(True)))
    for _id, field, department in stream(session, statement, col(TestField.id)):
        yield {
            "id": field.id, "name": field.name, "kind": field.kind.value, "area": field.area.value,
            "address": field.address, "latitude": field.latitude, "longitude": field.longitude,
            "summary": field.summary, "description": field.description, "rules": field.rules,
            "capacity": field.capacity, "min_booking_minutes": field.min_booking_minutes,
            "max_booking_minutes": field.max_booking_minutes, "department": _department(department),
            "url": paths.field(field.id),  # type: ignore[arg-type]
        }


def booking_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(BookingPeriod.id, BookingPeriod.starts_at, BookingPeriod.ends_at, Booking.id, Booking.status,
                           Booking.title, Booking.public_description, Booking.trial_id, TestField.id, TestField.name,
                           Organisation.name)
                 .join(Booking, col(Booking.id) == BookingPeriod.booking_id)
                 .join(TestField, col(TestField.id) == Booking.field_id)
                 .join(Organisation, col(Organisation.id) == Booking.organisation_id, isouter=True)
                 .where(col(Booking.status).in_(PUBLIC_STATUSES), col(TestField.published).is_(True)))
    for (period_id, starts_at, ends_at, booking_id, status, title, public_description, trial_id, field_id,
         field_name, organisation) in stream(session, statement, col(BookingPeriod.id)):
        yield {
            "id": period_id, "booking_id": booking_id, "field_id": field_id, "field_name": field_name,
            "organisation": organisation or "", "title": title, "public_description": public_description,
            "status": status.value, "starts_at": starts_at, "ends_at": ends_at, "trial_id": trial_id,
            "url": paths.booking_notice(booking_id),
        }


def trial_rows(session: Session) -> Iterator[dict[str, Any]]:
    lead = (sa.select(Organisation.name)
            .join(TrialOrganisation, col(TrialOrganisation.organisation_id) == Organisation.id)
            .where(TrialOrganisation.trial_id == Trial.id, col(TrialOrganisation.is_lead).is_(True))
            .limit(1).scalar_subquery())
    statement = (sa.select(Trial.id, Trial, Department, lead)
                 .join(Department, col(Department.id) == Trial.department_id, isouter=True)
                 .where(col(Trial.published).is_(True)))
    for _id, trial, department, organisation in stream(session, statement, col(Trial.id)):
        public = trial.results_published_at is not None
        yield {
            "id": trial.id, "title": trial.title, "summary": trial.summary, "description": trial.description,
            "status": trial.status.value, "starts_on": trial.starts_on, "ends_on": trial.ends_on,
            "challenge_id": trial.challenge_id, "proposal_id": trial.proposal_id,
            "department": _department(department), "lead_organisation": organisation or "",
            "results": trial.results if public else "",
            "results_published_at": trial.results_published_at,
            "url": paths.trial(trial.id),  # type: ignore[arg-type]
        }


def kpi_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(TrialKpi.id, TrialKpi, Trial.results_published_at)
                 .join(Trial, col(Trial.id) == TrialKpi.trial_id)
                 .where(col(Trial.published).is_(True)))
    for _id, kpi, results_published_at in stream(session, statement, col(TrialKpi.id)):
        public = results_published_at is not None
        yield {
            "id": kpi.id, "trial_id": kpi.trial_id, "position": kpi.position, "indicator": kpi.indicator,
            "unit": kpi.unit, "baseline": kpi.baseline, "target": kpi.target,
            "baseline_value": kpi.baseline_value, "target_value": kpi.target_value,
            "result": kpi.result if public else "", "result_note": kpi.result_note if public else "",
        }


DATASETS = [
    Dataset(
        name="test_fields", title=_l("Test fields"),
        description=_l("Places in the ward where organisations try technology with residents (published ones)."),
        columns=(
            ID, Column("name", _l("Name.")), Column("kind", _l("The kind of place (a fixed code).")),
            Column("area", _l("The area of the ward (a fixed code).")), Column("address", _l("Address.")),
            Column("latitude", _l("Latitude (WGS 84), if known."), "number"),
            Column("longitude", _l("Longitude (WGS 84), if known."), "number"),
            Column("summary", _l("Summary.")), Column("description", _l("Description (Markdown).")),
            Column("rules", _l("Rules of use (Markdown).")),
            Column("capacity", _l("Most people on the field at once, if limited."), "integer"),
            Column("min_booking_minutes", _l("Shortest booking, in minutes."), "integer"),
            Column("max_booking_minutes", _l("Longest booking, in minutes, if limited."), "integer"),
            Column("department", _l("The ward's department in charge.")), URL,
        ),
        rows=field_rows, keywords=("実証フィールド", "test fields"),
    ),
    Dataset(
        name="bookings", title=_l("Approved bookings of test fields"),
        description=_l("One row per period of an approved or completed booking of a published test field, as the "
                       "public calendar shows it. The purpose, equipment, documents and contact details are left "
                       "out."),
        columns=(
            Column("id", _l("The period's identifier (stable)."), "integer"),
            Column("booking_id", _l("The booking's identifier."), "integer"),
            Column("field_id", _l("The field's identifier (see the test fields dataset)."), "integer"),
            Column("field_name", _l("The field's name.")),
            Column("organisation", _l("The organisation that booked the field.")),
            Column("title", _l("Title.")),
            Column("public_description", _l("What residents will see happen (Markdown).")),
            Column("status", _l("approved or completed.")),
            Column("starts_at", _l("Start (UTC)."), "datetime"), Column("ends_at", _l("End (UTC)."), "datetime"),
            Column("trial_id", _l("The trial the booking is for, if any."), "integer"),
            Column("url", _l("The booking's public notice on this site."), "url"),
        ),
        rows=booking_rows, keywords=("実証フィールド", "予約", "bookings"),
    ),
    Dataset(
        name="trials", title=_l("Trials"),
        description=_l("Trials (実証プロジェクト) run in the ward (published ones), with their results report once "
                       "published."),
        columns=(
            ID, Column("title", _l("Title.")), Column("summary", _l("Summary.")),
            Column("description", _l("Description (Markdown).")),
            Column("status", _l("planned, running or completed.")),
            Column("starts_on", _l("First day."), "date"), Column("ends_on", _l("Last day."), "date"),
            Column("challenge_id", _l("The challenge it answers, if any."), "integer"),
            Column("proposal_id", _l("The proposal it came from, if any."), "integer"),
            Column("department", _l("The ward's department in charge.")),
            Column("lead_organisation", _l("The organisation that leads it.")),
            Column("results", _l("The results report (Markdown), once published.")),
            Column("results_published_at", _l("When the results were published (UTC)."), "datetime"), URL,
        ),
        rows=trial_rows, keywords=("実証実験", "trials"),
    ),
    Dataset(
        name="trial_kpis", title=_l("Trial KPIs"),
        description=_l("The KPIs of published trials: baseline, target and, once the results are published, the "
                       "result."),
        columns=(
            ID, TRIAL_ID, Column("position", _l("Order within the trial."), "integer"),
            Column("indicator", _l("What is measured.")), Column("unit", _l("Unit.")),
            Column("baseline", _l("The value before the trial, as written.")),
            Column("target", _l("The value aimed at, as written.")),
            Column("baseline_value", _l("The baseline as a number, if it is one."), "number"),
            Column("target_value", _l("The target as a number, if it is one."), "number"),
            Column("result", _l("The result, once published.")),
            Column("result_note", _l("A note on the result, once published.")),
        ),
        rows=kpi_rows, keywords=("KPI", "実証実験", "trials"),
    ),
]
"""The labs component's open datasets (its manifest's ``datasets``)."""
