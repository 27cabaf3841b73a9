"""The documents of a booking request (insurance, safety plan, …): uploaded by the organisation's
members while the request is editable, seen by them and by the field's managers only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, func, select

from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from labs.bookings.permissions import NotFound, for_member, locked, visible_booking
from labs.bookings.states import EDITABLE
from labs.models import BookingDocument, DocumentKind

log = logging.getLogger(__name__)

MAX_DOCUMENTS = 20
MAX_FILE_BYTES = 10 * 1024 * 1024
STORAGE_FOLDER = "bookings"


def path_of(settings: Settings, document: BookingDocument) -> Path:
    return storage.stored_path(settings, document.storage_key, STORAGE_FOLDER)


def documents_of(session: Session, booking_id: int) -> list[BookingDocument]:
    return list(session.exec(select(BookingDocument).where(BookingDocument.booking_id == booking_id)
                             .order_by(col(BookingDocument.created_at), col(BookingDocument.id))).all())


def add_document(session: Session, settings: Settings, actor: Principal, booking_id: int, *, kind: str,
                 source: BinaryIO | None, filename: str) -> BookingDocument:
    """Upload a document of the request (the organisation's members, while editable; commits)."""
    user = require_signed_in(actor)
    booking = for_member(session, actor, booking_id)
    if booking.status not in EDITABLE:
        session.rollback()
        raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                          "changes are requested.")})
    session.rollback()  # hold no transaction while the file is copied
    errors: dict[str, str] = {}
    if kind not in {k.value for k in DocumentKind}:
        errors["document"] = _("Choose which document this is.")
    received = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = storage.receive(settings, source, MAX_FILE_BYTES, folder=STORAGE_FOLDER)
        except Invalid as failed:
            errors.update(failed.errors)
    if errors:
        if received is not None:
            storage.remove_file(received.path)
        raise Invalid(errors)
    assert received is not None
    try:
        _field_row, booking = locked(session, booking_id)
        count = session.exec(select(func.count()).select_from(BookingDocument).where(
            BookingDocument.booking_id == booking_id)).one()
        if booking.status not in EDITABLE:
            raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                              "changes are requested.")})
        if count >= MAX_DOCUMENTS:
            raise Invalid({"file": _("A request can have at most %(max)s documents. Delete one first.",
                                              max=MAX_DOCUMENTS)})
        document = BookingDocument(booking_id=booking_id, document=DocumentKind(kind),
                                   filename=storage.clean_filename(filename, received.file_type),
                                   content_type=received.file_type.content_type, size_bytes=received.size_bytes,
                                   sha256=received.sha256, storage_key=received.storage_key, uploaded_by_id=user.id)
        session.add(document)
        session.commit()
    except BaseException:
        session.rollback()
        storage.remove_file(received.path)
        raise
    return document


def delete_document(session: Session, settings: Settings, actor: Principal, booking_id: int,
                    document_id: int) -> None:
    booking = for_member(session, actor, booking_id)
    document = session.get(BookingDocument, document_id)
    if document is None or document.booking_id != booking_id:
        session.rollback()
        raise NotFound()
    if booking.status not in EDITABLE:
        session.rollback()
        raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                          "changes are requested.")})
    path = path_of(settings, document)
    session.delete(document)
    session.commit()
    storage.remove_file(path)


def for_download(session: Session, settings: Settings, actor: Principal, booking_id: int,
                 document_id: int) -> tuple[BookingDocument, Path] | None:
    """The document and its file for the organisation's members and the field's managers only."""
    try:
        visible_booking(session, actor, booking_id)
    except NotFound:
        return None
    document = session.get(BookingDocument, document_id)
    if document is None or document.booking_id != booking_id:
        return None
    path = path_of(settings, document)
    if not path.is_file():
        log.error("booking document %s has no file at %s", document_id, path)
        return None
    return document, path
