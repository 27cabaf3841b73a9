"""The ward's triage of residents' voices under /staff/voices: the queue, a voice's staff page, and the
actions' forms (also shown on the voice's public page as its "voice" page section).

HTTP only: the rules live in :mod:`proposals.voices.triage`. Every form works without JavaScript (POST,
then 303 back to where it was sent from: the ``next`` path, else the voice's staff page); a form with
errors answers 400 with the staff page and the errors under the fields, and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.models import Department, Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of
from cocreate.areas import Area
from cocreate.errors import Invalid
from cocreate.forms import FormModel, ReturnPath
from cocreate.i18n import gettext as _
from cocreate.permissions import can
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from proposals.models import Category, Challenge, Voice, VoiceStatus
from proposals.permissions import OnVoice
from proposals.voices import triage

QUEUE_PAGE = "proposals/voices/staff_queue.html"
VOICE_PAGE = "proposals/voices/staff_voice.html"
ACTIONS = "proposals/voices/staff_actions.html"
BORN_FROM = "proposals/voices/staff_born_from.html"


class Back(FormModel):
    next: Annotated[str, ReturnPath()] = ""


def _enum_or_none(enum: type[Any], value: str) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


# --- page sections ---------------------------------------------------------------------------------


def actions_context(session: Session, actor: Principal, voice: Voice, *, back: str,
                    errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the actions' template reads (``t``)."""
    departments = [(d.id, d.display_name()) for d in triage.departments(session)]
    return {"t": {
        "voice": voice, "on": OnVoice.of(voice), "next": back, "errors": errors or {}, "form": form or {},
        "departments": [(str(number), name) for number, name in departments],
        "my_department_options": [(str(number), name) for number, name in departments
                                  if number in actor.staff_department_ids],
    }}


def voice_section(session: Session, actor: Principal, voice: Voice) -> tuple[str, dict[str, Any]] | None:
    """The staff actions on a voice's public page, for those who may triage it (None for everyone else)."""
    if not can(actor, "voice.triage", OnVoice.of(voice)):
        return None
    assert voice.id is not None
    return ACTIONS, actions_context(session, actor, voice, back=triage.voice_path(voice.id))


def challenge_section(session: Session, actor: Principal, challenge: Challenge,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """"Born from N residents' voices" on the challenge page (None when no voice cites it)."""
    assert challenge.id is not None
    if viewer is not None and not viewer.voice_count:
        return None  # the page read the count with the challenge: nothing to ask
    found = triage.born_from(session, challenge.id)
    if not found.total:
        return None
    return BORN_FROM, {"born": found, "voice_path": triage.voice_path}


# --- the queue -------------------------------------------------------------------------------------


def _queue_page(request: Request, db_session: Session, *, status: str = "", category: str = "", area: str = "",
                page: str = "1", errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Template:
    actor = principal_of(request)
    filters = triage.QueueFilters(status=_enum_or_none(VoiceStatus, status),
                                  category=_enum_or_none(Category, category),
                                  area=area if _enum_or_none(Area, area) else "")
    page_number, per_page = clamp_page(page)
    result = triage.queue(db_session, actor, filters, page_number, per_page)
    base = request.app.route_reverse("staff-voices")
    query = "&".join(f"{name}={value}" for name, value in (
        ("status", filters.status.value if filters.status else ""),
        ("category", filters.category.value if filters.category else ""), ("area", filters.area)) if value)
    return render(request, QUEUE_PAGE, {
        "page": result, "filters": filters,
        "url_for_page": lambda number: f"{base}?{query}{'&' if query else ''}page={number}",
        "status_options": [("", _("All but merged"))] + [(s.value, s.label) for s in VoiceStatus],
        "category_options": [("", _("All categories"))] + [(c.value, c.label) for c in Category],
        "area_options": [("", _("All areas"))] + [(a.value, a.label) for a in Area],
        "area_labels": {a.value: a.label for a in Area},
        "can_draft": actor.is_staff,
        "my_departments": [(str(d.id), d.display_name()) for d in triage.departments(db_session)
                           if d.id in actor.staff_department_ids],
        "errors": errors or {}, "form": form or {},
    }, status_code=400 if errors else 200)


@get("/", name="staff-voices", sync_to_thread=True)
def voice_queue(request: Request, db_session: DbSession, status: FromQuery[str] = "", category: FromQuery[str] = "",
                area: FromQuery[str] = "", page: FromQuery[str] = "1") -> Template:
    return _queue_page(request, db_session, status=status, category=category, area=area, page=page)


def _queue_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 **_kwargs: Any) -> Template:
    return _queue_page(request, db_session, errors=failed.errors, form=form)


@post("/challenge", name="staff-voices-to-challenge", sync_to_thread=True)
@again_on_invalid(_queue_again)
def voices_to_challenge(request: Request, db_session: DbSession, settings: AppSettings,
                        data: Form) -> Template | Redirect:
    actor = principal_of(request)
    permissions.require(actor, "voice.draft_challenge")  # who asks first, whatever the form holds
    draft = triage.to_challenge(db_session, settings, actor, triage.ToChallengeForm.parse(data))
    return after_post(request, request.app.route_reverse("staff-challenge-edit", challenge_id=draft.id),
                      message=_("The draft challenge was created. It cites the voices it was born from."))


# --- one voice -------------------------------------------------------------------------------------


def _voice_page(request: Request, db_session: Session, voice_id: int, *, errors: dict[str, str] | None = None,
                form: dict[str, Any] | None = None) -> Template:
    actor = principal_of(request)
    voice = triage.load(db_session, actor, voice_id)
    db_session.refresh(voice)  # whatever failed was rolled back
    back = request.app.route_reverse("staff-voice", voice_id=voice_id)
    return render(request, VOICE_PAGE, {
        "voice": voice, "trail": triage.trail(db_session, voice_id),
        "department": db_session.get(Department, voice.department_id) if voice.department_id else None,
        "public_path": triage.voice_path(voice_id),
        **actions_context(db_session, actor, voice, back=back, errors=errors, form=form),
    }, status_code=400 if errors else 200)


@get("/{voice_id:int}", name="staff-voice", sync_to_thread=True)
def voice_page(request: Request, db_session: DbSession, voice_id: FromPath[int]) -> Template:
    return _voice_page(request, db_session, voice_id)


def _again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, voice_id: int,
           **_kwargs: Any) -> Template:
    return _voice_page(request, db_session, voice_id, errors=failed.errors, form=form)


def _may(db_session: Session, request: Request, voice_id: int, action: str) -> None:
    """Who asks is checked before what they sent (a refusal is 403 or 404, whatever the form holds)."""
    triage.load(db_session, principal_of(request), voice_id, action=action)


def _back(request: Request, data: dict[str, Any], voice_id: int) -> str:
    return Back.parse(data).next or request.app.route_reverse("staff-voice", voice_id=voice_id)


@post("/{voice_id:int}/acknowledge", name="staff-voice-acknowledge", sync_to_thread=True)
@again_on_invalid(_again)
def voice_acknowledge(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                      data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    triage.acknowledge(db_session, settings, principal_of(request), voice_id, triage.NoteForm.parse(data))
    return after_post(request, _back(request, data, voice_id),
                      message=_("The voice is now under consideration. The author and supporters are told."))


@post("/{voice_id:int}/answer", name="staff-voice-answer", sync_to_thread=True)
@again_on_invalid(_again)
def voice_answer(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    triage.answer(db_session, settings, principal_of(request), voice_id, triage.AnswerForm.parse(data))
    return after_post(request, _back(request, data, voice_id), message=_("The answer was published."))


@post("/{voice_id:int}/status", name="staff-voice-close", sync_to_thread=True)
@again_on_invalid(_again)
def voice_close(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    update = triage.close(db_session, settings, principal_of(request), voice_id, triage.CloseForm.parse(data))
    assert update.status is not None
    return after_post(request, _back(request, data, voice_id),
                      message=_("The voice is now “%(status)s”.", status=update.status.label))


@post("/{voice_id:int}/department", name="staff-voice-reassign", sync_to_thread=True)
@again_on_invalid(_again)
def voice_reassign(request: Request, db_session: DbSession, voice_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    triage.reassign(db_session, principal_of(request), voice_id, triage.ReassignForm.parse(data))
    # The voice may no longer be the actor's: back to the queue.
    return after_post(request, request.app.route_reverse("staff-voices"),
                      message=_("The voice was given to another department."))


@post("/{voice_id:int}/merge", name="staff-voice-merge", sync_to_thread=True)
@again_on_invalid(_again)
def voice_merge(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    update = triage.merge(db_session, settings, principal_of(request), voice_id, triage.MergeForm.parse(data))
    return after_post(request, _back(request, data, voice_id),
                      message=_("The voice was merged into No. %(number)s; its supports were carried over.",
                                number=update.other_voice_id))


@post("/{voice_id:int}/link", name="staff-voice-link", sync_to_thread=True)
@again_on_invalid(_again)
def voice_link(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
               data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.triage")
    triage.link(db_session, settings, principal_of(request), voice_id, triage.LinkForm.parse(data))
    return after_post(request, _back(request, data, voice_id), message=_("The voice was linked to the challenge."))


@post("/{voice_id:int}/challenge", name="staff-voice-to-challenge", sync_to_thread=True)
@again_on_invalid(_again)
def voice_to_challenge(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                       data: Form) -> Template | Redirect:
    _may(db_session, request, voice_id, "voice.to_challenge")
    form = triage.ToChallengeForm.parse({**data, "voice_ids": [voice_id]})
    draft = triage.to_challenge(db_session, settings, principal_of(request), form)
    return after_post(request, request.app.route_reverse("staff-challenge-edit", challenge_id=draft.id),
                      message=_("The draft challenge was created. It cites the voices it was born from."))


staff_router = Router(
    path="/staff/voices",
    guards=[has_any_role(Role.STAFF, Role.ADMIN)],
    route_handlers=[voice_queue, voices_to_challenge, voice_page, voice_acknowledge, voice_answer, voice_close,
                    voice_reassign, voice_merge, voice_link, voice_to_challenge],
    include_in_schema=False,
)

ROUTES: list[Any] = [staff_router]
