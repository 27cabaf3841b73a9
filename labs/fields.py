"""Test fields (実証フィールド): create and edit them, their hours, rules, photos, blackouts and coordinators.

Coordinators (the role) and site admins create fields; the creator is assigned as the field's first
coordinator. A field is then managed by its assigned coordinators and site admins (the labs policy,
:mod:`labs.permissions`: ``field.create``, ``field.edit``, ``field.manage_blackouts``,
``field.manage_coordinators``). Every change is written to the audit log in the same unit of work. What can be
checked without the database is checked by the typed forms below (:class:`FieldForm` reports every
field's problem at once; rules between two fields once each is readable); a refusal raises
:class:`Invalid` and changes nothing. Only published fields are shown to the public; managers see
theirs unpublished too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Self

import sqlalchemy as sa
from pydantic import Field, ValidationInfo, field_validator, model_validator
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.accounts.services import normalize_email
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.files import images, storage
from cocreate.forms import (
    Choice,
    Choices,
    Degrees,
    FieldType,
    Flag,
    FormModel,
    Line,
    LocalDateTime,
    Text,
    Upload,
    WholeNumber,
    normalised,
    parse_time,
    refuse,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
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
EMAIL_MAX = 320
CAPACITY_MAX = 100_000
BOOKING_MINUTES_MAX = 60 * 24 * 31
"""A booking (one period) lasts at most a month."""
BUFFER_MINUTES_MAX = 60 * 24
NOTICE_HOURS_MAX = 24 * 365
NOTICE_DAYS_MAX = 365 * 3
MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 10 * 1024 * 1024
STORAGE_FOLDER = "fields"
LONG_FIELDS = ("description", "rules", "cancellation_rule")
WEEKDAYS = range(7)
END_OF_DAY = 24 * 60
REQUIRED = lazy_gettext("This field is required.")
DESCRIBE_PHOTO = lazy_gettext("Describe the photo in a few words; this text is read out to people who cannot see it.")


# --- input ----------------------------------------------------------------------------------------


def _between(low: int, high: int, *, required: bool = False) -> WholeNumber:
    """A whole number from ``low`` to ``high`` (thousands separators and full-width digits read)."""
    return WholeNumber(lazy_gettext("Enter a whole number from %(min)s to %(max)s.", min=f"{low:,}", max=f"{high:,}"),
                       minimum=low, maximum=high, required=REQUIRED if required else None)


def minute_of_day(raw: Any) -> int | None:
    """``09:00`` (or ``09:00:00``, ``９時００分``) as minutes after midnight; ``24:00`` is the end of the day."""
    text = normalised(raw)
    if re.fullmatch(r"\d{1,2}:\d{2}:00", text):
        text = text[:-3]
    if text == "24:00":
        return END_OF_DAY
    parsed = parse_time(text)
    return None if parsed is None else parsed.hour * 60 + parsed.minute


@dataclass(frozen=True)
class DayHours(FieldType):
    """One weekday's bookable hours, sent as ``hours-N-opens`` and ``hours-N-closes``: (opens, closes)
    in minutes after midnight, local time; both empty is None (closed that day)."""

    def parse(self, value: Any) -> tuple[int, int] | None:
        if value is None:
            return None
        if isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            opens, closes = value
        else:
            raw = value if isinstance(value, dict) else {}
            opens_raw, closes_raw = normalised(raw.get("opens")), normalised(raw.get("closes"))
            if not opens_raw and not closes_raw:
                return None
            if not opens_raw or not closes_raw:
                raise refuse(_("Enter both the opening and the closing time, or leave both empty when the field is "
                                "closed that day."))
            opens, closes = minute_of_day(opens_raw), minute_of_day(closes_raw)  # type: ignore[assignment]
            if opens is None or closes is None:
                raise refuse(_("Enter times like 09:00 and 17:00."))
        if not 0 <= opens < closes <= END_OF_DAY:
            raise refuse(_("The closing time must be after the opening time."))
        return opens, closes


Hours = Annotated[tuple[int, int] | None, DayHours()]


class FieldForm(FormModel):
    """A field's editable attributes, as the coordinators' form sends them.

    The week's hours are sent per weekday (``hours-0-opens`` … ``hours-6-closes``, 0 = Monday); give
    ``hours=[(weekday, opens_minute, closes_minute), …]`` instead when building one in code.
    """


    name: Annotated[str, Line(NAME_MAX, required=REQUIRED)] = ""
    kind: Annotated[FieldKind, Choice(FieldKind, lazy_gettext("Choose the kind of field."))] = ""  # type: ignore[assignment]
    area: Annotated[Area, Choice(Area, lazy_gettext("Choose the area."))] = ""  # type: ignore[assignment]
    address: Annotated[str, Line(ADDRESS_MAX, required=REQUIRED)] = ""
    latitude: Annotated[float | None, Degrees(-90, 90, lazy_gettext(
        "Enter a latitude from -90 to 90, for example 35.789."))] = None
    longitude: Annotated[float | None, Degrees(-180, 180, lazy_gettext(
        "Enter a longitude from -180 to 180, for example 139.661."))] = None
    summary: Annotated[str, Text(SUMMARY_MAX)] = ""
    description: Annotated[str, Text(LONG_TEXT_MAX, strip=False)] = ""
    rules: Annotated[str, Text(LONG_TEXT_MAX, strip=False)] = ""
    cancellation_rule: Annotated[str, Text(LONG_TEXT_MAX, strip=False)] = ""
    contact: Annotated[str, Text(CONTACT_MAX)] = ""
    capacity: Annotated[int | None, _between(1, CAPACITY_MAX)] = None
    min_booking_minutes: Annotated[int, _between(1, BOOKING_MINUTES_MAX, required=True)] = 60
    max_booking_minutes: Annotated[int | None, _between(1, BOOKING_MINUTES_MAX)] = None
    buffer_minutes: Annotated[int, _between(0, BUFFER_MINUTES_MAX, required=True)] = 0
    min_notice_hours: Annotated[int, _between(0, NOTICE_HOURS_MAX, required=True)] = 0
    max_notice_days: Annotated[int | None, _between(1, NOTICE_DAYS_MAX)] = None
    approval_required: Annotated[bool, Flag()] = False
    published: Annotated[bool, Flag()] = False
    hours_0: Hours = Field(None, alias="hours-0")
    hours_1: Hours = Field(None, alias="hours-1")
    hours_2: Hours = Field(None, alias="hours-2")
    hours_3: Hours = Field(None, alias="hours-3")
    hours_4: Hours = Field(None, alias="hours-4")
    hours_5: Hours = Field(None, alias="hours-5")
    hours_6: Hours = Field(None, alias="hours-6")
    requirements: Annotated[list[DocumentKind], Choices(DocumentKind, lazy_gettext(
        "Choose documents from the list."))] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _gather_hours(cls, data: Any) -> Any:
        """``hours-N-opens`` and ``hours-N-closes`` (or ``hours`` as a list) into one value per weekday."""
        if not isinstance(data, dict):
            return data
        gathered = dict(data)
        week = gathered.pop("hours", None)
        given: dict[int, tuple[int, int]] = {}
        if isinstance(week, list | tuple):  # built in code
            given = {item[0]: (item[1], item[2]) for item in week}
            if len(given) != len(week) or not set(given) <= set(WEEKDAYS):
                raise Invalid({"hours": _("Enter the hours of each weekday once.")})
        for weekday in WEEKDAYS:
            gathered[f"hours-{weekday}"] = given.get(weekday) if given else {
                part: data.get(f"hours-{weekday}-{part}") for part in ("opens", "closes")}
        return gathered

    @field_validator("max_booking_minutes")
    @classmethod
    def _not_shorter_than_the_shortest(cls, longest: int | None, info: ValidationInfo) -> int | None:
        shortest = info.data.get("min_booking_minutes")
        if longest is not None and shortest is not None and longest < shortest:
            raise refuse(_("The longest booking cannot be shorter than the shortest."))
        return longest

    @field_validator("max_notice_days")
    @classmethod
    def _not_before_the_earliest(cls, days: int | None, info: ValidationInfo) -> int | None:
        hours = info.data.get("min_notice_hours")
        if days is not None and hours is not None and days * 24 < hours:
            raise refuse(_("The latest request time cannot come before the earliest one."))
        return days

    @model_validator(mode="after")
    def _both_coordinates_or_neither(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise Invalid({"latitude" if self.latitude is None else "longitude":
                           _("Enter both latitude and longitude, or neither.")})
        return self

    @property
    def hours(self) -> list[tuple[int, int, int]]:
        """(weekday 0=Monday, opens_minute, closes_minute) of the days the field is open, local time."""
        return [(weekday, *day) for weekday in WEEKDAYS if (day := getattr(self, f"hours_{weekday}")) is not None]


WHEN = lazy_gettext("Enter a date and time, for example 2026-12-01 10:00.")


class BlackoutForm(FormModel):
    """A time the field is closed (the ward's time, as ``datetime-local`` sends it; stored in UTC)."""


    starts_at: Annotated[datetime, LocalDateTime(lazy_gettext("Enter when the blackout starts."), WHEN)] = ""  # type: ignore[assignment]
    ends_at: Annotated[datetime, LocalDateTime(lazy_gettext("Enter when the blackout ends."), WHEN)] = ""  # type: ignore[assignment]
    reason: Annotated[str, Line(REASON_MAX, required=REQUIRED)] = ""

    @field_validator("ends_at")
    @classmethod
    def _after_the_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and starts_at >= ends_at:
            raise refuse(_("The end must be after the start."))
        return ends_at


class PhotoForm(FormModel):
    """A photo of the field with its description (read out to people who cannot see it)."""


    alt_text: Annotated[str, Line(ALT_MAX, required=DESCRIBE_PHOTO)] = ""
    file: Annotated[Any, Upload(lazy_gettext("Choose a file to upload."))] = None


class CoordinatorForm(FormModel):

    email: Annotated[str, Line(EMAIL_MAX, required=lazy_gettext("Enter the e-mail address of a coordinator."))] = ""


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
    if test_field is None or not permissions.can(actor, "field.see", access.on_field(
            session, actor, field_id, published=test_field.published, actions=("field.see",))):
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
    scope = access.field_scope(actor)
    if scope == "coordinated":
        statement = statement.join(TestFieldCoordinator, col(TestFieldCoordinator.field_id) == col(TestField.id)
                                   ).where(TestFieldCoordinator.user_id == actor.user_id)
    elif scope == "none":
        statement = statement.where(sa.false())
    return paginate(session, statement.order_by(col(TestField.updated_at).desc(), col(TestField.id).desc()),
                    page, per_page)


# --- writing -------------------------------------------------------------------------------------


def _actor_user(actor: Principal) -> User:
    return require_signed_in(actor)


def _record(session: Session, user: User, action: str, field_id: int | None, details: dict[str, Any]) -> None:
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action=action,
                 target_type="test_field", target_id=str(field_id), details=details)


def _apply(session: Session, test_field: TestField, form: FieldForm) -> list[str]:
    """Copy ``form`` onto the field and its hours and requirements; returns the names that changed."""
    changed: list[str] = []
    values: dict[str, Any] = {
        "name": form.name, "kind": form.kind, "area": form.area, "address": form.address,
        "latitude": form.latitude, "longitude": form.longitude, "summary": form.summary, "contact": form.contact,
        "capacity": form.capacity, "min_booking_minutes": form.min_booking_minutes,
        "max_booking_minutes": form.max_booking_minutes, "buffer_minutes": form.buffer_minutes,
        "min_notice_hours": form.min_notice_hours, "max_notice_days": form.max_notice_days,
        "approval_required": form.approval_required, "published": form.published,
        **{name: getattr(form, name) for name in LONG_FIELDS},
    }
    for name, value in values.items():
        if getattr(test_field, name) != value:
            setattr(test_field, name, value)
            changed.append(name)
    session.flush()
    assert test_field.id is not None

    old_hours = [(h.weekday, h.opens_minute, h.closes_minute) for h in hours_of(session, test_field.id)]
    new_hours = sorted(form.hours)
    if old_hours != new_hours:
        session.execute(sa.delete(TestFieldHours).where(col(TestFieldHours.field_id) == test_field.id))
        for weekday, opens, closes in new_hours:
            session.add(TestFieldHours(field_id=test_field.id, weekday=weekday, opens_minute=opens,
                                       closes_minute=closes))
        changed.append("hours")
    old_requirements = set(requirements_of(session, test_field.id))
    new_requirements = set(form.requirements)
    if old_requirements != new_requirements:
        session.execute(sa.delete(TestFieldRequirement).where(col(TestFieldRequirement.field_id) == test_field.id))
        for document in sorted(new_requirements, key=lambda d: d.value):
            session.add(TestFieldRequirement(field_id=test_field.id, document=document))
        changed.append("requirements")
    return changed


@transactional
def create(session: Session, actor: Principal, form: FieldForm) -> TestField:
    """A new field (coordinators and site admins); the creator becomes its coordinator. Audited."""
    user = _actor_user(actor)
    permissions.require(actor, "field.create")
    test_field = TestField(name=form.name, kind=form.kind, area=form.area, address=form.address,
                           created_by_id=user.id)
    session.add(test_field)
    session.flush()
    _apply(session, test_field, form)
    session.add(TestFieldCoordinator(field_id=test_field.id, user_id=user.id))  # type: ignore[arg-type]
    _record(session, user, "test_field.created", test_field.id,
            {"name": test_field.name, "published": test_field.published})
    follows.follow_as_author(session, [user.id], "test_field", test_field.id)  # type: ignore[arg-type]
    return test_field


def _managed(session: Session, actor: Principal, field_id: int, action: str = "field.edit", *,
             lock: bool = False) -> TestField:
    """The field, if ``actor`` may do ``action`` to it (Forbidden otherwise; Invalid if it is gone)."""
    require_signed_in(actor)
    found = session.get(TestField, field_id)
    permissions.require(actor, action, access.on_field(session, actor, field_id,
                                                       published=found is not None and found.published,
                                                       actions=(action,)))
    test_field = session.get(TestField, field_id, with_for_update=True, populate_existing=True) if lock else found
    if test_field is None:
        raise Invalid({"field": _("This test field does not exist.")})
    return test_field


@transactional
def update(session: Session, actor: Principal, field_id: int, form: FieldForm) -> TestField:
    """Save edits (the field's coordinators and site admins). Audited with the names that changed."""
    user = _actor_user(actor)
    test_field = _managed(session, actor, field_id, lock=True)
    changed = _apply(session, test_field, form)
    if changed:
        test_field.updated_at = utcnow()
        _record(session, user, "test_field.updated", field_id, {"fields": sorted(changed)})
    return test_field


@transactional
def add_blackout(session: Session, actor: Principal, field_id: int, form: BlackoutForm) -> Blackout:
    """Close the field from ``form.starts_at`` to ``form.ends_at`` for ``form.reason``. Audited."""
    user = _actor_user(actor)
    _managed(session, actor, field_id, "field.manage_blackouts", lock=True)
    blackout = Blackout(field_id=field_id, starts_at=form.starts_at, ends_at=form.ends_at, reason=form.reason,
                        created_by_id=user.id)
    session.add(blackout)
    session.flush()
    _record(session, user, "test_field.blackout_added", field_id,
            {"blackout_id": blackout.id, "starts_at": form.starts_at.isoformat(),
             "ends_at": form.ends_at.isoformat(), "reason": blackout.reason})
    return blackout


@transactional
def delete_blackout(session: Session, actor: Principal, field_id: int, blackout_id: int) -> None:
    user = _actor_user(actor)
    _managed(session, actor, field_id, "field.manage_blackouts", lock=True)
    blackout = session.get(Blackout, blackout_id)
    if blackout is None or blackout.field_id != field_id:
        raise Invalid({"blackout": _("This blackout does not exist (it may have been deleted already).")})
    details = {"blackout_id": blackout_id, "starts_at": blackout.starts_at.isoformat(),
               "ends_at": blackout.ends_at.isoformat(), "reason": blackout.reason}
    session.delete(blackout)
    _record(session, user, "test_field.blackout_deleted", field_id, details)


def path_of(settings: Settings, photo: TestFieldPhoto) -> Path:
    """Where the file of ``photo`` lives (its key is checked, so a bad row cannot point elsewhere)."""
    return storage.stored_path(settings, photo.storage_key, STORAGE_FOLDER)


def add_photo(session: Session, settings: Settings, actor: Principal, field_id: int, form: PhotoForm) -> TestFieldPhoto:
    """Add a photo (PNG, JPEG, GIF or WebP by content, at most 10 MB, at most 10 a field). Audited.

    Two units of work: the first checks the actor and ends, so no transaction is held open while the
    file is copied; the second counts and adds under the field's lock. The file goes again if that fails."""
    with unit_of_work(session):
        _managed(session, actor, field_id)
    received = storage.receive(settings, form.file.file, MAX_PHOTO_BYTES, folder=STORAGE_FOLDER)
    try:
        if not received.file_type.is_image:
            raise Invalid({"file": _("Choose a PNG, JPEG, GIF or WebP image.")})
        size, digest = images.strip_location(received.path, received.file_type)
        with unit_of_work(session):
            user = _actor_user(actor)
            _managed(session, actor, field_id, lock=True)  # counted under the lock: two uploads cannot both fit
            count, last = session.exec(select(func.count(), func.coalesce(func.max(TestFieldPhoto.position), -1))
                                       .where(TestFieldPhoto.field_id == field_id)).one()
            if count >= MAX_PHOTOS:
                raise Invalid({"file": _("A field can have at most %(max)s photos. Delete one first.",
                                         max=MAX_PHOTOS)})
            photo = TestFieldPhoto(field_id=field_id, position=last + 1, alt_text=form.alt_text,
                                   filename=storage.clean_filename(form.file.filename, received.file_type),
                                   content_type=received.file_type.content_type, size_bytes=size,
                                   sha256=digest, storage_key=received.storage_key, uploaded_by_id=user.id)
            session.add(photo)
            session.flush()
            _record(session, user, "test_field.photo_added", field_id,
                    {"photo_id": photo.id, "filename": photo.filename, "content_type": photo.content_type,
                     "size_bytes": photo.size_bytes, "sha256": photo.sha256})
    except BaseException:
        storage.remove_file(received.path)
        raise
    return photo


def delete_photo(session: Session, settings: Settings, actor: Principal, field_id: int, photo_id: int) -> None:
    """Remove a photo (audited); its file goes once the removal is committed."""
    with unit_of_work(session):
        user = _actor_user(actor)
        _managed(session, actor, field_id, lock=True)
        photo = session.get(TestFieldPhoto, photo_id)
        if photo is None or photo.field_id != field_id:
            raise Invalid({"photo": _("This photo does not exist (it may have been deleted already).")})
        path = path_of(settings, photo)
        session.delete(photo)
        _record(session, user, "test_field.photo_deleted", field_id,
                {"photo_id": photo_id, "filename": photo.filename, "sha256": photo.sha256})
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


@transactional
def assign_coordinator(session: Session, actor: Principal, field_id: int, form: CoordinatorForm) -> User:
    """Make the user with ``form.email``, who must hold the coordinator role, a coordinator of the field. Audited."""
    user = _actor_user(actor)
    _managed(session, actor, field_id, "field.manage_coordinators", lock=True)
    address = normalize_email(form.email)
    if not address:
        raise Invalid({"email": _("Enter the e-mail address of a coordinator.")})
    found = session.exec(select(User).where(User.email == address[:EMAIL_MAX])).first()
    is_coordinator = found is not None and session.exec(select(RoleAssignment.id).where(
        RoleAssignment.user_id == found.id, RoleAssignment.role == Role.COORDINATOR)).first() is not None
    if found is None or not is_coordinator:
        raise Invalid({"email": _("No field coordinator has this e-mail address. An administrator gives "
                                  "people the coordinator role first.")})
    assert found.id is not None
    if session.get(TestFieldCoordinator, (field_id, found.id)) is not None:
        raise Invalid({"email": _("%(name)s is already a coordinator of this field.", name=found.display_name)})
    session.add(TestFieldCoordinator(field_id=field_id, user_id=found.id))
    _record(session, user, "test_field.coordinator_assigned", field_id, {"user_id": found.id})
    return found


@transactional
def remove_coordinator(session: Session, actor: Principal, field_id: int, user_id: int) -> User:
    """Stop ``user_id`` coordinating the field (its managers; a coordinator may step down). Audited.

    The last coordinator stays: a field without one would have nobody to review its requests.
    """
    user = _actor_user(actor)
    _managed(session, actor, field_id, "field.manage_coordinators", lock=True)
    assignment = session.get(TestFieldCoordinator, (field_id, user_id))
    removed = session.get(User, user_id)
    if assignment is None or removed is None:
        raise Invalid({"email": _("This person is not a coordinator of this field.")})
    others = session.exec(select(TestFieldCoordinator.user_id).where(
        TestFieldCoordinator.field_id == field_id, TestFieldCoordinator.user_id != user_id)).first()
    if others is None:
        raise Invalid({"email": _("A field needs at least one coordinator. Add another coordinator first.")})
    session.delete(assignment)
    _record(session, user, "test_field.coordinator_removed", field_id, {"user_id": user_id})
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
