"""Notification pages: the list (mark one or all read) and the unread-count badge htmx polls."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.notifications import services
from cocreate.notifications.services import NotFound
from cocreate.web.dependencies import DbSession
from cocreate.web.htmx import after_post, render
from cocreate.web.i18n import gettext as _
from cocreate.web.pagination import clamp_page

HTMX_STOP_POLLING = 286
"""htmx stops polling on this status: a signed-out page has nothing to count."""


def _list_context(request: Request, db_session: DbSession, page: int) -> dict[str, Any]:
    user_id = principal_of(request).user_id
    assert user_id is not None
    result = services.list_for(db_session, user_id, page=page)
    return {
        "page": result, "unread": services.unread_count(db_session, user_id),
        "url_for_page": lambda n: f"/notifications?page={n}" if n > 1 else "/notifications",
    }


@get("/notifications", name="notifications", guards=[signed_in], sync_to_thread=True)
def notification_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    number, _size = clamp_page(page)
    return render(request, "notifications/list.html", _list_context(request, db_session, number),
                  fragment="notifications/_list.html")


@post("/notifications/{notification_id:int}/read", name="notification-read", guards=[signed_in],
      sync_to_thread=True)
def mark_read(request: Request, db_session: DbSession, notification_id: FromPath[int],
              page: FromQuery[str] = "1") -> Template | Redirect:
    user_id = principal_of(request).user_id
    assert user_id is not None
    if not services.mark_read(db_session, user_id, notification_id):
        raise NotFound()
    number, _size = clamp_page(page)
    return after_post(request, "/notifications" if number == 1 else f"/notifications?page={number}",
                      message=_("The notification has been marked as read."), fragment="notifications/_list.html",
                      context=_list_context(request, db_session, number), trigger="cocreate:notifications-read")


@post("/notifications/read-all", name="notifications-read-all", guards=[signed_in], sync_to_thread=True)
def mark_all_read(request: Request, db_session: DbSession) -> Template | Redirect:
    user_id = principal_of(request).user_id
    assert user_id is not None
    services.mark_all_read(db_session, user_id)
    return after_post(request, "/notifications", message=_("All notifications have been marked as read."),
                      fragment="notifications/_list.html", context=_list_context(request, db_session, 1),
                      trigger="cocreate:notifications-read")


@get("/notifications/unread-count", name="notifications-unread-count", sync_to_thread=True,
     cache_control=None)
def unread_count(request: Request, db_session: DbSession) -> Template | Response[str]:
    """The badge in the header (a fragment); nobody signed in: empty, and htmx stops polling."""
    user_id = principal_of(request).user_id
    if user_id is None:
        return Response("", status_code=HTMX_STOP_POLLING, media_type="text/html")
    return Template(template_name="notifications/_badge.html",
                    context={"count": services.unread_count(db_session, user_id)},
                    headers={"Cache-Control": "no-store"})


notifications_router = Router(
    path="/",
    route_handlers=[notification_list, mark_read, mark_all_read, unread_count],
    include_in_schema=False,
)

ROUTES: list[Any] = [notifications_router]
