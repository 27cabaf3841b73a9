"""Telling followers what happened on challenges and proposals (notification kinds and their fan-out).

A service announces an event with :func:`announce` inside its own transaction; once that commits, one
task (:data:`TASK`, in :mod:`proposals.tasks`) runs the event's handler here, which reads the event's
rows again, checks that they are still public, and calls :func:`cocreate.notifications.services.notify`
for the people concerned, never the person who caused the event. Each event has its own ``event_key``,
so a retried or duplicated task notifies nobody twice; services never need the settings for this, and
a large fan-out never slows the request down.

Events:

- ``proposal.submitted``: a proposal was submitted on a challenge; the challenge's followers, except the
  members of the proposing organisations.
- ``comment.replied``: a reply to a comment; the author of the thread's first comment and of the comment
  replied to.
- ``comment.posted``: a comment on a proposal; the members of its organisations and its followers, except
  those the reply notification already reaches.
- ``challenge.phase_changed``: a challenge moved to another phase (by staff or by its schedule); the
  challenge's followers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import OrganisationMember, User
from cocreate.db import transactional
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.markdown import markdown_to_text
from proposals.models import (
    Challenge,
    Comment,
    Phase,
    PhaseChange,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
)

TASK = "proposals.notify_event"
CHALLENGE = "challenge"
PROPOSAL = "proposal"
COMMENT = "comment"
EXCERPT = 200

PROPOSAL_SUBMITTED = "proposal.submitted"
COMMENT_REPLIED = "comment.replied"
COMMENT_POSTED = "comment.posted"
PHASE_CHANGED = "challenge.phase_changed"


def announce(session: Session, event: str, object_id: int, *, actor_id: int | None = None,
             related_id: int | None = None) -> None:
    """Have the followers told about ``event`` once the session commits (nothing when it rolls back)."""
    if event not in HANDLERS:
        raise ValueError(f"unknown proposals event {event!r}")
    enqueue(session, TASK, event, int(object_id), actor_id, related_id)


@transactional
def run(session: Session, settings: Settings, event: str, object_id: int, actor_id: int | None = None,
        related_id: int | None = None) -> int:
    """Notify the people concerned by ``event``; returns how many were notified now."""
    handler = HANDLERS.get(event)
    if handler is None:
        raise ValueError(f"unknown proposals event {event!r}")
    return handler(session, settings, object_id, actor_id, related_id)


def _author_ids(session: Session, proposal_id: int) -> set[int]:
    """The members of the organisations that wrote the proposal."""
    return set(session.exec(
        select(OrganisationMember.user_id)
        .join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id)
        .where(ProposalOrganisation.proposal_id == proposal_id)).all())


# --- proposal submitted --------------------------------------------------------------------------


def _submitted_message(params: dict[str, Any]) -> str:
    return _("A proposal has been submitted to “%(challenge)s”, which you follow: %(title)s",
             challenge=str(params.get("challenge_title", "")), title=str(params.get("proposal_title", "")))


def _submitted_subject(params: dict[str, Any]) -> str:
    return _("New proposal on a challenge you follow: %(title)s", title=str(params.get("proposal_title", "")))


def proposal_submitted(session: Session, settings: Settings, proposal_id: int, actor_id: int | None,
                       related_id: int | None = None) -> int:
    row = session.exec(select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
                       .where(Proposal.id == proposal_id)).first()
    if row is None:
        return 0
    proposal, challenge = row
    if (proposal.status is not ProposalStatus.SUBMITTED or proposal.hidden_at is not None
            or challenge.phase is Phase.DRAFT):
        return 0  # withdrawn, hidden or no longer public by the time the task ran: nothing to tell
    assert challenge.id is not None
    authors = _author_ids(session, proposal_id)
    people = set(notifications.followers(session, CHALLENGE, challenge.id)) - authors - {actor_id}
    params = {"challenge_id": challenge.id, "challenge_title": challenge.title, "proposal_id": proposal_id,
              "proposal_title": proposal.title, "summary": markdown_to_text(proposal.summary, EXCERPT)}
    return len(notifications.notify(
        session, user_ids=people, kind=PROPOSAL_SUBMITTED, target_type=PROPOSAL, target_id=proposal_id,
        params=params, url=f"/proposals/{proposal_id}", event_key=f"{PROPOSAL_SUBMITTED}:{proposal_id}",
        settings=settings))


# --- comment replied -----------------------------------------------------------------------------


def _replied_message(params: dict[str, Any]) -> str:
    return _("%(name)s replied to your comment on “%(title)s”.", name=str(params.get("author_name", "")),
             title=str(params.get("target_title", "")))


def _replied_subject(params: dict[str, Any]) -> str:
    return _("New reply to your comment: %(title)s", title=str(params.get("target_title", "")))


def _comment_target_title(session: Session, comment: Comment) -> str | None:
    """The title of the challenge or proposal the comment is on, or None when that is not public."""
    if comment.target_type == CHALLENGE:
        challenge = session.get(Challenge, comment.target_id)
        return challenge.title if challenge is not None and challenge.phase is not Phase.DRAFT else None
    row = session.exec(select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
                       .where(Proposal.id == comment.target_id)).first()
    if row is None or row[1].phase is Phase.DRAFT or row[0].hidden_at is not None or row[0].status not in (
            ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN):
        return None
    return row[0].title


def _answered_authors(session: Session, reply: Comment, replied_to_id: int | None) -> set[int | None]:
    """The authors a reply answers: of its thread's first comment and of the comment replied to."""
    ids = {reply.parent_id} | ({replied_to_id} if replied_to_id is not None else set())
    answered = [c for c in session.exec(select(Comment).where(col(Comment.id).in_(ids))).all()
                if c.deleted_at is None and c.hidden_at is None
                and (c.id == reply.parent_id or c.parent_id == reply.parent_id)]
    return {c.author_id for c in answered if c.author_id is not None}


def comment_replied(session: Session, settings: Settings, reply_id: int, actor_id: int | None,
                    replied_to_id: int | None = None) -> int:
    """``replied_to_id`` is the comment the author answered (a reply in the thread, or the thread itself)."""
    reply = session.get(Comment, reply_id)
    if reply is None or reply.parent_id is None or reply.deleted_at is not None or reply.hidden_at is not None:
        return 0
    title = _comment_target_title(session, reply)
    if title is None:
        return 0
    people = _answered_authors(session, reply, replied_to_id) - {reply.author_id, actor_id}
    author = session.get(User, reply.author_id) if reply.author_id is not None else None
    params = {"target_type": reply.target_type, "target_id": reply.target_id, "target_title": title,
              "comment_id": reply_id, "author_name": author.display_name if author is not None else "",
              "excerpt": markdown_to_text(reply.body, EXCERPT)}
    return len(notifications.notify(
        session, user_ids=people, kind=COMMENT_REPLIED, target_type=COMMENT, target_id=reply_id, params=params,
        url=f"/comments/{reply.parent_id}/replies", event_key=f"{COMMENT_REPLIED}:{reply_id}", settings=settings))


# --- comment on a proposal ----------------------------------------------------------------------


def _posted_message(params: dict[str, Any]) -> str:
    if params.get("official") == "staff":
        return _("The department in charge answered on the proposal “%(title)s”.",
                 title=str(params.get("target_title", "")))
    return _("%(name)s commented on the proposal “%(title)s”.", name=str(params.get("author_name", "")),
             title=str(params.get("target_title", "")))


def _posted_subject(params: dict[str, Any]) -> str:
    return _("New comment on a proposal: %(title)s", title=str(params.get("target_title", "")))


def comment_posted(session: Session, settings: Settings, comment_id: int, actor_id: int | None,
                   replied_to_id: int | None = None) -> int:
    """A comment on a proposal: its authors (the members of its organisations) and its followers hear of
    it, except the commenter and those a reply already tells (``comment.replied``: one notification each)."""
    comment = session.get(Comment, comment_id)
    if (comment is None or comment.target_type != PROPOSAL or comment.deleted_at is not None
            or comment.hidden_at is not None):
        return 0
    title = _comment_target_title(session, comment)
    if title is None:
        return 0
    people = _author_ids(session, comment.target_id) | set(notifications.followers(session, PROPOSAL, comment.target_id))
    people -= {comment.author_id, actor_id}
    if comment.parent_id is not None:
        people -= _answered_authors(session, comment, replied_to_id)
    writer = session.get(User, comment.author_id) if comment.author_id is not None else None
    params = {"target_type": comment.target_type, "target_id": comment.target_id, "target_title": title,
              "comment_id": comment_id, "author_name": writer.display_name if writer is not None else "",
              "excerpt": markdown_to_text(comment.body, EXCERPT),
              "official": comment.official}
    url = (f"/comments/{comment.parent_id}/replies" if comment.parent_id is not None
           else f"/proposals/{comment.target_id}#comment-{comment_id}")
    return len(notifications.notify(
        session, user_ids={p for p in people if p is not None}, kind=COMMENT_POSTED, target_type=COMMENT,
        target_id=comment_id, params=params, url=url, event_key=f"{COMMENT_POSTED}:{comment_id}", settings=settings))


# --- challenge phase changed ---------------------------------------------------------------------


def _phase_label(params: dict[str, Any], name: str) -> str:
    try:
        return Phase(str(params.get(name, ""))).label
    except ValueError:
        return ""


def _phase_message(params: dict[str, Any]) -> str:
    return _("The challenge “%(title)s”, which you follow, is now in the phase “%(phase)s”.",
             title=str(params.get("challenge_title", "")), phase=_phase_label(params, "to_phase"))


def _phase_subject(params: dict[str, Any]) -> str:
    return _("%(phase)s: %(title)s", phase=_phase_label(params, "to_phase"),
             title=str(params.get("challenge_title", "")))


def phase_changed(session: Session, settings: Settings, change_id: int, actor_id: int | None,
                  related_id: int | None = None) -> int:
    change = session.get(PhaseChange, change_id)
    challenge = session.get(Challenge, change.challenge_id) if change is not None else None
    if change is None or challenge is None or challenge.id is None or change.to_phase is Phase.DRAFT:
        return 0
    people = set(notifications.followers(session, CHALLENGE, challenge.id)) - {change.changed_by_id, actor_id}
    params = {"challenge_id": challenge.id, "challenge_title": challenge.title,
              "from_phase": change.from_phase.value, "to_phase": change.to_phase.value,
              "reason": change.reason[:500]}
    return len(notifications.notify(
        session, user_ids=people, kind=PHASE_CHANGED, target_type=CHALLENGE, target_id=challenge.id, params=params,
        url=f"/challenges/{challenge.id}", event_key=f"{PHASE_CHANGED}:{change_id}", settings=settings))


# --- registry ------------------------------------------------------------------------------------

Handler = Callable[[Session, Settings, int, "int | None", "int | None"], int]

HANDLERS: dict[str, Handler] = {
    PROPOSAL_SUBMITTED: proposal_submitted,
    COMMENT_REPLIED: comment_replied,
    COMMENT_POSTED: comment_posted,
    PHASE_CHANGED: phase_changed,
}

KINDS = {
    PROPOSAL_SUBMITTED: notifications.Kind(
        _submitted_message, _submitted_subject, "mail/proposal_submitted.txt",
        label=lazy_gettext("New proposals on challenges you follow")),
    COMMENT_REPLIED: notifications.Kind(
        _replied_message, _replied_subject, "mail/comment_replied.txt", label=lazy_gettext("Replies to your comments")),
    COMMENT_POSTED: notifications.Kind(
        _posted_message, _posted_subject, "mail/comment_posted.txt",
        label=lazy_gettext("Comments on proposals you wrote or follow")),
    PHASE_CHANGED: notifications.Kind(
        _phase_message, _phase_subject, "mail/challenge_phase_changed.txt",
        label=lazy_gettext("Phase changes of challenges you follow")),
}
"""This module's notification kinds (listed in the proposals manifest)."""
