"""KPI tracking pages: the KPI section of the trial page (a chart per KPI, the measurements waiting for
confirmation), entering and correcting a measurement, the department's decision, each KPI's data as CSV and
the public overview of every trial's KPIs. HTTP only: the rules live in :mod:`labs.kpis`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import parse_id
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import csv_download
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from labs import kpis
from labs.models import Trial, TrialKpi

SECTION = "labs/_kpi_trial_section.html"
ENTRY_PAGE = "labs/kpi_measurement_form.html"
MEASUREMENT_PAGE = "labs/kpi_measurement.html"
OVERVIEW_PAGE = "labs/kpi_overview.html"
LIMITS = {"note": kpis.NOTE_MAX, "reason": kpis.REASON_MAX}


def trial_section(session: Session, actor: Principal, trial: Trial) -> tuple[str, dict[str, Any]] | None:
    """The trial's KPIs as charts (confirmed measurements against baseline and target), and, for its
    organisations and department, the measurements not confirmed yet (None: the trial has no KPIs)."""
    view = kpis.section(session, actor, trial)
    return None if view is None else (SECTION, {"kpi": view, "show_number": kpis.show_number})


def _trial_page(request: Request, trial_id: int, fragment: str = "#kpis") -> str:
    return request.app.route_reverse("trial-detail", trial_id=trial_id) + fragment


# --- entering a measurement ----------------------------------------------------------------------


def _entry_page(request: Request, trial: Trial, kpi: TrialKpi, form: dict[str, Any],
                errors: dict[str, str] | None = None) -> Template:
    return render(request, ENTRY_PAGE, {"trial": trial, "kpi": kpi, "form": form, "errors": errors or {},
                                        "limits": LIMITS, "today": kpis.local_today().isoformat()})


@get("/trials/{trial_id:int}/kpis/{kpi_id:int}/measurements/new", name="kpi-measurement-new", guards=[signed_in],
     sync_to_thread=True)
def measurement_new(request: Request, db_session: DbSession, trial_id: FromPath[int], kpi_id: FromPath[int]) -> Template:
    trial, kpi = kpis.trial_for_entry(db_session, principal_of(request), trial_id, kpi_id)
    return _entry_page(request, trial, kpi, {"measured_on": datetime.now(WARD_TIMEZONE).date().isoformat()})


def _entry_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                 kpi_id: int, **_kwargs: Any) -> Template:
    trial, kpi = kpis.trial_for_entry(db_session, principal_of(request), trial_id, kpi_id)
    return _entry_page(request, trial, kpi, form, failed.errors)


@post("/trials/{trial_id:int}/kpis/{kpi_id:int}/measurements/new", name="kpi-measurement-create",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_entry_again)
def measurement_create(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                       kpi_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    kpis.trial_for_entry(db_session, actor, trial_id, kpi_id)  # who may, before the form is read
    kpis.add_measurement(db_session, settings, actor, trial_id, kpi_id, kpis.MeasurementForm.parse(data))
    return after_post(request, _trial_page(request, trial_id),
                      message=_("The measurement has been sent to the department in charge for confirmation."))


# --- a measurement: its review and its correction ------------------------------------------------


def _measurement_page(request: Request, view: kpis.MeasurementView, *, form: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None, failed: str = "") -> Template:
    m = view.measurement
    shown = form if form is not None else {"measured_on": m.measured_on.isoformat(),
                                           "value": kpis.show_number(m.value).replace(",", ""), "note": m.note}
    return render(request, MEASUREMENT_PAGE, {"v": view, "form": shown, "errors": errors or {}, "limits": LIMITS,
                                              "show_number": kpis.show_number, "failed": failed,
                                              "today": kpis.local_today().isoformat()})


@get("/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}", name="kpi-measurement", guards=[signed_in],
     sync_to_thread=True)
def measurement_detail(request: Request, db_session: DbSession, trial_id: FromPath[int],
                       measurement_id: FromPath[int]) -> Template:
    """A measurement, for signed-in people (the public reads confirmed ones in the trial's chart): confirmed
    ones for who sees the trial; the others for its organisations and department, with the department's
    decision form and the organisation's correction form."""
    return _measurement_page(request, kpis.measurement_for(db_session, principal_of(request), trial_id,
                                                           measurement_id))


def _allowed_here(session: Session, actor: Principal, trial_id: int, measurement_id: int,
                  action: str) -> kpis.MeasurementView:
    """The measurement for one who may do ``action`` to such measurements at all (403/404 otherwise); a
    refusal because of its status is the service's to give beside the form."""
    view = kpis.measurement_for(session, actor, trial_id, measurement_id)
    decision = permissions.can(actor, action, view.target)
    if not decision and decision.field is None:
        decision.require()
    return view


def _decide_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                  measurement_id: int, **_kwargs: Any) -> Template:
    view = _allowed_here(db_session, principal_of(request), trial_id, measurement_id, "kpi.confirm")
    return _measurement_page(request, view, errors=failed.errors, failed="decide",
                             form={"reason": form.get("reason", "")} | _kept(view))


def _kept(view: kpis.MeasurementView) -> dict[str, Any]:
    m = view.measurement
    return {"measured_on": m.measured_on.isoformat(), "value": kpis.show_number(m.value).replace(",", ""),
            "note": m.note}


@post("/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}/decide", name="kpi-measurement-decide",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_decide_again)
def measurement_decide(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                       measurement_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _allowed_here(db_session, actor, trial_id, measurement_id, "kpi.confirm")
    decided = kpis.decide(db_session, settings, actor, trial_id, measurement_id, kpis.DecisionForm.parse(data))
    message = (_("The measurement has been confirmed and is now public.") if decided.status is kpis.S.CONFIRMED
               else _("The measurement has been sent back to the organisation."))
    return after_post(request, _trial_page(request, trial_id), message=message)


def _correct_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                   measurement_id: int, **_kwargs: Any) -> Template:
    view = _allowed_here(db_session, principal_of(request), trial_id, measurement_id, "kpi.measure")
    return _measurement_page(request, view, form=form, errors=failed.errors, failed="correct")


@post("/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}/correct", name="kpi-measurement-correct",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_correct_again)
def measurement_correct(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                        measurement_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _allowed_here(db_session, actor, trial_id, measurement_id, "kpi.measure")
    kpis.correct_measurement(db_session, settings, actor, trial_id, measurement_id, kpis.MeasurementForm.parse(data))
    return after_post(request, _trial_page(request, trial_id),
                      message=_("The corrected measurement has been sent for confirmation again."))


# --- data and overview ---------------------------------------------------------------------------


@get("/trials/{trial_id:int}/kpis/{filename:str}", name="kpi-csv", sync_to_thread=True)
def kpi_csv(request: Request, db_session: DbSession, trial_id: FromPath[int], filename: FromPath[str],
            bom: FromQuery[str] = "") -> Response[bytes]:
    """A KPI's confirmed measurements with its baseline and target, as CSV (``?bom=1`` for Excel)."""
    stem, dot, extension = filename.partition(".")
    kpi_id = parse_id(stem)
    if not dot or extension != "csv" or kpi_id is None:
        raise NotFound()
    trial, _kpi, chart = kpis.kpi_chart(db_session, principal_of(request), trial_id, kpi_id)
    return csv_download(chart.csv(bom=bom in ("1", "yes", "true")), f"trial-{trial_id}-kpi-{kpi_id}.csv",
                        cache_control="public, max-age=300" if trial.published else "private, no-store")


@get("/trials/kpis", name="kpi-overview", sync_to_thread=True)
def kpi_overview(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    """Every published trial's KPIs: baseline, target, the latest confirmed value and the progress."""
    number, _size = clamp_page(page)
    found, items = kpis.overview(db_session, number)
    base = request.app.route_reverse("kpi-overview")

    def url_for_page(n: int) -> str:
        return base + (f"?{urlencode({'page': n})}" if n > 1 else "")

    return render(request, OVERVIEW_PAGE, {"page": found, "items": items, "url_for_page": url_for_page,
                                           "show_number": kpis.show_number})


kpi_router = Router(path="/", route_handlers=[measurement_new, measurement_create, measurement_detail,
                                              measurement_decide, measurement_correct, kpi_csv, kpi_overview],
                    include_in_schema=False)

ROUTES: list[Any] = [kpi_router]
