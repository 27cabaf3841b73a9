"""Test field pages: the public list and page, photos, the coordinators' editor and the read API.

Routes parse forms and choose pages; :mod:`labs.fields` checks who may do what and owns the
transactions. Every /coordinate page needs the coordinator role (or site admin); the services check
that the actor manages the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.settings import Settings
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition, file_size
from cocreate.web.forms import Form, parse_local_datetime
from cocreate.web.forms import text as _text
from cocreate.web.forms import texts as _texts
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo, clamp_page
from cocreate.web.sections import page_sections
from labs import access, fields
from labs.fields import FieldInput
from labs.models import Area, DocumentKind, FieldKind, TestField, TestFieldPhoto

MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

TEXT_FIELDS = ("name", "kind", "area", "address", "summary", "description", "rules", "cancellation_rule", "contact")
NUMBER_FIELDS = ("capacity", "min_booking_minutes", "max_booking_minutes", "buffer_minutes", "min_notice_hours",
                 "max_notice_days")
REQUIRED_NUMBERS = frozenset({"min_booking_minutes", "buffer_minutes", "min_notice_hours"})
CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
DECIMAL = re.compile(r"^[-+]?\d{1,3}(\.\d{1,15})?$")
WHOLE = re.compile(r"^[-+]?\d{1,9}$")
LEAFLET_IMAGES = "/static/js/vendor/leaflet-1.9.4/images/"


# --- form <-> FieldInput -------------------------------------------------------------------------


def _parse_clock(raw: str) -> int | None:
    match = CLOCK.match(unicodedata.normalize("NFKC", raw).strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _parse_whole(raw: str) -> int | None:
    text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", raw))
    return int(text) if WHOLE.match(text) else None


def _parse_decimal(raw: str) -> float | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    return float(text) if DECIMAL.match(text) else None


@dataclass
class ParsedForm:
    data: FieldInput
    form: dict[str, Any]
    """What to show in the form again: the strings as typed."""
    errors: dict[str, str]
    """Values that could not even be read (numbers, times); the service checks the rest."""


def parse_field_form(data: dict[str, Any]) -> ParsedForm:
    form: dict[str, Any] = {name: _text(data, name, 100_000) for name in TEXT_FIELDS}
    values = FieldInput(**form)
    errors: dict[str, str] = {}
    for name in ("latitude", "longitude"):
        form[name] = _text(data, name, 100)
        if form[name].strip():
            number = _parse_decimal(form[name])
            if number is None:
                errors[name] = _("Enter a number in decimal degrees, for example 35.789.")
            setattr(values, name, number)
        else:
            setattr(values, name, None)
    for name in NUMBER_FIELDS:
        form[name] = _text(data, name, 100)
        if form[name].strip():
            number = _parse_whole(form[name])
            if number is None:
                errors[name] = _("Enter a whole number.")
            setattr(values, name, number)
        else:
            setattr(values, name, None)
    form["approval_required"] = bool(_text(data, "approval_required", 10))
    form["published"] = bool(_text(data, "published", 10))
    values.approval_required = form["approval_required"]
    values.published = form["published"]
    form["hours"] = {}
    for weekday in fields.WEEKDAYS:
        opens_raw, closes_raw = _text(data, f"hours-{weekday}-opens", 20), _text(data, f"hours-{weekday}-closes", 20)
        form["hours"][weekday] = {"opens": opens_raw, "closes": closes_raw}
        if not opens_raw.strip() and not closes_raw.strip():
            continue  # closed that day
        opens, closes = _parse_clock(opens_raw), _parse_clock(closes_raw)
        if not opens_raw.strip() or not closes_raw.strip():
            errors[f"hours-{weekday}"] = _("Enter both the opening and the closing time, or leave both empty "
                                           "when the field is closed that day.")
        elif opens is None or closes is None:
            errors[f"hours-{weekday}"] = _("Enter times like 09:00 and 17:00.")
        else:
            values.hours.append((weekday, opens, closes))
    form["requirements"] = _texts(data, "requirements", 40, 20)
    values.requirements = form["requirements"]
    return ParsedForm(values, form, errors)


def form_from_input(data: FieldInput) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(data, name) for name in TEXT_FIELDS}
    for name in ("latitude", "longitude"):
        value = getattr(data, name)
        form[name] = "" if value is None else (f"{value:.10f}".rstrip("0").rstrip(".") or "0")
    for name in NUMBER_FIELDS:
        value = getattr(data, name)
        form[name] = "" if value is None else str(value)
    form["approval_required"] = data.approval_required
    form["published"] = data.published
    form["hours"] = {weekday: {"opens": "", "closes": ""} for weekday in fields.WEEKDAYS}
    for weekday, opens, closes in data.hours:
        form["hours"][weekday] = {"opens": fields.clock(opens), "closes": fields.clock(closes)}
    form["requirements"] = list(data.requirements)
    return form


def _save_errors(parsed: ParsedForm) -> dict[str, str]:
    """The service's errors and the unreadable values together (the latter win for their fields)."""
    errors = fields.validate(parsed.data)
    for name in parsed.errors:
        errors.pop(name, None)
    return errors | parsed.errors


# --- public pages --------------------------------------------------------------------------------


def _kind_or_none(raw: str) -> FieldKind | None:
    return FieldKind(raw) if raw in {k.value for k in FieldKind} else None


def _area_or_none(raw: str) -> Area | None:
    return Area(raw) if raw in {a.value for a in Area} else None


@get("/fields", name="field-list", sync_to_thread=True)
def field_list(request: Request, db_session: DbSession, kind: FromQuery[str] = "", area: FromQuery[str] = "",
               page: FromQuery[str] = "1") -> Template:
    """Published test fields, filtered by kind and area."""
    page_number, per_page = clamp_page(page)
    chosen_kind, chosen_area = _kind_or_none(kind), _area_or_none(area)
    result = fields.public_fields_page(db_session, kind=chosen_kind, area=chosen_area, page=page_number,
                                       per_page=per_page)
    filters = {"kind": chosen_kind.value if chosen_kind else "", "area": chosen_area.value if chosen_area else ""}

    def url_for_page(number: int) -> str:
        return "/fields?" + urlencode({k: v for k, v in {**filters, "page": number}.items() if v})

    return render(request, "labs/field_list.html", {
        "page": result, "filters": filters, "kinds": list(FieldKind), "areas": list(Area),
        "url_for_page": url_for_page,
    })


def _visible_or_404(request: Request, session: Session, field_id: int) -> TestField:
    test_field = fields.visible_field(session, principal_of(request), field_id)
    if test_field is None:
        raise NotFoundException()
    return test_field


def _hours_rows(session: Session, field_id: int) -> list[dict[str, Any]]:
    by_day: dict[int, list[str]] = {}
    for row in fields.hours_of(session, field_id):
        by_day.setdefault(row.weekday, []).append(f"{fields.clock(row.opens_minute)}–{fields.clock(row.closes_minute)}")
    names = fields.weekday_names()
    return [{"weekday": weekday, "name": names[weekday], "windows": by_day.get(weekday, [])}
            for weekday in fields.WEEKDAYS]


def photo_url(photo: TestFieldPhoto) -> str:
    return f"/fields/{photo.field_id}/photos/{photo.id}"


@get("/fields/{field_id:int}", name="field-detail", sync_to_thread=True)
def field_detail(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int]) -> Template:
    """A field in full: where it is, photos, rules, hours, documents, blackouts; then other parts' sections."""
    actor = principal_of(request)
    test_field = _visible_or_404(request, db_session, field_id)
    contributed = page_sections("field", db_session, actor, test_field)
    context: dict[str, Any] = {
        "field": test_field,
        "can_manage": access.manages_field(db_session, actor, field_id),
        "photos": fields.photos_of(db_session, field_id),
        "photo_url": photo_url,
        "hours": _hours_rows(db_session, field_id),
        "rules": fields.rule_sentences(test_field),
        "requirements": fields.requirements_of(db_session, field_id),
        "blackouts": fields.blackouts_of(db_session, field_id, upcoming_only=True),
        "map_link": fields.map_link(test_field),
        "map_tile_url": settings.map_tile_url,
        "map_attribution": settings.map_attribution,
        "leaflet_images": LEAFLET_IMAGES,
        "sections": contributed,
        "follow": follows.button(db_session, actor, "test_field", field_id),
    }
    return render(request, "labs/field_detail.html", context)


@get("/fields/{field_id:int}/photos/{photo_id:int}", name="field-photo", sync_to_thread=True)
def field_photo(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                photo_id: FromPath[int]) -> File:
    found = fields.photo_for_download(db_session, settings, principal_of(request), field_id, photo_id)
    if found is None:
        raise NotFoundException()
    photo, test_field, path = found
    return File(
        path=path,
        media_type=photo.content_type,
        content_disposition_type="inline",
        headers={
            "content-disposition": content_disposition(photo.filename),
            "x-content-type-options": "nosniff",
            # A photo never changes (a new upload is a new address).
            "cache-control": IMMUTABLE_CACHE if test_field.published else "private, no-cache",
            "etag": f'"{photo.sha256}"',
        },
    )


# --- coordinators' pages -------------------------------------------------------------------------


def _options(members: list[Any], blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(m.value, m.label) for m in members]


def _form_context(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "form": form,
        "kind_options": _options(list(FieldKind), _("Choose the kind")),
        "area_options": _options(list(Area), _("Choose the area")),
        "weekday_names": fields.weekday_names(),
        "document_kinds": list(DocumentKind),
    }


def _managed_or_404(session: Session, actor: Principal, field_id: int) -> TestField:
    test_field = session.get(TestField, field_id)
    if test_field is None:
        raise NotFoundException()
    access.require_field_manager(session, actor, field_id)
    return test_field


def _edit_page(request: Request, session: Session, settings: Settings, test_field: TestField, *,
               form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               photo_form: dict[str, str] | None = None, photo_errors: dict[str, str] | None = None,
               blackout_form: dict[str, str] | None = None, blackout_errors: dict[str, str] | None = None,
               coordinator_form: dict[str, str] | None = None, coordinator_errors: dict[str, str] | None = None,
               status_code: int = 200) -> Template:
    assert test_field.id is not None
    session.refresh(test_field)  # whatever failed was rolled back: show the field as it is now
    if form is None:
        form = form_from_input(FieldInput.from_field(session, test_field))
    return render(request, "labs/field_edit.html", {
        **_form_context(form),
        "field": test_field,
        "errors": errors or {},
        "photos": fields.photos_of(session, test_field.id),
        "photo_url": photo_url,
        "file_size": file_size,
        "photo_form": photo_form or {"alt_text": ""},
        "photo_errors": photo_errors or {},
        "blackouts": fields.blackouts_of(session, test_field.id),
        "blackout_form": blackout_form or {"starts_at": "", "ends_at": "", "reason": ""},
        "blackout_errors": blackout_errors or {},
        "coordinators": fields.coordinators_of(session, test_field.id),
        "coordinator_form": coordinator_form or {"email": ""},
        "coordinator_errors": coordinator_errors or {},
        "limits": {"photos": fields.MAX_PHOTOS, "photo_mb": fields.MAX_PHOTO_BYTES // (1024 * 1024)},
        "can_assign": True,
    }, status_code=status_code)


@get("/", name="coordinate-fields", sync_to_thread=True)
def coordinate_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    """The fields I manage (site admins: all), unpublished included."""
    page_number, per_page = clamp_page(page)
    result = fields.managed_fields_page(db_session, principal_of(request), page_number, per_page)
    return render(request, "labs/field_manage_list.html", {
        "page": result, "url_for_page": lambda number: f"/coordinate/fields?page={number}",
    })


@get("/new", name="coordinate-field-new", sync_to_thread=True)
def field_new(request: Request) -> Template:
    form = form_from_input(FieldInput(hours=[(weekday, 9 * 60, 17 * 60) for weekday in range(5)]))
    return render(request, "labs/field_new.html", {**_form_context(form), "errors": {}})


@post("/new", name="coordinate-field-create", sync_to_thread=True)
def field_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    parsed = parse_field_form(data)
    try:
        if parsed.errors:
            raise Invalid(_save_errors(parsed))
        test_field = fields.create(db_session, principal_of(request), parsed.data)
    except Invalid as failed:
        db_session.rollback()
        return render(request, "labs/field_new.html", {**_form_context(parsed.form), "errors": failed.errors},
                      status_code=400)
    return after_post(request, f"/coordinate/fields/{test_field.id}/edit",
                      message=_("The test field was saved. You are its coordinator."))


@get("/{field_id:int}/edit", name="coordinate-field-edit", sync_to_thread=True)
def field_edit(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int]) -> Template:
    test_field = _managed_or_404(db_session, principal_of(request), field_id)
    return _edit_page(request, db_session, settings, test_field)


@post("/{field_id:int}/edit", name="coordinate-field-update", sync_to_thread=True)
def field_update(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    parsed = parse_field_form(data)
    try:
        if parsed.errors:
            raise Invalid(_save_errors(parsed))
        fields.update(db_session, actor, field_id, parsed.data)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, form=parsed.form, errors=failed.errors,
                          status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit", message=_("The changes were saved."))


def _upload(data: dict[str, Any]) -> UploadFile | None:
    upload = data.get("file")
    if isinstance(upload, list):
        upload = upload[0] if upload else None
    return upload if isinstance(upload, UploadFile) else None


@post("/{field_id:int}/photos", name="coordinate-field-photo-add", sync_to_thread=True)
def photo_add(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
              data: MultipartForm) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    upload = _upload(data)
    form = {"alt_text": _text(data, "alt_text", 1000)}
    try:
        fields.add_photo(db_session, settings, actor, field_id, alt_text=form["alt_text"],
                         source=upload.file if upload else None, filename=upload.filename if upload else "")
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, photo_form=form, photo_errors=failed.errors,
                          status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit#photos", message=_("The photo was added."))


@post("/{field_id:int}/photos/{photo_id:int}/delete", name="coordinate-field-photo-delete", sync_to_thread=True)
def photo_delete(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                 photo_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    try:
        fields.delete_photo(db_session, settings, actor, field_id, photo_id)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, photo_errors=failed.errors, status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit#photos", message=_("The photo was deleted."))


@post("/{field_id:int}/blackouts", name="coordinate-field-blackout-add", sync_to_thread=True)
def blackout_add(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    form = {name: _text(data, name, 1000) for name in ("starts_at", "ends_at", "reason")}
    errors: dict[str, str] = {}
    when: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at"):
        when[name] = parse_local_datetime(form[name]) if form[name].strip() else None
        if form[name].strip() and when[name] is None:
            errors[name] = _("Enter a date and time, for example 2026-12-01 10:00.")
    try:
        fields.add_blackout(db_session, actor, field_id, starts_at=when["starts_at"], ends_at=when["ends_at"],
                            reason=form["reason"], errors=errors)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, blackout_form=form,
                          blackout_errors=failed.errors, status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit#blackouts",
                      message=_("The blackout was added. The field cannot be booked then."))


@post("/{field_id:int}/blackouts/{blackout_id:int}/delete", name="coordinate-field-blackout-delete",
      sync_to_thread=True)
def blackout_delete(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                    blackout_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    try:
        fields.delete_blackout(db_session, actor, field_id, blackout_id)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, blackout_errors=failed.errors, status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit#blackouts",
                      message=_("The blackout was deleted."))


@post("/{field_id:int}/coordinators", name="coordinate-field-coordinator-add", sync_to_thread=True)
def coordinator_add(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    form = {"email": _text(data, "email", 400)}
    try:
        user = fields.assign_coordinator(db_session, actor, field_id, form["email"])
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, coordinator_form=form,
                          coordinator_errors=failed.errors, status_code=400)
    return after_post(request, f"/coordinate/fields/{field_id}/edit#coordinators",
                      message=_("%(name)s is now a coordinator of this field.", name=user.display_name))


@post("/{field_id:int}/coordinators/{user_id:int}/remove", name="coordinate-field-coordinator-remove",
      sync_to_thread=True)
def coordinator_remove(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                       user_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    test_field = _managed_or_404(db_session, actor, field_id)
    try:
        removed = fields.remove_coordinator(db_session, actor, field_id, user_id)
    except Invalid as failed:
        db_session.rollback()
        return _edit_page(request, db_session, settings, test_field, coordinator_errors=failed.errors,
                          status_code=400)
    if removed.id == actor.user_id:  # stepped down: the editor is no longer theirs
        return after_post(request, f"/fields/{field_id}",
                          message=_("You are no longer a coordinator of this field."))
    return after_post(request, f"/coordinate/fields/{field_id}/edit#coordinators",
                      message=_("%(name)s is no longer a coordinator of this field.", name=removed.display_name))


# --- read API ------------------------------------------------------------------------------------


@dataclass
class FieldSummaryOut:
    id: int
    url: str
    name: str
    kind: FieldKind
    kind_label: str
    area: Area
    area_label: str
    address: str
    latitude: float | None
    longitude: float | None
    summary: str


@dataclass
class FieldListOut:
    items: list[FieldSummaryOut]
    page: PageInfo


@dataclass
class HoursOut:
    weekday: int
    """0 = Monday … 6 = Sunday."""
    opens: str
    """Local time (Asia/Tokyo), ``HH:MM``."""
    closes: str


@dataclass
class RequirementOut:
    document: DocumentKind
    label: str


@dataclass
class BlackoutOut:
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass
class PhotoOut:
    id: int
    url: str
    alt_text: str
    content_type: str
    size_bytes: int
    sha256: str


@dataclass
class FieldOut(FieldSummaryOut):
    description: str
    """Markdown, like ``rules`` and ``cancellation_rule``."""
    rules: str
    cancellation_rule: str
    contact: str
    capacity: int | None
    min_booking_minutes: int
    max_booking_minutes: int | None
    buffer_minutes: int
    min_notice_hours: int
    max_notice_days: int | None
    approval_required: bool
    timezone: str
    hours: list[HoursOut]
    requirements: list[RequirementOut]
    upcoming_blackouts: list[BlackoutOut]
    photos: list[PhotoOut]


def _summary_fields(test_field: TestField) -> dict[str, Any]:
    assert test_field.id is not None
    return {
        "id": test_field.id, "url": f"/fields/{test_field.id}", "name": test_field.name, "kind": test_field.kind,
        "kind_label": test_field.kind.label, "area": test_field.area, "area_label": test_field.area.label,
        "address": test_field.address, "latitude": test_field.latitude, "longitude": test_field.longitude,
        "summary": test_field.summary,
    }


@get("/test-fields", name="api-test-field-list", sync_to_thread=True, tags=["test fields"],
     summary="List public test fields")
def api_field_list(
    db_session: DbSession,
    kind: Annotated[FieldKind | None, Parameter(description="Kind of field.")] = None,
    area: Annotated[Area | None, Parameter(description="One of the ward's five areas.")] = None,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> FieldListOut:
    """Published test fields by name, with the same filters as `/fields`."""
    result = fields.public_fields_page(db_session, kind=kind, area=area, page=page, per_page=per_page)

    def link(number: int) -> str:
        params = {"kind": kind.value if kind else "", "area": area.value if area else "", "page": number,
                  "per_page": result.per_page}
        return "/api/v1/test-fields?" + urlencode({k: v for k, v in params.items() if v})

    return FieldListOut(
        items=[FieldSummaryOut(**_summary_fields(f)) for f in result.items],
        page=PageInfo(page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
                      next=link(result.page + 1) if result.has_next else None,
                      previous=link(result.page - 1) if result.has_previous else None),
    )


@get("/test-fields/{field_id:int}", name="api-test-field-detail", sync_to_thread=True, tags=["test fields"],
     summary="A public test field in full")
def api_field_detail(db_session: DbSession, field_id: FromPath[int]) -> FieldOut:
    """Location, rules, weekly hours (local time), required documents, upcoming blackouts and photos.

    Unpublished fields answer 404 like unknown ids. Coordinators are not listed.
    """
    test_field = fields.visible_field(db_session, Principal.anonymous(), field_id)
    if test_field is None:
        raise NotFoundException(detail=_("This test field does not exist or is not public."))
    return FieldOut(
        **_summary_fields(test_field),
        description=test_field.description, rules=test_field.rules, cancellation_rule=test_field.cancellation_rule,
        contact=test_field.contact, capacity=test_field.capacity,
        min_booking_minutes=test_field.min_booking_minutes, max_booking_minutes=test_field.max_booking_minutes,
        buffer_minutes=test_field.buffer_minutes, min_notice_hours=test_field.min_notice_hours,
        max_notice_days=test_field.max_notice_days, approval_required=test_field.approval_required,
        timezone="Asia/Tokyo",
        hours=[HoursOut(h.weekday, fields.clock(h.opens_minute), fields.clock(h.closes_minute))
               for h in fields.hours_of(db_session, field_id)],
        requirements=[RequirementOut(d, d.label) for d in fields.requirements_of(db_session, field_id)],
        upcoming_blackouts=[BlackoutOut(b.starts_at, b.ends_at, b.reason)
                            for b in fields.blackouts_of(db_session, field_id, upcoming_only=True)],
        photos=[PhotoOut(id=p.id, url=photo_url(p), alt_text=p.alt_text, content_type=p.content_type,  # type: ignore[arg-type]
                         size_bytes=p.size_bytes, sha256=p.sha256) for p in fields.photos_of(db_session, field_id)],
    )



coordinate_router = Router(
    path="/coordinate/fields",
    guards=[has_any_role(Role.COORDINATOR, Role.ADMIN)],
    route_handlers=[coordinate_list, field_new, field_create, field_edit, field_update, photo_add, photo_delete,
                    coordinator_remove,
                    blackout_add, blackout_delete, coordinator_add],
    include_in_schema=False,
)
page_routes = Router(path="/", route_handlers=[field_list, field_detail, field_photo], include_in_schema=False)
api_routes = Router(path="/api/v1", route_handlers=[api_field_list, api_field_detail])

ROUTES: list[Any] = [page_routes, coordinate_router, api_routes]
