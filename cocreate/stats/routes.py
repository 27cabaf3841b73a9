"""The statistics pages: ``/stats`` for everyone, ``/staff/stats`` for ward staff and administrators (numbers not
yet public, and a refresh on demand), and each chart's data as CSV (``?bom=1`` adds a byte-order mark, for
Excel). Every page reads one stored snapshot (:mod:`cocreate.stats.snapshot`); no JavaScript."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts.permissions import principal_of
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.stats import snapshot, views
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import csv_download
from cocreate.web.htmx import after_post, render

PAGE = "stats/stats.html"


def _page(request: Request, stored: snapshot.Stored, *, staff: bool) -> Template:
    return render(request, PAGE, {"stored": stored, "charts": views.charts(stored.data), "staff": staff,
                                  "csv_route": "staff-stats-csv" if staff else "stats-csv"})


def _csv(stored: snapshot.Stored, file: str, bom: str, prefix: str) -> Response[bytes]:
    name, dot, extension = file.rpartition(".")
    if dot != "." or extension != "csv" or name not in views.CHARTS:
        raise NotFound(_("There is no such table of statistics."))
    return csv_download(views.BUILDERS[name](stored.data).csv(bom=bom == "1"), f"{prefix}{name}.csv",
                        cache_control="no-store" if prefix else "public, max-age=300")


@get("/stats", name="stats", sync_to_thread=True, include_in_schema=False)
def public_page(request: Request, db_session: DbSession, settings: AppSettings) -> Template:
    return _page(request, snapshot.public(db_session, min_cell=settings.stats_min_cell), staff=False)


@get("/stats/{file:str}", name="stats-csv", sync_to_thread=True, include_in_schema=False)
def public_csv(db_session: DbSession, settings: AppSettings, file: FromPath[str],
               bom: FromQuery[str] = "") -> Response[bytes]:
    return _csv(snapshot.public(db_session, min_cell=settings.stats_min_cell), file, bom, "")


@get("/staff/stats", name="staff-stats", sync_to_thread=True, include_in_schema=False)
def staff_page(request: Request, db_session: DbSession, settings: AppSettings) -> Template:
    stored = snapshot.for_staff(db_session, principal_of(request), min_cell=settings.stats_min_cell)
    return _page(request, stored, staff=True)


@get("/staff/stats/{file:str}", name="staff-stats-csv", sync_to_thread=True, include_in_schema=False)
def staff_csv(request: Request, db_session: DbSession, settings: AppSettings, file: FromPath[str],
              bom: FromQuery[str] = "") -> Response[bytes]:
    stored = snapshot.for_staff(db_session, principal_of(request), min_cell=settings.stats_min_cell)
    return _csv(stored, file, bom, "staff-")


@post("/staff/stats/refresh", name="staff-stats-refresh", sync_to_thread=True, include_in_schema=False)
def refresh(request: Request, db_session: DbSession) -> Redirect:
    snapshot.request_refresh(db_session, principal_of(request))
    return after_post(request, request.app.route_reverse("staff-stats"),  # type: ignore[return-value]
                      message=_("The statistics are being recomputed. Reload this page in a minute to see them."))


ROUTES = [Router(path="/", route_handlers=[public_page, public_csv, staff_page, staff_csv, refresh])]
