"""Test fields (実証フィールド): create and edit them, their hours, rules, photos, blackouts and coordinators.

Coordinators (the role) and site admins create fields; the creator is assigned as the field's first
coordinator. A field is then managed by its assigned coordinators and site admins
(:mod:`labs.access`). Every change is written to the audit log in the same transaction; a
validation failure raises :class:`Invalid` with every problem at once and changes nothing.
Only published fields are shown to the public; managers see theirs unpublished too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate import audit
from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.accounts.services import normalize_email
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from labs import access
from labs.models import (
    Area,
    Blackout,
    DocumentKind,
    FieldKind,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldPhoto,
    TestFieldRequirement,
)

log = logging.getLogger(__name__)

NAME_MAX = 200
ADDRESS_MAX = 300
SUMMARY_MAX = 500
LONG_TEXT_MAX = 20_000
CONTACT_MAX = 500
REASON_MAX = 200
ALT_MAX = 200
CAPACITY_MAX = 100_000
BOOKING_MINUTES_MAX = 60 * 24 * 31
"""A booking (one period) lasts at most a month."""
BUFFER_MINUTES_MAX = 60 * 24
NOTICE_HOURS_MAX = 24 * 365
NOTICE_DAYS_MAX = 365 * 3
MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 10 * 1024 * 1024
STORAGE_FOLDER = "fields"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine
LONG_FIELDS = ("description", "rules", "cancellation_rule")
WEEKDAYS = range(7)


# --- input ----------------------------------------------------------------------------------------


@dataclass
class FieldInput:
    """A field's editable attributes as read from the form; numbers already parsed (None: left blank).

    ``hours`` holds (weekday 0=Monday, opens_minute, closes_minute) in local time; ``requirements``
    the DocumentKind values ticked.
    """

    name: str = ""
    kind: str = ""
    area: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    summary: str = ""
    description: str = ""
    rules: str = ""
    cancellation_rule: str = ""
    contact: str = ""
    capacity: int | None = None
    min_booking_minutes: int | None = 60
    max_booking_minutes: int | None = None
    buffer_minutes: int | None = 0
    min_notice_hours: int | None = 0
    max_notice_days: int | None = None
    approval_required: bool = True
    published: bool = False
    hours: list[tuple[int, int, int]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)

    @classmethod
    def from_field(cls, session: Session, test_field: TestField) -> FieldInput:
        assert test_field.id is not None
        return cls(
            name=test_field.name, kind=test_field.kind.value, area=test_field.area.value,
            address=test_field.address, latitude=test_field.latitude, longitude=test_field.longitude,
            summary=test_field.summary, description=test_field.description, rules=test_field.rules,
            cancellation_rule=test_field.cancellation_rule, contact=test_field.contact,
            capacity=test_field.capacity, min_booking_minutes=test_field.min_booking_minutes,
            max_booking_minutes=test_field.max_booking_minutes, buffer_minutes=test_field.buffer_minutes,
            min_notice_hours=test_field.min_notice_hours, max_notice_days=test_field.max_notice_days,
            approval_required=test_field.approval_required, published=test_field.published,
            hours=[(h.weekday, h.opens_minute, h.closes_minute) for h in hours_of(session, test_field.id)],
            requirements=[d.value for d in requirements_of(session, test_field.id)],
        )


def _text_error(value: str, limit: int, *, required: bool = False, single_line: bool = False) -> str | None:
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=limit)
    if CONTROL_CHARS.search(value) or (single_line and ("\n" in value or "\r" in value)):
        return _("This field contains characters that cannot be used.")
    return None


def _range_error(value: int | None, low: int, high: int, *, required: bool = False) -> str | None:
    if value is None:
        return _("This field is required.") if required else None
    if not low <= value <= high:
        return _("Enter a whole number from %(min)s to %(max)s.", min=f"{low:,}", max=f"{high:,}")
    return None


def validate(data: FieldInput) -> dict[str, str]:
    """Every problem of ``data``, by form field name (empty when it can be saved)."""
    errors: dict[str, str] = {}

    def check(name: str, limit: int, **kwargs: bool) -> None:
        if message := _text_error(getattr(data, name), limit, **kwargs):
            errors[name] = message

    check("name", NAME_MAX, required=True, single_line=True)
    check("address", ADDRESS_MAX, required=True, single_line=True)
    check("summary", SUMMARY_MAX)
    check("contact", CONTACT_MAX)
    for name in LONG_FIELDS:
        check(name, LONG_TEXT_MAX)
    if data.kind not in {k.value for k in FieldKind}:
        errors["kind"] = _("Choose the kind of field.")
    if data.area not in {a.value for a in Area}:
        errors["area"] = _("Choose the area.")

    if (data.latitude is None) != (data.longitude is None):
        errors["latitude" if data.latitude is None else "longitude"] = _(
            "Enter both latitude and longitude, or neither.")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        errors["latitude"] = _("Enter a latitude from -90 to 90, for example 35.789.")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        errors["longitude"] = _("Enter a longitude from -180 to 180, for example 139.661.")

    checks: list[tuple[str, int | None, int, int, bool]] = [
        ("capacity", data.capacity, 1, CAPACITY_MAX, False),
        ("min_booking_minutes", data.min_booking_minutes, 1, BOOKING_MINUTES_MAX, True),
        ("max_booking_minutes", data.max_booking_minutes, 1, BOOKING_MINUTES_MAX, False),
        ("buffer_minutes", data.buffer_minutes, 0, BUFFER_MINUTES_MAX, True),
        ("min_notice_hours", data.min_notice_hours, 0, NOTICE_HOURS_MAX, True),
        ("max_notice_days", data.max_notice_days, 1, NOTICE_DAYS_MAX, False),
    ]
    for name, value, low, high, required in checks:
        if message := _range_error(value, low, high, required=required):
            errors[name] = message
    if ("min_booking_minutes" not in errors and "max_booking_minutes" not in errors
            and data.max_booking_minutes is not None and data.min_booking_minutes is not None
            and data.max_booking_minutes < data.min_booking_minutes):
        errors["max_booking_minutes"] = _("The longest booking cannot be shorter than the shortest.")
    if ("min_notice_hours" not in errors and "max_notice_days" not in errors and data.max_notice_days is not None
            and data.min_notice_hours is not None and data.max_notice_days * 24 < data.min_notice_hours):
        errors["max_notice_days"] = _("The latest request time cannot come before the earliest one.")

    seen: set[int] = set()
    for weekday, opens, closes in data.hours:
        if weekday not in WEEKDAYS or weekday in seen:
            errors["hours"] = _("Enter the hours of each weekday once.")
        elif not 0 <= opens < closes <= 24 * 60:
            errors[f"hours-{weekday}"] = _("The closing time must be after the opening time.")
        seen.add(weekday)
    if len(set(data.requirements)) != len(data.requirements) or any(
            r not in {d.value for d in DocumentKind} for r in data.requirements):
        errors["requirements"] = _("Choose documents from the list.")
    return errors


# --- reading -------------------------------------------------------------------------------------


def hours_of(session: Session, field_id: int) -> Sequence[TestFieldHours]:
    return session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field_id)
                        .order_by(col(TestFieldHours.weekday), col(TestFieldHours.opens_minute))).all()


def requirements_of(session: Session, field_id: int) -> list[DocumentKind]:
    found = set(session.exec(select(TestFieldRequirement.document).where(
        TestFieldRequirement.field_id == field_id)).all())
    return [kind for kind in DocumentKind if kind in found]  # in the checklist's order


def photos_of(session: Session, field_id: int) -> Sequence[TestFieldPhoto]:
    return session.exec(select(TestFieldPhoto).where(TestFieldPhoto.field_id == field_id)
                        .order_by(col(TestFieldPhoto.position), col(TestFieldPhoto.id))).all()


def blackouts_of(session: Session, field_id: int, *, upcoming_only: bool = False,
                 now: datetime | None = None) -> Sequence[Blackout]:
    """The field's blackouts, soonest first; ``upcoming_only``: those not ended yet."""
    statement = select(Blackout).where(Blackout.field_id == field_id)
    if upcoming_only:
        statement = statement.where(col(Blackout.ends_at) > (now or utcnow()))
    return session.exec(statement.order_by(col(Blackout.starts_at), col(Blackout.id))).all()


def coordinators_of(session: Session, field_id: int) -> Sequence[User]:
    return session.exec(select(User).join(TestFieldCoordinator, col(TestFieldCoordinator.user_id) == col(User.id))
                        .where(TestFieldCoordinator.field_id == field_id).order_by(col(User.display_name),
                                                                                  col(User.id))).all()


def visible_field(session: Session, actor: Principal, field_id: int) -> TestField | None:
    """The field if ``actor`` may see it: published ones for everybody, unpublished for its managers."""
    test_field = session.get(TestField, field_id)
    if test_field is None:
        return None
    if not test_field.published and not access.manages_field(session, actor, field_id):
        return None
    return test_field


def public_fields_page(session: Session, *, kind: FieldKind | None = None, area: Area | None = None,
                       page: int = 1, per_page: int = 20) -> Page[TestField]:
    """Published fields, by name; one COUNT and one page query."""
    statement = sa.select(TestField).where(col(TestField.published).is_(True))
    if kind is not None:
        statement = statement.where(col(TestField.kind) == kind)
    if area is not None:
        statement = statement.where(col(TestField.area) == area)
    return paginate(session, statement.order_by(col(TestField.name), col(TestField.id)), page, per_page)


def managed_fields_page(session: Session, actor: Principal, page: int = 1, per_page: int = 20) -> Page[TestField]:
    """Fields ``actor`` manages (site admins: all), unpublished included, most recently changed first."""
    statement = sa.select(TestField)
    if not actor.is_admin:
        statement = statement.join(TestFieldCoordinator, col(TestFieldCoordinator.field_id) == col(TestField.id)
                                   ).where(TestFieldCoordinator.user_id == (actor.user_id or -1))
    return paginate(session, statement.order_by(col(TestField.updated_at).desc(), col(TestField.id).desc()),
                    page, per_page)


# --- writing -------------------------------------------------------------------------------------


def _actor_user(actor: Principal) -> User:
    return require_signed_in(actor)


def _record(session: Session, user: User, action: str, field_id: int | None, details: dict[str, Any]) -> None:
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action=action,
                 target_type="test_field", target_id=str(field_id), details=details)


def _apply(session: Session, test_field: TestField, data: FieldInput) -> list[str]:
    """Copy ``data`` onto the field and its hours and requirements; returns the names that changed."""
    changed: list[str] = []
    values: dict[str, Any] = {
        "name": data.name.strip(), "kind": FieldKind(data.kind), "area": Area(data.area),
        "address": data.address.strip(), "latitude": data.latitude, "longitude": data.longitude,
        "summary": data.summary.strip(), "contact": data.contact.strip(), "capacity": data.capacity,
        "min_booking_minutes": data.min_booking_minutes, "max_booking_minutes": data.max_booking_minutes,
        "buffer_minutes": data.buffer_minutes, "min_notice_hours": data.min_notice_hours,
        "max_notice_days": data.max_notice_days, "approval_required": data.approval_required,
        "published": data.published,
        **{name: getattr(data, name).replace("\r\n", "\n") for name in LONG_FIELDS},
    }
    for name, value in values.items():
        if getattr(test_field, name) != value:
            setattr(test_field, name, value)
            changed.append(name)
    session.flush()
    assert test_field.id is not None

    old_hours = [(h.weekday, h.opens_minute, h.closes_minute) for h in hours_of(session, test_field.id)]
    new_hours = sorted(data.hours)
    if old_hours != new_hours:
        session.execute(sa.delete(TestFieldHours).where(col(TestFieldHours.field_id) == test_field.id))
        for weekday, opens, closes in new_hours:
            session.add(TestFieldHours(field_id=test_field.id, weekday=weekday, opens_minute=opens,
                                       closes_minute=closes))
        changed.append("hours")
    old_requirements = {d.value for d in requirements_of(session, test_field.id)}
    new_requirements = set(data.requirements)
    if old_requirements != new_requirements:
        session.execute(sa.delete(TestFieldRequirement).where(col(TestFieldRequirement.field_id) == test_field.id))
        for document in sorted(new_requirements):
            session.add(TestFieldRequirement(field_id=test_field.id, document=DocumentKind(document)))
        changed.append("requirements")
    return changed


def create(session: Session, actor: Principal, data: FieldInput) -> TestField:
    """A new field (coordinators and site admins); the creator becomes its coordinator. Audited."""
    user = _actor_user(actor)
    if not access.is_coordinator(actor):
        raise Forbidden(_("Only field coordinators can create test fields."))
    if errors := validate(data):
        session.rollback()
        raise Invalid(errors)
    test_field = TestField(name=data.name.strip(), kind=FieldKind(data.kind), area=Area(data.area),
                           address=data.address.strip(), created_by_id=user.id)
    session.add(test_field)
    session.flush()
    _apply(session, test_field, data)
    session.add(TestFieldCoordinator(field_id=test_field.id, user_id=user.id))  # type: ignore[arg-type]
    _record(session, user, "test_field.created", test_field.id,
            {"name": test_field.name, "published": test_field.published})
    follows.follow_as_author(session, [user.id], "test_field", test_field.id)  # type: ignore[arg-type]
    session.commit()
    return test_field


def _managed(session: Session, actor: Principal, field_id: int, *, lock: bool = False) -> TestField:
    """The field, if ``actor`` manages it (Forbidden otherwise; Invalid if it is gone)."""
    access.require_field_manager(session, actor, field_id)
    test_field = session.get(TestField, field_id, with_for_update=lock, populate_existing=lock)
    if test_field is None:
        session.rollback()
        raise Invalid({"field": _("This test field does not exist.")})
    return test_field


def update(session: Session, actor: Principal, field_id: int, data: FieldInput) -> TestField:
    """Save edits (the field's coordinators and site admins). Audited with the names that changed."""
    user = _actor_user(actor)
    test_field = _managed(session, actor, field_id, lock=True)
    if errors := validate(data):
        session.rollback()
        raise Invalid(errors)
    changed = _apply(session, test_field, data)
    if changed:
        test_field.updated_at = utcnow()
        _record(session, user, "test_field.updated", field_id, {"fields": sorted(changed)})
    session.commit()
    return test_field


def add_blackout(session: Session, actor: Principal, field_id: int, *, starts_at: datetime | None,
                 ends_at: datetime | None, reason: str, errors: dict[str, str] | None = None) -> Blackout:
    """Close the field from ``starts_at`` to ``ends_at`` (UTC) for ``reason``. ``errors``: the caller's
    own (unreadable dates), reported with the rest."""
    user = _actor_user(actor)
    _managed(session, actor, field_id, lock=True)
    errors = dict(errors or {})
    if "starts_at" not in errors and starts_at is None:
        errors["starts_at"] = _("Enter when the blackout starts.")
    if "ends_at" not in errors and ends_at is None:
        errors["ends_at"] = _("Enter when the blackout ends.")
    if starts_at is not None and ends_at is not None and starts_at >= ends_at:
        errors["ends_at"] = _("The end must be after the start.")
    if message := _text_error(reason, REASON_MAX, required=True, single_line=True):
        errors["reason"] = message
    if errors:
        session.rollback()
        raise Invalid(errors)
    assert starts_at is not None and ends_at is not None
    blackout = Blackout(field_id=field_id, starts_at=starts_at, ends_at=ends_at, reason=reason.strip(),
                        created_by_id=user.id)
    session.add(blackout)
    session.flush()
    _record(session, user, "test_field.blackout_added", field_id,
            {"blackout_id": blackout.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
             "reason": blackout.reason})
    session.commit()
    return blackout


def delete_blackout(session: Session, actor: Principal, field_id: int, blackout_id: int) -> None:
    user = _actor_user(actor)
    _managed(session, actor, field_id, lock=True)
    blackout = session.get(Blackout, blackout_id)
    if blackout is None or blackout.field_id != field_id:
        session.rollback()
        raise Invalid({"blackout": _("This blackout does not exist (it may have been deleted already).")})
    details = {"blackout_id": blackout_id, "starts_at": blackout.starts_at.isoformat(),
               "ends_at": blackout.ends_at.isoformat(), "reason": blackout.reason}
    session.delete(blackout)
    _record(session, user, "test_field.blackout_deleted", field_id, details)
    session.commit()


def path_of(settings: Settings, photo: TestFieldPhoto) -> Path:
    """Where the file of ``photo`` lives (its key is checked, so a bad row cannot point elsewhere)."""
    return storage.stored_path(settings, photo.storage_key, STORAGE_FOLDER)


def add_photo(session: Session, settings: Settings, actor: Principal, field_id: int, *, alt_text: str,
              source: BinaryIO | None, filename: str) -> TestFieldPhoto:
    """Add a photo (PNG, JPEG, GIF or WebP by content, at most 10 MB, at most 10 a field). Audited."""
    _managed(session, actor, field_id)
    session.rollback()  # hold no transaction open while the file is copied
    errors: dict[str, str] = {}
    if message := _text_error(alt_text, ALT_MAX, required=True, single_line=True):
        errors["alt_text"] = (_("Describe the photo in a few words; this text is read out to people who cannot "
                                "see it.") if not alt_text.strip() else message)
    received: storage.ReceivedFile | None = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = storage.receive(settings, source, MAX_PHOTO_BYTES, folder=STORAGE_FOLDER)
        except Invalid as failed:
            errors.update(failed.errors)
        if received is not None and not received.file_type.is_image:
            errors["file"] = _("Choose a PNG, JPEG, GIF or WebP image.")
    if errors:
        if received is not None:
            storage.remove_file(received.path)
        session.rollback()
        raise Invalid(errors)
    assert received is not None
    try:
        user = _actor_user(actor)
        _managed(session, actor, field_id, lock=True)  # counted under the lock: two uploads cannot both fit
        count, last = session.exec(select(func.count(), func.coalesce(func.max(TestFieldPhoto.position), -1))
                                   .where(TestFieldPhoto.field_id == field_id)).one()
        if count >= MAX_PHOTOS:
            raise Invalid({"file": _("A field can have at most %(max)s photos. Delete one first.",
                                              max=MAX_PHOTOS)})
        photo = TestFieldPhoto(field_id=field_id, position=last + 1, alt_text=alt_text.strip(),
                               filename=storage.clean_filename(filename, received.file_type),
                               content_type=received.file_type.content_type, size_bytes=received.size_bytes,
                               sha256=received.sha256, storage_key=received.storage_key, uploaded_by_id=user.id)
        session.add(photo)
        session.flush()
        _record(session, user, "test_field.photo_added", field_id,
                {"photo_id": photo.id, "filename": photo.filename, "content_type": photo.content_type,
                 "size_bytes": photo.size_bytes, "sha256": photo.sha256})
        session.commit()
    except BaseException:
        session.rollback()
        storage.remove_file(received.path)
        raise
    return photo


def delete_photo(session: Session, settings: Settings, actor: Principal, field_id: int, photo_id: int) -> None:
    user = _actor_user(actor)
    _managed(session, actor, field_id, lock=True)
    photo = session.get(TestFieldPhoto, photo_id)
    if photo is None or photo.field_id != field_id:
        session.rollback()
        raise Invalid({"photo": _("This photo does not exist (it may have been deleted already).")})
    path = path_of(settings, photo)
    session.delete(photo)
    _record(session, user, "test_field.photo_deleted", field_id,
            {"photo_id": photo_id, "filename": photo.filename, "sha256": photo.sha256})
    session.commit()
    storage.remove_file(path)


def photo_for_download(session: Session, settings: Settings, actor: Principal, field_id: int,
                       photo_id: int) -> tuple[TestFieldPhoto, TestField, Path] | None:
    """The photo, its field and its file if ``actor`` may see the field."""
    test_field = visible_field(session, actor, field_id)
    if test_field is None:
        return None
    photo = session.get(TestFieldPhoto, photo_id)
    if photo is None or photo.field_id != field_id:
        return None
    path = path_of(settings, photo)
    if not path.is_file():
        log.error("photo %s of field %s has no file at %s", photo_id, field_id, path)
        return None
    return photo, test_field, path


def assign_coordinator(session: Session, actor: Principal, field_id: int, email: str) -> User:
    """Make the user with ``email``, who must hold the coordinator role, a coordinator of the field. Audited."""
    user = _actor_user(actor)
    _managed(session, actor, field_id, lock=True)
    address = normalize_email(email)
    if not address:
        session.rollback()
        raise Invalid({"email": _("Enter the e-mail address of a coordinator.")})
    found = session.exec(select(User).where(User.email == address[:320])).first()
    is_coordinator = found is not None and session.exec(select(RoleAssignment.id).where(
        RoleAssignment.user_id == found.id, RoleAssignment.role == Role.COORDINATOR)).first() is not None
    if found is None or not is_coordinator:
        session.rollback()
        raise Invalid({"email": _("No field coordinator has this e-mail address. An administrator gives "
                                           "people the coordinator role first.")})
    assert found.id is not None
    if session.get(TestFieldCoordinator, (field_id, found.id)) is not None:
        session.rollback()
        raise Invalid({"email": _("%(name)s is already a coordinator of this field.",
                                           name=found.display_name)})
    session.add(TestFieldCoordinator(field_id=field_id, user_id=found.id))
    _record(session, user, "test_field.coordinator_assigned", field_id, {"user_id": found.id})
    session.commit()
    return found


def remove_coordinator(session: Session, actor: Principal, field_id: int, user_id: int) -> User:
    """Stop ``user_id`` coordinating the field (its managers; a coordinator may step down). Audited.

    The last coordinator stays: a field without one would have nobody to review its requests.
    """
    user = _actor_user(actor)
    _managed(session, actor, field_id, lock=True)
    assignment = session.get(TestFieldCoordinator, (field_id, user_id))
    removed = session.get(User, user_id)
    if assignment is None or removed is None:
        session.rollback()
        raise Invalid({"email": _("This person is not a coordinator of this field.")})
    others = session.exec(select(TestFieldCoordinator.user_id).where(
        TestFieldCoordinator.field_id == field_id, TestFieldCoordinator.user_id != user_id)).first()
    if others is None:
        session.rollback()
        raise Invalid({"email": _("A field needs at least one coordinator. Add another coordinator first.")})
    session.delete(assignment)
    _record(session, user, "test_field.coordinator_removed", field_id, {"user_id": user_id})
    session.commit()
    return removed


# --- plain words ---------------------------------------------------------------------------------


def clock(minute: int) -> str:
    """Minutes after midnight as ``09:00`` (``24:00`` for the end of the day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)s minutes", minutes=rest)
    if not rest:
        return _("%(hours)s hours", hours=hours)
    return _("%(hours)s hours %(minutes)s minutes", hours=hours, minutes=rest)


def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def rule_sentences(test_field: TestField) -> list[str]:
    """The booking rules of a field in plain words, one sentence each."""
    sentences = []
    if test_field.max_booking_minutes:
        sentences.append(_("A booking lasts at least %(min)s and at most %(max)s.",
                           min=duration_text(test_field.min_booking_minutes),
                           max=duration_text(test_field.max_booking_minutes)))
    else:
        sentences.append(_("A booking lasts at least %(min)s.", min=duration_text(test_field.min_booking_minutes)))
    if test_field.buffer_minutes:
        sentences.append(_("%(buffer)s must stay free after each booking, for setting up and clearing away.",
                           buffer=duration_text(test_field.buffer_minutes)))
    if test_field.min_notice_hours:
        sentences.append(_("Send your request at least %(hours)s hours before the start.",
                           hours=test_field.min_notice_hours))
    if test_field.max_notice_days:
        sentences.append(_("You can request up to %(days)s days ahead.", days=test_field.max_notice_days))
    if test_field.capacity:
        sentences.append(_("At most %(people)s people can be on the field at once.", people=test_field.capacity))
    if test_field.approval_required:
        sentences.append(_("A coordinator checks each request before it is approved."))
    else:
        sentences.append(_("A request that meets these rules is approved at once."))
    return sentences


def map_link(test_field: TestField) -> str | None:
    """The OpenStreetMap page of the field's location (None without coordinates)."""
    if test_field.latitude is None or test_field.longitude is None:
        return None
    lat, lng = f"{test_field.latitude:.6f}", f"{test_field.longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}"
