"""The dialogue (質疑応答) on a challenge: residents and organisations ask, owning staff answer.

Rules, all checked here whatever the caller:

- Asking needs a signed-in, confirmed account and a phase that allows it (:mod:`proposals.phases`).
  A member may ask on behalf of one of their verified organisations; a public question shows the
  organisation's name, or else the asker's public name.
- A private question is seen only by its asker and the owning departments' staff until it is
  answered; then everyone sees it, never with its asker (neither name nor organisation).
- Staff of an owning department answer and edit answers (in the phases that allow answering), pin,
  merge duplicates into another question of the same challenge, and hide questions with a reason;
  each of these is in the audit log. A first answer notifies the asker, the askers of merged
  duplicates and the challenge's followers, once each.
- ``Challenge.question_count`` is the number of questions everyone can see; it is recounted under
  the challenge's row lock on every change, so it stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import Department, Organisation, OrganisationMember, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.audit.models import AuditEntry
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FormModel, Line, RowId, Text
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.web.markdown import markdown_to_text
from cocreate.web.pagination import Page, paginate
from proposals import paths, phases
from proposals.challenges import lifecycle
from proposals.models import Challenge, Question, QuestionStatus, QuestionVisibility
from proposals.permissions import OnChallenge, on_challenge, visible
from proposals.phases import Action

if TYPE_CHECKING:
    from proposals.challenges.services import ChallengeViewer

BODY_MAX = 4000
ANSWER_MAX = 10_000
HIDE_REASON_MAX = 500
AUDIT_EXCERPT = 2000
"""How much of a replaced answer the audit log keeps."""
PER_PAGE = 20
QUEUE_SIZE = 20
CHALLENGE = "challenge"
"""``target_type`` of a follow of a challenge."""
QUESTION = "question"
ANSWERED_KIND = "question.answered"

LISTED_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ANSWERED)


def _answered_message(params: dict[str, Any]) -> str:
    title = str(params.get("challenge_title", ""))
    if params.get("yours"):
        return _("Your question on “%(title)s” has been answered.", title=title)
    return _("A question on “%(title)s”, which you follow, has been answered.", title=title)


def _answered_subject(params: dict[str, Any]) -> str:
    title = str(params.get("challenge_title", ""))
    if params.get("yours"):
        return _("Your question has been answered: %(title)s", title=title)
    return _("A new answer on a challenge you follow: %(title)s", title=title)


KINDS = {
    ANSWERED_KIND: notifications.Kind(_answered_message, _answered_subject, "mail/question_answered.txt",
                                      label=lazy_gettext("Answers to questions on challenges")),
}
"""This module's notification kinds (listed in the proposals manifest)."""


# --- who sees what -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The acting user as the dialogue sees them (computed once per page)."""

    principal: Principal
    is_owner: bool

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id


def viewer_of(session: Session, actor: Principal, challenge: Challenge) -> Viewer:
    return Viewer(actor, lifecycle.is_owner(session, actor, challenge))


def publicly_visible() -> sa.ColumnElement[bool]:
    """Questions everyone can read: open or answered, and public or already answered."""
    return sa.and_(col(Question.status).in_(LISTED_STATUSES),
                   sa.or_(col(Question.visibility) == QuestionVisibility.PUBLIC,
                          col(Question.status) == QuestionStatus.ANSWERED))


def _seen_by(viewer: Viewer) -> sa.ColumnElement[bool]:
    """Questions this viewer may read (merged and hidden ones included; lists leave merged out)."""
    if viewer.is_owner:
        return sa.true()
    condition = sa.or_(col(Question.visibility) == QuestionVisibility.PUBLIC,
                       col(Question.answered_at).is_not(None))
    if viewer.user_id is not None:
        condition = sa.or_(condition, col(Question.asker_id) == viewer.user_id)
    return condition


def can_see(question: Question, viewer: Viewer) -> bool:
    return (viewer.is_owner or question.visibility is QuestionVisibility.PUBLIC
            or question.answered_at is not None
            or (viewer.user_id is not None and question.asker_id == viewer.user_id))


@dataclass(frozen=True)
class QuestionView:
    """A question as one viewer sees it: the asker's identity only where that viewer may know it."""

    question: Question
    asker_name: str | None
    """Organisation name or public name; None when the viewer may not know who asked."""
    by_organisation: bool
    organisation_verified: bool
    is_mine: bool
    edited_at: datetime | None = None
    answer_department: Department | None = None

    @property
    def id(self) -> int:
        assert self.question.id is not None
        return self.question.id

    @property
    def is_private(self) -> bool:
        return self.question.visibility is QuestionVisibility.PRIVATE

    @property
    def is_open(self) -> bool:
        return self.question.status is QuestionStatus.OPEN

    @property
    def is_answered(self) -> bool:
        return self.question.status is QuestionStatus.ANSWERED

    @property
    def is_hidden(self) -> bool:
        return self.question.status is QuestionStatus.HIDDEN

    @property
    def is_merged(self) -> bool:
        return self.question.status is QuestionStatus.MERGED


def _view(row: Any, viewer: Viewer, edited_at: datetime | None = None) -> QuestionView:
    question, user, organisation, department = row
    is_mine = viewer.user_id is not None and question.asker_id == viewer.user_id
    name: str | None = None
    if question.visibility is QuestionVisibility.PUBLIC or viewer.is_owner:
        if organisation is not None:
            name = organisation.name
        elif user is not None:
            name = user.public_name
        else:
            name = _("Deleted user")
    return QuestionView(question, name, organisation is not None and name is not None,
                        bool(organisation is not None and organisation.is_verified), is_mine, edited_at,
                        department)


def _with_askers(*conditions: Any) -> Any:
    """Questions with their askers and organisations (outer joins: either may be gone)."""
    return (select(Question, User, Organisation, Department)
            .outerjoin(User, col(User.id) == col(Question.asker_id))
            .outerjoin(Organisation, col(Organisation.id) == col(Question.organisation_id))
            .outerjoin(Department, col(Department.id) == col(Question.answer_department_id))
            .where(*conditions))


def _edited_at() -> Any:
    """:func:`_edited_times` as a column of a query of questions (answered ones only)."""
    latest = (select(func.max(AuditEntry.created_at))
              .where(AuditEntry.target_type == QUESTION, AuditEntry.action == "question.answer_edited",
                     col(AuditEntry.target_id) == sa.cast(Question.id, sa.String))
              .scalar_subquery())
    return sa.case((col(Question.answered_at).is_not(None), latest)).label("edited_at")


def _edited_times(session: Session, question_ids: Sequence[int]) -> dict[int, datetime]:
    """When each answer was last edited (from the audit log, which records every edit), in one query."""
    if not question_ids:
        return {}
    rows = session.exec(
        select(AuditEntry.target_id, func.max(AuditEntry.created_at))
        .where(AuditEntry.target_type == QUESTION, AuditEntry.action == "question.answer_edited",
               col(AuditEntry.target_id).in_([str(i) for i in question_ids]))
        .group_by(col(AuditEntry.target_id))
    ).all()
    return {int(target_id): when for target_id, when in rows}


# --- loading -------------------------------------------------------------------------------------


def load_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    """The challenge if the actor may see it (drafts: owning staff only); else 404."""
    from proposals.challenges.services import visible_challenge

    challenge = visible_challenge(session, actor, challenge_id)
    if challenge is None:
        raise NotFound()
    return challenge


def _lock_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id, with_for_update=True, populate_existing=True)
    if challenge is None or not visible(session, actor, challenge):
        raise NotFound()
    return challenge


def _lock_question(session: Session, actor: Principal, question_id: int,
                   challenge_id: int | None = None) -> tuple[Challenge, Question]:
    """The question and its challenge, both locked (challenge first, always in that order).

    With ``challenge_id`` (from a URL), a question of another challenge is not found.
    """
    found = session.exec(select(Question.challenge_id).where(Question.id == question_id)).first()
    if found is None or (challenge_id is not None and found != challenge_id):
        raise NotFound()
    challenge_id = found
    challenge = _lock_challenge(session, actor, challenge_id)
    question = session.get(Question, question_id, with_for_update=True, populate_existing=True)
    if question is None:
        raise NotFound()
    return challenge, question


def recount(session: Session, challenge: Challenge) -> int:
    """Set ``question_count`` to the number of questions everyone can see (caller holds the lock)."""
    session.flush()
    challenge.question_count = session.exec(
        select(func.count()).select_from(Question)
        .where(Question.challenge_id == challenge.id, publicly_visible())
    ).one()
    return challenge.question_count


def _actor_label(user: User) -> str:
    return f"{user.display_name} (#{user.id})"[:200]


# --- asking --------------------------------------------------------------------------------------


class AskForm(FormModel):
    """What the ask form sends."""

    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write your question."))] = ""
    visibility: Annotated[QuestionVisibility, Choice(
        QuestionVisibility, lazy_gettext("Choose whether your question is public or private."))] = \
        QuestionVisibility.PUBLIC
    organisation_id: Annotated[int | None, RowId(lazy_gettext("Choose one of your organisations from the list."))] = None


class AnswerForm(FormModel):
    answer: Annotated[str, Text(ANSWER_MAX, required=lazy_gettext("Write the answer."))] = ""


class PinForm(FormModel):
    pinned: Annotated[str, Line(10)] = ""

    @property
    def pin(self) -> bool:
        return self.pinned == "yes"


class MergeForm(FormModel):
    into: Annotated[int | None, RowId(lazy_gettext("Enter the number of another question on this challenge."),
                                      required=True)] = None


class HideForm(FormModel):
    reason: Annotated[str, Line(HIDE_REASON_MAX, required=lazy_gettext(
        "Give the reason; it is shown in place of the question."))] = ""


def asking_organisations(session: Session, actor: Principal) -> Sequence[Organisation]:
    """The verified organisations the actor may ask on behalf of (unverified ones are not public)."""
    if actor.user_id is None:
        return []
    return session.exec(
        select(Organisation).join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
        .where(OrganisationMember.user_id == actor.user_id, col(Organisation.verified_at).is_not(None))
        .order_by(col(Organisation.name), col(Organisation.id))
    ).all()


@transactional
def ask(session: Session, actor: Principal, challenge_id: int, form: AskForm) -> Question:
    """Ask a question on a challenge; the asker then follows the challenge."""
    user = require_signed_in(actor)
    challenge = _lock_challenge(session, actor, challenge_id)
    permissions.require(actor, "question.ask", on_challenge(session, actor, challenge))
    if form.organisation_id is not None and form.organisation_id not in {
            o.id for o in asking_organisations(session, actor)}:
        raise Invalid({"organisation_id": _("Choose one of your organisations from the list.")})
    question = Question(challenge_id=challenge.id, asker_id=user.id, organisation_id=form.organisation_id,  # type: ignore[arg-type]
                        visibility=form.visibility, status=QuestionStatus.OPEN, body=form.body)
    session.add(question)
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    recount(session, challenge)
    return question


# --- staff ---------------------------------------------------------------------------------------


def has_answer(session: Session, question_id: int) -> bool:
    return session.exec(select(Question.answered_at).where(Question.id == question_id)).first() is not None


def _answering_department(session: Session, actor: Principal, challenge: Challenge) -> int | None:
    owners = lifecycle.owning_department_ids(session, challenge.id) | {challenge.department_id}  # type: ignore[arg-type]
    mine = owners & actor.staff_department_ids
    if challenge.department_id in mine:
        return challenge.department_id
    return min(mine) if mine else None


def require_staff(session: Session, actor: Principal, question_id: int, challenge_id: int) -> None:
    """Refuse (404/403) anyone who may not act on the question as owning staff, before their form is read."""
    found = session.exec(select(Question.challenge_id).where(Question.id == question_id)).first()
    if found is None or found != challenge_id:
        raise NotFound()
    challenge = load_challenge(session, actor, challenge_id)
    permissions.require(actor, "question.moderate", on_challenge(session, actor, challenge))


@transactional
def answer(session: Session, settings: Settings, actor: Principal, question_id: int, form: AnswerForm, *,
           challenge_id: int | None = None) -> Question:
    """Answer a question, or edit its answer (owning staff, in phases that allow answering).

    The first answer publishes a private question (without its asker) and notifies the asker, the
    askers of questions merged into it and the challenge's followers.
    """
    user = require_signed_in(actor)
    challenge, question = _lock_question(session, actor, question_id, challenge_id)
    permissions.require(actor, "question.answer", on_challenge(session, actor, challenge), field="answer")
    if question.status not in LISTED_STATUSES:
        raise Invalid({"answer": _("A merged or hidden question cannot be answered.")})
    text = form.answer
    first = question.status is QuestionStatus.OPEN
    if not first and text == question.answer:
        return question
    previous = question.answer
    question.answer = text
    now = utcnow()
    if first:
        question.status = QuestionStatus.ANSWERED
        question.answered_at = now
        question.answered_by_id = user.id
        question.answer_department_id = _answering_department(session, actor, challenge)
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user),
                 action="question.answered" if first else "question.answer_edited",
                 target_type=QUESTION, target_id=str(question.id),
                 details={"challenge_id": challenge.id, "visibility": question.visibility.value,
                          **({} if first else {"previous": previous[:AUDIT_EXCERPT]})})
    if first:
        _notify_answered(session, settings, user, challenge, question)
    return question


def _notify_answered(session: Session, settings: Settings, actor_user: User, challenge: Challenge,
                     question: Question) -> None:
    assert question.id is not None and challenge.id is not None
    askers = {question.asker_id} | set(session.exec(
        select(Question.asker_id).where(Question.merged_into_id == question.id)).all())
    askers.discard(None)
    askers.discard(actor_user.id)
    followers = set(notifications.followers(session, CHALLENGE, challenge.id)) - askers - {actor_user.id}
    params = {"challenge_id": challenge.id, "challenge_title": challenge.title, "question_id": question.id,
              "question_excerpt": markdown_to_text(question.body, 200)}
    common = {"kind": ANSWERED_KIND, "target_type": QUESTION, "target_id": question.id,
              "url": paths.question(question.challenge_id, question.id), "event_key": f"{ANSWERED_KIND}:{question.id}",
              "settings": settings}
    notifications.notify(session, user_ids=askers, params=params | {"yours": True}, **common)  # type: ignore[arg-type]
    notifications.notify(session, user_ids=followers, params=params, **common)  # type: ignore[arg-type]


@transactional
def set_pinned(session: Session, actor: Principal, question_id: int, pinned: bool, *,
               challenge_id: int | None = None) -> Question:
    """Pin a question (shown first) or unpin it; owning staff, questions everyone sees."""
    user = require_signed_in(actor)
    challenge, question = _lock_question(session, actor, question_id, challenge_id)
    permissions.require(actor, "question.moderate", on_challenge(session, actor, challenge))
    visible = question.status in LISTED_STATUSES and (
        question.visibility is QuestionVisibility.PUBLIC or question.status is QuestionStatus.ANSWERED)
    if pinned and not visible:
        raise Invalid({"pin": _("Only questions everyone can see can be pinned.")})
    if question.pinned == pinned:
        return question
    question.pinned = pinned
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user),
                 action="question.pinned" if pinned else "question.unpinned",
                 target_type=QUESTION, target_id=str(question.id), details={"challenge_id": challenge.id})
    return question


@transactional
def merge(session: Session, actor: Principal, question_id: int, form: MergeForm, *,
          challenge_id: int | None = None) -> Question:
    """Merge a duplicate into another question of the same challenge (owning staff).

    The duplicate leaves the list and the count and links to the question it was merged into; its
    asker is told when that question is answered. Questions merged into the duplicate move along.
    """
    user = require_signed_in(actor)
    challenge, question = _lock_question(session, actor, question_id, challenge_id)
    permissions.require(actor, "question.moderate", on_challenge(session, actor, challenge))
    target = session.get(Question, form.into) if form.into is not None else None
    error = None
    if question.status not in LISTED_STATUSES:
        error = _("This question is already merged or hidden.")
    elif target is None or target.challenge_id != challenge.id:
        error = _("Enter the number of another question on this challenge.")
    elif target.id == question.id:
        error = _("A question cannot be merged into itself.")
    elif target.status not in LISTED_STATUSES:
        error = _("That question is merged or hidden; choose the question it was merged into instead.")
    elif target.visibility is QuestionVisibility.PRIVATE and target.status is not QuestionStatus.ANSWERED:
        error = _("Merge into a question everyone can read: a public one, or a private one already answered.")
    if error:
        raise Invalid({"into": error})
    assert target is not None
    question.status = QuestionStatus.MERGED
    question.merged_into_id = target.id
    question.pinned = False
    session.execute(sa.update(Question).where(col(Question.merged_into_id) == question.id)
                    .values(merged_into_id=target.id))
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="question.merged",
                 target_type=QUESTION, target_id=str(question.id),
                 details={"challenge_id": challenge.id, "into": target.id})
    return question


@transactional
def hide(session: Session, actor: Principal, question_id: int, form: HideForm, *,
         challenge_id: int | None = None) -> Question:
    """Hide a question with a reason shown in its place (owning staff)."""
    user = require_signed_in(actor)
    challenge, question = _lock_question(session, actor, question_id, challenge_id)
    permissions.require(actor, "question.moderate", on_challenge(session, actor, challenge))
    text = " ".join(form.reason.split())
    if question.status is QuestionStatus.HIDDEN:
        raise Invalid({"reason": _("This question is already hidden.")})
    previous = question.status
    question.status = QuestionStatus.HIDDEN
    question.hidden_reason = text
    question.pinned = False
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="question.hidden",
                 target_type=QUESTION, target_id=str(question.id),
                 details={"challenge_id": challenge.id, "reason": text, "previous_status": previous.value})
    return question


# --- following -----------------------------------------------------------------------------------


@transactional
def set_following(session: Session, actor: Principal, challenge_id: int, following: bool) -> bool:
    """Follow or unfollow a challenge the actor can see; returns the new state."""
    user = require_signed_in(actor)
    challenge = load_challenge(session, actor, challenge_id)
    if following:
        notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    else:
        notifications.unfollow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    return following


# --- pages ---------------------------------------------------------------------------------------


@dataclass
class Section:
    """Everything the Q&A section of a challenge shows one viewer, read in a fixed number of queries."""

    challenge: Challenge
    viewer: Viewer
    page: Page[QuestionView]
    can_ask: phases.Decision
    can_answer: phases.Decision
    ask_state: str
    """``anonymous``, ``unconfirmed`` or ``ok``."""
    organisations: Sequence[Organisation] = ()
    following: bool = False
    queue: list[QuestionView] = field(default_factory=list)
    queue_total: int = 0
    form: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    answers: dict[int, str] = field(default_factory=dict)
    """Answer text being re-shown after an error, by question id."""

    @property
    def on(self) -> OnChallenge:
        """The challenge as the permission rules see it for this viewer (``can(…, qa.on)``)."""
        return OnChallenge(self.challenge.phase, self.viewer.is_owner)


def _page(session: Session, viewer: Viewer, challenge: Challenge, page: int) -> Page[QuestionView]:
    """One page of the questions the viewer may read, with their askers, total and answer edit times, in
    one query."""
    statement = _with_askers(
        Question.challenge_id == challenge.id, col(Question.status) != QuestionStatus.MERGED, _seen_by(viewer)
    ).add_columns(_edited_at()).order_by(col(Question.pinned).desc(), col(Question.created_at).desc(),
                                         col(Question.id).desc())
    result = paginate(session, statement, page, PER_PAGE, scalars=False)
    items = [_view(row[:4], viewer, row[4]) for row in result.items]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


def section(session: Session, actor: Principal, challenge: Challenge, *, page: int = 1,
            form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
            answers: dict[int, str] | None = None, known: ChallengeViewer | None = None) -> Section:
    """The Q&A section of a (visible) challenge for ``actor``.

    ``known``: what the challenge page already read about the actor (owner, follower, organisations).
    """
    viewer = Viewer(actor, known.is_owner) if known is not None else viewer_of(session, actor, challenge)
    user = actor.user
    ask_state = "anonymous" if user is None else ("ok" if user.is_confirmed and user.is_active else "unconfirmed")
    result = Section(
        challenge=challenge, viewer=viewer, page=_page(session, viewer, challenge, page),
        can_ask=phases.check(challenge.phase, Action.ASK),
        can_answer=phases.check(challenge.phase, Action.ANSWER), ask_state=ask_state,
        form={"visibility": QuestionVisibility.PUBLIC.value, "body": "", "organisation_id": ""} | (form or {}),
        errors=errors or {}, answers=answers or {},
    )
    if user is not None:
        result.following = (known.following if known is not None
                            else notifications.is_following(session, user.id, CHALLENGE, challenge.id))  # type: ignore[arg-type]
        if result.can_ask and ask_state == "ok":
            result.organisations = (known.verified_organisations if known is not None
                                    else asking_organisations(session, actor))
    if viewer.is_owner:
        waiting = (Question.challenge_id == challenge.id, Question.status == QuestionStatus.OPEN)
        rows = session.exec(_with_askers(*waiting).add_columns(func.count().over())
                            .order_by(col(Question.created_at), col(Question.id)).limit(QUEUE_SIZE)).all()
        result.queue_total = int(rows[0][4]) if rows else 0
        result.queue = [_view(row[:4], viewer) for row in rows]
    return result


@dataclass
class Detail:
    """One question's own page as one viewer sees it."""

    challenge: Challenge
    viewer: Viewer
    item: QuestionView
    merged_into: Question | None
    duplicates: list[QuestionView]
    can_answer: phases.Decision

    @property
    def question(self) -> Question:
        return self.item.question

    @property
    def on(self) -> OnChallenge:
        return OnChallenge(self.challenge.phase, self.viewer.is_owner)


def detail(session: Session, actor: Principal, challenge_id: int, question_id: int) -> Detail:
    """A question's permalink page; 404 when the viewer may not see it."""
    challenge = load_challenge(session, actor, challenge_id)
    viewer = viewer_of(session, actor, challenge)
    row = session.exec(_with_askers(Question.id == question_id, Question.challenge_id == challenge.id)).first()
    if row is None or not can_see(row[0], viewer):
        raise NotFound()
    question = row[0]
    edited = _edited_times(session, [question.id]) if question.answered_at is not None else {}
    item = _view(row, viewer, edited.get(question.id))
    merged_into = None
    if question.merged_into_id is not None:
        target = session.get(Question, question.merged_into_id)
        merged_into = target if target is not None and can_see(target, viewer) else None
    rows = session.exec(_with_askers(Question.merged_into_id == question.id, _seen_by(viewer))
                        .order_by(col(Question.created_at), col(Question.id))).all()
    duplicates = [_view(row, viewer) for row in rows]
    return Detail(challenge, viewer, item, merged_into, duplicates, phases.check(challenge.phase, Action.ANSWER))
