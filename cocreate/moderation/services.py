"""Reports and moderation of reportable content: proposals and comments, or whatever the components
declare (:mod:`cocreate.moderation.targets`).

Anyone signed in reports a proposal or comment once (a unique constraint) for a reason; the third open
report hides it pending review (``hidden_reason`` holds the :data:`PENDING_REVIEW` marker, shown
translated by :func:`hidden_notice`, and ``hidden_by_id`` stays None). Moderators (and administrators)
work through the queue: hide with a reason shown in place of the content, restore, dismiss the reports,
or block the author's account. Every moderator action is in the audit log, in the same transaction.

Reports are counted under the target's row lock, so three simultaneous reports hide it exactly once.
Moderators see the reasons and notes of reports but not who reported: reporters stay anonymous to
everyone (so that reporting cannot be answered with retaliation); the database keeps them for abuse checks.

This module only sets the moderation fields of the content (``hidden_*``, ``report_count``); how hidden
content is shown is its own business (:func:`hidden_notice` says what to show in its place). Who may do
what are permission rules (:mod:`cocreate.accounts.policy`: ``report.create``, ``moderation.review``,
``moderation.block``; who may report an item is the rule its declaration names), asked here with
:func:`cocreate.permissions.require` and by the pages with ``can()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import RoleAssignment, User
from cocreate.accounts.permissions import Principal, require_signed_in, user_allowed_to
from cocreate.channels import Channel
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FormModel, RowId, Text, as_text
from cocreate.i18n import N_
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext as _l
from cocreate.moderation import targets
from cocreate.moderation.models import Report, ReportReason
from cocreate.moderation.targets import Reportable, ReportableType
from cocreate.web.pagination import Page, paginate

AUTO_HIDE_AT = 3
"""Open reports that hide a target pending review."""
NOTE_MAX = 1000
HIDE_REASON_MAX = 500
BLOCK_REASON_MAX = 500

PENDING_REVIEW = N_("Hidden pending review: several people reported this.")
"""Stored in ``hidden_reason`` by the automatic hide; shown translated (see :func:`hidden_notice`)."""

REASON_LABELS = {
    ReportReason.SPAM: _l("Spam or advertising"),
    ReportReason.OFFENSIVE: _l("Offensive or abusive"),
    ReportReason.OFF_TOPIC: _l("Off-topic"),
    ReportReason.PERSONAL_INFO: _l("Personal information"),
}

RESOLVED_HIDDEN = "hidden"
RESOLVED_DISMISSED = "dismissed"


CHOOSE_TARGET = _l("Choose the proposal or comment to report from its page.")


def hidden_notice(item: Any) -> str:
    """What is shown in place of hidden content ("" when it is not hidden), in the reader's language."""
    if getattr(item, "hidden_at", None) is None:
        return ""
    if item.hidden_reason == PENDING_REVIEW or not item.hidden_reason:
        return _(PENDING_REVIEW)
    return _("Hidden by a moderator: %(reason)s", reason=item.hidden_reason)


def is_pending_review(item: Any) -> bool:
    return item.hidden_at is not None and item.hidden_reason == PENDING_REVIEW


def _one_line(text: str) -> str:
    """A reason shown in place of content or kept in the log: its words, on one line."""
    return " ".join(text.split())


# --- targets -------------------------------------------------------------------------------------


def _target(session: Session, target_type: str, target_id: int, *, lock: bool = False) -> tuple[Reportable, Any]:
    """The reportable content (e.g. a public proposal or a comment that is not deleted); NotFound otherwise."""
    kind = targets.reportable(target_type)
    return kind, kind.load(session, target_id, lock)


# --- reporting -----------------------------------------------------------------------------------


@dataclass
class ReportTarget:
    """What the report page shows about the content being reported."""

    kind: Reportable
    item: Any
    url: str

    @property
    def target_type(self) -> str:
        return self.kind.name

    @property
    def title(self) -> str:
        return self.kind.excerpt(self.item)

    @property
    def heading(self) -> str:
        return str(self.kind.report_heading)


def _report_target(kind: Reportable, item: Any) -> ReportTarget:
    return ReportTarget(kind=kind, item=item, url=kind.url(item))


class ReportForm(FormModel):
    """What the report form sends: the content (from its page) and why."""

    target_type: Annotated[str | None, ReportableType(CHOOSE_TARGET)] = None
    target_id: Annotated[int | None, RowId(CHOOSE_TARGET, required=True)] = None
    reason: Annotated[ReportReason | None, Choice(ReportReason, _l("Choose why you are reporting this."))] = None
    note: Annotated[str, Text(NOTE_MAX)] = ""


def _require_reportable(session: Session, actor: Principal, kind: Reportable, item: Any) -> None:
    """The rule its declaration names: Forbidden for the actor's own content."""
    permissions.require(actor, kind.action, kind.facts(session, actor, item))


def report_form(session: Session, actor: Principal, target_type: str, target_id: int) -> ReportTarget:
    """The content the actor is about to report (Forbidden for their own)."""
    require_signed_in(actor)
    kind, item = _target(session, target_type, target_id)
    _require_reportable(session, actor, kind, item)
    return _report_target(kind, item)


class _AlreadyReported(Exception):
    """Ends a report's unit of work without writing (the same person reporting twice at once)."""

    def __init__(self, target: ReportTarget) -> None:
        super().__init__()
        self.target = target


def report(session: Session, actor: Principal, form: ReportForm) -> tuple[ReportTarget, bool]:
    """Report a proposal or comment (commits). Returns the target and whether a new report was made
    (False: the actor had reported it already). The third open report hides the target pending review."""
    try:
        with unit_of_work(session):
            return _report(session, actor, form)
    except _AlreadyReported as already:
        return already.target, False


def _report(session: Session, actor: Principal, form: ReportForm) -> tuple[ReportTarget, bool]:
    user = user_allowed_to(actor, "report.create")
    assert form.target_type is not None and form.target_id is not None and form.reason is not None
    target_type, target_id = form.target_type, form.target_id
    kind, item = _target(session, target_type, target_id, lock=True)
    _require_reportable(session, actor, kind, item)
    target = _report_target(kind, item)
    existing = session.exec(select(Report.id).where(Report.target_type == target_type, Report.target_id == target_id,
                                                    Report.reporter_id == user.id)).first()
    if existing is not None:
        return target, False
    session.add(Report(target_type=target_type, target_id=target_id, reporter_id=user.id, reason=form.reason,
                       note=form.note))
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same person reporting twice at once: the database keeps one
        raise _AlreadyReported(target) from None
    item.report_count += 1
    if item.hidden_at is None and _open_count(session, target_type, target_id) >= AUTO_HIDE_AT:
        item.hidden_at = utcnow()
        item.hidden_reason = PENDING_REVIEW
        item.hidden_by_id = None
    return target, True


def _open_count(session: Session, target_type: str, target_id: int) -> int:
    return session.exec(select(func.count()).select_from(Report).where(
        Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None))).one()


# --- the moderation queue ------------------------------------------------------------------------


def require_moderator(actor: Principal) -> User:
    """The signed-in moderator (or administrator): ``moderation.review``."""
    return user_allowed_to(actor, "moderation.review")


@dataclass
class QueueItem:
    target_type: str
    target_id: int
    open_reports: int
    first_reported_at: datetime
    last_reported_at: datetime
    item: Any = None
    author_name: str = ""
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def kind(self) -> Reportable | None:
        return targets.find(self.target_type)

    @property
    def label(self) -> str:
        """The content's type ("Proposal", "Comment")."""
        return str(self.kind.label) if self.kind is not None else self.target_type

    @property
    def title(self) -> str:
        if self.item is None or self.kind is None:
            return ""
        return self.kind.excerpt(self.item)

    @property
    def hidden(self) -> str:
        return hidden_notice(self.item) if self.item is not None else ""


def queue(session: Session, actor: Principal, page: int, per_page: int) -> Page[QueueItem]:
    """Targets with open reports (auto-hidden ones among them), most reported first; 5 queries a page."""
    require_moderator(actor)
    count = func.count().label("open_reports")
    statement = (
        select(Report.target_type, Report.target_id, count, func.min(Report.created_at), func.max(Report.created_at))
        .where(col(Report.resolved_at).is_(None))
        .group_by(Report.target_type, Report.target_id)
        .order_by(count.desc(), func.min(Report.created_at), Report.target_type, Report.target_id)
    )
    result = paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]
    items = [QueueItem(target_type=row[0], target_id=row[1], open_reports=row[2], first_reported_at=row[3],
                       last_reported_at=row[4]) for row in result.items]
    ids_by_type: dict[str, list[int]] = {}
    for entry in items:
        ids_by_type.setdefault(entry.target_type, []).append(entry.target_id)
    found: dict[tuple[str, int], tuple[Any, str]] = {}
    for target_type, ids in ids_by_type.items():
        if (kind := targets.find(target_type)) is not None:
            found.update(((target_type, item_id), described) for item_id, described in kind.describe(session, ids).items())
    reasons: dict[tuple[str, int], list[tuple[str, int]]] = {}
    if items:
        conditions = [sa.and_(Report.target_type == target_type, col(Report.target_id).in_(ids))
                      for target_type, ids in ids_by_type.items()]
        for target_type, target_id, reason, number in session.exec(
            select(Report.target_type, Report.target_id, Report.reason, func.count())
            .where(col(Report.resolved_at).is_(None), sa.or_(*conditions))
            .group_by(Report.target_type, Report.target_id, Report.reason)
            .order_by(Report.target_type, Report.target_id, Report.reason)
        ).all():
            reasons.setdefault((target_type, target_id), []).append((str(REASON_LABELS[ReportReason(reason)]), number))
    for entry in items:
        entry.item, entry.author_name = found.get((entry.target_type, entry.target_id), (None, ""))
        entry.reasons = reasons.get((entry.target_type, entry.target_id), [])
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


@dataclass
class ModerationItem:
    kind: Reportable
    item: Any
    url: str
    """Where the content is shown."""
    open_reports: Sequence[Report]
    resolved_count: int
    author: User | None
    author_account: OnAccount | None
    """Its author's account as ``moderation.block`` reads it (the page asks whether to offer the block form)."""

    @property
    def target_type(self) -> str:
        return self.kind.name

    @property
    def heading(self) -> str:
        return str(self.kind.item_heading)

    @property
    def hidden(self) -> str:
        return hidden_notice(self.item)

    @property
    def pending_review(self) -> bool:
        return is_pending_review(self.item)

    @property
    def title(self) -> str:
        return self.kind.title(self.item)

    @property
    def body(self) -> str:
        return self.kind.body(self.item)

    @property
    def author_name(self) -> str:
        """The author's public name; for what the support desk entered for a resident, how it reached the
        ward (paper, workshop, phone); "—" when neither is known."""
        if self.author is not None:
            return self.author.public_name
        channel = getattr(self.item, "channel", Channel.ONLINE.value)
        return Channel(channel).label if channel != Channel.ONLINE.value else "—"


def item_view(session: Session, actor: Principal, target_type: str, target_id: int) -> ModerationItem:
    """One reported target with its open reports (reasons and notes, not reporters)."""
    require_moderator(actor)
    kind, item = _target(session, target_type, target_id)
    open_reports = session.exec(select(Report).where(
        Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None)
    ).order_by(col(Report.created_at), col(Report.id))).all()
    resolved = session.exec(select(func.count()).select_from(Report).where(
        Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_not(None))).one()
    author_user_id = kind.author_id(item)
    author = session.get(User, author_user_id) if author_user_id else None
    account = on_account(session, actor, author) if author is not None else None
    return ModerationItem(kind=kind, item=item, url=kind.url(item), open_reports=open_reports,
                          resolved_count=resolved, author=author, author_account=account)


# --- moderator actions ---------------------------------------------------------------------------


def _resolve_open(session: Session, target_type: str, target_id: int, moderator: User, resolution: str) -> int:
    reports = session.exec(select(Report).where(
        Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None))).all()
    now = utcnow()
    for entry in reports:
        entry.resolved_at = now
        entry.resolved_by_id = moderator.id
        entry.resolution = resolution
    return len(reports)


def _record(session: Session, moderator: User, action: str, target_type: str, target_id: int,
            details: dict[str, Any]) -> None:
    audit.record(session, actor_id=moderator.id, actor_label=moderator.display_name, action=action,
                 target_type=target_type, target_id=str(target_id), details=details)


class HideForm(FormModel):
    reason: Annotated[str, Text(HIDE_REASON_MAX, required=_l(
        "Give the reason; it is shown in place of the content."))] = ""


@transactional
def hide(session: Session, actor: Principal, target_type: str, target_id: int, form: HideForm) -> Any:
    """Hide content with a reason shown in its place; its open reports are resolved as hidden."""
    moderator = require_moderator(actor)
    _kind, item = _target(session, target_type, target_id, lock=True)
    if item.hidden_at is not None and not is_pending_review(item):
        raise Invalid({"reason": _("This content is already hidden.")})
    text = _one_line(form.reason)
    was_pending = is_pending_review(item)
    item.hidden_at = utcnow()
    item.hidden_reason = text
    item.hidden_by_id = moderator.id
    resolved = _resolve_open(session, target_type, target_id, moderator, RESOLVED_HIDDEN)
    _record(session, moderator, "moderation.hidden", target_type, target_id,
            {"reason": text, "reports_resolved": resolved, "was_pending_review": was_pending})
    return item


@transactional
def restore(session: Session, actor: Principal, target_type: str, target_id: int) -> Any:
    """Show hidden content again; its open reports are dismissed."""
    moderator = require_moderator(actor)
    _kind, item = _target(session, target_type, target_id, lock=True)
    if item.hidden_at is None:
        raise Invalid({"restore": _("This content is not hidden.")})
    previous = item.hidden_reason
    item.hidden_at = None
    item.hidden_reason = ""
    item.hidden_by_id = None
    resolved = _resolve_open(session, target_type, target_id, moderator, RESOLVED_DISMISSED)
    _record(session, moderator, "moderation.restored", target_type, target_id,
            {"previous_reason": previous, "reports_resolved": resolved})
    return item


@transactional
def dismiss(session: Session, actor: Principal, target_type: str, target_id: int) -> int:
    """Dismiss the open reports (content hidden only pending review is shown again); returns how many."""
    moderator = require_moderator(actor)
    _kind, item = _target(session, target_type, target_id, lock=True)
    resolved = _resolve_open(session, target_type, target_id, moderator, RESOLVED_DISMISSED)
    if not resolved:
        raise Invalid({"dismiss": _("There are no open reports on this content.")})
    restored = is_pending_review(item)
    if restored:
        item.hidden_at = None
        item.hidden_reason = ""
        item.hidden_by_id = None
    _record(session, moderator, "moderation.dismissed", target_type, target_id,
            {"reports_resolved": resolved, "restored": restored})
    return resolved


@dataclass(frozen=True)
class OnAccount:
    """An account as ``moderation.block`` sees it for one moderator."""

    user_id: int | None
    deleted: bool
    blocked: bool
    holds_role: bool
    """It holds a role (staff, reviewer, moderator, administrator): read only when the actor is no
    administrator (administrators block any account)."""


def on_account(session: Session, actor: Principal, user: User) -> OnAccount:
    """``user``'s account for ``actor``: whether it holds a role is read (one query) only when it changes the
    answer (a moderator who is no administrator, about someone else's live account)."""
    asked = not actor.is_admin and user.id != actor.user_id and user.deleted_at is None and user.blocked_at is None
    holds_role = asked and session.exec(select(RoleAssignment.id).where(RoleAssignment.user_id == user.id)).first() \
        is not None
    return OnAccount(user.id, deleted=user.deleted_at is not None, blocked=user.blocked_at is not None,
                     holds_role=holds_role)


class BlockForm(FormModel):
    """Why an account is blocked. The item page names the field ``block_reason`` (the hide form beside
    it has ``reason``); a form sending only ``reason`` is read too."""

    reason: Annotated[str, Text(BLOCK_REASON_MAX, required=_l("Enter the reason for blocking this account."))] = ""

    @model_validator(mode="before")
    @classmethod
    def _block_reason(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and as_text(data.get("block_reason")):
            return {**data, "reason": data["block_reason"]}
        return data


@transactional
def block_user(session: Session, actor: Principal, user_id: int, form: BlockForm) -> User:
    """Block an account with a reason (moderators and administrators); every session of it ends."""
    moderator = require_moderator(actor)
    user = session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        raise NotFound()
    permissions.require(actor, "moderation.block", on_account(session, actor, user), field="reason")
    text = _one_line(form.reason)
    user.blocked_at = utcnow()
    user.blocked_reason = text
    user.session_epoch += 1  # cocreate.accounts.auth drops every session holding the old epoch
    _record(session, moderator, "user.blocked", "user", user.id, {"reason": text, "via": "moderation"})  # type: ignore[arg-type]
    return user
