"""Ward staff's challenge editor under /staff/challenges, and the download of attached files.

Routes parse forms and choose pages; the services (``proposals.challenges.services``, ``proposals.challenges.lifecycle``,
``proposals.challenges.attachments``) check who may do what and own the transactions. Every /staff page needs a
staff role (guard); the services check that the actor's department owns the challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template
from pydantic import BeforeValidator
from sqlmodel import Session

from cocreate.accounts.models import Department, Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FormModel, RowId, Text, first, parse_whole_number
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition, file_size
from cocreate.web.forms import Form, Multipart, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from proposals import phases
from proposals.challenges import attachments, lifecycle, public_routes
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm, schedule_field
from proposals.models import AttachmentKind, Category, Challenge, Phase
from proposals.permissions import OnChallenge

TEXT_FIELDS = ("title", "summary", "category", "area", "contact_name", "contact_email", "contact_phone",
               *challenges.LONG_FIELDS)
BLANK_ROWS = 2
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


# --- the forms -----------------------------------------------------------------------------------


class NewChallengeForm(ChallengeForm):
    """The editor's first form also names the owning department."""

    department_id: Annotated[int | None, RowId(lazy_gettext("Choose one of your departments."), required=True)] = None


class PhaseForm(FormModel):
    """A move to another phase by hand, with the public reason."""


    phase: Annotated[Phase | None, Choice(Phase, lazy_gettext("Choose a phase."))] = None
    reason: Annotated[str, Text(lifecycle.MAX_REASON, required=lazy_gettext(
        "Give the reason for the change; it is shown publicly."))] = ""


def _upload(value: Any) -> UploadFile | None:
    """The file of a file field (its first, when sent twice); None when no file was sent."""
    value = first(value)
    return value if isinstance(value, UploadFile) else None


class AttachmentForm(FormModel):
    """A file to attach; the service checks the rest (a title for images, the file's type and size)."""


    kind: Annotated[AttachmentKind | None, Choice(AttachmentKind,
                                                  lazy_gettext("Choose what kind of file this is."))] = None
    attachment_title: Annotated[str, Text(attachments.MAX_TITLE)] = ""
    file: Annotated[UploadFile | None, BeforeValidator(_upload)] = None


# --- what the editor shows -----------------------------------------------------------------------


def local_datetime_value(value: datetime | None) -> str:
    """A stored time as a ``datetime-local`` field shows it (the ward's time)."""
    return value.astimezone(WARD_TIMEZONE).strftime(DATETIME_LOCAL) if value else ""


def editor_values(sent: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's fields as its template reads them: strings, the co-owners as a list, the rows as lists
    of dicts and the schedule by phase; from what was sent (:func:`cocreate.forms.shown`) or stored."""
    co_owners = sent.get("co_owners") or []
    return {
        **{name: sent.get(name, "") for name in (*TEXT_FIELDS, "budget_cap_yen", "note", "department_id")},
        "co_owners": co_owners if isinstance(co_owners, list) else [co_owners],
        "criteria": sent.get("criteria") or [],
        "kpis": sent.get("kpis") or [],
        "schedule": {phase.value: sent.get(schedule_field(phase), "") for phase in phases.SCHEDULABLE},
    }


def stored_values(form: ChallengeForm) -> dict[str, Any]:
    """What the editor shows for a challenge as it is stored."""
    return editor_values({
        **{name: getattr(form, name) for name in TEXT_FIELDS},
        "category": form.category.value if form.category else "",
        "budget_cap_yen": f"{form.budget_cap_yen:,}" if form.budget_cap_yen is not None else "",
        "co_owners": [str(department_id) for department_id in form.co_owners],
        "criteria": [{"name": c.name, "weight": "" if c.weight is None else str(c.weight),
                      "description": c.description} for c in form.criteria],
        "kpis": [{"indicator": k.indicator, "baseline": k.baseline, "target": k.target, "unit": k.unit}
                 for k in form.kpis],
        **{schedule_field(phase): local_datetime_value(when) for phase, when in form.schedule.items()},
    })


# --- pages ---------------------------------------------------------------------------------------


def _owned(db_session: Session, actor: Principal, challenge_id: int) -> Challenge:
    """The challenge, if the actor's department owns it (404 when there is none, 403 when not theirs)."""
    return challenges.load_owned(db_session, actor, challenge_id)


def _category_options() -> list[tuple[str, str]]:
    return [("", _("Choose a category"))] + [(c.value, c.label) for c in Category]


def _form_context(db_session: Session, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "form": form,
        "category_options": _category_options(),
        "departments": challenges.departments_for_form(db_session),
        "schedulable": phases.SCHEDULABLE,
        "blank_rows": BLANK_ROWS,
        "weight_total": sum(parse_whole_number(row["weight"], allow="%") or 0 for row in form["criteria"]),
    }


def _move_options(challenge: Challenge) -> list[tuple[str, str]]:
    targets = [phase for phase in (*phases.ORDER, Phase.CLOSED) if phases.can_move(challenge.phase, phase)]
    return [("", _("Choose a phase"))] + [(phase.value, phase.label) for phase in targets]


def _edit_page(request: Request, db_session: Session, challenge: Challenge, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, attachment_form: dict[str, str] | None = None,
               attachment_errors: dict[str, str] | None = None, phase_form: dict[str, str] | None = None,
               phase_errors: dict[str, str] | None = None) -> Template:
    assert challenge.id is not None
    # Whatever failed was rolled back: read the challenge as it is now.
    db_session.refresh(challenge)
    if form is None:
        form = stored_values(ChallengeForm.from_challenge(db_session, challenge, check=False))
    return render(request, "proposals/challenges/staff/edit.html", {
        **_form_context(db_session, form),
        "challenge": challenge,
        "on": OnChallenge.of(challenge, owned=True),  # the page is the owning staff's (_owned, before)
        "lead_department_id": challenge.department_id,
        "is_draft": challenge.phase is Phase.DRAFT,
        "errors": errors or {},
        "attachments": attachments.attachments_of(db_session, challenge.id),
        "file_size": file_size,
        "attachment_form": attachment_form or {"kind": AttachmentKind.DOCUMENT.value, "attachment_title": ""},
        "attachment_errors": attachment_errors or {},
        "attachment_kinds": [(AttachmentKind.DOCUMENT.value, _("Document (PDF)")),
                             (AttachmentKind.IMAGE.value, _("Image")),
                             (AttachmentKind.COVER.value, _("Cover image (replaces the current one)"))],
        "limits": {"file_mb": attachments.MAX_FILE_BYTES // (1024 * 1024),
                   "total_mb": attachments.MAX_TOTAL_BYTES // (1024 * 1024), "files": attachments.MAX_FILES},
        "phase_form": phase_form or {"phase": "", "reason": ""},
        "phase_errors": phase_errors or {},
        "move_options": _move_options(challenge),
    })


def _edit_path(request: Request, challenge_id: int | None, fragment: str = "") -> str:
    """The challenge's editor (at ``fragment``): where its forms come back to."""
    return request.app.route_reverse("staff-challenge-edit", challenge_id=challenge_id) + fragment


def _my_departments(db_session: Session, actor: Principal) -> list[Department]:
    return [d for d in challenges.departments_for_form(db_session) if d.id in actor.staff_department_ids]


@get("/", name="staff-challenges", sync_to_thread=True)
def challenge_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    result = challenges.owned_challenges_page(db_session, principal_of(request), page_number, per_page)
    base = request.app.route_reverse("staff-challenges")
    return render(request, "proposals/challenges/staff/list.html", {
        "page": result, "url_for_page": lambda number: f"{base}?page={number}",
    })


def _new_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str]) -> Template:
    departments = _my_departments(db_session, principal_of(request))
    options = [(str(d.id), d.display_name()) for d in departments]
    if len(options) > 1:
        options = [("", _("Choose one of your departments")), *options]
    return render(request, "proposals/challenges/staff/new.html", {
        **_form_context(db_session, form), "department_options": options, "errors": errors,
    })


@get("/new", name="staff-challenge-new", sync_to_thread=True)
def challenge_new(request: Request, db_session: DbSession) -> Template:
    return _new_page(request, db_session, editor_values({}), {})


def _new_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
               **_kwargs: Any) -> Template:
    return _new_page(request, db_session, editor_values(form), failed.errors)


@post("/new", name="staff-challenge-create", sync_to_thread=True)
@again_on_invalid(_new_again, model=NewChallengeForm)
def challenge_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    form = NewChallengeForm.parse(data)
    assert form.department_id is not None
    challenge = challenges.create_draft(db_session, principal_of(request), form.department_id, form)
    return after_post(request, _edit_path(request, challenge.id),
                      message=_("The draft was saved. Only your departments can see it until it is published."))


@get("/{challenge_id:int}/edit", name="staff-challenge-edit", sync_to_thread=True)
def challenge_edit(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return _edit_page(request, db_session, challenge)


def _edit_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                challenge_id: int, **_kwargs: Any) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return _edit_page(request, db_session, challenge, form=editor_values(form), errors=failed.errors)


@post("/{challenge_id:int}/edit", name="staff-challenge-update", sync_to_thread=True)
@again_on_invalid(_edit_again, model=ChallengeForm)
def challenge_update(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                     data: Form) -> Template | Redirect:
    actor = principal_of(request)
    published = _owned(db_session, actor, challenge_id).phase is not Phase.DRAFT
    challenges.update(db_session, actor, challenge_id, ChallengeForm.parse(data))
    message = (_("The changes were saved. What changed is shown in the challenge's public history.") if published
               else _("The draft was saved."))
    return after_post(request, _edit_path(request, challenge_id), message=message)


@get("/{challenge_id:int}/preview", name="staff-challenge-preview", sync_to_thread=True)
def challenge_preview(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return render(request, "proposals/challenges/staff/preview.html", {
        "challenge": challenge, "body": public_routes.challenge_body_context(db_session, challenge),
        "is_draft": challenge.phase is Phase.DRAFT,
    })


def _publish_again(failed: Invalid, _form: dict[str, Any], *, request: Request, db_session: Session,
                   challenge_id: int, **_kwargs: Any) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    errors = {"publish": _("Complete the fields below before publishing.")} | failed.errors
    return _edit_page(request, db_session, challenge, errors=errors)


@post("/{challenge_id:int}/publish", name="staff-challenge-publish", sync_to_thread=True)
@again_on_invalid(_publish_again)
def challenge_publish(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    _owned(db_session, actor, challenge_id)
    challenges.publish(db_session, actor, challenge_id)
    return after_post(request, _edit_path(request, challenge_id),
                      message=_("The challenge is now public. Questions can be asked from today."))


def _move_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                challenge_id: int, **_kwargs: Any) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return _edit_page(request, db_session, challenge, phase_errors=failed.errors,
                      phase_form={"phase": form.get("phase", ""), "reason": form.get("reason", "")})


@post("/{challenge_id:int}/phase", name="staff-challenge-phase", sync_to_thread=True)
@again_on_invalid(_move_again)
def challenge_move(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _owned(db_session, actor, challenge_id)
    form = PhaseForm.parse(data)
    assert form.phase is not None
    change = lifecycle.move(db_session, actor, challenge_id, form.phase, form.reason)
    return after_post(request, _edit_path(request, challenge_id),
                      message=_("The challenge moved to “%(phase)s”.", phase=change.to_phase.label))


# --- attachments ---------------------------------------------------------------------------------


def _attachment_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                      challenge_id: int, **_kwargs: Any) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    sent = {"kind": form["kind"], "attachment_title": form.get("attachment_title", "")} if "kind" in form else None
    return _edit_page(request, db_session, challenge, attachment_form=sent, attachment_errors=failed.errors)


@post("/{challenge_id:int}/attachments", name="staff-challenge-attachment-add", sync_to_thread=True)
@again_on_invalid(_attachment_again)
def attachment_add(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                   data: Multipart) -> Template | Redirect:
    actor = principal_of(request)
    _owned(db_session, actor, challenge_id)
    form = AttachmentForm.parse(data)
    assert form.kind is not None
    upload = form.file
    attachment = attachments.add(db_session, settings, actor, challenge_id, kind=form.kind.value,
                                 title=form.attachment_title, source=upload.file if upload else None,
                                 filename=upload.filename if upload else "")
    return after_post(request, _edit_path(request, challenge_id, "#attachments"),
                      message=_("“%(name)s” was attached.", name=attachment.filename))


@post("/{challenge_id:int}/attachments/{attachment_id:int}/delete", name="staff-challenge-attachment-delete",
      sync_to_thread=True)
@again_on_invalid(_attachment_again)
def attachment_delete(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                      attachment_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    _owned(db_session, actor, challenge_id)
    attachments.delete(db_session, settings, actor, challenge_id, attachment_id)
    return after_post(request, _edit_path(request, challenge_id, "#attachments"),
                      message=_("The file was deleted."))


@get("/challenges/{challenge_id:int}/attachments/{attachment_id:int}", name="challenge-attachment",
     sync_to_thread=True, include_in_schema=False)
def attachment_download(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                        attachment_id: FromPath[int]) -> File:
    found = attachments.for_download(db_session, settings, principal_of(request), challenge_id, attachment_id)
    if found is None:
        raise NotFound()
    attachment, challenge, path = found
    public = challenge.phase is not Phase.DRAFT
    return File(
        path=path,
        media_type=attachment.content_type,
        content_disposition_type="inline",
        headers={
            "content-disposition": content_disposition(attachment.filename),
            "x-content-type-options": "nosniff",
            # The content of an attachment never changes (a new upload is a new address).
            "cache-control": IMMUTABLE_CACHE if public else "private, no-cache",
            "etag": f'"{attachment.sha256}"',
        },
    )


staff_router = Router(
    path="/staff/challenges",
    guards=[has_any_role(Role.STAFF)],
    route_handlers=[challenge_list, challenge_new, challenge_create, challenge_edit, challenge_update,
                    challenge_preview, challenge_publish, challenge_move, attachment_add, attachment_delete],
    include_in_schema=False,
)

ROUTES: list[Any] = [staff_router, attachment_download]
