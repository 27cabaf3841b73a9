"""The documents of a booking request (insurance, safety plan, …): uploaded by the organisation's
members while the request is editable (``booking.upload_document``), seen by whoever sees the request
(``booking.see``: them and the field's managers)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, func, select

from cocreate import permissions
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import unit_of_work
from cocreate.errors import Invalid, NotFound
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from labs.bookings.access import for_member, locked, visible_booking
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


def add_document(session: Session, settings: Settings, actor: Principal, booking_id: int, *, kind: DocumentKind,
                 source: BinaryIO, filename: str) -> BookingDocument:
    """Upload a document of the request (the organisation's members, while it is editable).

    The file is received between two units of work, so that no transaction is held while it is copied;
    the second one checks again under the booking's lock, and the copy is removed when it refuses.
    """
    with unit_of_work(session):
        user_id = require_signed_in(actor).id
        _booking, target = for_member(session, actor, booking_id, "booking.upload_document")
        permissions.require(actor, "booking.upload_document", target)
    received = storage.receive(settings, source, MAX_FILE_BYTES, folder=STORAGE_FOLDER)
    try:
        with unit_of_work(session):
            _field_row, booking = locked(session, booking_id)
            count = session.exec(select(func.count()).select_from(BookingDocument).where(
                BookingDocument.booking_id == booking_id)).one()
            permissions.require(actor, "booking.upload_document", replace(target, status=booking.status))
            if count >= MAX_DOCUMENTS:
                raise Invalid({"file": _("A request can have at most %(max)s documents. Delete one first.",
                                         max=MAX_DOCUMENTS)})
            document = BookingDocument(booking_id=booking_id, document=kind,
                                       filename=storage.clean_filename(filename, received.file_type),
                                       content_type=received.file_type.content_type,
                                       size_bytes=received.size_bytes, sha256=received.sha256,
                                       storage_key=received.storage_key, uploaded_by_id=user_id)
            session.add(document)
    except BaseException:
        storage.remove_file(received.path)
        raise
    return document


def delete_document(session: Session, settings: Settings, actor: Principal, booking_id: int,
                    document_id: int) -> None:
    """Delete a document of the request (its members, while it is editable); its file goes once the
    deletion is committed."""
    with unit_of_work(session):
        _booking, target = for_member(session, actor, booking_id, "booking.upload_document")
        document = session.get(BookingDocument, document_id)
        if document is None or document.booking_id != booking_id:
            raise NotFound()
        permissions.require(actor, "booking.upload_document", target)
        path = path_of(settings, document)
        session.delete(document)
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
