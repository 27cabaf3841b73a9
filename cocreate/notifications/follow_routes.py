"""Following: the follow / unfollow button of any followable thing, and the "Following" page.

HTTP only: the rules live in :mod:`cocreate.notifications.follows`. The button posts a plain form
(303 back, with a message) and htmx swaps in the new button instead.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

BUTTON = "notifications/_follow_button.html"
FOLLOWING_PAGE = "accounts/following.html"
TYPE_MAX = 30


def _back(request: Request, data: dict[str, Any] | None, fallback: str) -> str:
    """Where the plain form goes back to: the "Following" page it came from, else the target's page."""
    value = str((data or {}).get("next", ""))[:100]
    following = request.app.route_reverse("account-following")
    if value == following or value.startswith(following + "?page="):
        suffix = value[len(following):]
        if suffix == "" or suffix[len("?page="):].isdigit():
            return value
    return fallback


def _target_url(request: Request, db_session: DbSession, target_type: str, target_id: int) -> str:
    spec = follows.followable(target_type)
    described = spec.describe(db_session, principal_of(request), [target_id]).get(target_id)
    return described.url if described is not None else request.app.route_reverse("account-following")


def _respond(request: Request, db_session: DbSession, target_type: str, target_id: int, data: dict[str, Any] | None,
             message: str) -> Template | Redirect:
    back = _back(request, data, "")
    redirect_to = back or _target_url(request, db_session, target_type, target_id)
    state = follows.button(db_session, principal_of(request), target_type, target_id, next_url=back)
    return after_post(request, redirect_to, message=message, fragment=BUTTON, context={"button": state},
                      trigger="cocreate:follow-changed")


@post("/follows/{target_type:str}/{target_id:int}", name="follow", guards=[signed_in], sync_to_thread=True)
def follow(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
           data: Form) -> Template | Redirect:
    follows.follow(db_session, principal_of(request), target_type[:TYPE_MAX], target_id)
    return _respond(request, db_session, target_type, target_id, data,
                    _("You now follow this. You will be notified of its news."))


@post("/follows/{target_type:str}/{target_id:int}/delete", name="unfollow", guards=[signed_in], sync_to_thread=True)
def unfollow(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
             data: Form) -> Template | Redirect:
    follows.unfollow(db_session, principal_of(request), target_type[:TYPE_MAX], target_id)
    return _respond(request, db_session, target_type, target_id, data, _("You no longer follow this."))


@get("/account/following", name="account-following", guards=[signed_in], sync_to_thread=True)
def following(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    number, _size = clamp_page(page)
    result = follows.following_page(db_session, principal_of(request), page=number)
    following = request.app.route_reverse("account-following")
    here = following if result.page == 1 else f"{following}?page={result.page}"
    return render(request, FOLLOWING_PAGE, {
        "page": result, "here": here,
        "url_for_page": lambda n: f"{following}?page={n}" if n > 1 else following,
    })


follow_router = Router(path="/", route_handlers=[follow, unfollow, following], include_in_schema=False)

ROUTES: list[Any] = [follow_router]
