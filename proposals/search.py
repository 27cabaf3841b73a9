"""Search sources of the proposals component (challenges, proposals, public questions).

Each ``_load_*`` decides, in one place per type, what the public may read, with the same conditions as
the public pages: challenges once published; proposals submitted and not hidden on a published
challenge, without the confidential part or confidential attachments; questions everyone can read
(public ones open or answered, private ones once answered, never their askers), without hidden or
merged ones. Each loads any number of documents in a fixed number of queries.

The watches say which documents a changed row makes stale. A challenge's phase, category and area are
copied into its proposals and questions, so a change of those (or its deletion) marks them too.
Counters (votes, comments, proposal and question counts) are not indexed and mark nothing.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department, Organisation
from cocreate.i18n import gettext as _
from cocreate.search import indexer
from cocreate.search.registry import SearchDoc, Source, doc_key, scalar_ids, touched, watch_when
from proposals import paths, phases
from proposals.models import (
    Challenge,
    ChallengeDepartment,
    ChallengeKpi,
    Phase,
    Proposal,
    ProposalAttachment,
    ProposalKpi,
    ProposalOrganisation,
    ProposalStatus,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Voice,
    VoiceStatus,
)

CHALLENGE = "challenge"
PROPOSAL = "proposal"
QUESTION = "question"
VOICE = "voice"
VOICE_FIELDS = ("title", "body", "category", "area", "address", "status", "hidden_at")
PUBLIC_PHASES = tuple(phase for phase in Phase if phase in phases.PUBLIC)
QUESTION_TITLE_MAX = 80
"""A question has no title: its first line, cut to this many characters, stands for one."""

AREA_NAMES = {
    "板橋": "itabashi",
    "常盤台": "tokiwadai",
    "志村": "shimura",
    "赤塚": "akatsuka",
    "高島平": "takashimadaira",
}
"""Japanese place name -> area slug (the values of ``labs.models.Area``; proposals does not import labs)."""
AREA_SUFFIXES = ("", "地域", "地区", "エリア", "周辺")

CHALLENGE_FIELDS = ("title", "summary", "category", "area", "phase", "background", "current_situation",
                    "desired_outcome", "constraints", "eligibility", "support_facilities", "support_data",
                    "support_other")
CHILD_FIELDS = ("phase", "category", "area")
"""Challenge fields copied into its proposals' and questions' documents."""
PROPOSAL_FIELDS = ("title", "summary", "description", "team", "schedule", "test_field_needs", "status",
                   "hidden_at", "challenge_id", "lead_organisation_id")
QUESTION_FIELDS = ("body", "answer", "status", "visibility", "challenge_id")


def area_slug(area: str) -> str | None:
    """The ward area a challenge's free-text area names, if it names exactly one ("高島平" → takashimadaira).

    "板橋区全域" (the whole ward) names none.
    """
    text = unicodedata.normalize("NFKC", area or "").strip()
    if text.lower() in AREA_NAMES.values():
        return text.lower()
    for name, slug in AREA_NAMES.items():
        if any(text == name + suffix for suffix in AREA_SUFFIXES):
            return slug
    return None


def _join(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)


# --- which rows changed --------------------------------------------------------------------------




def _challenge_children(session: Session, challenge_id: int | None) -> list[str]:
    if challenge_id is None:
        return []
    proposals = scalar_ids(session, select(Proposal.id).where(Proposal.challenge_id == challenge_id))
    questions = scalar_ids(session, select(Question.id).where(Question.challenge_id == challenge_id))
    return [doc_key(PROPOSAL, i) for i in proposals] + [doc_key(QUESTION, i) for i in questions]


def _challenge_changed(session: Session, challenge: Challenge) -> list[str]:
    keys = []
    if touched(session, challenge, CHALLENGE_FIELDS):
        keys.append(doc_key(CHALLENGE, challenge.id))  # type: ignore[arg-type]
    if challenge not in session.new and touched(session, challenge, CHILD_FIELDS):
        keys.extend(_challenge_children(session, challenge.id))
    return keys


@event.listens_for(OrmSession, "before_flush")
def _challenge_deleted(session: OrmSession, _context: Any, _instances: Any) -> None:
    """The database deletes a challenge's proposals and questions with it (ON DELETE CASCADE), out of the
    ORM's sight: mark them before they are gone (the watches run after the flush)."""
    doomed = [obj.id for obj in session.deleted if isinstance(obj, Challenge) and obj.id is not None]
    if not doomed:
        return
    proposals = session.execute(select(Proposal.id).where(col(Proposal.challenge_id).in_(doomed))).scalars()
    questions = session.execute(select(Question.id).where(col(Question.challenge_id).in_(doomed))).scalars()
    indexer.mark_stale(session, [*(doc_key(PROPOSAL, i) for i in proposals), *(doc_key(QUESTION, i) for i in questions)])


def _department_changed(session: Session, department: Department) -> list[str]:
    if department in session.new:
        return []
    owned = scalar_ids(session, select(ChallengeDepartment.challenge_id)
                 .where(ChallengeDepartment.department_id == department.id))
    return [doc_key(CHALLENGE, i) for i in owned]


def _organisation_changed(session: Session, organisation: Organisation) -> list[str]:
    if organisation in session.new:
        return []
    authored = scalar_ids(session, select(ProposalOrganisation.proposal_id)
                    .where(ProposalOrganisation.organisation_id == organisation.id))
    return [doc_key(PROPOSAL, i) for i in authored]


# --- challenges ----------------------------------------------------------------------------------


def _load_challenges(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    challenges = session.exec(select(Challenge).where(col(Challenge.id).in_(ids),
                                                      col(Challenge.phase).in_(PUBLIC_PHASES))).all()
    found = [c.id for c in challenges]
    extra: dict[int, list[str]] = defaultdict(list)
    for challenge_id, department in session.exec(
            select(ChallengeDepartment.challenge_id, Department)
            .join(Department, col(Department.id) == ChallengeDepartment.department_id)
            .where(col(ChallengeDepartment.challenge_id).in_(found))).all():
        extra[challenge_id].extend((department.division_ja, department.section_ja,
                                    department.division_en, department.section_en))
    for challenge_id, indicator in session.exec(select(ChallengeKpi.challenge_id, ChallengeKpi.indicator)
                                                .where(col(ChallengeKpi.challenge_id).in_(found))).all():
        extra[challenge_id].append(indicator)
    docs = {}
    for c in challenges:
        assert c.id is not None
        docs[c.id] = SearchDoc(
            type=CHALLENGE, id=c.id, title=c.title, url=paths.challenge(c.id), updated_at=c.updated_at,
            body=_join(c.summary, c.background, c.current_situation, c.desired_outcome, c.constraints,
                       c.eligibility, c.support_facilities, c.support_data, c.support_other),
            phase=c.phase.value, category=c.category.value, area=area_slug(c.area), challenge_id=c.id,
            extra="\n".join([c.area, *extra[c.id]]))
    return docs


def _all_challenges(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(Challenge.id).where(col(Challenge.phase).in_(PUBLIC_PHASES))
                    .order_by(col(Challenge.id)))


# --- proposals -----------------------------------------------------------------------------------


def _load_proposals(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    rows = session.exec(
        select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
        .where(col(Proposal.id).in_(ids), Proposal.status == ProposalStatus.SUBMITTED,
               col(Proposal.hidden_at).is_(None), col(Challenge.phase).in_(PUBLIC_PHASES))).all()
    found = [p.id for p, _c in rows]
    extra: dict[int, list[str]] = defaultdict(list)
    for proposal_id, name in session.exec(
            select(ProposalOrganisation.proposal_id, Organisation.name)
            .join(Organisation, col(Organisation.id) == ProposalOrganisation.organisation_id)
            .where(col(ProposalOrganisation.proposal_id).in_(found),
                   col(ProposalOrganisation.confirmed_at).is_not(None))
            .order_by(col(ProposalOrganisation.is_lead).desc(), col(Organisation.name))).all():
        extra[proposal_id].append(name)
    for proposal_id, indicator in session.exec(select(ProposalKpi.proposal_id, ProposalKpi.indicator)
                                               .where(col(ProposalKpi.proposal_id).in_(found))).all():
        extra[proposal_id].append(indicator)
    # Confidential attachments never: not even their titles.
    for proposal_id, title in session.exec(
            select(ProposalAttachment.proposal_id, ProposalAttachment.title)
            .where(col(ProposalAttachment.proposal_id).in_(found), col(ProposalAttachment.confidential).is_(False),
                   ProposalAttachment.title != "")).all():
        extra[proposal_id].append(title)
    docs = {}
    for p, c in rows:
        assert p.id is not None
        # The confidential part is left out on purpose: it is for reviewers and owning staff only.
        docs[p.id] = SearchDoc(
            type=PROPOSAL, id=p.id, title=p.title, url=paths.proposal(p.id), updated_at=p.updated_at,
            body=_join(p.summary, p.description, p.team, p.schedule, p.test_field_needs),
            phase=c.phase.value, category=c.category.value, area=area_slug(c.area), challenge_id=c.id,
            extra="\n".join(extra[p.id]))
    return docs


def _all_proposals(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(Proposal.id).where(Proposal.status == ProposalStatus.SUBMITTED,
                                                       col(Proposal.hidden_at).is_(None))
                    .order_by(col(Proposal.id)))


def _proposal_part(session: Session, row: Any) -> list[str]:
    return [doc_key(PROPOSAL, row.proposal_id)]


# --- questions and their answers -----------------------------------------------------------------


def _publicly_visible() -> sa.ColumnElement[bool]:
    """The condition of ``questions.publicly_visible`` (open or answered; public, or private once answered)."""
    return sa.and_(col(Question.status).in_((QuestionStatus.OPEN, QuestionStatus.ANSWERED)),
                   sa.or_(col(Question.visibility) == QuestionVisibility.PUBLIC,
                          col(Question.status) == QuestionStatus.ANSWERED))


def question_title(body: str) -> str:
    line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return line if len(line) <= QUESTION_TITLE_MAX else line[:QUESTION_TITLE_MAX - 1] + "…"


def _load_questions(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    # Only the question and its answer: never who asked (a private asker must stay unknown).
    rows = session.exec(
        select(Question.id, Question.body, Question.answer, Question.status, Question.updated_at, Challenge)
        .join(Challenge, col(Challenge.id) == Question.challenge_id)
        .where(col(Question.id).in_(ids), _publicly_visible(), col(Challenge.phase).in_(PUBLIC_PHASES))).all()
    docs = {}
    for question_id, body, answer, status, updated_at, c in rows:
        docs[question_id] = SearchDoc(
            type=QUESTION, id=question_id, title=question_title(body),
            url=paths.question(c.id, question_id), updated_at=updated_at,
            body=_join(body, answer if status is QuestionStatus.ANSWERED else ""),
            phase=c.phase.value, category=c.category.value, area=area_slug(c.area), challenge_id=c.id,
            extra=c.title)
    return docs


def _all_questions(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(Question.id).where(_publicly_visible()).order_by(col(Question.id)))


def _challenge_title_changed(session: Session, challenge: Challenge) -> list[str]:
    """A question's document carries its challenge's title (as low-weight text)."""
    if challenge in session.new or not touched(session, challenge, ("title",)) \
            or touched(session, challenge, CHILD_FIELDS):
        return []  # new: no questions yet; phase etc. changed: _challenge_changed marks them already
    return [doc_key(QUESTION, i) for i in scalar_ids(session, select(Question.id)
                                               .where(Question.challenge_id == challenge.id))]


# --- residents' voices ----------------------------------------------------------------------------


def _shown_voice() -> sa.ColumnElement[bool]:
    """The voices the public list shows: not hidden, not merged into another."""
    return sa.and_(col(Voice.hidden_at).is_(None), col(Voice.status) != VoiceStatus.MERGED)


def _load_voices(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    # Only what the voice's page shows everyone: never who wrote it.
    voices = session.exec(select(Voice).where(col(Voice.id).in_(ids), _shown_voice())).all()
    return {v.id: SearchDoc(type=VOICE, id=v.id, title=v.title, url=paths.voice(v.id), updated_at=v.updated_at,  # type: ignore[misc, arg-type]
                            body=v.body, category=v.category.value, area=v.area or None, extra=v.address)
            for v in voices}


def _all_voices(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(Voice.id).where(_shown_voice()).order_by(col(Voice.id)))


SOURCES: list[Source] = [
    Source(
        type=CHALLENGE, label=lambda: _("Challenge"), load=_load_challenges, all_ids=_all_challenges,
        watches={
            Challenge: _challenge_changed,
            ChallengeKpi: watch_when(("indicator", "challenge_id"), lambda s, row: [doc_key(CHALLENGE, row.challenge_id)]),
            ChallengeDepartment: lambda s, row: [doc_key(CHALLENGE, row.challenge_id)],
            Department: watch_when(("division_ja", "section_ja", "division_en", "section_en"), _department_changed),
        },
    ),
    Source(
        type=PROPOSAL, label=lambda: _("Proposal"), load=_load_proposals, all_ids=_all_proposals,
        watches={
            Proposal: watch_when(PROPOSAL_FIELDS, lambda s, p: [doc_key(PROPOSAL, p.id)]),
            ProposalOrganisation: watch_when(("confirmed_at", "organisation_id", "proposal_id"), _proposal_part),
            ProposalKpi: watch_when(("indicator", "proposal_id"), _proposal_part),
            ProposalAttachment: watch_when(("title", "confidential", "proposal_id"), _proposal_part),
            Organisation: watch_when(("name",), _organisation_changed),
        },
    ),
    Source(
        type=QUESTION, label=lambda: _("Question"), load=_load_questions, all_ids=_all_questions,
        watches={
            Question: watch_when(QUESTION_FIELDS, lambda s, q: [doc_key(QUESTION, q.id)]),
            Challenge: _challenge_title_changed,
        },
    ),
    Source(
        type=VOICE, label=lambda: _("Residents' voice"), load=_load_voices, all_ids=_all_voices,
        watches={Voice: watch_when(VOICE_FIELDS, lambda s, v: [doc_key(VOICE, v.id)])},
    ),
]
