"""Notification pages: the list (mark one or all read), the unread-count badge htmx polls, the e-mail
settings per kind (/account/notifications) and the one-click unsubscribe page (no sign-in)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import as_text
from cocreate.i18n import gettext as _
from cocreate.notifications import follow_routes, kinds, preferences, services, unsubscribe
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

HTMX_STOP_POLLING = 286
"""htmx stops polling on this status: a signed-out page has nothing to count."""


def _list_url(request: Request, page: int) -> str:
    """The notification list's page ``page``."""
    path = request.app.route_reverse("notifications")
    return f"{path}?page={page}" if page > 1 else path


def _list_context(request: Request, db_session: DbSession, page: int) -> dict[str, Any]:
    user_id = principal_of(request).user_id
    assert user_id is not None
    result = services.list_for(db_session, user_id, page=page)
    return {
        "page": result, "unread": services.unread_count(db_session, user_id),
        "url_for_page": lambda n: _list_url(request, n),
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
    return after_post(request, _list_url(request, number),
                      message=_("The notification has been marked as read."), fragment="notifications/_list.html",
                      context=_list_context(request, db_session, number), trigger="cocreate:notifications-read")


@post("/notifications/read-all", name="notifications-read-all", guards=[signed_in], sync_to_thread=True)
def mark_all_read(request: Request, db_session: DbSession) -> Template | Redirect:
    user_id = principal_of(request).user_id
    assert user_id is not None
    services.mark_all_read(db_session, user_id)
    return after_post(request, _list_url(request, 1), message=_("All notifications have been marked as read."),
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


# --- e-mail settings ----------------------------------------------------------------------------


def _settings_page(request: Request, db_session: DbSession, form: dict[str, str], errors: dict[str, str]) -> Template:
    user_id = principal_of(request).user_id
    assert user_id is not None
    choices = preferences.choices_of(db_session, user_id)
    values = {choice.kind: form.get(preferences.field_name(choice.kind), choice.delivery.value)
              for choice in choices}
    return render(request, "accounts/notification_settings.html", {
        "choices": choices, "values": values, "errors": errors, "field_name": preferences.field_name,
        "options": [(delivery.value, str(label)) for delivery, label in preferences.DELIVERY_LABELS.items()],
    })


@get("/account/notifications", name="account-notifications", guards=[signed_in], sync_to_thread=True)
def notification_settings(request: Request, db_session: DbSession) -> Template:
    return _settings_page(request, db_session, {}, {})


def _deliveries(data: dict[str, Any]) -> dict[str, str]:
    """One field per registered kind (``delivery-<kind>``), as sent; :func:`preferences.save` checks them."""
    names = (preferences.field_name(kind) for kind in kinds.all_kinds())
    return {name: as_text(data.get(name))[:20] for name in names}


def _settings_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: DbSession,
                    **_kwargs: Any) -> Template:
    return _settings_page(request, db_session, _deliveries(form), failed.errors)


@post("/account/notifications", name="account-notifications-submit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_settings_again)
def save_notification_settings(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    user_id = principal_of(request).user_id
    assert user_id is not None
    preferences.save(db_session, user_id, _deliveries(data))
    return after_post(request, request.app.route_reverse("account-notifications"),
                      message=_("Your notification e-mail settings have been saved."))


# --- one-click unsubscribe (no sign-in) ---------------------------------------------------------


def _unsubscribe_page(request: Request, state: str, target: unsubscribe.Target | None,
                      status_code: int = 200) -> Template:
    page = render(request, "notifications/unsubscribe.html", {
        "state": state, "all_kinds": target is not None and target.is_all,
        "kind_label": services.kind_label(target.kind) if target is not None and not target.is_all else "",
    }, status_code=status_code)
    page.headers["Cache-Control"] = "no-store"
    return page


@get("/unsubscribe/{token:str}", name="unsubscribe", sync_to_thread=True)
def unsubscribe_form(request: Request, db_session: DbSession, settings: AppSettings, token: FromPath[str]) -> Template:
    """One button; opening the link (or a mail scanner fetching it) changes nothing."""
    target = unsubscribe.read(db_session, settings, token)
    if target is None:
        return _unsubscribe_page(request, "invalid", None, 404)
    return _unsubscribe_page(request, "confirm", target)


@post("/unsubscribe/{token:str}", name="unsubscribe-submit", sync_to_thread=True,
      opt={"exclude_from_csrf": True})
def unsubscribe_submit(request: Request, db_session: DbSession, settings: AppSettings,
                       token: FromPath[str]) -> Template:
    """The page's button, or a mail client's RFC 8058 one-click POST (``List-Unsubscribe=One-Click``).

    No CSRF token: the signed address is the proof, and this POST can only ever stop e-mails.
    """
    target = unsubscribe.read(db_session, settings, token)
    if target is None:
        return _unsubscribe_page(request, "invalid", None, 404)
    unsubscribe.apply(db_session, target)
    return _unsubscribe_page(request, "done", target)


notifications_router = Router(
    path="/",
    route_handlers=[notification_list, mark_read, mark_all_read, unread_count, notification_settings,
                    save_notification_settings, unsubscribe_form, unsubscribe_submit],
    include_in_schema=False,
)

ROUTES: list[Any] = [notifications_router, *follow_routes.ROUTES]
