"""What people may do in the labs component, answered by :func:`cocreate.permissions.can`.

One policy, declared in the labs manifest. Its rules read the actor's roles and the facts their target
carries (:mod:`labs.access` defines the targets and reads them once), never the database:

- **test fields** (:class:`~labs.access.OnField`): coordinators (the role) and site admins create
  fields; a field is managed (edited, its photos, blackouts and coordinators) by its assigned
  coordinators and by site admins; the public sees published fields, its managers see it unpublished too;
- **bookings** (:class:`~labs.access.OnBooking`): members of an organisation request fields; the
  members of the requesting organisation see, edit, submit (a verified organisation only) and cancel it,
  in the states :mod:`labs.bookings.states` allows; the field's managers see it once it is submitted,
  review, approve, reject, reschedule and cancel it; coordinators have a queue and a private calendar feed;
- **trials** (:class:`~labs.access.OnTrial`, :class:`~labs.access.OnProposal`): coordinators start
  ward-run trials and choose who runs a trial; staff of a department owning the challenge and coordinators
  start one from a selected proposal; the trial's organisations, its department's staff, coordinators and
  site admins edit it, post updates and write its results; an unpublished trial is seen by them only;
- **recruitment** (:class:`~labs.access.OnTrial`, :class:`~labs.access.OnCall`): the trial's editors
  write, open and close calls;
  drafts and calls of unpublished trials are seen by them only; confirmed residents apply, but not
  members of the trial's organisations; applicants are seen and decided on by the trial's organisations
  and coordinators (the role: not ward staff, not site admins without it);
- **KPI measurements** (:class:`~labs.access.OnKpi`): members of the trial's organisations enter dated
  measurements and correct those sent back (``kpi.measure``); staff of the department that owns the trial
  confirm or send back submitted ones (``kpi.confirm``); both see the measurements not confirmed yet
  (``kpi.see_pending``); confirmed ones are public with the trial;
- **notices**: signed-in people subscribe to the notices of fields and areas.

A rule checks who acts first and the target's state last, so that a route can refuse the wrong people
before it reads a form (:func:`labs.access.require_who`) and leave a refusal of the state, shown under
its field (``status``, ``file``), to the service.
"""

from __future__ import annotations

from collections.abc import Callable

from cocreate import permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import OnOrganisation, Principal
from cocreate.i18n import gettext as _
from cocreate.permissions import ALLOW, Decision, Policy, confirmed, signed_in, when
from labs.access import OnBooking, OnCall, OnField, OnKpi, OnProposal, OnTrial
from labs.bookings.states import EDITABLE, OPEN, can_move, illegal
from labs.models import BookingStatus, KpiMeasurementStatus, RecruitmentStatus

POLICY = Policy("labs")

S = BookingStatus


def _no_permission() -> str:
    return _("You do not have permission to do this.")


def _state(allowed: bool, reason: Callable[[], str], field: str = "status") -> Decision:
    """A refusal because of the target's state, shown under ``field`` of the form."""
    return ALLOW if allowed else Decision(False, reason(), field=field)


def _either(first: Decision, second: Callable[[], Decision]) -> Decision:
    """Allowed if either is (the second is asked only when the first refuses, and its refusal stands)."""
    return first if first else second()


# --- named predicates ----------------------------------------------------------------------------


def coordinator(actor: Principal, reason: Callable[[], str] = _no_permission) -> Decision:
    """Holds the coordinator role, or is a site admin (who counts as one for fields and trials)."""
    return signed_in(actor) & when(actor.has_role(Role.COORDINATOR) or actor.is_admin, reason)


def manages(actor: Principal, coordinates: bool) -> Decision:
    """Manages a field: a site admin, or a coordinator (the role) assigned to it."""
    return signed_in(actor) & when(actor.is_admin or (actor.has_role(Role.COORDINATOR) and coordinates),
                                   _no_permission)


def trial_editor(actor: Principal, trial: OnTrial, reason: Callable[[], str]) -> Decision:
    """The trial's organisations, the staff of its department, coordinators and site admins."""
    return signed_in(actor) & when(actor.has_role(Role.COORDINATOR) or actor.is_admin
                                   or actor.is_staff_of(trial.department_id) or trial.member_of_organisation,
                                   reason)


def _trial_team() -> str:
    return _("Only the trial's organisations, the department in charge and coordinators can do this.")


def _call_team() -> str:
    return _("Only the trial's organisations, its department's staff and coordinators can do this.")


# --- test fields ---------------------------------------------------------------------------------


@POLICY.rule("field.create")
def _create_field(actor: Principal, _target: object) -> Decision:
    return coordinator(actor, lambda: _("Only field coordinators can create test fields."))


@POLICY.rule("field.see")
def _see_field(actor: Principal, target: OnField) -> Decision:
    """Published fields for everybody; unpublished ones for their managers."""
    return _either(when(target.published, _no_permission), lambda: manages(actor, target.coordinates))


@POLICY.rule("field.edit", "field.manage_blackouts", "field.manage_coordinators", "calendar.see_pending")
def _manage_field(actor: Principal, target: OnField) -> Decision:
    """The field itself and its photos, its blackouts, its coordinators; its pending requests in calendars."""
    return manages(actor, target.coordinates)


# --- bookings ------------------------------------------------------------------------------------


def _member(actor: Principal, target: OnBooking) -> Decision:
    return signed_in(actor) & when(target.member_of_organisation, lambda: _(
        "Only members of the organisation that made this request can do this."))


def _manager(actor: Principal, target: OnBooking) -> Decision:
    """The field's managers, once the request is submitted (drafts are the organisation's alone)."""
    return manages(actor, target.coordinates_field) & when(target.status is not S.DRAFT, _no_permission)


def _illegal(target: OnBooking) -> Callable[[], str]:
    return lambda: illegal(target.status) if target.status is not None else _no_permission()


def _can_move(target: OnBooking, to: BookingStatus) -> Decision:
    return _state(target.status is not None and can_move(target.status, to), _illegal(target))


def _editable(target: OnBooking) -> Decision:
    return _state(target.status is None or target.status in EDITABLE, lambda: _(
        "This request is “%(status)s” and can no longer be edited.", status=target.status.label))  # type: ignore[union-attr]


@POLICY.rule("booking.request")
def _request(actor: Principal, target: OnBooking) -> Decision:
    """Start a request (a draft): members of an organisation."""
    return signed_in(actor) & when(target.member_of_organisation, lambda: _(
        "Only members of an organisation can request a booking. Join or register your organisation first."))


@POLICY.rule("booking.see")
def _see_booking(actor: Principal, target: OnBooking) -> Decision:
    """The requesting organisation's members, and the field's managers once it is submitted."""
    return _either(_member(actor, target), lambda: _manager(actor, target))


@POLICY.rule("booking.edit")
def _edit_booking(actor: Principal, target: OnBooking) -> Decision:
    return _member(actor, target) & _editable(target)


@POLICY.rule("booking.submit")
def _submit(actor: Principal, target: OnBooking) -> Decision:
    """Only a verified organisation submits (the core's gate, ``organisation.act_for``); a new request
    or one that is editable."""
    acting_for = OnOrganisation(is_verified=target.organisation_verified, is_member=target.member_of_organisation,
                                is_org_admin=False)
    return _member(actor, target) & permissions.can(actor, "organisation.act_for", acting_for) \
        & _state(target.status is None or target.status in EDITABLE, _illegal(target))


@POLICY.rule("booking.cancel")
def _cancel(actor: Principal, target: OnBooking) -> Decision:
    """The organisation cancels its request, also an approved one."""
    return _member(actor, target) & _can_move(target, S.CANCELLED)


@POLICY.rule("booking.upload_document")
def _documents(actor: Principal, target: OnBooking) -> Decision:
    """Add and delete the request's documents, while it is editable."""
    return _member(actor, target) & _state(target.status in EDITABLE, lambda: _(
        "Documents can be changed only while the request is a draft or changes are requested."), field="file")


@POLICY.rule("booking.review")
def _review(actor: Principal, target: OnBooking) -> Decision:
    """Start the review of a submitted request."""
    return _manager(actor, target) & _can_move(target, S.UNDER_REVIEW)


@POLICY.rule("booking.reject")
def _reject(actor: Principal, target: OnBooking) -> Decision:
    return _manager(actor, target) & _can_move(target, S.REJECTED)


@POLICY.rule("booking.manager_cancel")
def _manager_cancel(actor: Principal, target: OnBooking) -> Decision:
    """The field's managers cancel a request, also an approved booking."""
    return _manager(actor, target) & _can_move(target, S.CANCELLED)


@POLICY.rule("booking.request_changes", "booking.approve")
def _decide_booking(actor: Principal, target: OnBooking) -> Decision:
    """While the request waits for the managers (submitted or under review)."""
    return _manager(actor, target) & _state(target.status in OPEN, _illegal(target))


@POLICY.rule("booking.reschedule")
def _reschedule(actor: Principal, target: OnBooking) -> Decision:
    return _manager(actor, target) & _state(target.status is S.APPROVED, lambda: _(
        "Only approved bookings can be rescheduled."))


@POLICY.rule("booking.queue")
def _queue(actor: Principal, _target: object) -> Decision:
    """The requests for the fields one manages (whose fields: :func:`labs.access.managed_field_ids`)."""
    return coordinator(actor)


# --- calendars -----------------------------------------------------------------------------------


@POLICY.rule("calendar.export")
def _export_calendar(actor: Principal, _target: object) -> Decision:
    """A private calendar feed of one's fields' bookings, pending ones included."""
    return coordinator(actor, lambda: _("Only field coordinators can use a private calendar feed."))


# --- trials --------------------------------------------------------------------------------------


@POLICY.rule("trial.create")
def _create_trial(actor: Principal, _target: object) -> Decision:
    """A ward-run trial."""
    return coordinator(actor, lambda: _("Only coordinators can start a ward-run trial."))


@POLICY.rule("trial.assign")
def _assign(actor: Principal, _target: object) -> Decision:
    """Choose who runs a trial: its department and organisations."""
    return coordinator(actor)


@POLICY.rule("trial.start")
def _start(actor: Principal, target: OnProposal) -> Decision:
    """Start the trial of a selected proposal (whether it is startable is the service's to say)."""
    return signed_in(actor) & when(actor.has_role(Role.COORDINATOR) or actor.is_admin or target.owns_challenge,
                                   lambda: _("Only staff of a department that owns the challenge and coordinators "
                                             "can start a trial."))


@POLICY.rule("trial.see")
def _see_trial(actor: Principal, target: OnTrial) -> Decision:
    """Published trials for everybody; unpublished ones for their editors."""
    return _either(when(target.published, _no_permission), lambda: trial_editor(actor, target, _trial_team))


@POLICY.rule("trial.edit", "trial.post_update", "trial.record_results")
def _edit_trial(actor: Principal, target: OnTrial) -> Decision:
    return trial_editor(actor, target, _trial_team)


# --- recruitment ---------------------------------------------------------------------------------


@POLICY.rule("recruitment.see")
def _see_call(actor: Principal, target: OnCall) -> Decision:
    """Open and closed calls of published trials for everybody; drafts, and calls of unpublished trials,
    for the trial's editors."""
    public = target.published and target.call_status is not RecruitmentStatus.DRAFT
    return _either(when(public, _no_permission), lambda: trial_editor(actor, target, _call_team))


@POLICY.rule("recruitment.create", "recruitment.edit", "recruitment.open", "recruitment.close")
def _write_call(actor: Principal, target: OnTrial) -> Decision:
    """Write a call of the trial, open it, close it (whether it may open now is the service's to say)."""
    return trial_editor(actor, target, _call_team)


@POLICY.rule("recruitment.apply")
def _apply(actor: Principal, target: OnTrial) -> Decision:
    """Residents with a confirmed address, but not the members of the trial's organisations (whether the
    call takes applications now is the service's to say)."""
    return signed_in(actor, _("Sign in to apply.")) \
        & confirmed(actor, lambda: _("Confirm your e-mail address before applying.")) \
        & when(not target.member_of_organisation, lambda: _(
            "Members of the organisations running this trial cannot apply to its calls."))


@POLICY.rule("recruitment.see_applications", "recruitment.decide")
def _applicants(actor: Principal, target: OnTrial) -> Decision:
    """Applicants' personal data: the trial's organisations and coordinators (the role), nobody else."""
    return signed_in(actor) & when(actor.has_role(Role.COORDINATOR) or target.member_of_organisation,
                                   lambda: _("Only the trial's organisations and coordinators can see the "
                                             "applicants."))


# --- KPI measurements ----------------------------------------------------------------------------


@POLICY.rule("kpi.measure")
def _measure(actor: Principal, target: OnKpi) -> Decision:
    """Enter a measurement (status None), or correct one that was sent back."""
    return signed_in(actor) & when(target.member_of_organisation, lambda: _(
        "Only members of the organisations running this trial can enter its measurements.")) \
        & _state(target.status in (None, KpiMeasurementStatus.REJECTED), lambda: _(
            "Only a measurement that was sent back can be corrected."))


@POLICY.rule("kpi.confirm")
def _confirm(actor: Principal, target: OnKpi) -> Decision:
    """Confirm or send back a submitted measurement (status None: the trial's measurements in general)."""
    return signed_in(actor) & when(target.owns, lambda: _(
        "Only staff of the department in charge of this trial can confirm its measurements.")) \
        & _state(target.status in (None, KpiMeasurementStatus.SUBMITTED), lambda: _(
            "This measurement has already been decided."))


@POLICY.rule("kpi.see_pending")
def _see_pending(actor: Principal, target: OnKpi) -> Decision:
    """Measurements not confirmed yet: the trial's organisations and the department that owns it."""
    return signed_in(actor) & when(target.member_of_organisation or target.owns, _no_permission)


# --- notices -------------------------------------------------------------------------------------


@POLICY.rule("notice.subscribe")
def _subscribe(actor: Principal, _target: object) -> Decision:
    """Follow the notices of a field (a published one: the service says which exist) or of areas."""
    return signed_in(actor)
