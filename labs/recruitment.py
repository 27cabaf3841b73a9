"""Participant recruitment (モニター募集): a trial's calls for participants, residents' applications,
the organisation's decisions, withdrawal of consent and the deletion of participants' data.

Who may do what is the labs policy's (:mod:`labs.permissions`, asked with :class:`labs.access.OnCall`
and :class:`labs.access.OnTrial`):

- A call is written, opened and closed by the trial's editors (``recruitment.create``, ``.edit``,
  ``.open``, ``.close``); every change is
  audited. Changing the consent text raises ``consent_version``; applications keep the version their
  applicant agreed to.
- The public sees open and closed calls of published trials; drafts (and calls of unpublished trials)
  only the editors (``recruitment.see``).
- Signed-in residents with a confirmed e-mail address apply while a call is open and before its
  apply-by time, agreeing to the consent text of the version they read. Members of the trial's
  organisations cannot apply to their own trial (``recruitment.apply``). One application per person and call (a unique
  constraint): after withdrawing or being declined a person cannot apply to the same call again.
- Applicants' personal data (name, contact, message) is seen only by members of the trial's
  organisations and by coordinators (``recruitment.see_applications``, ``recruitment.decide``) — not by
  ward staff, not by site admins without the coordinator role.
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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic_core import core_schema
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import (
    Date,
    FormModel,
    Line,
    LocalDateTime,
    Problems,
    Text,
    WholeNumber,
    normalised,
    refuse,
)
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.search import indexer, registry
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.pagination import Page, paginate
from labs import access, events, paths
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
        raise NotFound()
    return trial


def _call(session: Session, call_id: int, *, lock: bool = False) -> tuple[RecruitmentCall, Trial]:
    if lock:
        call = session.get(RecruitmentCall, call_id, with_for_update=True, populate_existing=True)
    else:
        call = session.get(RecruitmentCall, call_id)
    if call is None:
        raise NotFound()
    return call, _trial(session, call.trial_id)


def editable_trial(session: Session, actor: Principal, trial_id: int) -> Trial:
    """The trial, when the actor may post calls on it (``recruitment.create``; Forbidden otherwise)."""
    require_signed_in(actor)
    trial = _trial(session, trial_id)
    permissions.require(actor, "recruitment.create", access.on_trial(session, actor, trial, ("recruitment.create",)))
    return trial


def editable_call(session: Session, actor: Principal, call_id: int, action: str = "recruitment.edit", *,
                  lock: bool = False) -> tuple[RecruitmentCall, Trial]:
    """The call and its trial, when the actor may do ``action`` to it (Forbidden otherwise)."""
    require_signed_in(actor)
    call, trial = _call(session, call_id, lock=lock)
    permissions.require(actor, action, access.on_trial(session, actor, trial, (action,)))
    return call, trial


PAGE_ACTIONS = ("recruitment.see", "recruitment.edit", "recruitment.see_applications", "recruitment.apply")
"""What the call page asks about the call for its reader."""


def visible_call(session: Session, actor: Principal, call_id: int,
                 actions: tuple[str, ...] = PAGE_ACTIONS) -> tuple[RecruitmentCall, Trial, access.OnCall]:
    """The call, its trial and the call's facts for asking ``actions`` (``recruitment.see``: drafts are
    hidden from all but the trial's editors)."""
    call, trial = _call(session, call_id)
    facts = access.on_call(session, actor, call, trial, actions)
    if not permissions.can(actor, "recruitment.see", facts):
        raise NotFound()
    return call, trial, facts


# --- calls: the editors' form --------------------------------------------------------------------


class CallForm(FormModel):
    """What the editors' form sends (dates ``YYYY-MM-DD``, apply-by as a Tokyo date and time), in
    :data:`CALL_FIELDS` order so that the errors are listed in page order."""


    title: Annotated[str, Line(TITLE_MAX, required=lazy_gettext("Enter the title of the call."))] = ""
    eligibility: Annotated[str, Text(LONG_MAX, required=lazy_gettext("Describe who can join."))] = ""
    places: Annotated[int | None, WholeNumber(
        lazy_gettext("Enter a whole number from %(min)s to %(max)s.", min=PLACES_MIN, max=PLACES_MAX),
        minimum=PLACES_MIN, maximum=PLACES_MAX, required=lazy_gettext("Enter the number of places."))] = None
    starts_on: Annotated[date | None, Date(message=lazy_gettext("Enter a date like 2026-12-05."))] = None
    ends_on: Annotated[date | None, Date(message=lazy_gettext("Enter a date like 2026-12-05."))] = None
    apply_by: Annotated[datetime | None, LocalDateTime(
        message=lazy_gettext("Enter a date and time like 2026-12-05 17:00."))] = None
    activities: Annotated[str, Text(LONG_MAX, required=lazy_gettext("Describe what participants do."))] = ""
    consent_text: Annotated[str, Text(LONG_MAX, required=lazy_gettext(
        "Enter the consent text participants agree to."))] = ""


def call_form_values(call: RecruitmentCall) -> dict[str, str]:
    """The editors' form filled in with the call as it is (what the edit page shows)."""
    return {"title": call.title, "eligibility": call.eligibility, "places": str(call.places),
            "starts_on": call.starts_on.isoformat() if call.starts_on else "",
            "ends_on": call.ends_on.isoformat() if call.ends_on else "",
            "apply_by": local_datetime_value(call.apply_by), "activities": call.activities,
            "consent_text": call.consent_text}


def _check_call(form: CallForm, *, accepted: int, previous_apply_by: datetime | None, now: datetime) -> None:
    """The rules the form cannot check alone: places already accepted, the order of the days and an
    apply-by time in the future (an unchanged one may have passed)."""
    problems = Problems()
    if form.places is not None and form.places < accepted:
        problems.add("places", _("%(count)s participants are already accepted: the places cannot be fewer.",
                                 count=accepted))
    if form.starts_on and form.ends_on and form.ends_on < form.starts_on:
        problems.add("ends_on", _("The last day must not be before the first day."))
    if form.apply_by is not None and form.apply_by <= now and form.apply_by != previous_apply_by:
        problems.add("apply_by", _("The apply-by time must be in the future."))
    problems.raise_any()


@transactional
def create_call(session: Session, actor: Principal, trial_id: int, form: CallForm,
                now: datetime | None = None) -> RecruitmentCall:
    """A new draft call on the trial (editors; audited)."""
    user = require_signed_in(actor)
    trial = editable_trial(session, actor, trial_id)
    _check_call(form, accepted=0, previous_apply_by=None, now=now or utcnow())
    call = RecruitmentCall(trial_id=trial.id, created_by_id=user.id, **form.model_dump())  # type: ignore[arg-type]
    session.add(call)
    session.flush()
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="recruitment_call.created",
                 target_type=CALL, target_id=str(call.id), details={"trial_id": trial.id, "title": call.title,
                                                                    "places": call.places})
    return call


@transactional
def update_call(session: Session, actor: Principal, call_id: int, form: CallForm,
                now: datetime | None = None) -> RecruitmentCall:
    """Change a call (editors; audited). A changed consent text raises ``consent_version``."""
    user = require_signed_in(actor)
    call, _trial_row = editable_call(session, actor, call_id, lock=True)
    _check_call(form, accepted=call.accepted_count, previous_apply_by=call.apply_by, now=now or utcnow())
    values = form.model_dump()
    changed = [name for name, value in values.items() if getattr(call, name) != value]
    if not changed:
        return call
    if "consent_text" in changed:
        call.consent_version += 1
    for name in changed:
        setattr(call, name, values[name])
    audit.record(session, actor_id=user.id, actor_label=_label(user), action="recruitment_call.updated",
                 target_type=CALL, target_id=str(call.id),
                 details={"changed": changed, "consent_version": call.consent_version})
    return call


@transactional
def set_status(session: Session, actor: Principal, call_id: int, opening: bool,
               now: datetime | None = None) -> bool:
    """Open or close a call (editors; audited). False when it already was so."""
    user = require_signed_in(actor)
    call, trial = editable_call(session, actor, call_id, "recruitment.open" if opening else "recruitment.close",
                                lock=True)
    target = RecruitmentStatus.OPEN if opening else RecruitmentStatus.CLOSED
    if call.status is target:
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
            raise Invalid({"status": reason})
    before = call.status
    call.status = target
    audit.record(session, actor_id=user.id, actor_label=_label(user),
                 action="recruitment_call.opened" if opening else "recruitment_call.closed",
                 target_type=CALL, target_id=str(call.id), details={"from": before.value, "to": target.value})
    if opening:
        events.announce(session, events.RECRUITMENT_OPENED, call_id, actor_id=user.id)
    return True


# --- applying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact(Text):
    """An e-mail address or a telephone number (``03-3964-1111``; full-width digits and the dashes
    people type read as such), single line."""

    def parse(self, value: Any) -> str:
        text = normalised(value)
        if "@" not in text:
            text = text.translate(DASHES)
        text = super().parse(text)
        if not text or EMAIL_RE.match(text):
            return text
        digits = re.sub(r"\D", "", text)
        if PHONE_RE.match(text) and 10 <= len(digits) <= 15:
            return text
        raise refuse(_("Enter an e-mail address or a telephone number, for example 03-3964-1111."))


@dataclass(frozen=True)
class Ticked:
    """A checkbox that must be ticked (sent as ``yes``); ``message`` says so otherwise."""

    message: Any

    def parse(self, value: Any) -> bool:
        if value is True or normalised(value) == "yes":
            return True
        raise refuse(self.message)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)


class ApplyForm(FormModel):
    """What the apply form sends: the applicant's data and their agreement to the consent text of the
    version shown on the form."""


    full_name: Annotated[str, Line(NAME_MAX, required=lazy_gettext("Enter your name."))] = ""
    contact: Annotated[str, Contact(CONTACT_MAX, required=lazy_gettext(
        "Enter an e-mail address or a telephone number where the organisation can reach you."),
        single_line=True)] = ""
    message: Annotated[str, Text(MESSAGE_MAX)] = ""
    consent: Annotated[bool, Ticked(lazy_gettext("Tick the box to agree to the consent text."))] = False
    consent_version: Annotated[str, Line(20)] = ""
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


def already_applied_message(application: RecruitmentApplication) -> str:
    if application.status is ApplicationStatus.WITHDRAWN:
        return _("You withdrew from this call. You cannot apply to it again.")
    if application.status is ApplicationStatus.DECLINED:
        return _("Your application to this call was not accepted. You cannot apply to it again.")
    return _("You have already applied to this call.")


def stale_consent(call: RecruitmentCall, consent_version: str) -> str | None:
    """The refusal when the form the applicant agreed on showed another version of the consent text."""
    if normalised(consent_version) == str(call.consent_version):
        return None
    return _("The consent text changed while you were reading it. Read the new version (version "
             "%(version)s) and agree to it again.", version=call.consent_version)


def previous_application(session: Session, actor: Principal, call_id: int,
                         now: datetime | None = None) -> RecruitmentApplication | None:
    """The actor's application to the call when they applied before, None when they may apply now.

    Refusals, checked before the form is read: NotFound for a call the actor cannot see, Forbidden for
    people who may not apply to this trial (``recruitment.apply``), Invalid under ``apply`` when the
    call takes no applications.
    """
    user = require_signed_in(actor)
    call, trial, facts = visible_call(session, actor, call_id, ("recruitment.see", "recruitment.apply"))
    permissions.require(actor, "recruitment.apply", facts)
    if (existing := own_application(session, user.id, call_id)) is not None:
        return existing
    if reason := closed_reason(call, trial, now):
        raise Invalid({"apply": reason})
    return None


def apply(session: Session, actor: Principal, call_id: int, form: ApplyForm,
          now: datetime | None = None) -> tuple[RecruitmentApplication, bool]:
    """Apply to an open call (commits). Returns the application and whether it is new.

    Refusals: those of :func:`previous_application`, and Invalid under ``consent`` when the consent
    text changed since the form was shown.
    """
    try:
        with unit_of_work(session):
            return _apply(session, actor, call_id, form, now)
    except sa.exc.IntegrityError:  # a double submit: the first one counts
        existing = own_application(session, actor.user_id, call_id)
        if existing is None:
            raise
        return existing, False


def _apply(session: Session, actor: Principal, call_id: int, form: ApplyForm,
           now: datetime | None) -> tuple[RecruitmentApplication, bool]:
    user = require_signed_in(actor)
    if (existing := previous_application(session, actor, call_id, now)) is not None:
        return existing, False
    call, _trial_row = _call(session, call_id)
    if reason := stale_consent(call, form.consent_version):
        raise Invalid({"consent": reason})
    application = RecruitmentApplication(call_id=call_id, user_id=user.id, consent_version=call.consent_version,
                                         consented_at=now or utcnow(), full_name=form.full_name,
                                         contact=form.contact, message=form.message)
    session.add(application)
    session.flush()  # the unique constraint speaks here, inside the unit of work
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


@transactional
def withdraw(session: Session, actor: Principal, call_id: int) -> bool:
    """The applicant withdraws their consent: their data is blanked and an accepted place released.
    False when it was already withdrawn; NotFound when they never applied."""
    user = require_signed_in(actor)
    call, _trial_row = _call(session, call_id, lock=True)
    application = own_application(session, user.id, call_id)
    if application is None:
        raise NotFound()
    if application.status is ApplicationStatus.WITHDRAWN:
        return False
    _erase(application, call, utcnow())
    # The blanked values' older copies stay in SQLite's write-ahead log until it is emptied: the worker
    # empties it once this commits (as after an account deletion).
    enqueue(session, "cocreate.erase_freed")
    return True


# --- the organisation's view ---------------------------------------------------------------------


def participants_call(session: Session, actor: Principal, call_id: int,
                      action: str = "recruitment.see_applications") -> tuple[RecruitmentCall, Trial]:
    """The call, when the actor may do ``action`` with its applicants' data (Forbidden otherwise)."""
    require_signed_in(actor)
    call, trial = _call(session, call_id)
    permissions.require(actor, action, access.on_trial(session, actor, trial, (action,)))
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


def _places_filled() -> Invalid:
    return Invalid({"decision": _("All places have been filled. Decline someone or add places first.")})


@transactional
def decide(session: Session, settings: Settings, actor: Principal, call_id: int, application_id: int,
           accept: bool) -> bool:
    """Accept or decline an application (participants' viewers; audited; notifies).

    Accepting takes a place under the call row's lock: when the places are all taken it is refused.
    Declining an accepted application releases its place. False when nothing changed.
    """
    user = require_signed_in(actor)
    participants_call(session, actor, call_id, "recruitment.decide")
    call, _trial_row = _call(session, call_id, lock=True)
    application = session.get(RecruitmentApplication, application_id, populate_existing=True)
    if application is None or application.call_id != call_id:
        raise NotFound()
    target = ApplicationStatus.ACCEPTED if accept else ApplicationStatus.DECLINED
    if application.status is target:
        return False
    if application.status is ApplicationStatus.WITHDRAWN:
        raise Invalid({"decision": _("This applicant has withdrawn; their data has been removed.")})
    if accept:
        if call.accepted_count >= call.places:
            raise _places_filled()
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
        raise _places_filled() from None
    audit.record(session, actor_id=user.id, actor_label=_label(user),
                 action="recruitment_application.accepted" if accept else "recruitment_application.declined",
                 target_type=APPLICATION, target_id=str(application.id),
                 details={"call_id": call_id, "from": before.value, "to": target.value})
    if application.user_id is not None:
        kind = ACCEPTED_KIND if accept else DECLINED_KIND
        notifications.notify(session, user_ids=[application.user_id], kind=kind, target_type=APPLICATION,
                             target_id=application.id, url=paths.my_participation(),  # type: ignore[arg-type]
                             params={"call_title": call.title, "call_id": call.id, "trial_title": _trial_row.title},
                             event_key=f"{kind}:{application.id}:{now.isoformat()}", settings=settings)
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
    target: access.OnTrial
    """The trial as the rules see it for the reader (the section asks ``can("recruitment.create", s.target)``)."""


def section(session: Session, actor: Principal, trial: Trial) -> CallSection | None:
    """The trial's calls for the trial page: public ones, plus drafts for editors (None: nothing)."""
    facts = access.on_trial(session, actor, trial, ("recruitment.create", "recruitment.see_applications"))
    can_edit = bool(permissions.can(actor, "recruitment.create", facts))
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
    return CallSection(trial=trial, calls=calls, target=facts)


# --- deleting participants' data after the trial -------------------------------------------------


def delete_expired_participant_data(session: Session, now: datetime | None = None) -> int:
    """Delete every application of trials whose ``ends_on`` + retention days have passed (Tokyo days),
    close their calls and mark them done, one trial per unit of work (commits each). Returns the rows
    deleted; running again deletes nothing."""
    today = local_today(now)
    with unit_of_work(session):
        candidates = session.exec(select(Trial.id, Trial.ends_on, Trial.participant_data_retention_days).where(
            col(Trial.ends_on).is_not(None), col(Trial.ends_on) < today,
            col(Trial.participant_data_deleted_at).is_(None))).all()
    deleted = 0
    for trial_id, ends_on, days in candidates:
        if ends_on + timedelta(days=max(0, days)) < today:
            deleted += _delete_participant_data(session, trial_id)
    return deleted


@transactional
def _delete_participant_data(session: Session, trial_id: int) -> int:
    """Delete one trial's applications under its row lock; 0 when another run got here first."""
    trial = session.get(Trial, trial_id, with_for_update=True, populate_existing=True)
    if trial is None or trial.participant_data_deleted_at is not None:
        return 0
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
    return count


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

