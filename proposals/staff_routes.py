"""Ward staff's challenge editor under /staff/challenges, and the download of attached files.

Routes parse forms and choose pages; the services (``proposals.challenges``, ``proposals.lifecycle``,
``proposals.attachments``) check who may do what and own the transactions. Every /staff page needs a
staff role (guard); the services check that the actor's department owns the challenge.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate.accounts.models import Department, Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of, require_signed_in
from cocreate.errors import Invalid
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition, file_size
from cocreate.web.forms import Form, parse_id, parse_local_datetime
from cocreate.web.forms import text as _text
from cocreate.web.forms import texts as _texts
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from proposals import attachments, challenges, lifecycle, phases, public_routes
from proposals.challenges import ChallengeInput, CriterionInput, KpiInput
from proposals.models import AttachmentKind, Category, Challenge, Phase

MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

TEXT_FIELDS = ("title", "summary", "category", "area", "contact_name", "contact_email", "contact_phone",
               *challenges.LONG_FIELDS)
BLANK_ROWS = 2
MAX_ROWS = 50  # rows read from a form; the services refuse more than their own limits
ROW_FIELD = re.compile(r"^(criteria|kpis)-(\d{1,3})-([a-z]+)$")
CRITERION_PARTS = ("name", "weight", "description")
KPI_PARTS = ("indicator", "baseline", "target", "unit")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"




# --- form <-> ChallengeInput ---------------------------------------------------------------------


def parse_whole_number(raw: str, *, allow: str = "") -> int | None:
    """``3,000,000``, ``３０００００`` or ``¥3,000,000円`` -> 3000000; None when it is not a whole number."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(rf"[\s,{re.escape(allow)}]", "", text)
    if not re.fullmatch(r"-?\d{1,16}", text):
        return None
    return int(text)


def local_datetime_value(value: datetime | None) -> str:
    return value.astimezone(WARD_TIMEZONE).strftime(DATETIME_LOCAL) if value else ""


@dataclass
class ParsedForm:
    data: ChallengeInput
    form: dict[str, Any]
    """What to show in the form again: the strings as typed."""
    errors: dict[str, str]
    """Values that could not even be read (amounts, dates); the services check the rest."""


def _rows(data: dict[str, Any], prefix: str, parts: tuple[str, ...], limits: dict[str, int]) -> list[dict[str, str]]:
    """Indexed rows (``criteria-0-name`` …) in index order; rows left blank are dropped."""
    indexes = sorted({int(match.group(2)) for key in data if (match := ROW_FIELD.match(key))
                      and match.group(1) == prefix and match.group(3) in parts})
    rows = []
    for index in indexes[:MAX_ROWS]:
        row = {part: _text(data, f"{prefix}-{index}-{part}", limits.get(part, 1000)) for part in parts}
        if any(value.strip() for value in row.values()):
            rows.append(row)
    return rows


def parse_challenge_form(data: dict[str, Any]) -> ParsedForm:
    form: dict[str, Any] = {name: _text(data, name, 100_000) for name in TEXT_FIELDS}
    errors: dict[str, str] = {}
    values = ChallengeInput(**form)

    form["budget_cap_yen"] = _text(data, "budget_cap_yen", 100)
    if form["budget_cap_yen"].strip():
        values.budget_cap_yen = parse_whole_number(form["budget_cap_yen"], allow="円¥")
        if values.budget_cap_yen is None:
            errors["budget_cap_yen"] = _("Enter the amount in yen as a whole number, for example 3,000,000.")

    form["co_owners"] = _texts(data, "co_owners", 20)
    for raw in form["co_owners"]:
        department_id = parse_id(raw)
        if department_id is None:
            errors["co_owners"] = _("Choose departments from the list.")
        else:
            values.co_owner_department_ids.append(department_id)

    form["criteria"] = _rows(data, "criteria", CRITERION_PARTS, {"name": 1000, "weight": 50, "description": 5000})
    values.criteria = [CriterionInput(row["name"], parse_whole_number(row["weight"].removesuffix("%")),
                                      row["description"]) for row in form["criteria"]]
    form["kpis"] = _rows(data, "kpis", KPI_PARTS, {})
    values.kpis = [KpiInput(row["indicator"], row["target"], row["baseline"], row["unit"]) for row in form["kpis"]]

    form["schedule"] = {}
    for phase in phases.SCHEDULABLE:
        raw = _text(data, f"phase_{phase.value}", 100)
        form["schedule"][phase.value] = raw
        if raw.strip():
            when = parse_local_datetime(raw)
            if when is None:
                errors[f"phase_{phase.value}"] = _("Enter a date and time, for example 2026-12-01 10:00.")
            values.schedule[phase] = when
    form["note"] = _text(data, "note", 5000)
    return ParsedForm(values, form, errors)


def form_from_input(data: ChallengeInput) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(data, name) for name in TEXT_FIELDS}
    form["budget_cap_yen"] = f"{data.budget_cap_yen:,}" if data.budget_cap_yen is not None else ""
    form["co_owners"] = [str(department_id) for department_id in data.co_owner_department_ids]
    form["criteria"] = [{"name": c.name, "weight": "" if c.weight is None else str(c.weight),
                         "description": c.description} for c in data.criteria]
    form["kpis"] = [{"indicator": k.indicator, "baseline": k.baseline, "target": k.target, "unit": k.unit}
                    for k in data.kpis]
    form["schedule"] = {phase.value: local_datetime_value(data.schedule.get(phase)) for phase in phases.SCHEDULABLE}
    form["note"] = ""
    return form


# --- pages ---------------------------------------------------------------------------------------


def _owned(db_session: Session, actor: Principal, challenge_id: int) -> Challenge:
    """The challenge, if the actor's department owns it (404 when there is none, 403 when not theirs)."""
    require_signed_in(actor)
    challenge = db_session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFoundException()
    lifecycle.require_owner(db_session, actor, challenge)
    return challenge


def _category_options() -> list[tuple[str, str]]:
    return [("", _("Choose a category"))] + [(c.value, c.label) for c in Category]


def _form_context(db_session: Session, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "form": form,
        "category_options": _category_options(),
        "departments": challenges.departments_for_form(db_session),
        "schedulable": phases.SCHEDULABLE,
        "blank_rows": BLANK_ROWS,
        "weight_total": sum(parse_whole_number(row["weight"].removesuffix("%")) or 0 for row in form["criteria"]),
    }


def _move_options(challenge: Challenge) -> list[tuple[str, str]]:
    targets = [phase for phase in (*phases.ORDER, Phase.CLOSED) if phases.can_move(challenge.phase, phase)]
    return [("", _("Choose a phase"))] + [(phase.value, phase.label) for phase in targets]


def _edit_page(request: Request, db_session: Session, challenge: Challenge, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, attachment_form: dict[str, str] | None = None,
               attachment_errors: dict[str, str] | None = None, phase_form: dict[str, str] | None = None,
               phase_errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    assert challenge.id is not None
    # Whatever failed was rolled back: read the challenge as it is now.
    db_session.refresh(challenge)
    if form is None:
        form = form_from_input(ChallengeInput.from_challenge(db_session, challenge))
    return render(request, "proposals/staff/edit.html", {
        **_form_context(db_session, form),
        "challenge": challenge,
        "lead_department_id": challenge.department_id,
        "is_draft": challenge.phase is Phase.DRAFT,
        "is_ended": challenge.phase in phases.TERMINAL,
        "errors": errors or {},
        "attachments": attachments.attachments_of(db_session, challenge.id),
        "attachment_url": attachments.download_url,
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
    }, status_code=status_code)


def _my_departments(db_session: Session, actor: Principal) -> list[Department]:
    return [d for d in challenges.departments_for_form(db_session) if d.id in actor.staff_department_ids]


@get("/", name="staff-challenges", sync_to_thread=True)
def challenge_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    result = challenges.owned_challenges_page(db_session, principal_of(request), page_number, per_page)
    return render(request, "proposals/staff/list.html", {
        "page": result, "url_for_page": lambda number: f"/staff/challenges?page={number}",
    })


def _new_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str],
              status_code: int = 200) -> Template:
    departments = _my_departments(db_session, principal_of(request))
    options = [(str(d.id), d.display_name()) for d in departments]
    if len(options) > 1:
        options = [("", _("Choose one of your departments")), *options]
    return render(request, "proposals/staff/new.html", {
        **_form_context(db_session, form), "department_options": options, "errors": errors,
    }, status_code=status_code)


@get("/new", name="staff-challenge-new", sync_to_thread=True)
def challenge_new(request: Request, db_session: DbSession) -> Template:
    form = form_from_input(ChallengeInput())
    form["department_id"] = ""
    return _new_page(request, db_session, form, {})


@post("/new", name="staff-challenge-create", sync_to_thread=True)
def challenge_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    actor = principal_of(request)
    parsed = parse_challenge_form(data)
    raw_department = _text(data, "department_id", 20)
    parsed.form["department_id"] = raw_department
    if not raw_department.isdigit():
        errors = challenges.validate(db_session, parsed.data, complete=False) | parsed.errors
        errors["department_id"] = _("Choose one of your departments.")
        db_session.rollback()
        return _new_page(request, db_session, parsed.form, errors, 400)
    try:
        if parsed.errors:
            raise Invalid(challenges.validate(db_session, parsed.data, complete=False) | parsed.errors)
        challenge = challenges.create_draft(db_session, actor, int(raw_department), parsed.data)
    except Invalid as failed:
        db_session.rollback()
        return _new_page(request, db_session, parsed.form, failed.errors, 400)
    return after_post(request, f"/staff/challenges/{challenge.id}/edit",
                      message=_("The draft was saved. Only your departments can see it until it is published."))


@get("/{challenge_id:int}/edit", name="staff-challenge-edit", sync_to_thread=True)
def challenge_edit(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return _edit_page(request, db_session, challenge)


@post("/{challenge_id:int}/edit", name="staff-challenge-update", sync_to_thread=True)
def challenge_update(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                     data: Form) -> Template | Redirect:
    actor = principal_of(request)
    challenge = _owned(db_session, actor, challenge_id)
    parsed = parse_challenge_form(data)
    published = challenge.phase is not Phase.DRAFT
    try:
        if parsed.errors:
            raise Invalid(challenges.validate(db_session, parsed.data, complete=published) | parsed.errors)
        challenges.update(db_session, actor, challenge_id, parsed.data, note=parsed.form["note"])
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, challenge, form=parsed.form, errors=failed.errors, status_code=400)
    message = (_("The changes were saved. What changed is shown in the challenge's public history.") if published
               else _("The draft was saved."))
    return after_post(request, f"/staff/challenges/{challenge_id}/edit", message=message)


@get("/{challenge_id:int}/preview", name="staff-challenge-preview", sync_to_thread=True)
def challenge_preview(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge = _owned(db_session, principal_of(request), challenge_id)
    return render(request, "proposals/staff/preview.html", {
        "challenge": challenge, "body": public_routes.challenge_body_context(db_session, challenge),
        "is_draft": challenge.phase is Phase.DRAFT,
    })


@post("/{challenge_id:int}/publish", name="staff-challenge-publish", sync_to_thread=True)
def challenge_publish(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    challenge = _owned(db_session, actor, challenge_id)
    try:
        challenges.publish(db_session, actor, challenge_id)
    except Invalid as failed:
        db_session.rollback()
        errors = {"publish": _("Complete the fields below before publishing.")} | failed.errors
        return _edit_page(request, db_session, challenge, errors=errors, status_code=400)
    return after_post(request, f"/staff/challenges/{challenge_id}/edit",
                      message=_("The challenge is now public. Questions can be asked from today."))


@post("/{challenge_id:int}/phase", name="staff-challenge-phase", sync_to_thread=True)
def challenge_move(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    actor = principal_of(request)
    challenge = _owned(db_session, actor, challenge_id)
    form = {"phase": _text(data, "phase", 50), "reason": _text(data, "reason", 10_000)}
    if form["phase"] not in {phase.value for phase in Phase}:
        errors = {"phase": _("Choose a phase.")}
        if not form["reason"].strip():
            errors["reason"] = _("Give the reason for the change; it is shown publicly.")
        return _edit_page(request, db_session, challenge, phase_form=form, phase_errors=errors, status_code=400)
    try:
        change = lifecycle.move(db_session, actor, challenge_id, Phase(form["phase"]), form["reason"])
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, challenge, phase_form=form, phase_errors=failed.errors,
                          status_code=400)
    return after_post(request, f"/staff/challenges/{challenge_id}/edit",
                      message=_("The challenge moved to “%(phase)s”.", phase=change.to_phase.label))


# --- attachments ---------------------------------------------------------------------------------


@post("/{challenge_id:int}/attachments", name="staff-challenge-attachment-add", sync_to_thread=True)
def attachment_add(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                   data: MultipartForm) -> Template | Redirect:
    actor = principal_of(request)
    challenge = _owned(db_session, actor, challenge_id)
    upload = data.get("file")
    if isinstance(upload, list):
        upload = upload[0] if upload else None
    upload = upload if isinstance(upload, UploadFile) else None
    form = {"kind": _text(data, "kind", 20), "attachment_title": _text(data, "attachment_title", 1000)}
    try:
        attachment = attachments.add(db_session, settings, actor, challenge_id, kind=form["kind"],
                                     title=form["attachment_title"], source=upload.file if upload else None,
                                     filename=upload.filename if upload else "")
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, challenge, attachment_form=form, attachment_errors=failed.errors,
                          status_code=400)
    return after_post(request, f"/staff/challenges/{challenge_id}/edit#attachments",
                      message=_("“%(name)s” was attached.", name=attachment.filename))


@post("/{challenge_id:int}/attachments/{attachment_id:int}/delete", name="staff-challenge-attachment-delete",
      sync_to_thread=True)
def attachment_delete(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                      attachment_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    challenge = _owned(db_session, actor, challenge_id)
    try:
        attachments.delete(db_session, settings, actor, challenge_id, attachment_id)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, challenge, attachment_errors=failed.errors, status_code=400)
    return after_post(request, f"/staff/challenges/{challenge_id}/edit#attachments",
                      message=_("The file was deleted."))


@get("/challenges/{challenge_id:int}/attachments/{attachment_id:int}", name="challenge-attachment",
     sync_to_thread=True, include_in_schema=False)
def attachment_download(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                        attachment_id: FromPath[int]) -> File:
    found = attachments.for_download(db_session, settings, principal_of(request), challenge_id, attachment_id)
    if found is None:
        raise NotFoundException()
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
