"""Test field pages: the public list and page, photos, the coordinators' editor and the read API.

Routes parse forms and choose pages; :mod:`labs.fields` owns the transactions. Every /coordinate page
needs the coordinator role (or site admin); the routes (before they read a form) and the services ask
the labs policy whether the actor manages the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of, require_signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Flag, as_text
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition, file_size
from cocreate.web.forms import Form, Multipart, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.links import route_path
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo, clamp_page
from cocreate.web.sections import page_sections
from labs import access, fields
from labs.models import Area, DocumentKind, FieldKind, TestField

TEXT_FIELDS = ("name", "kind", "area", "address", "summary", "description", "rules", "cancellation_rule", "contact")
NUMBER_FIELDS = ("capacity", "min_booking_minutes", "max_booking_minutes", "buffer_minutes", "min_notice_hours",
                 "max_notice_days")
LEAFLET_IMAGES = "/static/js/vendor/leaflet-1.9.4/images/"


# --- the field form's values, as shown -----------------------------------------------------------


def _degrees(value: float | None) -> str:
    return "" if value is None else (f"{value:.10f}".rstrip("0").rstrip(".") or "0")


def _shown_form(data: dict[str, Any]) -> dict[str, Any]:
    """What was sent, to show in the form again beside its errors (the strings as typed)."""
    form: dict[str, Any] = {name: as_text(data.get(name)) for name in (*TEXT_FIELDS, "latitude", "longitude",
                                                                        *NUMBER_FIELDS)}
    form["approval_required"] = Flag().parse(data.get("approval_required"))
    form["published"] = Flag().parse(data.get("published"))
    form["hours"] = {weekday: {part: as_text(data.get(f"hours-{weekday}-{part}")) for part in ("opens", "closes")}
                     for weekday in fields.WEEKDAYS}
    requirements = data.get("requirements", [])
    form["requirements"] = [as_text(r) for r in (requirements if isinstance(requirements, list) else [requirements])]
    return form


def _form_of(session: Session, test_field: TestField | None) -> dict[str, Any]:
    """A saved field's values in the form (a new field: Mon–Fri 9:00–17:00, an hour's booking at least)."""
    if test_field is None:
        return _shown_form({"min_booking_minutes": "60", "buffer_minutes": "0", "min_notice_hours": "0",
                            "approval_required": "yes",
                            **{f"hours-{day}-{part}": time for day in range(5)
                               for part, time in (("opens", "09:00"), ("closes", "17:00"))}})
    assert test_field.id is not None
    form: dict[str, Any] = {name: getattr(test_field, name) for name in TEXT_FIELDS}
    form["kind"], form["area"] = test_field.kind.value, test_field.area.value
    form["latitude"], form["longitude"] = _degrees(test_field.latitude), _degrees(test_field.longitude)
    for name in NUMBER_FIELDS:
        value = getattr(test_field, name)
        form[name] = "" if value is None else str(value)
    form["approval_required"], form["published"] = test_field.approval_required, test_field.published
    form["hours"] = {weekday: {"opens": "", "closes": ""} for weekday in fields.WEEKDAYS}
    for row in fields.hours_of(session, test_field.id):
        form["hours"][row.weekday] = {"opens": fields.clock(row.opens_minute), "closes": fields.clock(row.closes_minute)}
    form["requirements"] = [d.value for d in fields.requirements_of(session, test_field.id)]
    return form


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
    base = request.app.route_reverse("field-list")

    def url_for_page(number: int) -> str:
        return base + "?" + urlencode({k: v for k, v in {**filters, "page": number}.items() if v})

    return render(request, "labs/field_list.html", {
        "page": result, "filters": filters, "kinds": list(FieldKind), "areas": list(Area),
        "url_for_page": url_for_page,
    })


def _visible_or_404(request: Request, session: Session, field_id: int) -> tuple[TestField, access.OnField]:
    """The field and its facts for the reader, if they may see it."""
    actor = principal_of(request)
    test_field = session.get(TestField, field_id)
    facts = access.on_field(session, actor, field_id, published=test_field is not None and test_field.published,
                            actions=("field.see", "field.edit"))  # the page offers its managers the editor
    if test_field is None or not permissions.can(actor, "field.see", facts):
        raise NotFound()
    return test_field, facts


def _hours_rows(session: Session, field_id: int) -> list[dict[str, Any]]:
    by_day: dict[int, list[str]] = {}
    for row in fields.hours_of(session, field_id):
        by_day.setdefault(row.weekday, []).append(f"{fields.clock(row.opens_minute)}–{fields.clock(row.closes_minute)}")
    names = fields.weekday_names()
    return [{"weekday": weekday, "name": names[weekday], "windows": by_day.get(weekday, [])}
            for weekday in fields.WEEKDAYS]


@get("/fields/{field_id:int}", name="field-detail", sync_to_thread=True)
def field_detail(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int]) -> Template:
    """A field in full: where it is, photos, rules, hours, documents, blackouts; then other parts' sections."""
    actor = principal_of(request)
    test_field, facts = _visible_or_404(request, db_session, field_id)
    contributed = page_sections("field", db_session, actor, test_field)
    context: dict[str, Any] = {
        "field": test_field,
        "facts": facts,
        "photos": fields.photos_of(db_session, field_id),
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
        raise NotFound()
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


def _managed_or_404(session: Session, actor: Principal, field_id: int, action: str = "field.edit") -> TestField:
    """The field, if the actor may do ``action`` to it (asked before a form is read)."""
    test_field = session.get(TestField, field_id)
    if test_field is None:
        raise NotFound()
    require_signed_in(actor)
    permissions.require(actor, action, access.on_field(session, actor, field_id, published=test_field.published,
                                                       actions=(action,)))
    return test_field


def _edit_page(request: Request, session: Session, test_field: TestField, *,
               form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               photo_form: dict[str, str] | None = None, photo_errors: dict[str, str] | None = None,
               blackout_form: dict[str, str] | None = None, blackout_errors: dict[str, str] | None = None,
               coordinator_form: dict[str, str] | None = None, coordinator_errors: dict[str, str] | None = None,
               ) -> Template:
    assert test_field.id is not None
    return render(request, "labs/field_edit.html", {
        **_form_context(form or _form_of(session, test_field)),
        "field": test_field,
        "errors": errors or {},
        "photos": fields.photos_of(session, test_field.id),
        "file_size": file_size,
        "photo_form": photo_form or {"alt_text": ""},
        "photo_errors": photo_errors or {},
        "blackouts": fields.blackouts_of(session, test_field.id),
        "blackout_delete_url": route_path(request.app, "coordinate-field-blackout-delete"),
        "blackout_form": blackout_form or {"starts_at": "", "ends_at": "", "reason": ""},
        "blackout_errors": blackout_errors or {},
        "coordinators": fields.coordinators_of(session, test_field.id),
        "coordinator_form": coordinator_form or {"email": ""},
        "coordinator_errors": coordinator_errors or {},
        "limits": {"photos": fields.MAX_PHOTOS, "photo_mb": fields.MAX_PHOTO_BYTES // (1024 * 1024)},
    })


def _edit_again(part: str, names: tuple[str, ...] = ()) -> Any:
    """Show the editor again with the errors of one of its forms: ``part`` is ``field`` (the field's
    own form) or ``photo``, ``blackout``, ``coordinator`` (with the ``names`` of that form's fields)."""

    def show(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, field_id: int,
             data: dict[str, Any] | None = None, **_kwargs: Any) -> Template:
        # The unit of work has rolled back: the field is read again, as it is now.
        test_field = _managed_or_404(db_session, principal_of(request), field_id)
        if part == "field":
            return _edit_page(request, db_session, test_field, form=_shown_form(data or {}), errors=failed.errors)
        typed = {name: form.get(name, "") for name in names}
        return _edit_page(request, db_session, test_field,
                          **{f"{part}_form": typed or None, f"{part}_errors": failed.errors})  # type: ignore[arg-type]

    return show


def _editor(request: Request, field_id: int, fragment: str = "") -> str:
    """The field's editor, at ``fragment`` (``#photos``, say): where its forms come back to."""
    return request.app.route_reverse("coordinate-field-edit", field_id=field_id) + fragment


def _new_again(failed: Invalid, form: dict[str, Any], *, request: Request, data: dict[str, Any],
               **_kwargs: Any) -> Template:
    return render(request, "labs/field_new.html", {**_form_context(_shown_form(data)), "errors": failed.errors})


@get("/", name="coordinate-fields", sync_to_thread=True)
def coordinate_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    """The fields I manage (site admins: all), unpublished included."""
    page_number, per_page = clamp_page(page)
    result = fields.managed_fields_page(db_session, principal_of(request), page_number, per_page)
    base = request.app.route_reverse("coordinate-fields")
    return render(request, "labs/field_manage_list.html", {
        "page": result, "url_for_page": lambda number: f"{base}?page={number}",
    })


@get("/new", name="coordinate-field-new", sync_to_thread=True)
def field_new(request: Request, db_session: DbSession) -> Template:
    return render(request, "labs/field_new.html", {**_form_context(_form_of(db_session, None)), "errors": {}})


@post("/new", name="coordinate-field-create", sync_to_thread=True)
@again_on_invalid(_new_again)
def field_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    test_field = fields.create(db_session, principal_of(request), fields.FieldForm.parse(data))
    return after_post(request, request.app.route_reverse("coordinate-field-edit", field_id=test_field.id),
                      message=_("The test field was saved. You are its coordinator."))


@get("/{field_id:int}/edit", name="coordinate-field-edit", sync_to_thread=True)
def field_edit(request: Request, db_session: DbSession, field_id: FromPath[int]) -> Template:
    test_field = _managed_or_404(db_session, principal_of(request), field_id)
    return _edit_page(request, db_session, test_field)


@post("/{field_id:int}/edit", name="coordinate-field-update", sync_to_thread=True)
@again_on_invalid(_edit_again("field"))
def field_update(request: Request, db_session: DbSession, field_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id)
    fields.update(db_session, actor, field_id, fields.FieldForm.parse(data))
    return after_post(request, _editor(request, field_id), message=_("The changes were saved."))


@post("/{field_id:int}/photos", name="coordinate-field-photo-add", sync_to_thread=True)
@again_on_invalid(_edit_again("photo", ("alt_text",)))
def photo_add(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
              data: Multipart) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id)
    fields.add_photo(db_session, settings, actor, field_id, fields.PhotoForm.parse(data))
    return after_post(request, _editor(request, field_id, "#photos"), message=_("The photo was added."))


@post("/{field_id:int}/photos/{photo_id:int}/delete", name="coordinate-field-photo-delete", sync_to_thread=True)
@again_on_invalid(_edit_again("photo"))
def photo_delete(request: Request, db_session: DbSession, settings: AppSettings, field_id: FromPath[int],
                 photo_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id)
    fields.delete_photo(db_session, settings, actor, field_id, photo_id)
    return after_post(request, _editor(request, field_id, "#photos"), message=_("The photo was deleted."))


@post("/{field_id:int}/blackouts", name="coordinate-field-blackout-add", sync_to_thread=True)
@again_on_invalid(_edit_again("blackout", ("starts_at", "ends_at", "reason")))
def blackout_add(request: Request, db_session: DbSession, field_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id, "field.manage_blackouts")
    fields.add_blackout(db_session, actor, field_id, fields.BlackoutForm.parse(data))
    return after_post(request, _editor(request, field_id, "#blackouts"),
                      message=_("The blackout was added. The field cannot be booked then."))


@post("/{field_id:int}/blackouts/{blackout_id:int}/delete", name="coordinate-field-blackout-delete",
      sync_to_thread=True)
@again_on_invalid(_edit_again("blackout"))
def blackout_delete(request: Request, db_session: DbSession, field_id: FromPath[int],
                    blackout_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id, "field.manage_blackouts")
    fields.delete_blackout(db_session, actor, field_id, blackout_id)
    return after_post(request, _editor(request, field_id, "#blackouts"),
                      message=_("The blackout was deleted."))


@post("/{field_id:int}/coordinators", name="coordinate-field-coordinator-add", sync_to_thread=True)
@again_on_invalid(_edit_again("coordinator", ("email",)))
def coordinator_add(request: Request, db_session: DbSession, field_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id, "field.manage_coordinators")
    user = fields.assign_coordinator(db_session, actor, field_id, fields.CoordinatorForm.parse(data))
    return after_post(request, _editor(request, field_id, "#coordinators"),
                      message=_("%(name)s is now a coordinator of this field.", name=user.display_name))


@post("/{field_id:int}/coordinators/{user_id:int}/remove", name="coordinate-field-coordinator-remove",
      sync_to_thread=True)
@again_on_invalid(_edit_again("coordinator"))
def coordinator_remove(request: Request, db_session: DbSession, field_id: FromPath[int],
                       user_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    _managed_or_404(db_session, actor, field_id, "field.manage_coordinators")
    removed = fields.remove_coordinator(db_session, actor, field_id, user_id)
    if removed.id == actor.user_id:  # stepped down: the editor is no longer theirs
        return after_post(request, request.app.route_reverse("field-detail", field_id=field_id),
                          message=_("You are no longer a coordinator of this field."))
    return after_post(request, _editor(request, field_id, "#coordinators"),
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


def _summary_fields(request: Request, test_field: TestField) -> dict[str, Any]:
    assert test_field.id is not None
    return {
        "id": test_field.id, "url": request.app.route_reverse("field-detail", field_id=test_field.id),
        "name": test_field.name, "kind": test_field.kind,
        "kind_label": test_field.kind.label, "area": test_field.area, "area_label": test_field.area.label,
        "address": test_field.address, "latitude": test_field.latitude, "longitude": test_field.longitude,
        "summary": test_field.summary,
    }


@get("/test-fields", name="api-test-field-list", sync_to_thread=True, tags=["test fields"],
     summary="List public test fields")
def api_field_list(
    request: Request,
    db_session: DbSession,
    kind: Annotated[FieldKind | None, Parameter(description="Kind of field.")] = None,
    area: Annotated[Area | None, Parameter(description="One of the ward's five areas.")] = None,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> FieldListOut:
    """Published test fields by name, with the same filters as `/fields`."""
    result = fields.public_fields_page(db_session, kind=kind, area=area, page=page, per_page=per_page)
    base = request.app.route_reverse("api-test-field-list")

    def link(number: int) -> str:
        params = {"kind": kind.value if kind else "", "area": area.value if area else "", "page": number,
                  "per_page": result.per_page}
        return base + "?" + urlencode({k: v for k, v in params.items() if v})

    return FieldListOut(
        items=[FieldSummaryOut(**_summary_fields(request, f)) for f in result.items],
        page=PageInfo(page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
                      next=link(result.page + 1) if result.has_next else None,
                      previous=link(result.page - 1) if result.has_previous else None),
    )


@get("/test-fields/{field_id:int}", name="api-test-field-detail", sync_to_thread=True, tags=["test fields"],
     summary="A public test field in full")
def api_field_detail(request: Request, db_session: DbSession, field_id: FromPath[int]) -> FieldOut:
    """Location, rules, weekly hours (local time), required documents, upcoming blackouts and photos.

    Unpublished fields answer 404 like unknown ids. Coordinators are not listed.
    """
    test_field = fields.visible_field(db_session, Principal.anonymous(), field_id)
    if test_field is None:
        raise NotFound(_("This test field does not exist or is not public."))
    return FieldOut(
        **_summary_fields(request, test_field),
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
        photos=[PhotoOut(id=p.id, alt_text=p.alt_text, content_type=p.content_type,  # type: ignore[arg-type]
                         url=request.app.route_reverse("field-photo", field_id=field_id, photo_id=p.id),
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
