"""Briefing sessions (説明会): the section of the challenge page, registration, .ics files, and the
staff pages under /staff/challenges/{id}/briefings. Routes do HTTP only; proposals.dialogue.briefings decides."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import FormModel, ReturnPath
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import WRITES, AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, is_htmx, render
from cocreate.web.pagination import clamp_page
from proposals.dialogue import briefings
from proposals.dialogue.briefings import CancelForm, SessionForm
from proposals.models import Challenge

SECTION = "proposals/dialogue/_briefings.html"
ICS_NAME = re.compile(r"^(\d{1,12})\.ics$")


class BackForm(FormModel):
    """Where the registration forms send the browser back to (the challenge page or the sessions page)."""

    next: Annotated[str, ReturnPath()] = ""


def detail_section(session: Any, actor: Any, challenge: Any, viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """The briefing-sessions section of the challenge page: (template, context), or None."""
    section = briefings.section(session, actor, challenge, on=viewer.on(challenge) if viewer is not None else None)
    return None if section is None else (SECTION, {"section": section})


# --- public --------------------------------------------------------------------------------------


def _page_path(request: Request, challenge_id: int) -> str:
    return request.app.route_reverse("briefings", challenge_id=challenge_id)


@get("/challenges/{challenge_id:int}/briefings", name="briefings", sync_to_thread=True)
def briefing_page(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    """All upcoming sessions of a challenge on a page of their own (or the section, for htmx)."""
    actor = principal_of(request)
    challenge = briefings.visible_challenge(db_session, actor, challenge_id)
    section = briefings.section(db_session, actor, challenge, back=_page_path(request, challenge_id), always=True)
    return render(request, "proposals/dialogue/briefings.html", {"challenge": challenge, "ctx": {"section": section}},
                  fragment=SECTION)


def _answer(request: Request, db_session: Session, actor: Principal, challenge_id: int, back: str,
            message: str, category: str) -> Template | Redirect:
    """303 back to the page the form was on, or the refreshed section for htmx."""
    context: dict[str, Any] = {}
    if is_htmx(request):
        db_session.expire_all()
        challenge: Challenge = briefings.visible_challenge(db_session, actor, challenge_id)
        section = briefings.section(db_session, actor, challenge, back=back, always=True)
        context = {"ctx": {"section": section}}
    return after_post(request, f"{back}#briefings", message=message, category=category, fragment=SECTION,
                      context=context)


def _sign_in_first(request: Request, back: str) -> Redirect | Response[str]:
    target = request.app.route_reverse("sign-in") + "?" + urlencode({"next": back})
    if is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def _back(request: Request, data: dict[str, Any], challenge_id: int) -> str:
    return BackForm.parse(data).next or request.app.route_reverse("challenge-detail", challenge_id=challenge_id)


def _refused(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, challenge_id: int,
             **_kwargs: Any) -> Template | Redirect:
    """A registration refused (full, started, closed): back to where the form was, with the reason."""
    return _answer(request, db_session, principal_of(request), challenge_id, _back(request, form, challenge_id),
                   next(iter(failed.errors.values())), "error")


@post("/challenges/{challenge_id:int}/briefings/{session_id:int}/register", name="briefing-register",
      sync_to_thread=True)
@again_on_invalid(_refused)
def register(request: Request, db_session: DbSession, challenge_id: FromPath[int], session_id: FromPath[int],
             data: Form) -> Template | Redirect | Response[str]:
    actor = principal_of(request)
    back = _back(request, data, challenge_id)
    if not actor.is_signed_in:
        return _sign_in_first(request, back)
    briefings.register(db_session, actor, challenge_id, session_id)
    return _answer(request, db_session, actor, challenge_id, back,
                   _("You are registered. We look forward to seeing you."), "success")


@post("/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel-registration",
      name="briefing-cancel-registration", sync_to_thread=True)
@again_on_invalid(_refused)
def cancel_registration(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                        session_id: FromPath[int], data: Form) -> Template | Redirect | Response[str]:
    actor = principal_of(request)
    back = _back(request, data, challenge_id)
    if not actor.is_signed_in:
        return _sign_in_first(request, back)
    cancelled = briefings.cancel_registration(db_session, actor, challenge_id, session_id)
    message = _("Your registration was cancelled.") if cancelled else _("You were not registered for this session.")
    return _answer(request, db_session, actor, challenge_id, back, message, "success")


@get("/challenges/{challenge_id:int}/briefings/{filename:str}", name="briefing-ics", sync_to_thread=True)
def briefing_ics(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                 filename: FromPath[str]) -> Response[bytes]:
    match = ICS_NAME.match(filename)
    if not match:
        raise NotFound()
    session_id = int(match.group(1))
    body = briefings.ics(db_session, settings, principal_of(request), challenge_id, session_id)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="briefing-{session_id}.ics"',
        "Cache-Control": "private, no-cache",
    })


# --- staff ---------------------------------------------------------------------------------------


def _staff_path(request: Request, challenge_id: int) -> str:
    return request.app.route_reverse("staff-briefings", challenge_id=challenge_id)


@get("/staff/challenges/{challenge_id:int}/briefings", name="staff-briefings", guards=[signed_in],
     sync_to_thread=True)
def staff_list(request: Request, db_session: DbSession, challenge_id: FromPath[int],
               page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    challenge, result = briefings.staff_sessions(db_session, principal_of(request), challenge_id,
                                                 page_number, per_page)

    base = _staff_path(request, challenge_id)

    def url_for_page(number: int) -> str:
        return f"{base}?page={number}"

    return render(request, "proposals/dialogue/staff/briefings.html", {
        "challenge": challenge, "page": result, "url_for_page": url_for_page, "now": utcnow(),
    })


def _form_page(request: Request, challenge: Challenge, briefing: Any, form: dict[str, Any],
               errors: dict[str, str]) -> Template:
    return render(request, "proposals/dialogue/staff/briefing_form.html", {
        "challenge": challenge, "briefing": briefing, "form": form, "errors": errors,
        "limits": {"title": briefings.TITLE_MAX, "place": briefings.PLACE_MAX, "online_url": briefings.URL_MAX,
                   "notes": briefings.NOTES_MAX, "capacity_max": briefings.CAPACITY_MAX},
    })


@get("/staff/challenges/{challenge_id:int}/briefings/new", name="staff-briefing-new", guards=[signed_in],
     sync_to_thread=True)
def staff_new(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge, _page = briefings.staff_sessions(db_session, principal_of(request), challenge_id, 1, 1)
    return _form_page(request, challenge, None, {"capacity": "30"}, {})


def _create_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  challenge_id: int, **_kwargs: Any) -> Template:
    challenge, _page = briefings.staff_sessions(db_session, principal_of(request), challenge_id, 1, 1)
    return _form_page(request, challenge, None, form, failed.errors)


@post("/staff/challenges/{challenge_id:int}/briefings", name="staff-briefing-create", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_create_again)
def staff_create(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    briefing = briefings.create_session(db_session, principal_of(request), challenge_id, SessionForm.parse(data))
    return after_post(request, _staff_path(request, challenge_id),
                      message=_("The session “%(title)s” was added.", title=briefing.title))


@get("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/edit", name="staff-briefing-edit",
     guards=[signed_in], sync_to_thread=True)
def staff_edit(request: Request, db_session: DbSession, challenge_id: FromPath[int],
               session_id: FromPath[int]) -> Template:
    challenge, briefing = briefings.staff_session(db_session, principal_of(request), challenge_id, session_id)
    return _form_page(request, challenge, briefing, briefings.form_values(briefing), {})


def _update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  challenge_id: int, session_id: int, **_kwargs: Any) -> Template:
    challenge, current = briefings.staff_session(db_session, principal_of(request), challenge_id, session_id)
    return _form_page(request, challenge, current, form, failed.errors)


@post("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/edit", name="staff-briefing-update",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_update_again)
def staff_update(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                 session_id: FromPath[int], data: Form) -> Template | Redirect:
    briefing = briefings.update_session(db_session, settings, principal_of(request), challenge_id, session_id,
                                        SessionForm.parse(data))
    return after_post(request, _staff_path(request, challenge_id),
                      message=_("The session “%(title)s” was saved.", title=briefing.title))


def _cancel_page(request: Request, challenge: Challenge, briefing: Any, form: dict[str, Any],
                 errors: dict[str, str]) -> Template:
    return render(request, "proposals/dialogue/staff/briefing_cancel.html", {
        "challenge": challenge, "briefing": briefing, "form": {"reason": form.get("reason", "")}, "errors": errors,
        "reason_max": briefings.REASON_MAX,
    })


@get("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel", name="staff-briefing-cancel-form",
     guards=[signed_in], sync_to_thread=True)
def staff_cancel_form(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                      session_id: FromPath[int]) -> Template:
    challenge, briefing = briefings.staff_session(db_session, principal_of(request), challenge_id, session_id)
    return _cancel_page(request, challenge, briefing, {}, {})


def _cancel_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  challenge_id: int, session_id: int, **_kwargs: Any) -> Template:
    challenge, briefing = briefings.staff_session(db_session, principal_of(request), challenge_id, session_id)
    return _cancel_page(request, challenge, briefing, form, failed.errors)


@post("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel", name="staff-briefing-cancel",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_cancel_again)
def staff_cancel(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                 session_id: FromPath[int], data: Form) -> Template | Redirect:
    notified = briefings.cancel_session(db_session, settings, principal_of(request), challenge_id, session_id,
                                        CancelForm.parse(data))
    return after_post(request, _staff_path(request, challenge_id), message=_(
        "The session was cancelled and %(count)s registrants were told by e-mail.", count=notified))


@get("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/registrants",
     name="staff-briefing-registrants", guards=[signed_in], sync_to_thread=True)
def staff_registrants(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                      session_id: FromPath[int], page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page, 50)
    challenge, briefing, result = briefings.registrants(db_session, principal_of(request), challenge_id,
                                                        session_id, page_number, per_page)

    base = request.app.route_reverse("staff-briefing-registrants", challenge_id=challenge_id, session_id=session_id)

    def url_for_page(number: int) -> str:
        return f"{base}?page={number}"

    return render(request, "proposals/dialogue/staff/briefing_registrants.html", {
        "challenge": challenge, "briefing": briefing, "page": result, "url_for_page": url_for_page,
    })


@get("/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/registrants.csv",
     name="staff-briefing-registrants-csv", guards=[signed_in], sync_to_thread=True, opt=WRITES)
def staff_registrants_csv(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                          session_id: FromPath[int]) -> Response[str]:
    briefing, body = briefings.registrants_csv(db_session, principal_of(request), challenge_id, session_id)
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="briefing-{briefing.id}-registrants.csv"',
        "Cache-Control": "no-store",
    })


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
briefing_router = Router(path="/", route_handlers=[
    briefing_page, register, cancel_registration, briefing_ics,
    staff_list, staff_new, staff_create, staff_edit, staff_update, staff_cancel_form, staff_cancel,
    staff_registrants, staff_registrants_csv,
], include_in_schema=False)

ROUTES: list[Any] = [briefing_router]
