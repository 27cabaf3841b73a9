"""Reports (/reports) and the moderators' pages (/moderation). Routes do HTTP only; proposals.moderation
decides who may do what."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import has_any_role, principal_of, signed_in
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, safe_next
from cocreate.web.forms import text as _text
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from proposals import moderation
from proposals.models import ReportReason

moderators = has_any_role(Role.MODERATOR, Role.ADMIN)


def _found(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except moderation.NotFound:
        raise NotFoundException() from None


# --- reporting -----------------------------------------------------------------------------------


def _reasons() -> list[tuple[str, str]]:
    return [(reason.value, str(moderation.REASON_LABELS[reason])) for reason in ReportReason]


def _report_page(request: Request, target: moderation.ReportForm, form: dict[str, str], errors: dict[str, str],
                 status_code: int = 200) -> Template:
    return render(request, "moderation/report.html", {
        "target": target, "form": form, "errors": errors, "reasons": _reasons(), "note_max": moderation.NOTE_MAX,
    }, status_code=status_code)


@get("/reports/{target_type:str}/{target_id:int}", name="report-form", guards=[signed_in], sync_to_thread=True)
def report_form(request: Request, db_session: DbSession, target_type: FromPath[str],
                target_id: FromPath[int]) -> Template:
    target = _found(moderation.report_form, db_session, principal_of(request), target_type, target_id)
    return _report_page(request, target, {}, {})


@post("/reports", name="report-create", guards=[signed_in], sync_to_thread=True)
def report_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    actor = principal_of(request)
    target_type = _text(data, "target_type", 20)
    target_id = _text(data, "target_id", 20)
    form = {"reason": _text(data, "reason", 40), "note": _text(data, "note", moderation.NOTE_MAX + 100)}
    if target_type not in moderation.TARGET_TYPES or not target_id.isdigit():
        return render(request, "moderation/problem.html", {
            "errors": {"target": _("Choose the proposal or comment to report from its page.")}}, status_code=400)
    try:
        target, created = _found(moderation.report, db_session, actor, target_type, target_id, form["reason"],
                                 form["note"])
    except Invalid as failed:
        target = _found(moderation.report_form, db_session, actor, target_type, int(target_id))
        return _report_page(request, target, form, failed.errors, 400)
    message = (_("Thank you. A moderator will look at your report.") if created
               else _("You have already reported this. A moderator will look at it."))
    back = _text(data, "next", 500)
    return after_post(request, safe_next(back) if back else target.url, message=message)


# --- moderators ----------------------------------------------------------------------------------


@get("/moderation", name="moderation-queue", guards=[moderators], sync_to_thread=True)
def queue(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    result = moderation.queue(db_session, principal_of(request), page_number, per_page)

    def url_for_page(number: int) -> str:
        return f"/moderation?page={number}"

    return render(request, "moderation/queue.html", {"page": result, "url_for_page": url_for_page})


def _item_page(request: Request, db_session: DbSession, target_type: str, target_id: int,
               errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
               status_code: int = 200) -> Template:
    db_session.rollback()
    view = _found(moderation.item_view, db_session, principal_of(request), target_type, target_id)
    return render(request, "moderation/item.html", {
        "view": view, "errors": errors or {}, "form": form or {}, "reasons": dict(_reasons()),
        "hide_max": moderation.HIDE_REASON_MAX, "block_max": moderation.BLOCK_REASON_MAX,
    }, status_code=status_code)


@get("/moderation/{target_type:str}/{target_id:int}", name="moderation-item", guards=[moderators],
     sync_to_thread=True)
def item(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int]) -> Template:
    return _item_page(request, db_session, target_type, target_id)


@post("/moderation/{target_type:str}/{target_id:int}/hide", name="moderation-hide", guards=[moderators],
      sync_to_thread=True)
def hide(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
         data: Form) -> Template | Redirect:
    reason = _text(data, "reason", moderation.HIDE_REASON_MAX + 100)
    try:
        _found(moderation.hide, db_session, principal_of(request), target_type, target_id, reason)
    except Invalid as failed:
        return _item_page(request, db_session, target_type, target_id, failed.errors, {"reason": reason}, 400)
    return after_post(request, "/moderation", message=_("The content was hidden; your reason is shown in its place."))


@post("/moderation/{target_type:str}/{target_id:int}/restore", name="moderation-restore", guards=[moderators],
      sync_to_thread=True)
def restore(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
            data: Form) -> Template | Redirect:
    try:
        _found(moderation.restore, db_session, principal_of(request), target_type, target_id)
    except Invalid as failed:
        return _item_page(request, db_session, target_type, target_id, failed.errors, status_code=400)
    return after_post(request, "/moderation", message=_("The content is shown again and its reports were dismissed."))


@post("/moderation/{target_type:str}/{target_id:int}/dismiss", name="moderation-dismiss", guards=[moderators],
      sync_to_thread=True)
def dismiss(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
            data: Form) -> Template | Redirect:
    try:
        _found(moderation.dismiss, db_session, principal_of(request), target_type, target_id)
    except Invalid as failed:
        return _item_page(request, db_session, target_type, target_id, failed.errors, status_code=400)
    return after_post(request, "/moderation", message=_("The reports were dismissed."))


@post("/moderation/users/{user_id:int}/block", name="moderation-block", guards=[moderators], sync_to_thread=True)
def block(request: Request, db_session: DbSession, user_id: FromPath[int], data: Form) -> Template | Redirect:
    reason = _text(data, "block_reason", moderation.BLOCK_REASON_MAX + 100) or _text(
        data, "reason", moderation.BLOCK_REASON_MAX + 100)
    target_type = _text(data, "target_type", 20)
    target_id = _text(data, "target_id", 20)
    try:
        _found(moderation.block_user, db_session, principal_of(request), user_id, reason)
    except Invalid as failed:
        if target_type in moderation.TARGET_TYPES and target_id.isdigit():
            return _item_page(request, db_session, target_type, int(target_id), {"block_reason": failed.errors["reason"]},
                              {"block_reason": reason}, 400)
        return render(request, "moderation/problem.html", {"errors": failed.errors}, status_code=400)
    back = f"/moderation/{target_type}/{target_id}" if target_type in moderation.TARGET_TYPES and target_id.isdigit() \
        else "/moderation"
    return after_post(request, back, message=_("The account was blocked and signed out everywhere."))


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
moderation_router = Router(path="/", route_handlers=[
    report_form, report_create, queue, item, hide, restore, dismiss, block,
], include_in_schema=False)

ROUTES: list[Any] = [moderation_router]
