"""What the opinion analysis may read in this component (``Component.opinion_sources``), and the
"what we heard" part of the challenge page.

- ``challenge``: a challenge's public questions, the residents' comments on it and on its submitted
  proposals (not the ward's or the proposers' official ones), and the voices linked to it; never anything
  hidden, deleted or asked privately. Analysed by staff of its owning departments.
- ``voices``: the voices residents raised in a period (the ward's days, from the first to the last),
  hidden ones left out. Analysed by any ward staff.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from cocreate.accounts.permissions import Principal
from cocreate.analysis import services as analysis
from cocreate.analysis.sources import Opinion, OpinionSource, Subject
from cocreate.comments.models import Comment
from cocreate.errors import NotFound
from cocreate.i18n import WARD_TIMEZONE, format_date
from cocreate.i18n import gettext as _
from cocreate.permissions import can
from proposals.challenges.lifecycle import owning_department_ids
from proposals.models import (
    Challenge,
    Phase,
    Proposal,
    ProposalStatus,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Voice,
)

SECTION = "proposals/challenges/_what_we_heard.html"


def _challenge_subject(session: Session, subject_id: int | None, _start: date | None, _end: date | None) -> Subject:
    challenge = session.get(Challenge, subject_id) if subject_id is not None else None
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    return Subject(source="challenge", id=challenge.id, title=challenge.title,
                   department_ids=tuple(sorted(owning_department_ids(session, challenge.id))),  # type: ignore[arg-type]
                   page_route="challenge-detail", page_param="challenge_id")


def _challenge_texts(session: Session, subject: Subject) -> list[Opinion]:
    challenge_id = subject.id
    questions = session.exec(select(Question.id, Question.body).where(
        Question.challenge_id == challenge_id, *_PUBLIC_QUESTION).order_by(Question.created_at, Question.id)).all()
    proposals = select(Proposal.id).where(Proposal.challenge_id == challenge_id,
                                          Proposal.status == ProposalStatus.SUBMITTED,
                                          Proposal.hidden_at.is_(None))  # type: ignore[union-attr]
    on_challenge = (Comment.target_type == "challenge") & (Comment.target_id == challenge_id)
    on_proposals = (Comment.target_type == "proposal") & Comment.target_id.in_(proposals)  # type: ignore[attr-defined]
    comments = session.exec(select(Comment.id, Comment.body).where(on_challenge | on_proposals, *_RESIDENTS_COMMENT)
                            .order_by(Comment.created_at, Comment.id)).all()
    voices = session.exec(select(Voice.id, Voice.title, Voice.body).where(Voice.challenge_id == challenge_id,
                                                                          *_PUBLIC_VOICE)
                          .order_by(Voice.created_at, Voice.id)).all()
    return [*(Opinion(f"question:{id_}", body) for id_, body in questions),
            *(Opinion(f"comment:{id_}", body) for id_, body in comments),
            *(Opinion(f"voice:{id_}", f"{title}。{body}") for id_, title, body in voices)]


_PUBLIC_QUESTION = (Question.visibility == QuestionVisibility.PUBLIC,
                    Question.status.in_([QuestionStatus.OPEN, QuestionStatus.ANSWERED,  # type: ignore[attr-defined]
                                         QuestionStatus.MERGED]))
_RESIDENTS_COMMENT = (Comment.hidden_at.is_(None), Comment.deleted_at.is_(None),  # type: ignore[union-attr]
                      Comment.official == "")
_PUBLIC_VOICE = (Voice.hidden_at.is_(None),)  # type: ignore[union-attr]


def _still_public(session: Session, refs: Collection[str]) -> set[str]:
    """Which quotes are still public: one query per kind of text quoted."""
    ids: dict[str, list[int]] = {}
    for ref in refs:
        kind, _, number = ref.partition(":")
        if number.isdigit():
            ids.setdefault(kind, []).append(int(number))
    public: set[str] = set()
    if ids.get("question"):
        public |= {f"question:{id_}" for id_ in session.exec(select(Question.id).where(
            Question.id.in_(ids["question"]), *_PUBLIC_QUESTION)).all()}  # type: ignore[union-attr]
    if ids.get("comment"):
        public |= {f"comment:{id_}" for id_ in session.exec(select(Comment.id).where(
            Comment.id.in_(ids["comment"]), *_RESIDENTS_COMMENT)).all()}  # type: ignore[union-attr]
    if ids.get("voice"):
        public |= {f"voice:{id_}" for id_ in session.exec(select(Voice.id).where(
            Voice.id.in_(ids["voice"]), *_PUBLIC_VOICE)).all()}  # type: ignore[union-attr]
    return public


def _ward_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=WARD_TIMEZONE)


def _voices_subject(_session: Session, _subject_id: int | None, start: date | None, end: date | None) -> Subject:
    if start is None or end is None:
        raise NotFound()
    title = _("Voices from %(start)s to %(end)s") % {"start": format_date(start), "end": format_date(end)}
    return Subject(source="voices", id=None, title=title, department_ids=None, start=start, end=end)


def _voices_texts(session: Session, subject: Subject) -> list[Opinion]:
    assert subject.start is not None and subject.end is not None
    rows = session.exec(select(Voice.id, Voice.title, Voice.body).where(
        Voice.created_at >= _ward_midnight(subject.start),
        Voice.created_at < _ward_midnight(subject.end + timedelta(days=1)),
        *_PUBLIC_VOICE).order_by(Voice.created_at, Voice.id)).all()
    return [Opinion(f"voice:{id_}", f"{title}。{body}") for id_, title, body in rows]


SOURCES = [
    OpinionSource(name="challenge", label=lambda: _("Challenge"), by_period=False,
                  subject=_challenge_subject, texts=_challenge_texts, still_public=_still_public),
    OpinionSource(name="voices", label=lambda: _("Voices in a period"), by_period=True,
                  subject=_voices_subject, texts=_voices_texts, still_public=_still_public),
]


@dataclass(frozen=True)
class PublishedRun:
    """What the section's link shows of a published analysis."""

    id: int
    published_at: datetime


def challenge_section(session: Session, actor: Principal, challenge: Challenge,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """The "what we heard" part of the challenge page: a link to its latest published analysis, and for its
    owning staff the form to start one with the latest runs. None when there is nothing to show."""
    if challenge.phase is Phase.DRAFT:
        return None
    staff = False
    if actor.is_staff:
        # The page's viewer knows whether the actor owns the challenge (staff of one of its departments).
        owners = (tuple(actor.staff_department_ids) if viewer.is_owner else ()) if viewer is not None \
            else tuple(owning_department_ids(session, challenge.id))  # type: ignore[arg-type]
        subject = Subject(source="challenge", id=challenge.id, title=challenge.title, department_ids=owners)
        staff = bool(can(actor, "analysis.run", subject))
    if not staff and viewer is not None:
        # The page read the latest published analysis with the challenge: no query of its own.
        if viewer.heard is None:
            return None
        heard_id, heard_at = viewer.heard
        return SECTION, {"challenge_id": challenge.id, "published": PublishedRun(heard_id, heard_at), "staff": False,
                         "runs": []}
    # Its staff: the published runs (newest first), then the unpublished ones, in one query.
    runs = analysis.runs_of(session, "challenge", challenge.id, published_only=not staff)  # type: ignore[arg-type]
    published = next((run for run in runs if run.published_at is not None), None)
    if published is None and not staff:
        return None
    return SECTION, {"challenge_id": challenge.id, "published": published, "staff": staff,
                     "runs": runs if staff else []}
