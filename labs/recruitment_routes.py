"""Participant recruitment (モニター募集): calls on the trial page, the call page with the apply form,
the editors' form, the applicants list of the organisation and the resident's /my/participation.
Routes do HTTP only; :mod:`labs.recruitment` decides who may do what."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.errors import Invalid
from cocreate.forms import FormModel, Line, parse_id
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid, safe_next
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from labs import recruitment
from labs.models import RecruitmentCall, RecruitmentStatus, Trial

SECTION = "labs/_call_section.html"
LIMITS = {"title": recruitment.TITLE_MAX, "long": recruitment.LONG_MAX, "places_min": recruitment.PLACES_MIN,
          "places_max": recruitment.PLACES_MAX, "full_name": recruitment.NAME_MAX,
          "contact": recruitment.CONTACT_MAX, "message": recruitment.MESSAGE_MAX}


class WithdrawForm(FormModel):
    next: Annotated[str, Line(500)] = ""
    """Where to go afterwards (a same-site path; the call page when empty)."""


def trial_section(session: Any, actor: Any, trial: Any) -> tuple[str, dict[str, Any]] | None:
    """The trial's open and closed calls with places left; for editors also drafts and "new call"."""
    view = recruitment.section(session, actor, trial)
    return None if view is None else (SECTION, {"section": view, "places_left": recruitment.places_left})


def _call_page(request: Request, call_id: int | None, fragment: str = "") -> str:
    """The call's page (at ``fragment``): where its forms come back to."""
    return request.app.route_reverse("call-detail", call_id=call_id) + fragment


# --- the editors' form ---------------------------------------------------------------------------


def _form_page(request: Request, trial: Trial, call: RecruitmentCall | None, form: dict[str, Any],
               errors: dict[str, str]) -> Template:
    return render(request, "labs/call_form.html", {"trial": trial, "call": call, "form": form,
                                                   "errors": errors, "limits": LIMITS})


def _new_call_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                    trial_id: int, **_kwargs: Any) -> Template:
    trial = recruitment.editable_trial(db_session, principal_of(request), trial_id)
    return _form_page(request, trial, None, form, failed.errors)


def _edit_call_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                     call_id: int, **_kwargs: Any) -> Template:
    call, trial = recruitment.editable_call(db_session, principal_of(request), call_id)
    return _form_page(request, trial, call, form, failed.errors)


@get("/trials/{trial_id:int}/calls/new", name="call-new", guards=[signed_in], sync_to_thread=True)
def call_new(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> Template:
    trial = recruitment.editable_trial(db_session, principal_of(request), trial_id)
    return _form_page(request, trial, None, {}, {})


@post("/trials/{trial_id:int}/calls/new", name="call-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_new_call_again)
def call_create(request: Request, db_session: DbSession, trial_id: FromPath[int], data: Form) -> Template | Redirect:
    call = recruitment.create_call(db_session, principal_of(request), trial_id, recruitment.CallForm.parse(data))
    return after_post(request, _call_page(request, call.id),
                      message=_("The call was saved as a draft. Open it when it is ready."))


@get("/calls/{call_id:int}/edit", name="call-edit", guards=[signed_in], sync_to_thread=True)
def call_edit(request: Request, db_session: DbSession, call_id: FromPath[int]) -> Template:
    call, trial = recruitment.editable_call(db_session, principal_of(request), call_id)
    return _form_page(request, trial, call, recruitment.call_form_values(call), {})


@post("/calls/{call_id:int}/edit", name="call-update", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_edit_call_again)
def call_update(request: Request, db_session: DbSession, call_id: FromPath[int], data: Form) -> Template | Redirect:
    call = recruitment.update_call(db_session, principal_of(request), call_id, recruitment.CallForm.parse(data))
    return after_post(request, _call_page(request, call.id), message=_("The call was saved."))


def _status_refused(failed: Invalid, _form: dict[str, Any], *, request: Request, call_id: int,
                    **_kwargs: Any) -> Template | Redirect:
    """Opening (or closing) was refused: back to the call page with the reason."""
    return after_post(request, _call_page(request, call_id), message=failed.detail, category="error")


@post("/calls/{call_id:int}/open", name="call-open", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_status_refused)
def call_open(request: Request, db_session: DbSession, call_id: FromPath[int]) -> Redirect | Template:
    changed = recruitment.set_status(db_session, principal_of(request), call_id, True)
    message = _("The call is open for applications.") if changed else _("The call was already open.")
    return after_post(request, _call_page(request, call_id), message=message)


@post("/calls/{call_id:int}/close", name="call-close", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_status_refused)
def call_close(request: Request, db_session: DbSession, call_id: FromPath[int]) -> Redirect | Template:
    changed = recruitment.set_status(db_session, principal_of(request), call_id, False)
    message = _("The call is closed.") if changed else _("The call was already closed.")
    return after_post(request, _call_page(request, call_id), message=message)


# --- the public call page and applying -----------------------------------------------------------


def _detail_page(request: Request, db_session: Session, call_id: int, form: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None) -> Template:
    actor = principal_of(request)
    call, trial, facts = recruitment.visible_call(db_session, actor, call_id)
    mine = recruitment.own_application(db_session, actor.user_id, call_id)
    return render(request, "labs/call_detail.html", {
        "call": call, "trial": trial, "facts": facts,
        "mine": mine, "closed_reason": recruitment.closed_reason(call, trial),
        "places_left": recruitment.places_left(call),
        "form": form or {}, "errors": errors or {}, "limits": LIMITS,
    })


def _apply_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 call_id: int, **_kwargs: Any) -> Template:
    """The call page with the apply form and its errors. A ticked box agreed to the version of the
    consent text the form showed: when that is no longer the call's, say so beside the other errors."""
    errors = dict(failed.errors)
    call, _trial, _facts = recruitment.visible_call(db_session, principal_of(request), call_id)
    if "consent" not in errors and form.get("consent") == "yes" and (
            stale := recruitment.stale_consent(call, str(form.get("consent_version", "")))):
        errors["consent"] = stale
    return _detail_page(request, db_session, call_id, form, errors)


@get("/calls/{call_id:int}", name="call-detail", sync_to_thread=True)
def call_detail(request: Request, db_session: DbSession, call_id: FromPath[int]) -> Template:
    return _detail_page(request, db_session, call_id)


@post("/calls/{call_id:int}/apply", name="call-apply", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_apply_again)
def call_apply(request: Request, db_session: DbSession, call_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    # Who may apply, an earlier application and a closed call come before what the form says.
    application = recruitment.previous_application(db_session, actor, call_id)
    created = False
    if application is None:
        application, created = recruitment.apply(db_session, actor, call_id, recruitment.ApplyForm.parse(data))
    if created:
        return after_post(request, _call_page(request, call_id, "#my-application"),
                          message=_("Thank you. Your application was sent to the organisation running the trial."))
    return after_post(request, _call_page(request, call_id, "#my-application"),
                      message=recruitment.already_applied_message(application), category="error")


@post("/calls/{call_id:int}/withdraw", name="call-withdraw", guards=[signed_in], sync_to_thread=True)
def call_withdraw(request: Request, db_session: DbSession, call_id: FromPath[int], data: Form) -> Redirect | Template:
    target = WithdrawForm.parse(data).next
    changed = recruitment.withdraw(db_session, principal_of(request), call_id)
    back = safe_next(target) if target else _call_page(request, call_id)
    message = (_("You have withdrawn. Your name, contact and message were deleted.") if changed
               else _("You had already withdrawn from this call."))
    return after_post(request, back, message=message)


# --- the organisation's list of applicants -------------------------------------------------------


@get("/calls/{call_id:int}/applications", name="call-applications", guards=[signed_in], sync_to_thread=True)
def call_applications(request: Request, db_session: DbSession, call_id: FromPath[int],
                      page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    call, trial, result = recruitment.applications(db_session, principal_of(request), call_id, page_number,
                                                   per_page)
    base = request.app.route_reverse("call-applications", call_id=call_id)

    def url_for_page(number: int) -> str:
        return f"{base}?page={number}"

    return render(request, "labs/call_applications.html", {
        "call": call, "trial": trial, "page": result, "url_for_page": url_for_page,
        "counts": recruitment.status_counts(db_session, call_id), "places_left": recruitment.places_left(call),
    })


def _back(request: Request, call_id: int, data: dict[str, Any]) -> str:
    """The applicants list, on the page the decision was made from."""
    page = parse_id(data.get("page"))
    return request.app.route_reverse("call-applications", call_id=call_id) + (
        f"?page={page}" if page is not None else "")


def _decision_refused(failed: Invalid, _form: dict[str, Any], *, request: Request, call_id: int,
                      application_id: int, data: dict[str, Any], **_kwargs: Any) -> Template | Redirect:
    """Accepting (or declining) was refused: back to the list with the reason."""
    return after_post(request, f"{_back(request, call_id, data)}#application-{application_id}", message=failed.detail,
                      category="error")


def _decide(request: Request, db_session: Session, settings: AppSettings, call_id: int, application_id: int,
            accept: bool, data: dict[str, Any]) -> Redirect | Template:
    changed = recruitment.decide(db_session, settings, principal_of(request), call_id, application_id, accept)
    if accept:
        message = _("The applicant was accepted and told so.") if changed else _("The applicant was already accepted.")
    else:
        message = _("The applicant was declined and told so.") if changed else _("The applicant was already declined.")
    return after_post(request, f"{_back(request, call_id, data)}#application-{application_id}", message=message)


@post("/calls/{call_id:int}/applications/{application_id:int}/accept", name="call-application-accept",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_decision_refused)
def application_accept(request: Request, db_session: DbSession, settings: AppSettings, call_id: FromPath[int],
                       application_id: FromPath[int], data: Form) -> Redirect | Template:
    return _decide(request, db_session, settings, call_id, application_id, True, data)


@post("/calls/{call_id:int}/applications/{application_id:int}/decline", name="call-application-decline",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_decision_refused)
def application_decline(request: Request, db_session: DbSession, settings: AppSettings, call_id: FromPath[int],
                        application_id: FromPath[int], data: Form) -> Redirect | Template:
    return _decide(request, db_session, settings, call_id, application_id, False, data)


# --- the resident's own applications -------------------------------------------------------------


@get("/my/participation", name="my-participation", guards=[signed_in], sync_to_thread=True)
def my_participation(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    result = recruitment.my_applications(db_session, principal_of(request), page_number, per_page)
    base = request.app.route_reverse("my-participation")

    def url_for_page(number: int) -> str:
        return f"{base}?page={number}"

    return render(request, "labs/call_participation.html", {
        "page": result, "url_for_page": url_for_page, "open_status": RecruitmentStatus.OPEN,
    })


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
recruitment_router = Router(path="/", route_handlers=[
    call_new, call_create, call_edit, call_update, call_open, call_close, call_detail, call_apply, call_withdraw,
    call_applications, application_accept, application_decline, my_participation,
], include_in_schema=False)

ROUTES: list[Any] = [recruitment_router]
