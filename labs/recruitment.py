"""Participant recruitment (モニター募集): a trial's calls for participants, residents' applications,
the organisation's decisions, withdrawal of consent and the deletion of participants' data.

Who may do what (all in :mod:`labs.access`):

- A call is written, opened and closed by the trial's editors (``can_edit_trial``); every change is
  audited. Changing the consent text raises ``consent_version``; applications keep the version their
  applicant agreed to.
- The public sees open and closed calls of published trials; drafts (and calls of unpublished trials)
  only the editors.
- Signed-in residents with a confirmed e-mail address apply while a call is open and before its
  apply-by time, agreeing to the consent text of the version they read. Members of the trial's
  organisations cannot apply to their own trial. One application per person and call (a unique
  constraint): after withdrawing or being declined a person cannot apply to the same call again.
- Applicants' personal data (name, contact, message) is seen only by members of the trial's
  organisations and by coordinators (``can_see_participants``) — not by ward staff, not by site
  admins without the coordinator role.
- Accepting holds a place: every change of ``RecruitmentCall.accepted_count`` happens while the call row
  is locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every write transaction begins IMMEDIATE),
  re-checked under the lock, and the check constraint ``accepted_count <= places`` backs it up.
- An applicant withdraws at any time (also after acceptance): the status becomes withdrawn and the
  name, contact and message are blanked in the same transaction; an accepted place is released.
- :func:`delete_expired_participant_data` (a beat job) deletes every application of a trial once
  ``ends_on + participant_data_retention_days`` (Tokyo days) has passed, and closes its open calls.
  ``accepted_count`` is kept as the historical number of participants.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.search import indexer, registry
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from labs import access, events
from labs.models import (
    ApplicationStatus,
    RecruitmentApplication,
    RecruitmentCall,
    RecruitmentStatus,
    Trial,
)

TITLE_MAX = 200
LONG_MAX = 20_000
PLACES_MIN = 1
PLACES_MAX = 10_000
NAME_MAX = 100
CONTACT_MAX = 320
MESSAGE_MAX = 2000
SECTION_LIMIT = 20
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine
DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[\d\-() ]+$")
DASHES = str.maketrans({char: "-" for char in "‐‑‒–—―−ーｰ"})
"""Dashes people type in telephone numbers (03−3964−1111, 03ー3964ー1111) read as hyphens."""

CALL = "recruitment_call"
APPLICATION = "recruitment_application"
ACCEPTED_KIND = "recruitment.accepted"
DECLINED_KIND = "recruitment.declined"

CALL_FIELDS = ("title", "eligibility", "places", "starts_on", "ends_on", "apply_by", "activities", "consent_text")
"""The editors' form in page order (the error summary lists them so)."""
APPLY_FIELDS = ("full_name", "contact", "message", "consent")


class NotFound(LookupError):
    """The trial, call or application does not exist or is hidden from the actor (HTTP 404)."""


# --- notification kinds --------------------------------------------------------------------------


def _accepted_message(params: dict[str, Any]) -> str:
    return _("Your application to “%(title)s” was accepted.", title=str(params.get("call_title", "")))


def _accepted_subject(params: dict[str, Any]) -> str:
    return _("You have been accepted as a participant: %(title)s", title=str(params.get("call_title", "")))


def _declined_message(params: dict[str, Any]) -> str:
    return _("Your application to “%(title)s” was not accepted.", title=str(params.get("call_title", "")))


def _declined_subject(params: dict[str, Any]) -> str:
    return _("About your application: %(title)s", title=str(params.get("call_title", "")))


KINDS = {
    ACCEPTED_KIND: notifications.Kind(_accepted_message, _accepted_subject, "mail/recruitment_accepted.txt",
                                      label=lazy_gettext("Your applications to trials accepted")),
    DECLINED_KIND: notifications.Kind(_declined_message, _declined_subject, "mail/recruitment_declined.txt",
                                      label=lazy_gettext("Your applications to trials declined")),
}
"""This module's notification kinds (listed in the labs manifest)."""


# --- small helpers -------------------------------------------------------------------------------


def _label(user: User) -> str:
    return user.display_name or f"user #{user.id}"


def _clean(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _text_error(value: str, limit: int, *, single_line: bool = False) -> str | None:
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=limit)
    if CONTROL_CHARS.search(value) or (single_line and "\n" in value):
        return _("This field contains characters that cannot be used.")
    return None


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def parse_date(raw: str) -> date | None:
    match = DATE_RE.match(_normalise(raw)[:20])
    if not match:
        return None
    try:
        value = date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


def parse_local_datetime(raw: str) -> datetime | None:
    """A ``datetime-local`` value, read as Tokyo time, returned in UTC (None when it is not one)."""
    text = _normalise(raw)[:40].replace(" ", "T")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None or not 2000 <= value.year <= 2100:
        return None
    return value.replace(tzinfo=WARD_TIMEZONE).astimezone(UTC)


def local_datetime_value(value: datetime | None) -> str:
    return value.astimezone(WARD_TIMEZONE).strftime("%Y-%m-%dT%H:%M") if value else ""


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(WARD_TIMEZONE).date()


def places_left(call: RecruitmentCall) -> int:
    return max(0, call.places - call.accepted_count)


# --- loading and permissions ---------------------------------------------------------------------


def _trial(session: Session, trial_id: int) -> Trial:
    trial = session.get(Trial, trial_id)
    if trial is None:
        session.rollback()
        raise NotFound()
    return trial


def _call(session: Session, call_id: int, *, lock: bool = False) -> tuple[RecruitmentCall, Trial]:
    if lock:
        call = session.get(RecruitmentCall, call_id, with_for_update=True, populate_existing=True)
    else:
        call = session.get(RecruitmentCall, call_id)
    if call is None:
        session.rollback()
        raise NotFound()
    return call, _trial(session, call.trial_id)


def is_public(call: RecruitmentCall, trial: Trial) -> bool:
    return trial.published and call.status is not RecruitmentStatus.DRAFT


def editable_trial(session: Session, actor: Principal, trial_id: int) -> Trial:
    """The trial, when the actor may post calls on it (Forbidden otherwise)."""
    require_signed_in(actor)
    trial = _trial(session, trial_id)
    if not access.can_edit_trial(session, actor, trial):
        session.rollback()
        raise Forbidden(_("Only the trial's organisations, its department's staff and coordinators can do this."))
    return trial


def editable_call(session: Session, actor: Principal, call_id: int, *,
                  lock: bool = False) -> tuple[RecruitmentCall, Trial]:
    require_signed_in(actor)
    call, trial = _call(session, call_id, lock=lock)
    if not access.can_edit_trial(session, actor, trial):
        session.rollback()
        raise Forbidden(_("Only the trial's organisations, its department's staff and coordinators can do this."))
    return call, trial


def visible_call(session: Session, actor: Principal, call_id: int) -> tuple[RecruitmentCall, Trial, bool]:
    """The call, its trial and whether the actor edits it; drafts are hidden from all but editors."""
    call, trial = _call(session, call_id)
    editor = access.can_edit_trial(session, actor, trial)
    if not editor and not is_public(call, trial):
        raise NotFound()
    return call, trial, editor


# --- calls: the editors' form --------------------------------------------------------------------


@dataclass
class CallInput:
    """What the editors' form sends, as typed (dates ``YYYY-MM-DD``, apply-by as Tokyo date-time)."""

    title: str = ""
    eligibility: str = ""
    places: str = ""
    starts_on: str = ""
    ends_on: str = ""
    apply_by: str = ""
    activities: str = ""
    consent_text: str = ""

    @classmethod
    def from_call(cls, call: RecruitmentCall) -> CallInput:
        return cls(title=call.title, eligibility=call.eligibility, places=str(call.places),
                   starts_on=call.starts_on.isoformat() if call.starts_on else "",
                   ends_on=call.ends_on.isoformat() if call.ends_on else "",
                   apply_by=local_datetime_value(call.apply_by), activities=call.activities,
                   consent_text=call.consent_text)


@dataclass
class _CallValues:
    title: str
    eligibility: str
    places: int
    starts_on: date | None
    ends_on: date | None
    apply_by: datetime | None
    activities: str
    consent_text: str


def _validate_call(data: CallInput, *, accepted: int, previous_apply_by: datetime | None,
                   now: datetime) -> _CallValues:
    errors: dict[str, str] = {}
    title = _clean(data.title)
    eligibility, activities, consent_text = _clean(data.eligibility), _clean(data.activities), _clean(data.consent_text)
    required = {"title": (title, _("Enter the title of the call.")),
                "eligibility": (eligibility, _("Describe who can join.")),
                "activities": (activities, _("Describe what participants do.")),
                "consent_text": (consent_text, _("Enter the consent text participants agree to."))}
    for name, (value, missing) in required.items():
        if not value:
            errors[name] = missing
        elif message := _text_error(value, TITLE_MAX if name == "title" else LONG_MAX, single_line=name == "title"):
            errors[name] = message

    places: int | None = None
    raw_places = _normalise(data.places).replace(",", "")[:20]
    if not raw_places:
        errors["places"] = _("Enter the number of places.")
    else:
        places = int(raw_places) if re.fullmatch(r"\d{1,6}", raw_places) else None
        if places is None or not PLACES_MIN <= places <= PLACES_MAX:
            errors["places"] = _("Enter a whole number from %(min)s to %(max)s.", min=PLACES_MIN, max=PLACES_MAX)
        elif places < accepted:
            errors["places"] = _("%(count)s participants are already accepted: the places cannot be fewer.",
                                 count=accepted)

    dates: dict[str, date | None] = {}
    for name in ("starts_on", "ends_on"):
        raw = getattr(data, name) or ""
        dates[name] = parse_date(raw) if raw.strip() else None
        if raw.strip() and dates[name] is None:
            errors[name] = _("Enter a date like 2026-12-05.")
    if dates["starts_on"] and dates["ends_on"] and dates["ends_on"] < dates["starts_on"]:
        errors["ends_on"] = _("The last day must not be before the first day.")

    apply_by: datetime | None = None
    if (data.apply_by or "").strip():
        apply_by = parse_local_datetime(data.apply_by)
        if apply_by is None:
            errors["apply_by"] = _("Enter a date and time like 2026-12-05 17:00.")
        elif apply_by <= now and apply_by != previous_apply_by:
            errors["apply_by"] = _("The apply-by time must be in the future.")
    if errors:
        raise Invalid({name: errors[name] for name in CALL_FIELDS if name in errors})
    assert places is not None
    return _CallValues(title=title, eligibility=eligibility, places=places, starts_on=dates["starts_on"],
                       ends_on=dates["ends_on"], apply_by=apply_by, activities=activities, consent_text=consent_text)


def create_call(session: Session, actor: Principal, trial_id: int, data: CallInput,
                now: datetime | None = None) -> RecruitmentCall:
    """A new draft call on the trial (editors; audited; commits)."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id)
    try:
        values = _validate_call(data, accepted=0, previous_apply_by=None, now=now or utcnow())
    except Invalid:
        session.rollback()
        raise
    call = RecruitmentCall(trial_id=trial.id, created_by_id=user.id, **vars(values))  # type: ignore[arg-type]
    session.add(call)
    session.flush()
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="recruitment_call.created",
                 target_type=CALL, target_id=str(call.id), details={"trial_id": trial.id, "title": call.title,
                                                                    "places": call.places})
    session.commit()
    return call


def update_call(session: Session, actor: Principal, call_id: int, data: CallInput,
                now: datetime | None = None) -> RecruitmentCall:
    """Change a call (editors; audited; commits). A changed consent text raises ``consent_version``."""
    user = require_signed_in(actor)
    call, _trial_row = editable_call(session, actor, call_id, lock=True)
    try:
        values = _validate_call(data, accepted=call.accepted_count, previous_apply_by=call.apply_by,
                                now=now or utcnow())
    except Invalid:
        session.rollback()
        raise
    changed = [name for name, value in vars(values).items() if getattr(call, name) != value]
    if not changed:
        session.rollback()
        return call
    if "consent_text" in changed:
        call.consent_version += 1
    for name in changed:
        setattr(call, name, getattr(values, name))
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="recruitment_call.updated",
                 target_type=CALL, target_id=str(call.id),
                 details={"changed": changed, "consent_version": call.consent_version})
    session.commit()
    return call


def set_status(session: Session, actor: Principal, call_id: int, opening: bool,
               now: datetime | None = None) -> bool:
    """Open or close a call (editors; audited; commits). False when it already was so."""
    user = require_signed_in(actor)
    call, trial = editable_call(session, actor, call_id, lock=True)
    target = RecruitmentStatus.OPEN if opening else RecruitmentStatus.CLOSED
    if call.status is target:
        session.rollback()
        return False
    if opening:
        reason = ""
        if trial.participant_data_deleted_at is not None:
            reason = _("This trial has ended and its participants' data has been deleted.")
        elif not trial.published:
            reason = _("Publish the trial first: residents cannot see calls of an unpublished trial.")
        elif call.apply_by is not None and call.apply_by <= (now or utcnow()):
            reason = _("The apply-by time has passed. Change it before opening the call.")
        if reason:
            session.rollback()
            raise Invalid({"status": reason})
    before = call.status
    call.status = target
    audit.record(session, actor_id=user.id, actor_label=_label(user),
                 action="recruitment_call.opened" if opening else "recruitment_call.closed",
                 target_type=CALL, target_id=str(call.id), details={"from": before.value, "to": target.value})
    if opening:
        events.announce(session, events.RECRUITMENT_OPENED, call_id, actor_id=user.id)
    session.commit()
    return True


# --- applying ------------------------------------------------------------------------------------


@dataclass
class ApplicationInput:
    full_name: str = ""
    contact: str = ""
    message: str = ""
    consent: bool = False
    consent_version: str = ""
    """The version of the consent text shown on the form the applicant read."""


def own_application(session: Session, user_id: int | None, call_id: int) -> RecruitmentApplication | None:
    if user_id is None:
        return None
    return session.exec(select(RecruitmentApplication).where(RecruitmentApplication.call_id == call_id,
                                                             RecruitmentApplication.user_id == user_id)).first()


def closed_reason(call: RecruitmentCall, trial: Trial, now: datetime | None = None) -> str:
    """Why nobody can apply now ("" while the call takes applications)."""
    now = now or utcnow()
    if trial.participant_data_deleted_at is not None:
        return _("This trial has ended and its participants' data has been deleted.")
    if call.status is RecruitmentStatus.DRAFT:
        return _("This call is a draft and does not take applications yet.")
    if call.status is RecruitmentStatus.CLOSED or not trial.published:
        return _("This call is closed and no longer takes applications.")
    if call.apply_by is not None and call.apply_by <= now:
        return _("The application period has ended.")
    if call.accepted_count >= call.places:
        return _("All places have been filled.")
    return ""


def applicant_refusal(session: Session, actor: Principal, trial: Trial) -> str:
    """Why this person can never apply to the trial's calls ("" when they may)."""
    user = actor.user
    if user is None:
        return _("Sign in to apply.")
    if not user.is_confirmed or not user.is_active:
        return _("Confirm your e-mail address before applying.")
    if access.is_trial_member(session, actor, trial):
        return _("Members of the organisations running this trial cannot apply to its calls.")
    return ""


def already_applied_message(application: RecruitmentApplication) -> str:
    if application.status is ApplicationStatus.WITHDRAWN:
        return _("You withdrew from this call. You cannot apply to it again.")
    if application.status is ApplicationStatus.DECLINED:
        return _("Your application to this call was not accepted. You cannot apply to it again.")
    return _("You have already applied to this call.")


def _contact_error(contact: str) -> str | None:
    if message := _text_error(contact, CONTACT_MAX, single_line=True):
        return message
    if EMAIL_RE.match(contact):
        return None
    contact = contact.translate(DASHES)
    digits = re.sub(r"\D", "", contact)
    if PHONE_RE.match(contact) and 10 <= len(digits) <= 15:
        return None
    return _("Enter an e-mail address or a telephone number, for example 03-3964-1111.")


def apply(session: Session, actor: Principal, call_id: int, data: ApplicationInput,
          now: datetime | None = None) -> tuple[RecruitmentApplication, bool]:
    """Apply to an open call (commits). Returns the application and whether it is new.

    Refusals: Forbidden for people who may not apply to this trial; Invalid with the reason
    under ``apply`` when the call takes no applications, or per field for the form.
    """
    user = require_signed_in(actor)
    call, trial, _editor = visible_call(session, actor, call_id)
    if reason := applicant_refusal(session, actor, trial):
        session.rollback()
        raise Forbidden(reason)
    existing = own_application(session, user.id, call_id)
    if existing is not None:
        session.rollback()
        return existing, False
    if reason := closed_reason(call, trial, now):
        session.rollback()
        raise Invalid({"apply": reason})
    errors: dict[str, str] = {}
    full_name, contact, message = _clean(data.full_name), _normalise(data.contact), _clean(data.message)
    if "@" not in contact:
        contact = contact.translate(DASHES)
    if not full_name:
        errors["full_name"] = _("Enter your name.")
    elif error := _text_error(full_name, NAME_MAX, single_line=True):
        errors["full_name"] = error
    if not contact:
        errors["contact"] = _("Enter an e-mail address or a telephone number where the organisation can reach you.")
    elif error := _contact_error(contact):
        errors["contact"] = error
    if error := _text_error(message, MESSAGE_MAX):
        errors["message"] = error
    if not data.consent:
        errors["consent"] = _("Tick the box to agree to the consent text.")
    elif _normalise(data.consent_version) != str(call.consent_version):
        errors["consent"] = _("The consent text changed while you were reading it. Read the new version (version "
                              "%(version)s) and agree to it again.", version=call.consent_version)
    if errors:
        session.rollback()
        raise Invalid(errors)
    application = RecruitmentApplication(call_id=call_id, user_id=user.id, consent_version=call.consent_version,
                                         consented_at=now or utcnow(), full_name=full_name, contact=contact,
                                         message=message)
    session.add(application)
    try:
        session.commit()
    except sa.exc.IntegrityError:  # a double submit: the first one counts
        session.rollback()
        existing = own_application(session, user.id, call_id)
        if existing is None:
            raise
        return existing, False
    return application, True


def _erase(application: RecruitmentApplication, call: RecruitmentCall, now: datetime) -> None:
    """Withdraw and blank one application; the caller holds the call row's lock."""
    if application.status is ApplicationStatus.ACCEPTED:
        call.accepted_count -= 1
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = now
    application.full_name = ""
    application.contact = ""
    application.message = ""


def withdraw(session: Session, actor: Principal, call_id: int) -> bool:
    """The applicant withdraws their consent (commits): their data is blanked and an accepted place
    released. False when it was already withdrawn; NotFound when they never applied."""
    user = require_signed_in(actor)
    call, _trial_row = _call(session, call_id, lock=True)
    application = own_application(session, user.id, call_id)
    if application is None:
        session.rollback()
        raise NotFound()
    if application.status is ApplicationStatus.WITHDRAWN:
        session.rollback()
        return False
    _erase(application, call, utcnow())
    session.commit()
    return True


# --- the organisation's view ---------------------------------------------------------------------


def participants_call(session: Session, actor: Principal, call_id: int) -> tuple[RecruitmentCall, Trial]:
    """The call, when the actor may see its applicants' data (Forbidden otherwise)."""
    require_signed_in(actor)
    call, trial = _call(session, call_id)
    if not access.can_see_participants(session, actor, trial):
        session.rollback()
        raise Forbidden(_("Only the trial's organisations and coordinators can see the applicants."))
    return call, trial


def applications(session: Session, actor: Principal, call_id: int, page: int,
                 per_page: int) -> tuple[RecruitmentCall, Trial, Page[RecruitmentApplication]]:
    """One page of the call's applications, oldest first (participants' viewers only)."""
    call, trial = participants_call(session, actor, call_id)
    statement = (select(RecruitmentApplication).where(RecruitmentApplication.call_id == call_id)
                 .order_by(col(RecruitmentApplication.created_at), col(RecruitmentApplication.id)))
    return call, trial, paginate(session, statement, page, per_page)  # type: ignore[arg-type]


def status_counts(session: Session, call_id: int) -> dict[str, int]:
    rows = session.exec(select(RecruitmentApplication.status, sa.func.count())
                        .where(RecruitmentApplication.call_id == call_id)
                        .group_by(RecruitmentApplication.status)).all()
    return {ApplicationStatus(status).value: count for status, count in rows}


def decide(session: Session, settings: Settings, actor: Principal, call_id: int, application_id: int,
           accept: bool) -> bool:
    """Accept or decline an application (participants' viewers; audited; notifies; commits).

    Accepting takes a place under the call row's lock: when the places are all taken it is refused.
    Declining an accepted application releases its place. False when nothing changed.
    """
    user = require_signed_in(actor)
    participants_call(session, actor, call_id)
    call, _trial_row = _call(session, call_id, lock=True)
    application = session.get(RecruitmentApplication, application_id, populate_existing=True)
    if application is None or application.call_id != call_id:
        session.rollback()
        raise NotFound()
    target = ApplicationStatus.ACCEPTED if accept else ApplicationStatus.DECLINED
    if application.status is target:
        session.rollback()
        return False
    if application.status is ApplicationStatus.WITHDRAWN:
        session.rollback()
        raise Invalid({"decision": _("This applicant has withdrawn; their data has been removed.")})
    if accept:
        if call.accepted_count >= call.places:
            session.rollback()
            raise Invalid({"decision": _("All places have been filled. Decline someone or add places "
                                                  "first.")})
        call.accepted_count += 1
    elif application.status is ApplicationStatus.ACCEPTED:
        call.accepted_count -= 1
    before = application.status
    now = utcnow()
    application.status = target
    application.decided_at = now
    try:
        session.flush()
    except sa.exc.IntegrityError:  # only if a writer got past the row lock; the constraint still says no
        session.rollback()
        raise Invalid({"decision": _("All places have been filled. Decline someone or add places "
                                              "first.")}) from None
    audit.record(session, actor_id=user.id, actor_label=_label(user),
                 action="recruitment_application.accepted" if accept else "recruitment_application.declined",
                 target_type=APPLICATION, target_id=str(application.id),
                 details={"call_id": call_id, "from": before.value, "to": target.value})
    if application.user_id is not None:
        kind = ACCEPTED_KIND if accept else DECLINED_KIND
        notifications.notify(session, user_ids=[application.user_id], kind=kind, target_type=APPLICATION,
                             target_id=application.id, url="/my/participation",  # type: ignore[arg-type]
                             params={"call_title": call.title, "call_id": call.id, "trial_title": _trial_row.title},
                             event_key=f"{kind}:{application.id}:{now.isoformat()}", settings=settings)
    session.commit()
    return True


# --- residents' own view -------------------------------------------------------------------------


@dataclass
class Participation:
    application: RecruitmentApplication
    call: RecruitmentCall
    trial: Trial


def my_applications(session: Session, actor: Principal, page: int, per_page: int) -> Page[Any]:
    """The actor's applications, newest first, with their calls and trials (one page, two queries)."""
    user = require_signed_in(actor)
    statement = (select(RecruitmentApplication, RecruitmentCall, Trial)
                 .join(RecruitmentCall, col(RecruitmentCall.id) == RecruitmentApplication.call_id)
                 .join(Trial, col(Trial.id) == RecruitmentCall.trial_id)
                 .where(RecruitmentApplication.user_id == user.id)
                 .order_by(col(RecruitmentApplication.created_at).desc(), col(RecruitmentApplication.id).desc()))
    result = paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]
    return Page(items=[Participation(*row) for row in result.items], page=result.page, per_page=result.per_page,
                total=result.total)


# --- the trial page section ----------------------------------------------------------------------


@dataclass
class CallSection:
    trial: Trial
    calls: list[RecruitmentCall]
    can_edit: bool
    can_see_participants: bool


def section(session: Session, actor: Principal, trial: Trial) -> CallSection | None:
    """The trial's calls for the trial page: public ones, plus drafts for editors (None: nothing)."""
    can_edit = access.can_edit_trial(session, actor, trial)
    statement = select(RecruitmentCall).where(RecruitmentCall.trial_id == trial.id)
    if not can_edit:
        if not trial.published:
            return None
        statement = statement.where(col(RecruitmentCall.status).in_([RecruitmentStatus.OPEN,
                                                                     RecruitmentStatus.CLOSED]))
    calls = list(session.exec(statement.order_by(col(RecruitmentCall.created_at).desc(),
                                                 col(RecruitmentCall.id).desc()).limit(SECTION_LIMIT)).all())
    if not calls and not can_edit:
        return None
    return CallSection(trial=trial, calls=calls, can_edit=can_edit,
                       can_see_participants=can_edit and access.can_see_participants(session, actor, trial))


# --- deleting participants' data after the trial -------------------------------------------------


def delete_expired_participant_data(session: Session, now: datetime | None = None) -> int:
    """Delete every application of trials whose ``ends_on`` + retention days have passed (Tokyo days),
    close their calls and mark them done (commits). Returns the rows deleted; running again deletes nothing."""
    today = local_today(now)
    candidates = session.exec(select(Trial.id, Trial.ends_on, Trial.participant_data_retention_days).where(
        col(Trial.ends_on).is_not(None), col(Trial.ends_on) < today,
        col(Trial.participant_data_deleted_at).is_(None))).all()
    deleted = 0
    for trial_id, ends_on, days in candidates:
        if ends_on + timedelta(days=max(0, days)) >= today:
            continue
        trial = session.get(Trial, trial_id, with_for_update=True, populate_existing=True)
        if trial is None or trial.participant_data_deleted_at is not None:  # another run got here first
            session.rollback()
            continue
        call_ids = select(RecruitmentCall.id).where(RecruitmentCall.trial_id == trial_id)
        count = session.exec(select(sa.func.count()).select_from(RecruitmentApplication)
                             .where(col(RecruitmentApplication.call_id).in_(call_ids))).one()
        session.execute(sa.delete(RecruitmentApplication).where(col(RecruitmentApplication.call_id).in_(call_ids)))
        session.execute(sa.update(RecruitmentCall).where(col(RecruitmentCall.trial_id) == trial_id,
                                                         col(RecruitmentCall.status) != RecruitmentStatus.CLOSED)
                        .values(status=RecruitmentStatus.CLOSED))
        indexer.mark_stale(session, [registry.doc_key("trial", trial_id)])  # closed calls show on the trial
        trial.participant_data_deleted_at = utcnow()
        audit.record(session, actor_id=None, actor_label="system", action="recruitment.participant_data_deleted",
                     target_type="trial", target_id=str(trial_id), details={"applications": count})
        session.commit()
        deleted += count
    session.rollback()
    return deleted


# --- privacy: download my data, delete my account ------------------------------------------------


def export_applications(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(RecruitmentApplication, RecruitmentCall, Trial)
                        .join(RecruitmentCall, col(RecruitmentCall.id) == RecruitmentApplication.call_id)
                        .join(Trial, col(Trial.id) == RecruitmentCall.trial_id)
                        .where(RecruitmentApplication.user_id == user.id)
                        .order_by(col(RecruitmentApplication.id))).all()
    return [{"id": application.id, "call_id": call.id, "call_title": call.title, "trial_id": trial.id,
             "trial_title": trial.title, "status": application.status, "consent_version": application.consent_version,
             "consented_at": application.consented_at, "withdrawn_at": application.withdrawn_at,
             "decided_at": application.decided_at, "applied_at": application.created_at,
             "full_name": application.full_name, "contact": application.contact, "message": application.message}
            for application, call, trial in rows]


def erase_for_deleted_account(session: Session, user: User) -> None:
    """Account deletion withdraws every application of the user and blanks its data (no commit)."""
    call_ids = session.exec(select(RecruitmentApplication.call_id).where(
        RecruitmentApplication.user_id == user.id,
        RecruitmentApplication.status != ApplicationStatus.WITHDRAWN).order_by(col(RecruitmentApplication.call_id))).all()
    now = utcnow()
    for call_id in call_ids:
        call = session.get(RecruitmentCall, call_id, with_for_update=True, populate_existing=True)
        application = own_application(session, user.id, call_id)
        if call is not None and application is not None and application.status is not ApplicationStatus.WITHDRAWN:
            _erase(application, call, now)
    session.flush()

