"""Resident notices (周辺住民への周知): subscribing to a field or an area, the list of recent notices and
each booking's public notice page. HTTP only: the rules live in :mod:`labs.notices`.

The subscribe button is a section of the field page (:func:`field_section`); with htmx it swaps
itself, without JavaScript the form posts and comes back to where it was sent from.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.errors import Invalid
from cocreate.forms import FormModel, Line
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid, safe_next
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from labs import notices
from labs.models import Area, TestField

SECTION = "labs/_notice_field.html"
LIST_PAGE = "labs/notice_list.html"
NOTICE_PAGE = "labs/notice_page.html"
SUBSCRIPTIONS_PAGE = "labs/notice_subscriptions.html"


def field_section(session: Session, actor: Principal, field: TestField) -> tuple[str, dict[str, Any]] | None:
    """The subscribe/unsubscribe button of a published field's page, with the subscriber count."""
    if not field.published:
        return None
    return SECTION, {"subscription": notices.field_subscription(session, actor, field)}


# --- subscribing ---------------------------------------------------------------------------------


class NextForm(FormModel):
    """Where the subscribe button was pressed: the page to come back to without JavaScript."""

    next: Annotated[str, Line(500)] = ""


def _set_field(request: Request, db_session: Session, field_id: int, data: dict[str, Any],
               subscribed: bool) -> Template | Redirect:
    subscription = notices.set_field_subscription(db_session, principal_of(request), field_id, subscribed)
    message = (_("You will be told about activities at this field by e-mail and in your notifications.")
               if subscribed else _("You will no longer be told about activities at this field."))
    back = NextForm.parse(data).next
    target = safe_next(back) if back else request.app.route_reverse("field-detail", field_id=field_id)
    return after_post(request, target, message=message, fragment=SECTION,
                      context={"ctx": {"subscription": subscription}})


@post("/fields/{field_id:int}/subscribe", name="field-subscribe", guards=[signed_in], sync_to_thread=True)
def subscribe(request: Request, db_session: DbSession, field_id: FromPath[int], data: Form) -> Template | Redirect:
    return _set_field(request, db_session, field_id, data, True)


@post("/fields/{field_id:int}/unsubscribe", name="field-unsubscribe", guards=[signed_in], sync_to_thread=True)
def unsubscribe(request: Request, db_session: DbSession, field_id: FromPath[int], data: Form) -> Template | Redirect:
    return _set_field(request, db_session, field_id, data, False)


def _subscriptions_context(db_session: Session, user_id: int, *, chosen: set[str] | None = None,
                           errors: dict[str, str] | None = None) -> dict[str, Any]:
    if chosen is None:
        chosen = {area.value for area in notices.subscribed_areas(db_session, user_id)}
    return {"areas": list(Area), "chosen": chosen, "errors": errors or {},
            "fields": notices.subscribed_fields(db_session, user_id)}


@get("/notices/subscriptions", name="notice-subscriptions", guards=[signed_in], sync_to_thread=True)
def subscriptions(request: Request, db_session: DbSession) -> Template:
    user_id = principal_of(request).user_id
    assert user_id is not None
    return render(request, SUBSCRIPTIONS_PAGE, _subscriptions_context(db_session, user_id))


def _subscriptions_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                         **_kwargs: Any) -> Template:
    user_id = principal_of(request).user_id
    assert user_id is not None
    typed = form.get("areas", [])
    chosen = set(typed) if isinstance(typed, list) else {typed}
    return render(request, SUBSCRIPTIONS_PAGE,
                  _subscriptions_context(db_session, user_id, chosen=chosen, errors=failed.errors))


@post("/notices/subscriptions", name="notice-subscriptions-save", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_subscriptions_again)
def save_subscriptions(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    notices.set_area_subscriptions(db_session, principal_of(request), notices.AreasForm.parse(data).areas)
    return after_post(request, request.app.route_reverse("notice-subscriptions"),
                      message=_("Your area subscriptions have been saved."))


# --- public pages --------------------------------------------------------------------------------


def _area(value: str) -> Area | None:
    try:
        return Area(value)
    except ValueError:
        return None


@get("/notices", name="notices", sync_to_thread=True)
def notice_list(request: Request, db_session: DbSession, area: FromQuery[str] = "",
                page: FromQuery[str] = "1") -> Template:
    """Recent notices across the published fields, newest first; ``?area=`` narrows to one area."""
    chosen = _area(area[:50])
    number, _size = clamp_page(page)
    result = notices.recent_notices(db_session, area=chosen, page=number)
    base = request.app.route_reverse("notices")

    def url_for_page(n: int) -> str:
        query = {"area": chosen.value} if chosen else {}
        if n > 1:
            query["page"] = str(n)
        return base + (f"?{urlencode(query)}" if query else "")

    return render(request, LIST_PAGE, {"page": result, "areas": list(Area), "area": chosen,
                                       "url_for_page": url_for_page})


@get("/bookings/{booking_id:int}/notice", name="booking-notice", sync_to_thread=True)
def notice_page(request: Request, db_session: DbSession, booking_id: FromPath[int]) -> Template:
    """The public notice of an approved, completed or cancelled booking residents were told about."""
    return render(request, NOTICE_PAGE, {"n": notices.public_notice(db_session, booking_id)})


notice_router = Router(
    path="/",
    route_handlers=[subscribe, unsubscribe, subscriptions, save_subscriptions, notice_list, notice_page],
    include_in_schema=False,
)

ROUTES: list[Any] = [notice_router]
