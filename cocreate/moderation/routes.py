"""Reports (/reports) and the moderators' pages (/moderation). Routes do HTTP only; cocreate.moderation.services
decides who may do what."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import allowed_to, principal_of, signed_in
from cocreate.errors import Invalid
from cocreate.forms import FormModel, ReturnPath, RowId, as_text, parse_id
from cocreate.i18n import gettext as _
from cocreate.moderation import services as moderation
from cocreate.moderation import targets
from cocreate.moderation.models import ReportReason
from cocreate.moderation.targets import ReportableType
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

moderators = allowed_to("moderation.review")
"""The guard of the moderators' pages (moderators and administrators); the services ask the same rule."""


class BackForm(FormModel):
    next: Annotated[str, ReturnPath()] = ""


class ItemForm(FormModel):
    """The reported content a moderator's form was sent from (to go back to its page)."""

    target_type: Annotated[str | None, ReportableType(required=False)] = None
    target_id: Annotated[int | None, RowId()] = None

    def path(self, request: Request) -> str:
        """The content's moderation page, or the queue when the form did not say which content."""
        if self.target_type is None or self.target_id is None:
            return request.app.route_reverse("moderation-queue")
        return request.app.route_reverse("moderation-item", target_type=self.target_type, target_id=self.target_id)


# --- reporting -----------------------------------------------------------------------------------


def _reasons() -> list[tuple[str, str]]:
    return [(reason.value, str(moderation.REASON_LABELS[reason])) for reason in ReportReason]


def _report_page(request: Request, target: moderation.ReportTarget, form: dict[str, Any],
                 errors: dict[str, str]) -> Template:
    return render(request, "moderation/report.html", {
        "target": target, "form": form, "errors": errors, "reasons": _reasons(), "note_max": moderation.NOTE_MAX,
    })


@get("/reports/{target_type:str}/{target_id:int}", name="report-form", guards=[signed_in], sync_to_thread=True)
def report_form(request: Request, db_session: DbSession, target_type: FromPath[str],
                target_id: FromPath[int]) -> Template:
    target = moderation.report_form(db_session, principal_of(request), target_type, target_id)
    return _report_page(request, target, {}, {})


def _report_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  **_kwargs: Any) -> Template:
    """The report form again with its errors; without a target to report, a page that says so."""
    target_id = parse_id(form.get("target_id"))
    if "target_type" in failed.errors or "target_id" in failed.errors or target_id is None:
        return render(request, "moderation/problem.html", {"errors": {"target": str(moderation.CHOOSE_TARGET)}})
    target = moderation.report_form(db_session, principal_of(request), as_text(form.get("target_type")), target_id)
    return _report_page(request, target, form, failed.errors)


@post("/reports", name="report-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_report_again)
def report_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    form = moderation.ReportForm.parse(data)
    back = BackForm.parse(data).next
    target, created = moderation.report(db_session, principal_of(request), form)
    message = (_("Thank you. A moderator will look at your report.") if created
               else _("You have already reported this. A moderator will look at it."))
    return after_post(request, back or target.url, message=message)


# --- moderators ----------------------------------------------------------------------------------


@get("/moderation", name="moderation-queue", guards=[moderators], sync_to_thread=True)
def queue(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    result = moderation.queue(db_session, principal_of(request), page_number, per_page)

    path = request.app.route_reverse("moderation-queue")

    def url_for_page(number: int) -> str:
        return f"{path}?page={number}"

    return render(request, "moderation/queue.html", {"page": result, "url_for_page": url_for_page})


def _item_page(request: Request, db_session: Session, target_type: str, target_id: int,
               errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Template:
    view = moderation.item_view(db_session, principal_of(request), target_type, target_id)
    return render(request, "moderation/item.html", {
        "view": view, "errors": errors or {}, "form": form or {}, "reasons": dict(_reasons()),
        "hide_max": moderation.HIDE_REASON_MAX, "block_max": moderation.BLOCK_REASON_MAX,
    })


def _item_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, target_type: str,
                target_id: int, **_kwargs: Any) -> Template:
    return _item_page(request, db_session, target_type, target_id, failed.errors, form)


@get("/moderation/{target_type:str}/{target_id:int}", name="moderation-item", guards=[moderators],
     sync_to_thread=True)
def item(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int]) -> Template:
    return _item_page(request, db_session, target_type, target_id)


@post("/moderation/{target_type:str}/{target_id:int}/hide", name="moderation-hide", guards=[moderators],
      sync_to_thread=True)
@again_on_invalid(_item_again)
def hide(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
         data: Form) -> Template | Redirect:
    moderation.hide(db_session, principal_of(request), target_type, target_id, moderation.HideForm.parse(data))
    return after_post(request, request.app.route_reverse("moderation-queue"),
                      message=_("The content was hidden; your reason is shown in its place."))


@post("/moderation/{target_type:str}/{target_id:int}/restore", name="moderation-restore", guards=[moderators],
      sync_to_thread=True)
@again_on_invalid(_item_again)
def restore(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
            data: Form) -> Template | Redirect:
    moderation.restore(db_session, principal_of(request), target_type, target_id)
    return after_post(request, request.app.route_reverse("moderation-queue"),
                      message=_("The content is shown again and its reports were dismissed."))


@post("/moderation/{target_type:str}/{target_id:int}/dismiss", name="moderation-dismiss", guards=[moderators],
      sync_to_thread=True)
@again_on_invalid(_item_again)
def dismiss(request: Request, db_session: DbSession, target_type: FromPath[str], target_id: FromPath[int],
            data: Form) -> Template | Redirect:
    moderation.dismiss(db_session, principal_of(request), target_type, target_id)
    return after_post(request, request.app.route_reverse("moderation-queue"), message=_("The reports were dismissed."))


def _block_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 **_kwargs: Any) -> Template:
    """The item page with the block form's error, or (sent from elsewhere) a page with the errors."""
    target_type, target_id = as_text(form.get("target_type")), parse_id(form.get("target_id"))
    if "reason" in failed.errors and target_type in targets.names() and target_id is not None:
        return _item_page(request, db_session, target_type, target_id, {"block_reason": failed.errors["reason"]},
                          {"block_reason": as_text(form.get("block_reason")) or as_text(form.get("reason"))})
    return render(request, "moderation/problem.html", {"errors": failed.errors})


@post("/moderation/users/{user_id:int}/block", name="moderation-block", guards=[moderators], sync_to_thread=True)
@again_on_invalid(_block_again)
def block(request: Request, db_session: DbSession, user_id: FromPath[int], data: Form) -> Template | Redirect:
    form = moderation.BlockForm.parse(data)
    back = ItemForm.parse(data).path(request)
    moderation.block_user(db_session, principal_of(request), user_id, form)
    return after_post(request, back, message=_("The account was blocked and signed out everywhere."))


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
moderation_router = Router(path="/", route_handlers=[
    report_form, report_create, queue, item, hide, restore, dismiss, block,
], include_in_schema=False)

ROUTES: list[Any] = [moderation_router]
