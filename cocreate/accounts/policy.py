"""What people may do in the core, answered by :func:`cocreate.permissions.can` (declared in
``cocreate/component.py``).

- Administration (ward administrators): ``admin.access`` (the /admin pages and their menu),
  ``user.manage`` (find users, block and unblock them), ``role.assign``, ``department.manage``,
  ``staff.invite``, ``audit.read`` (the full audit log) and ``page.edit`` (the site's pages).
- Residency checks (any ward staff, and administrators): ``residency.manage``, and
  ``residency.verify`` of a resident (a :class:`~cocreate.accounts.models.User`), never oneself.
- One's own account: ``identity.unlink`` (a linked provider account, one's own only).
- Organisations, on an :class:`~cocreate.accounts.permissions.OrganisationFacts` target (an
  :class:`~cocreate.accounts.permissions.OnOrganisation` read by
  :func:`~cocreate.accounts.permissions.on_organisation`, or the page's ``Viewing``):
  ``organisation.view`` (verified ones are public; the others only to their members and ward
  administrators, and to everyone else they do not exist), ``organisation.see_members``,
  ``organisation.edit`` and ``organisation.manage_members`` (its administrators),
  ``organisation.leave``, ``organisation.draft_for`` (a member prepares something on its behalf),
  ``organisation.act_for`` (a member, once the ward has verified it: the gate for proposals and
  bookings) and ``organisation.verify`` (ward administrators; no target).
- Comments (:mod:`cocreate.comments`): ``comment.write`` (the commenter's own account: signed in, not
  blocked, its address confirmed; no target), ``comment.post`` on a
  :class:`~cocreate.comments.targets.TargetInfo`, and ``comment.reply``, ``comment.edit``, ``comment.like``
  and ``comment.delete`` on a :class:`~cocreate.comments.services.OnComment`. Whether a target takes
  comments now is its component's rule: the action its declaration names (``target.kind.action``, e.g.
  proposals' ``challenge.comment``), asked of the facts its loader read (``target.facts``).
- The support desk (代理入力, :mod:`cocreate.comments.services` ``post_assisted`` and the components' desk
  pages): ``desk.enter`` (support-desk members and administrators: record residents' voices and opinions on
  their behalf), ``desk.read_note`` (the private note of an assisted entry: the support desk, ward staff and
  administrators) and ``comment.assist`` on a :class:`~cocreate.comments.targets.TargetInfo` (``desk.enter``,
  and the target takes comments now).
- Reports and moderation (:mod:`cocreate.moderation`): ``report.create`` (the reporter's own account: signed in,
  confirmed, not blocked; what is reported answers the action its declaration names, such as proposals'
  ``proposal.report`` or ``comment.report`` here, on a :class:`~cocreate.comments.models.Comment`),
  ``moderation.review`` (the queue and its actions: moderators and administrators) and ``moderation.block``
  (an author's account, on a :class:`~cocreate.moderation.services.OnAccount`).
- Surveys (:mod:`cocreate.surveys`), on an :class:`~cocreate.surveys.services.OnSurvey`: ``survey.manage``
  (build, publish, close: any ward staff for a site-wide survey, the owning departments' staff for a
  challenge's or a trial's, administrators for all), ``survey.answer`` (while it takes answers, a confirmed
  account) and ``survey.enter_for_resident`` (the support desk, while it takes answers).
- The opinion analysis (:mod:`cocreate.analysis`): ``analysis.run`` and ``analysis.review`` of a
  :class:`~cocreate.analysis.sources.Subject` (staff of its departments, or any staff when it has none), and
  ``analysis.view`` of an :class:`~cocreate.analysis.services.OnRun` (public once published).
- Open data (:mod:`cocreate.opendata`): ``opendata.generate`` (write the files now rather than at the daily
  run: any ward staff, and administrators; no target).
- Statistics (:mod:`cocreate.stats`): ``stats.staff`` (the staff's statistics page and its refresh: ward
  staff of any department and administrators; the public page needs no permission).

Rules read the actor's roles and the target's facts, never the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cocreate.accounts.models import OidcIdentity, Role, User
from cocreate.accounts.permissions import OrganisationFacts, Principal
from cocreate.i18n import gettext as _
from cocreate.permissions import ALLOW, Decision, Policy, admin, can, confirmed, signed_in, staff_of, when

POLICY = Policy("core")


# --- administration ------------------------------------------------------------------------------


@POLICY.rule("admin.access", "user.manage", "role.assign", "department.manage", "staff.invite", "audit.read",
             "page.edit")
def _administration(actor: Principal, _target: Any) -> Decision:
    return admin(actor)


# --- residency checks ----------------------------------------------------------------------------


@POLICY.rule("residency.manage")
def _residency_staff(actor: Principal, _target: Any) -> Decision:
    """Who verifies residents: ward staff of any department, and system administrators."""
    return signed_in(actor) & when(actor.is_staff or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("residency.verify")
def _verify_resident(actor: Principal, resident: User) -> Decision:
    return _residency_staff(actor, resident) & when(
        resident.id != actor.user_id, lambda: _("You cannot verify your own residency. Ask a colleague."))


# --- one's own account ---------------------------------------------------------------------------


@POLICY.rule("identity.unlink")
def _unlink(actor: Principal, identity: OidcIdentity) -> Decision:
    """Remove a linked provider account: one's own only."""
    return signed_in(actor) & when(identity.user_id == actor.user_id,
                                   lambda: _("You do not have permission to do this."))


# --- organisations -------------------------------------------------------------------------------


def _member(actor: Principal, target: OrganisationFacts) -> Decision:
    return signed_in(actor) & when(target.is_member, lambda: _("Only members of this organisation can do this."))


def _org_admin(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target) & when(
        target.is_org_admin, lambda: _("Only administrators of this organisation can do this."))


@POLICY.rule("organisation.view")
def _view(actor: Principal, target: OrganisationFacts) -> Decision:
    return when(target.is_verified or target.is_member or actor.is_admin, lambda: _("Page not found"))


@POLICY.rule("organisation.see_members")
def _see_members(actor: Principal, target: OrganisationFacts) -> Decision:
    """Its members, and ward administrators when they verify it."""
    return signed_in(actor) & when(target.is_member or actor.is_admin,
                                   lambda: _("Only members of this organisation can do this."))


@POLICY.rule("organisation.edit", "organisation.manage_members")
def _administer(actor: Principal, target: OrganisationFacts) -> Decision:
    return _org_admin(actor, target)


@POLICY.rule("organisation.leave", "organisation.draft_for")
def _as_member(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target)


@POLICY.rule("organisation.act_for")
def _act_for(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target) & when(
        target.is_verified, lambda: _("Your organisation must be verified by the ward before it can do this."))


@POLICY.rule("organisation.verify")
def _verify(actor: Principal, _target: Any) -> Decision:
    return admin(actor)


# --- comments ------------------------------------------------------------------------------------


def _state(condition: bool, reason: Callable[[], str], field: str) -> Decision:
    """Refused because of the thing's state, not who asks: an error under ``field`` (or the caller's field)."""
    return ALLOW if condition else Decision(False, reason(), field=field)


def _takes_comments(actor: Principal, target: Any) -> Decision:
    """Whether the target takes comments now: the rule of the action its declaration names, asked of the
    facts its loader read (a refusal of its phase or state has a ``field``)."""
    return can(actor, target.kind.action, target.facts)


@POLICY.rule("comment.write")
def _commenter(actor: Principal, _target: Any = None) -> Decision:
    """Who writes and likes comments: a signed-in account that is not blocked, its address confirmed
    (asked before the target is read, and within every rule of writing below)."""
    first = signed_in(actor)
    if not first:
        return first
    user = actor.user
    assert user is not None
    return (when(user.is_active, lambda: _("Your account cannot post or like comments."))
            & when(user.is_confirmed, lambda: _("Confirm your e-mail address (open the link we sent you) before "
                                                "you comment.")))


@POLICY.rule("comment.post")
def _post(actor: Principal, target: Any) -> Decision:
    """Comment on a target (a ``TargetInfo``): it takes comments now, asked first (a closed target says so to
    whoever reads it), and the commenter's account."""
    return _takes_comments(actor, target) & _commenter(actor)


@POLICY.rule("comment.reply")
def _reply(actor: Principal, on: Any) -> Decision:
    """Reply in the thread of a comment (an ``OnComment`` of its first comment): as ``comment.post`` on its
    target, and that comment is still shown."""
    return _post(actor, on.target) & _state(not on.removed, lambda: _(
        "This comment has been removed and takes no more replies."), "body")


@POLICY.rule("comment.edit")
def _edit(actor: Principal, on: Any) -> Decision:
    """Its author changes a comment still shown, within the edit window, while its target takes comments."""
    return (_commenter(actor)
            & when(on.mine, lambda: _("Only the author can edit this comment."))
            & _state(not on.removed, lambda: _("This comment has been removed and can no longer be edited."), "body")
            & _state(on.in_edit_window, lambda: _("Comments can be edited only within %(minutes)s minutes of posting.",
                                                  minutes=on.edit_minutes), "body")
            & _takes_comments(actor, on.target))


@POLICY.rule("comment.like")
def _like(actor: Principal, on: Any) -> Decision:
    """Like a comment still shown, while its target takes comments (taking a like back is always allowed)."""
    return (_commenter(actor)
            & _state(not on.removed, lambda: _("This comment has been removed."), "like")
            & _takes_comments(actor, on.target))


@POLICY.rule("comment.delete")
def _delete(actor: Principal, on: Any) -> Decision:
    """Its author deletes a comment, at any time."""
    return signed_in(actor) & when(on.mine, lambda: _("Only the author can delete this comment."))


# --- the support desk (代理入力) -------------------------------------------------------------------


@POLICY.rule("desk.enter")
def _desk(actor: Principal, _target: Any = None) -> Decision:
    """Enter residents' voices and opinions on their behalf: support-desk members and administrators."""
    return signed_in(actor) & when(actor.has_role(Role.SUPPORT_DESK) or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("desk.read_note")
def _desk_note(actor: Principal, _target: Any = None) -> Decision:
    """The private note of an assisted entry (e.g. the paper form's number): the support desk, ward staff
    and administrators, never the public."""
    return signed_in(actor) & when(actor.has_role(Role.SUPPORT_DESK) or actor.is_staff or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("comment.assist")
def _assist(actor: Principal, target: Any) -> Decision:
    """Record a resident's comment on a target (a ``TargetInfo``) for them: the desk, while it takes comments."""
    return _desk(actor) & _takes_comments(actor, target)


# --- reports and moderation ----------------------------------------------------------------------


@POLICY.rule("report.create")
def _reporter(actor: Principal, _target: Any = None) -> Decision:
    """Who sends reports: a signed-in account, its address confirmed, not blocked (asked before what is
    reported is read; what is reported answers the action its declaration names)."""
    return confirmed(actor, lambda: _("Confirm your e-mail address before reporting."))


@POLICY.rule("comment.report")
def _report_comment(actor: Principal, comment: Any) -> Decision:
    """Report a comment (the row) to the moderators: anyone signed in but its author."""
    return signed_in(actor) & when(comment.author_id is None or comment.author_id != actor.user_id,
                                   lambda: _("You cannot report your own content."))


@POLICY.rule("moderation.review")
def _moderator(actor: Principal, _target: Any = None) -> Decision:
    """The moderation queue, the reported content and the moderators' decisions: moderators and administrators."""
    return signed_in(actor) & when(actor.has_role(Role.MODERATOR) or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("moderation.block")
def _block(actor: Principal, account: Any) -> Decision:
    """Block the account of reported content's author (an ``OnAccount``): moderators block ordinary accounts;
    one that holds a role (staff, reviewers, moderators, administrators) only administrators do. Refusals
    about the account are shown under the form's ``reason``."""
    return (_moderator(actor)
            & _state(account.user_id != actor.user_id, lambda: _("You cannot block your own account."), "reason")
            & _state(not account.deleted, lambda: _("This account has been deleted."), "reason")
            & _state(not account.blocked, lambda: _("This account is already blocked."), "reason")
            & _state(actor.is_admin or not account.holds_role,
                     lambda: _("Only an administrator can block an account that holds a role."), "reason"))


# --- the opinion analysis ------------------------------------------------------------------------


@POLICY.rule("analysis.run", "analysis.review")
def _analyse(actor: Principal, subject: Any) -> Decision:
    """Start an analysis of a subject (:class:`~cocreate.analysis.sources.Subject`), review, rename, merge and
    publish its topics: staff of the departments that own it, or any ward staff when it has no owner
    (voices of a period)."""
    departments = subject.department_ids
    if departments is None:
        return signed_in(actor) & when(bool(getattr(actor, "is_staff", False)),
                                       lambda: _("You do not have permission to do this."))
    return staff_of(actor, departments)


@POLICY.rule("analysis.view")
def _see_analysis(actor: Principal, run: Any) -> Decision:
    """A run's "what we heard" page (an :class:`~cocreate.analysis.services.OnRun`): public once published,
    before that only to those who review it."""
    if run.published:
        return ALLOW
    return _analyse(actor, run.subject)


# --- open data -----------------------------------------------------------------------------------


@POLICY.rule("opendata.generate")
def _generate_open_data(actor: Principal, _target: Any) -> Decision:
    """Ask for a new generation of the open data files now: any ward staff, and administrators."""
    return _residency_staff(actor, _target)


# --- statistics ----------------------------------------------------------------------------------


@POLICY.rule("stats.staff")
def _stats_staff(actor: Principal, _target: Any = None) -> Decision:
    """The staff's statistics (numbers not yet public, the refresh on demand): ward staff and administrators."""
    return signed_in(actor) & when(actor.is_staff or actor.is_admin, lambda: _("You do not have permission to do this."))


# --- surveys -------------------------------------------------------------------------------------


@POLICY.rule("survey.manage")
def _manage_survey(actor: Principal, survey: Any) -> Decision:
    """Build, publish and close a survey (an ``OnSurvey``, :mod:`cocreate.surveys.services`): a site-wide one
    (``department_ids`` None, or no target) any ward staff; a challenge's or a trial's one the staff of its
    owning departments; administrators every survey."""
    departments = getattr(survey, "department_ids", None)
    if actor.is_admin:
        return signed_in(actor)
    if departments is None:
        return signed_in(actor) & when(actor.is_staff, lambda: _("You do not have permission to do this."))
    return staff_of(actor, departments)


@POLICY.rule("survey.answer")
def _answer_survey(actor: Principal, survey: Any) -> Decision:
    """Answer a survey (or change one's answer): while it takes answers (said to everyone first), with a
    signed-in, confirmed, active account."""
    return (_state(survey.accepting, lambda: _("This survey is not taking answers now."), "survey")
            & confirmed(actor))


@POLICY.rule("survey.enter_for_resident")
def _survey_desk(actor: Principal, survey: Any) -> Decision:
    """Enter a resident's answer for them (paper, workshop, phone): the desk, while the survey takes answers."""
    return _desk(actor) & _state(survey.accepting, lambda: _("This survey is not taking answers now."), "survey")


# --- survey results (cocreate.surveys.results) ---------------------------------------------------


@POLICY.rule("survey.results_staff")
def _survey_results_staff(actor: Principal, survey: Any) -> Decision:
    """The staff's view of a survey's results (an :class:`~cocreate.surveys.results.OnResults`): while it
    is open, by channel, every answer as CSV. Whoever manages the survey (``survey.manage``)."""
    return _manage_survey(actor, survey)


@POLICY.rule("survey.results")
def _survey_results(actor: Principal, survey: Any) -> Decision:
    """A survey's results: everyone once it has closed, if its results are public; its staff always
    (a visitor is asked to sign in, as its staff would)."""
    if survey.published and survey.closed and survey.results_public:
        return ALLOW
    staff = _survey_results_staff(actor, survey)
    if staff or not signed_in(actor):
        return staff
    if survey.published and not survey.closed and survey.results_public:
        return Decision(False, _("The results will be shown here once the survey has closed."))
    return staff
