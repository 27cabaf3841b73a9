"""What "download my data" holds of the labs component (listed in its manifest) beyond trial applications
(:func:`labs.recruitment.export_applications`): the booking requests the person made with their periods and
documents, the trial updates they wrote and the photos they attached, and the test fields they coordinate."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from labs.models import (
    Booking,
    BookingDocument,
    BookingPeriod,
    TestField,
    TestFieldCoordinator,
    Trial,
    TrialUpdate,
    TrialUpdatePhoto,
)


def export_bookings(session: Session, user: User) -> list[dict[str, Any]]:
    """Booking requests the person created (for their organisation), with their periods."""
    bookings = session.exec(select(Booking, TestField.name).join(TestField, col(TestField.id) == Booking.field_id)
                            .where(Booking.created_by_id == user.id).order_by(col(Booking.id))).all()
    periods: dict[int, list[dict[str, Any]]] = {}
    for period in session.exec(select(BookingPeriod).where(col(BookingPeriod.booking_id).in_(
            [booking.id for booking, _name in bookings])).order_by(col(BookingPeriod.starts_at))).all():
        periods.setdefault(period.booking_id, []).append({"starts_at": period.starts_at.isoformat(),
                                                          "ends_at": period.ends_at.isoformat()})
    return [{"id": booking.id, "field_id": booking.field_id, "field": name, "organisation_id": booking.organisation_id,
             "trial_id": booking.trial_id, "status": booking.status, "title": booking.title,
             "purpose": booking.purpose, "public_description": booking.public_description,
             "expected_people": booking.expected_people, "equipment": booking.equipment,
             "review_note": booking.review_note, "created_at": booking.created_at,
             "submitted_at": booking.submitted_at, "decided_at": booking.decided_at,
             "cancelled_at": booking.cancelled_at, "cancel_reason": booking.cancel_reason,
             "completed_at": booking.completed_at, "periods": periods.get(booking.id, [])}  # type: ignore[arg-type]
            for booking, name in bookings]


def export_booking_documents(session: Session, user: User) -> list[dict[str, Any]]:
    """Documents the person uploaded to booking requests: their names, not the files."""
    rows = session.exec(select(BookingDocument).where(BookingDocument.uploaded_by_id == user.id)
                        .order_by(col(BookingDocument.id))).all()
    return [{"booking_id": row.booking_id, "document": row.document, "filename": row.filename,
             "size_bytes": row.size_bytes, "uploaded_at": row.created_at} for row in rows]


def export_trial_updates(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(TrialUpdate, Trial.title).join(Trial, col(Trial.id) == TrialUpdate.trial_id)
                        .where(TrialUpdate.author_id == user.id).order_by(col(TrialUpdate.id))).all()
    return [{"id": row.id, "trial_id": row.trial_id, "trial": title, "posted_on": row.posted_on, "title": row.title,
             "body": row.body, "written_at": row.created_at} for row, title in rows]


def export_trial_update_photos(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(TrialUpdatePhoto).where(TrialUpdatePhoto.uploaded_by_id == user.id)
                        .order_by(col(TrialUpdatePhoto.id))).all()
    return [{"update_id": row.update_id, "filename": row.filename, "alt_text": row.alt_text,
             "uploaded_at": row.created_at} for row in rows]


def export_coordinated_fields(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(TestFieldCoordinator, TestField.name)
                        .join(TestField, col(TestField.id) == TestFieldCoordinator.field_id)
                        .where(TestFieldCoordinator.user_id == user.id).order_by(col(TestFieldCoordinator.field_id))).all()
    return [{"field_id": row.field_id, "field": name} for row, name in rows]
