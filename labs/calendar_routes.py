"""Calendars of the test fields: month and week pages (all fields, one field), the public iCalendar
feed of a field, the coordinator's private feed and its token page, the bookings read API, and the
calendar section of the field page. Routes do HTTP only; :mod:`labs.calendar` decides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import has_any_role, principal_of
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.links import route_path
from labs import calendar
from labs.calendar import CalendarPage, CalendarQuery, View

SECTION = "labs/_calendar_field_section.html"
PAGE = "labs/calendar_page.html"
INVALID = "labs/calendar_invalid.html"
FEED_PAGE = "labs/calendar_feed.html"
FEED_NAME = re.compile(r"^([A-Za-z0-9_-]{20,100})\.ics$")
ICS_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
ICS_HEADERS = {"X-Content-Type-Options": "nosniff"}

coordinators = has_any_role(Role.COORDINATOR, Role.ADMIN)


def field_section(session: Any, actor: Any, field: Any) -> tuple[str, dict[str, Any]] | None:
    """The calendar section of the field page: the next bookings and links to the calendar and feed (the
    page lists the field's blackouts itself)."""
    if field.id is None:
        return None
    return SECTION, {"calendar_field": field,
                     "calendar_upcoming": calendar.upcoming(session, actor, field, blackouts=False)}


# --- pages ---------------------------------------------------------------------------------------


def _link(base: str, page: CalendarPage, **changes: Any) -> str:
    params: dict[str, str] = {"view": page.view.value, "date": page.anchor.isoformat()}
    if page.fields and page.field is not None:
        params["field_id"] = str(page.field.id)
    params.update({key: str(value) for key, value in changes.items()})
    return base + "?" + urlencode({key: value for key, value in params.items() if value})


def _calendar_page(request: Request, page: CalendarPage, base: str) -> Template:
    def link(**changes: Any) -> str:
        return _link(base, page, **changes)

    return render(request, PAGE, {
        "page": page, "base": base, "field_options": [(f.id, f.name) for f in page.fields],
        "previous_url": link(date=page.previous.isoformat()),
        "next_url": link(date=page.next.isoformat()),
        "today_url": link(date=""),
        "month_url": link(view=View.MONTH.value), "week_url": link(view=View.WEEK.value),
        # A month of every field can hold hundreds of bookings: their links are built without a lookup each.
        "booking_url": route_path(request.app, "booking-detail"),
        "notice_url": route_path(request.app, "booking-notice"),
    })


def _invalid(request: Request, errors: dict[str, str], back: str) -> Template:
    return render(request, INVALID, {"errors": errors, "back": back}, status_code=400)


def _overall_again(failed: Invalid, _form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    return _invalid(request, failed.errors, request.app.route_reverse("labs-calendar"))


@get("/calendar", name="labs-calendar", sync_to_thread=True)
@again_on_invalid(_overall_again)
def overall(request: Request, db_session: DbSession, view: FromQuery[str] = "",
            day: Annotated[str, QueryParameter(name="date")] = "", field_id: FromQuery[str] = "") -> Template:
    """Every published field's bookings and blackouts by month or week (``?field_id=`` for one)."""
    query = CalendarQuery.parse({"view": view, "date": day, "field_id": field_id})
    today = calendar.today_in_tokyo()
    page = calendar.overall_calendar(db_session, principal_of(request), query.field_id, query.shown_view,
                                     query.anchor(today), today)
    return _calendar_page(request, page, request.app.route_reverse("labs-calendar"))


def _field_again(failed: Invalid, _form: dict[str, Any], *, request: Request, field_id: int,
                 **_kwargs: Any) -> Template:
    return _invalid(request, failed.errors, request.app.route_reverse("labs-field-calendar", field_id=field_id))


@get("/fields/{field_id:int}/calendar", name="labs-field-calendar", sync_to_thread=True)
@again_on_invalid(_field_again)
def field_page(request: Request, db_session: DbSession, field_id: FromPath[int], view: FromQuery[str] = "",
               day: Annotated[str, QueryParameter(name="date")] = "") -> Template:
    """One field's calendar (its pending requests too, for the coordinators managing it)."""
    actor = principal_of(request)
    calendar.visible_field(db_session, actor, field_id)
    query = CalendarQuery.parse({"view": view, "date": day})
    today = calendar.today_in_tokyo()
    page = calendar.field_calendar(db_session, actor, field_id, query.shown_view, query.anchor(today), today)
    return _calendar_page(request, page, request.app.route_reverse("labs-field-calendar", field_id=field_id))


# --- iCalendar feeds -----------------------------------------------------------------------------


def _ics(body: bytes, filename: str, cache: str) -> Response[bytes]:
    return Response(body, media_type=ICS_TYPE, headers={
        **ICS_HEADERS, "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": cache,
    })


@get("/fields/{field_id:int}/calendar.ics", name="labs-field-calendar-ics", sync_to_thread=True)
def field_ics(db_session: DbSession, settings: AppSettings, field_id: FromPath[int]) -> Response[bytes]:
    """The public feed of a published field: approved bookings without private details, and blackouts."""
    body = calendar.field_feed(db_session, settings, field_id)
    return _ics(body, f"field-{field_id}.ics", "public, max-age=300")


@get("/calendar/feeds/{filename:str}", name="labs-calendar-private-feed", sync_to_thread=True)
def private_ics(db_session: DbSession, settings: AppSettings, filename: FromPath[str]) -> Response[bytes]:
    """A coordinator's private feed; the token in the address is the key (unknown or revoked: 404)."""
    match = FEED_NAME.match(filename)
    if not match:
        raise NotFound()
    body = calendar.private_feed(db_session, settings, match.group(1))
    return Response(body, media_type=ICS_TYPE, headers={
        **ICS_HEADERS, "Content-Disposition": 'inline; filename="bookings.ics"', "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    })


# --- the coordinator's feed token ----------------------------------------------------------------


def _feed_page(request: Request, db_session: DbSession, new_url: str = "") -> Template:
    token = calendar.feed_token_of(db_session, principal_of(request))
    response = render(request, FEED_PAGE, {"token": token, "new_url": new_url})
    if new_url:
        response.headers["Cache-Control"] = "no-store"
    return response


@get("/coordinate/calendar-feed", name="labs-calendar-feed", guards=[coordinators], sync_to_thread=True)
def feed_page(request: Request, db_session: DbSession) -> Template:
    return _feed_page(request, db_session)


@post("/coordinate/calendar-feed", name="labs-calendar-feed-create", guards=[coordinators], sync_to_thread=True)
def feed_create(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template:
    """Create or regenerate the token; the page shows its address this once (only its hash is kept)."""
    token = calendar.create_feed_token(db_session, principal_of(request))
    path = request.app.route_reverse("labs-calendar-private-feed", filename=f"{token}.ics")
    return _feed_page(request, db_session, calendar.feed_url(settings, path))


@post("/coordinate/calendar-feed/revoke", name="labs-calendar-feed-revoke", guards=[coordinators],
      sync_to_thread=True)
def feed_revoke(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    revoked = calendar.revoke_feed_token(db_session, principal_of(request))
    message = (_("Your private calendar feed was turned off. Its address no longer works.") if revoked
               else _("You had no private calendar feed."))
    return after_post(request, request.app.route_reverse("labs-calendar-feed"), message=message)


# --- read API ------------------------------------------------------------------------------------


@dataclass
class BookingPeriodOut:
    booking_id: int
    period_id: int
    title: str
    organisation: str
    starts_at: datetime
    ends_at: datetime
    notice_url: str


@dataclass
class FieldBookingsOut:
    field_id: int
    starts_at: datetime
    """The start of the range asked for (UTC)."""
    ends_at: datetime
    """The end of the range asked for (UTC, exclusive)."""
    items: list[BookingPeriodOut]


DATE_OR_TIME = {"one_of": None, "any_of": [Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
                                           Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME)]}
"""``from``/``to``: a date or a date-time (also accepted: a date-time without offset, in Tokyo time)."""


@get("/test-fields/{field_id:int}/bookings", name="api-test-field-bookings", sync_to_thread=True,
     tags=["test fields"], summary="Approved bookings of a public test field")
def api_field_bookings(
    request: Request,
    db_session: DbSession,
    field_id: FromPath[int],
    from_: Annotated[str | None, QueryParameter(name="from", schema_extra=DATE_OR_TIME, description=(
        "Start: an ISO date (midnight in Tokyo) or date-time (without offset: Tokyo time). Default: today."))] = None,
    to: Annotated[str | None, QueryParameter(schema_extra=DATE_OR_TIME, description=(
        "End: an ISO date (the whole day included) or date-time, after `from`. Default: 31 days after `from`; "
        "at most 366 days after it."))] = None,
) -> FieldBookingsOut:
    """Periods of approved (and completed) bookings overlapping the range, earliest first: their public
    title and organisation only. Unpublished or unknown fields answer 404; a range that cannot be read
    answers 400 with the reason."""
    start, end = calendar.api_range(from_, to)
    entries = calendar.public_bookings(db_session, field_id, start, end)
    notice_url = route_path(request.app, "booking-notice")
    return FieldBookingsOut(field_id=field_id, starts_at=start, ends_at=end, items=[
        BookingPeriodOut(booking_id=e.booking_id, period_id=e.id, title=e.title, organisation=e.organisation,
                         starts_at=e.starts_at, ends_at=e.ends_at, notice_url=notice_url(booking_id=e.booking_id))
        for e in entries])


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
calendar_router = Router(path="/", route_handlers=[
    overall, field_page, field_ics, private_ics, feed_page, feed_create, feed_revoke,
], include_in_schema=False)
api_router = Router(path="/api/v1", route_handlers=[api_field_bookings])

ROUTES: list[Any] = [calendar_router, api_router]
