"""Booking pages (利用申請): organisations request, edit, submit and cancel under /bookings; the
field's managers work through /coordinate/bookings and act on the booking page. HTTP only: the rules
live in :mod:`labs.bookings`.

Every form works without JavaScript (POST, then 303; errors show the page again with 400, see
:func:`cocreate.web.forms.again_on_invalid`). The forms that act on a booking first check that the
actor may act on it (the labs policy, :mod:`labs.permissions`), so that others are told 404 or 403
whatever they sent; the booking's state is the service's to check.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import parse_id
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import content_disposition, file_size
from cocreate.web.forms import Form, Multipart, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from labs import access, bookings
from labs.models import BookingStatus, DocumentKind, TestField, Trial

LIST_PAGE = "labs/booking_list.html"
FORM_PAGE = "labs/booking_form.html"
DETAIL_PAGE = "labs/booking_detail.html"
CANCEL_PAGE = "labs/booking_cancel.html"
QUEUE_PAGE = "labs/booking_queue.html"
FIELD_SECTION = "labs/_booking_field_section.html"
TRIAL_SECTION = "labs/_booking_trial_section.html"
FORM_FIELDS = ("field_id", "organisation_id", "trial_id", "title", "purpose", "public_description",
               "expected_people", "equipment")
"""The request form's fields but its periods (the page shows each of them)."""
ROW_TEXT = 40
"""A period's start or end is shown again cut to this many characters."""


# --- sections of the field and trial pages -------------------------------------------------------


def field_section(session: Session, actor: Principal, field: TestField) -> tuple[str, dict[str, Any]] | None:
    """A "request this field" link for members of verified organisations, and how booking works."""
    if not field.published:
        return None
    organisations = bookings.my_organisations(session, actor) if actor.user_id is not None else []
    return FIELD_SECTION, {"field": field, "requesting": access.new_booking(organisations)}


def trial_section(session: Session, actor: Principal, trial: Trial) -> tuple[str, dict[str, Any]] | None:
    """The trial's approved bookings with their dates (public: title, field and dates only)."""
    assert trial.id is not None
    items = bookings.trial_bookings(session, trial.id)
    if not items:
        return None
    return TRIAL_SECTION, {"trial": trial, "bookings": items, "local": bookings.to_local}


# --- helpers -------------------------------------------------------------------------------------


def _padded(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The typed rows and blank ones up to the form's size (at least one blank row to add a period)."""
    wanted = min(bookings.MAX_PERIODS, max(bookings.FORM_ROWS, len(rows) + 1))
    return [(start[:ROW_TEXT], end[:ROW_TEXT]) for start, end in rows] + [("", "")] * (wanted - len(rows))


def _booking_page(request: Request, booking_id: int | None, fragment: str = "") -> str:
    """The booking's page (at ``fragment``): where its forms come back to."""
    return request.app.route_reverse("booking-detail", booking_id=booking_id) + fragment


def _status_options() -> list[tuple[str, str]]:
    return [("", _("Every status"))] + [(s.value, s.label) for s in BookingStatus]


# --- the organisation's pages --------------------------------------------------------------------


@get("/bookings", name="booking-list", guards=[signed_in], sync_to_thread=True)
def booking_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1",
                 status: FromQuery[str] = "") -> Template:
    actor = principal_of(request)
    number, size = clamp_page(page)
    status = status if status in {s.value for s in BookingStatus} else ""
    result = bookings.my_bookings(db_session, actor, number, size, status)
    requesting = access.new_booking(bookings.my_organisations(db_session, actor))
    base = request.app.route_reverse("booking-list")

    def url_for_page(n: int) -> str:
        return base + "?" + urlencode({k: v for k, v in {"status": status, "page": n}.items() if v})

    return render(request, LIST_PAGE, {"page": result, "status": status, "status_options": _status_options(),
                                       "url_for_page": url_for_page, "requesting": requesting,
                                       "local": bookings.to_local})


def _form_page(request: Request, db_session: Session, form: dict[str, Any], rows: list[tuple[str, str]], *,
               booking: Any = None, errors: dict[str, str] | None = None) -> Template:
    """The request form with ``form`` (the fields as typed) and ``rows`` (the periods as typed)."""
    actor = principal_of(request)
    organisations = bookings.my_organisations(db_session, actor)
    org_ids = {o.id for o in organisations if o.id is not None}
    field_options = [("", _("Choose a test field"))] + [(str(i), n) for i, n in bookings.bookable_fields(db_session)]
    organisation_options = [(str(o.id), o.name) for o in organisations]
    if len(organisation_options) > 1:
        organisation_options.insert(0, ("", _("Choose your organisation")))
    trial_options = [("", _("No trial"))] + [(str(i), t) for i, t in bookings.trials_of(db_session, org_ids)]
    field_row = None
    field_id = booking.field_id if booking is not None else parse_id(form.get("field_id"))
    if field_id:
        field_row = db_session.get(TestField, field_id)
    return render(request, FORM_PAGE, {
        "form": dict.fromkeys(FORM_FIELDS, "") | form, "booking": booking, "errors": errors or {},
        "rows": _padded(rows), "field_options": field_options, "organisation_options": organisation_options,
        "trial_options": trial_options, "field": field_row,
        "hours_text": bookings.hours_text(db_session, field_row.id) if field_row else "",
        "requesting": access.new_booking(organisations),  # the submit button for members of a verified one
        "max_title": bookings.MAX_TITLE, "max_text": bookings.MAX_TEXT,
    })


@get("/bookings/new", name="booking-new", guards=[signed_in], sync_to_thread=True)
def booking_new(request: Request, db_session: DbSession, field_id: FromQuery[str] = "") -> Template:
    actor = principal_of(request)
    bookings.require_any_membership(db_session, actor)
    organisations = bookings.my_organisations(db_session, actor)
    form = {"field_id": field_id[:20], "organisation_id": str(organisations[0].id) if len(organisations) == 1 else ""}
    return _form_page(request, db_session, form, [])


def _after_save(request: Request, saved: bookings.Saved, submitted: bool) -> Redirect | Template:
    booking = saved.booking
    if submitted:
        message = (_("The request has been approved: this field needs no review.")
                   if booking.status is BookingStatus.APPROVED
                   else _("The request has been submitted. The field's coordinators will review it."))
    elif saved.problems:
        message = _("Saved as a draft. Fix the problems shown before submitting.")
    else:
        message = _("Saved as a draft.")
    return after_post(request, _booking_page(request, booking.id), message=message,
                      category="warning" if saved.problems and not submitted else "success")


def _create_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  data: dict[str, Any], **_kwargs: Any) -> Template:
    return _form_page(request, db_session, form, bookings.typed_rows(data), errors=failed.errors)


@post("/bookings/new", name="booking-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_create_again)
def booking_create(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.require_any_membership(db_session, actor)
    form = bookings.BookingForm.parse(data)
    saved = bookings.save(db_session, settings, actor, form, submit=form.submit)
    return _after_save(request, saved, form.submit)


def _detail_page(request: Request, db_session: Session, booking_id: int, *, errors: dict[str, str] | None = None,
                 typed: dict[str, Any] | None = None, rows: list[tuple[str, str]] | None = None) -> Template:
    """The booking's page; after a refused form, with its errors, what was typed (``note``, ``reason``)
    and the rows of periods typed for rescheduling."""
    found = bookings.detail(db_session, principal_of(request), booking_id)
    stored = [(bookings.local_input(p.starts_at), bookings.local_input(p.ends_at)) for p in found.periods]
    typed = typed or {}
    return render(request, DETAIL_PAGE, {
        "d": found, "errors": errors or {}, "note": typed.get("note", ""), "reason": typed.get("reason", ""),
        "reschedule_rows": _padded(stored if rows is None else rows), "local": bookings.to_local,
        "document_kinds": [(k.value, k.label) for k in DocumentKind], "file_size": file_size,
        "max_mb": bookings.MAX_FILE_BYTES // (1024 * 1024),
    })


def _detail_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  booking_id: int, **kwargs: Any) -> Template:
    """A form of the booking's page refused: the page again with the errors and what was typed."""
    data = kwargs.get("data")
    rows = bookings.typed_rows(data) if isinstance(data, dict) and any(
        str(key).startswith("period-") for key in data) else None
    return _detail_page(request, db_session, booking_id, errors=failed.errors, typed=form, rows=rows)


@get("/bookings/{booking_id:int}", name="booking-detail", guards=[signed_in], sync_to_thread=True)
def booking_detail(request: Request, db_session: DbSession, booking_id: FromPath[int]) -> Template:
    return _detail_page(request, db_session, booking_id)


def _as_member(actor: Principal, action: str, found: bookings.Detail) -> permissions.Decision:
    """Whether the reader may do ``action`` to the booking; people who never may (the field's managers,
    say) are told it does not exist here."""
    decision = permissions.can(actor, action, found.target)
    if not decision and decision.field is None:
        raise NotFound()
    return decision


@get("/bookings/{booking_id:int}/edit", name="booking-edit", guards=[signed_in], sync_to_thread=True)
def booking_edit(request: Request, db_session: DbSession, booking_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    found = bookings.detail(db_session, actor, booking_id)
    editing = _as_member(actor, "booking.edit", found)
    if not editing:
        return after_post(request, _booking_page(request, booking_id), category="warning", message=editing.reason)
    form, rows = bookings.form_values(found.booking, found.periods)
    return _form_page(request, db_session, form, rows, booking=found.booking, errors=found.problems)


def _update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  booking_id: int, data: dict[str, Any], **_kwargs: Any) -> Template:
    booking = bookings.detail(db_session, principal_of(request), booking_id).booking
    return _form_page(request, db_session, form, bookings.typed_rows(data), booking=booking, errors=failed.errors)


@post("/bookings/{booking_id:int}/edit", name="booking-update", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_update_again)
def booking_update(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    actor = principal_of(request)
    _as_member(actor, "booking.edit", bookings.detail(db_session, actor, booking_id))
    form = bookings.BookingForm.parse(data)
    saved = bookings.save(db_session, settings, actor, form, booking_id=booking_id, submit=form.submit)
    return _after_save(request, saved, form.submit)


@post("/bookings/{booking_id:int}/submit", name="booking-submit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def booking_submit(request: Request, db_session: DbSession, settings: AppSettings,
                   booking_id: FromPath[int]) -> Template | Redirect:
    booking = bookings.submit(db_session, settings, principal_of(request), booking_id)
    return _after_save(request, bookings.Saved(booking, {}), True)


def _cancel_page(request: Request, db_session: Session, booking_id: int, *, reason: str = "",
                 errors: dict[str, str] | None = None) -> Template:
    actor = principal_of(request)
    found = bookings.detail(db_session, actor, booking_id)
    _as_member(actor, "booking.cancel", found)
    return render(request, CANCEL_PAGE, {"d": found, "reason": reason, "errors": errors or {},
                                         "local": bookings.to_local, "max_note": bookings.MAX_NOTE})


def _cancel_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  booking_id: int, **_kwargs: Any) -> Template:
    return _cancel_page(request, db_session, booking_id, reason=form.get("reason", ""), errors=failed.errors)


@get("/bookings/{booking_id:int}/cancel", name="booking-cancel-form", guards=[signed_in], sync_to_thread=True)
def booking_cancel_form(request: Request, db_session: DbSession, booking_id: FromPath[int]) -> Template:
    return _cancel_page(request, db_session, booking_id)


@post("/bookings/{booking_id:int}/cancel", name="booking-cancel", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_cancel_again)
def booking_cancel(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_member(db_session, actor, booking_id, "booking.cancel")
    bookings.cancel(db_session, settings, actor, booking_id, bookings.CancelForm.parse(data))
    return after_post(request, _booking_page(request, booking_id), message=_("The request has been cancelled."))


# --- documents -----------------------------------------------------------------------------------


@post("/bookings/{booking_id:int}/documents", name="booking-document-add", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def document_add(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                 data: Multipart) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_member(db_session, actor, booking_id, "booking.upload_document")
    form = bookings.DocumentForm.parse(data)
    document = bookings.add_document(db_session, settings, actor, booking_id, kind=form.document,
                                     source=form.file.file, filename=form.file.filename)
    return after_post(request, _booking_page(request, booking_id, "#documents"),
                      message=_("“%(name)s” was uploaded.", name=document.filename))


@post("/bookings/{booking_id:int}/documents/{document_id:int}/delete", name="booking-document-delete",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def document_delete(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                    document_id: FromPath[int]) -> Template | Redirect:
    bookings.delete_document(db_session, settings, principal_of(request), booking_id, document_id)
    return after_post(request, _booking_page(request, booking_id, "#documents"), message=_("The document was deleted."))


@get("/bookings/{booking_id:int}/documents/{document_id:int}", name="booking-document", guards=[signed_in],
     sync_to_thread=True)
def document_download(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                      document_id: FromPath[int]) -> File:
    found = bookings.for_download(db_session, settings, principal_of(request), booking_id, document_id)
    if found is None:
        raise NotFound()
    document, path = found
    return File(path=path, media_type=document.content_type, content_disposition_type="inline", headers={
        "content-disposition": content_disposition(document.filename),
        "x-content-type-options": "nosniff",
        "cache-control": "private, no-store",
        "etag": f'"{document.sha256}"',
    })


# --- the field's managers ------------------------------------------------------------------------


@get("/coordinate/bookings", name="booking-queue", sync_to_thread=True)
def booking_queue(request: Request, db_session: DbSession, page: FromQuery[str] = "1",
                  status: FromQuery[str] = bookings.PENDING_FILTER, field_id: FromQuery[str] = "") -> Template:
    actor = principal_of(request)
    number, size = clamp_page(page)
    fields = bookings.managed_fields(db_session, actor)
    chosen = parse_id(field_id)
    chosen = chosen if chosen in {i for i, _n in fields} else None
    valid = {bookings.PENDING_FILTER, bookings.ALL_FILTER} | {s.value for s in BookingStatus if s is not BookingStatus.DRAFT}
    status = status if status in valid else bookings.PENDING_FILTER
    result = bookings.queue(db_session, actor, number, size, status=status, field_id=chosen)
    base = request.app.route_reverse("booking-queue")

    def url_for_page(n: int) -> str:
        query = {"status": status, "field_id": chosen or "", "page": n}
        return base + "?" + urlencode({k: v for k, v in query.items() if v})

    status_options = [(bookings.PENDING_FILTER, _("Waiting for review")), (bookings.ALL_FILTER, _("Every status"))] + [
        (s.value, s.label) for s in BookingStatus if s is not BookingStatus.DRAFT]
    field_options = [("", _("Every field I manage"))] + [(str(i), n) for i, n in fields]
    return render(request, QUEUE_PAGE, {"page": result, "status": status, "field_id": str(chosen or ""),
                                        "status_options": status_options, "field_options": field_options,
                                        "url_for_page": url_for_page, "local": bookings.to_local})


def _done(request: Request, booking_id: int, message: str) -> Redirect | Template:
    return after_post(request, _booking_page(request, booking_id), message=message)


@post("/{booking_id:int}/review", name="booking-review", sync_to_thread=True)
@again_on_invalid(_detail_again)
def review(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int]) -> Template | Redirect:
    bookings.start_review(db_session, settings, principal_of(request), booking_id)
    return _done(request, booking_id, _("The request is now under review."))


@post("/{booking_id:int}/request-changes", name="booking-request-changes", sync_to_thread=True)
@again_on_invalid(_detail_again)
def request_changes(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_manager(db_session, actor, booking_id, "booking.request_changes")
    bookings.request_changes(db_session, settings, actor, booking_id, bookings.ChangesForm.parse(data))
    return _done(request, booking_id, _("The organisation has been asked to change the request."))


@post("/{booking_id:int}/approve", name="booking-approve", sync_to_thread=True)
@again_on_invalid(_detail_again)
def approve(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
            data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_manager(db_session, actor, booking_id, "booking.approve")
    bookings.approve(db_session, settings, actor, booking_id, bookings.ApproveForm.parse(data))
    return _done(request, booking_id, _("The booking has been approved. Residents nearby are being told."))


@post("/{booking_id:int}/reject", name="booking-reject", sync_to_thread=True)
@again_on_invalid(_detail_again)
def reject(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
           data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_manager(db_session, actor, booking_id, "booking.reject")
    bookings.reject(db_session, settings, actor, booking_id, bookings.RejectForm.parse(data))
    return _done(request, booking_id, _("The request has been rejected."))


@post("/{booking_id:int}/reschedule", name="booking-reschedule", sync_to_thread=True)
@again_on_invalid(_detail_again)
def reschedule(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
               data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_manager(db_session, actor, booking_id, "booking.reschedule")
    bookings.reschedule(db_session, settings, actor, booking_id, bookings.RescheduleForm.parse(data))
    return _done(request, booking_id,
                 _("The booking has been moved. The organisation and residents nearby are being told."))


@post("/{booking_id:int}/cancel", name="booking-manager-cancel", sync_to_thread=True)
@again_on_invalid(_detail_again)
def manager_cancel(request: Request, db_session: DbSession, settings: AppSettings, booking_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    actor = principal_of(request)
    bookings.for_manager(db_session, actor, booking_id, "booking.manager_cancel")
    bookings.manager_cancel(db_session, settings, actor, booking_id, bookings.CancelForm.parse(data))
    return _done(request, booking_id, _("The booking has been cancelled."))


coordinate_router = Router(path="/coordinate/bookings", guards=[has_any_role(Role.COORDINATOR, Role.ADMIN)],
                           route_handlers=[review, request_changes, approve, reject, reschedule, manager_cancel],
                           include_in_schema=False)

ROUTES: list[Any] = [
    Router(path="/", guards=[has_any_role(Role.COORDINATOR, Role.ADMIN)], route_handlers=[booking_queue],
           include_in_schema=False),
    Router(path="/", route_handlers=[booking_list, booking_new, booking_create, booking_detail, booking_edit,
                                     booking_update, booking_submit, booking_cancel_form, booking_cancel,
                                     document_add, document_delete, document_download], include_in_schema=False),
    coordinate_router,
]
