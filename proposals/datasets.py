"""What the proposals component publishes as open data (its manifest's ``datasets``; see
:mod:`cocreate.opendata.datasets`): challenges, proposals, decisions, questions and answers, vote counts
and residents' voices, the public part only.

Each function reads what any visitor reads on the site, with the same conditions as the public pages:

- challenges: every phase but draft; never the contact person's name, e-mail or telephone;
- proposals: submitted and not hidden, on a public challenge (never drafts, withdrawn or hidden ones,
  never the ``confidential`` part); the decision only once the challenge's decisions are published;
- decisions: those published, with their rationale;
- questions: open or answered, public or answered (:func:`proposals.dialogue.questions.publicly_visible`),
  on a public challenge; never who asked, unless an organisation asked in public;
- vote counts: per public proposal, never who voted;
- voices: neither hidden nor merged, and an assisted entry only once the resident's consent is recorded
  (as the map shows them); never the desk's note, the author or who typed it; the point rounded to the
  five decimals the voice's page shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.accounts.models import Department, Organisation
from cocreate.i18n import lazy_gettext as _l
from cocreate.opendata.datasets import Column, Dataset, stream
from proposals import paths
from proposals.dialogue.questions import publicly_visible
from proposals.models import (
    Challenge,
    Phase,
    Proposal,
    ProposalStatus,
    Question,
    QuestionVisibility,
    Voice,
    VoiceChannel,
    VoiceStatus,
)

ID = Column("id", _l("Identifier on this site (stable)."), "integer")
CHALLENGE_ID = Column("challenge_id", _l("The challenge's identifier (see the challenges dataset)."), "integer")
PROPOSAL_ID = Column("proposal_id", _l("The proposal's identifier (see the proposals dataset)."), "integer")
URL = Column("url", _l("Its page on this site."), "url")


def _department(department: Department | None) -> str:
    return department.display_name("ja") if department is not None else ""


def _public_challenge() -> Any:
    return col(Challenge.phase) != Phase.DRAFT


def challenge_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(Challenge.id, Challenge, Department)
                 .join(Department, col(Department.id) == Challenge.department_id, isouter=True)
                 .where(_public_challenge()))
    for _id, challenge, department in stream(session, statement, col(Challenge.id)):
        yield {
            "id": challenge.id, "title": challenge.title, "summary": challenge.summary,
            "category": challenge.category.value, "area": challenge.area, "phase": challenge.phase.value,
            "department": _department(department), "background": challenge.background,
            "current_situation": challenge.current_situation, "desired_outcome": challenge.desired_outcome,
            "constraints": challenge.constraints, "eligibility": challenge.eligibility,
            "budget_cap_yen": challenge.budget_cap_yen, "published_at": challenge.published_at,
            "proposals_close_at": challenge.proposals_close_at, "proposal_count": challenge.proposal_count,
            "question_count": challenge.question_count, "decisions_published_at": challenge.decisions_published_at,
            "url": paths.challenge(challenge.id),  # type: ignore[arg-type]
        }


def _public_proposals() -> Any:
    return (sa.select(Proposal.id, Proposal, Challenge.decisions_published_at, Organisation.name)
            .join(Challenge, col(Challenge.id) == Proposal.challenge_id)
            .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id, isouter=True)
            .where(_public_challenge(), Proposal.status == ProposalStatus.SUBMITTED, col(Proposal.hidden_at).is_(None)))


def proposal_rows(session: Session) -> Iterator[dict[str, Any]]:
    for _id, proposal, decisions_published_at, organisation in stream(session, _public_proposals(), col(Proposal.id)):
        yield {
            "id": proposal.id, "challenge_id": proposal.challenge_id, "title": proposal.title,
            "summary": proposal.summary, "description": proposal.description, "team": proposal.team,
            "cost_estimate_yen": proposal.cost_estimate_yen, "schedule": proposal.schedule,
            "test_field_needs": proposal.test_field_needs, "lead_organisation": organisation or "",
            "submitted_at": proposal.submitted_at, "version": proposal.version,
            "vote_count": proposal.vote_count, "comment_count": proposal.comment_count,
            "decision": proposal.decision.value if proposal.decision and decisions_published_at else "",
            "url": paths.proposal(proposal.id),  # type: ignore[arg-type]
        }


def decision_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = _public_proposals().where(col(Proposal.decision).is_not(None),
                                          col(Challenge.decisions_published_at).is_not(None))
    for _id, proposal, decisions_published_at, organisation in stream(session, statement, col(Proposal.id)):
        yield {
            "proposal_id": proposal.id, "challenge_id": proposal.challenge_id, "proposal_title": proposal.title,
            "lead_organisation": organisation or "", "decision": proposal.decision.value,  # type: ignore[union-attr]
            "rationale": proposal.decision_rationale, "decided_at": proposal.decided_at,
            "published_at": decisions_published_at, "url": paths.proposal(proposal.id),  # type: ignore[arg-type]
        }


def vote_count_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(Proposal.id, Proposal.challenge_id, Proposal.title, Proposal.vote_count)
                 .join(Challenge, col(Challenge.id) == Proposal.challenge_id)
                 .where(_public_challenge(), Proposal.status == ProposalStatus.SUBMITTED,
                        col(Proposal.hidden_at).is_(None)))
    for proposal_id, challenge_id, title, votes in stream(session, statement, col(Proposal.id)):
        yield {"proposal_id": proposal_id, "challenge_id": challenge_id, "proposal_title": title,
               "vote_count": votes}


def question_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(Question.id, Question, Organisation.name, Department)
                 .join(Challenge, col(Challenge.id) == Question.challenge_id)
                 .join(Organisation, col(Organisation.id) == Question.organisation_id, isouter=True)
                 .join(Department, col(Department.id) == Question.answer_department_id, isouter=True)
                 .where(_public_challenge(), publicly_visible()))
    for _id, question, organisation, department in stream(session, statement, col(Question.id)):
        asked_by = organisation if organisation and question.visibility is QuestionVisibility.PUBLIC else ""
        yield {
            "id": question.id, "challenge_id": question.challenge_id, "asked_at": question.created_at,
            "asked_by_organisation": asked_by, "question": question.body, "status": question.status.value,
            "answer": question.answer, "answered_at": question.answered_at,
            "answering_department": _department(department),
            "url": paths.question(question.challenge_id, question.id),  # type: ignore[arg-type]
        }


def voice_rows(session: Session) -> Iterator[dict[str, Any]]:
    statement = (sa.select(Voice.id, Voice, Department)
                 .join(Department, col(Department.id) == Voice.department_id, isouter=True)
                 .where(col(Voice.hidden_at).is_(None), Voice.status != VoiceStatus.MERGED,
                        sa.or_(Voice.channel == VoiceChannel.ONLINE, col(Voice.consent_at).is_not(None))))
    for _id, voice, department in stream(session, statement, col(Voice.id)):
        yield {
            "id": voice.id, "title": voice.title, "body": voice.body, "category": voice.category.value,
            "area": voice.area, "address": voice.address,
            "latitude": round(voice.latitude, 5) if voice.latitude is not None else None,
            "longitude": round(voice.longitude, 5) if voice.longitude is not None else None,
            "status": voice.status.value, "department": _department(department), "channel": voice.channel.value,
            "challenge_id": voice.challenge_id, "support_count": voice.support_count,
            "comment_count": voice.comment_count, "created_at": voice.created_at,
            "url": paths.voice(voice.id),  # type: ignore[arg-type]
        }


CATEGORY = Column("category", _l("The category (a fixed code: mobility, environment, welfare…)."))
AREA = Column("area", _l("The area of the ward (a fixed code), or empty for the whole ward."))
DEPARTMENT = Column("department", _l("The ward's department in charge."))
LEAD = Column("lead_organisation", _l("The organisation that leads the proposal."))

DATASETS = [
    Dataset(
        name="challenges", title=_l("Challenges"),
        description=_l("The ward's challenges (課題) open to proposals, in every phase after publication. Drafts "
                       "and the contact person's details are left out."),
        columns=(
            ID, Column("title", _l("Title.")), Column("summary", _l("Summary.")), CATEGORY, AREA,
            Column("phase", _l("The phase (published, accepting, voting, review, decided, trial, completed, "
                               "closed).")),
            DEPARTMENT, Column("background", _l("Background (Markdown).")),
            Column("current_situation", _l("The current situation (Markdown).")),
            Column("desired_outcome", _l("The outcome the ward wants (Markdown).")),
            Column("constraints", _l("Constraints (Markdown).")),
            Column("eligibility", _l("Who may propose (Markdown).")),
            Column("budget_cap_yen", _l("The budget cap in yen, if any."), "integer"),
            Column("published_at", _l("When it was published (UTC)."), "datetime"),
            Column("proposals_close_at", _l("When proposals close (UTC)."), "datetime"),
            Column("proposal_count", _l("Number of submitted proposals."), "integer"),
            Column("question_count", _l("Number of public questions."), "integer"),
            Column("decisions_published_at", _l("When the decisions were published (UTC)."), "datetime"),
            URL,
        ),
        rows=challenge_rows, keywords=("課題", "公民連携", "challenges"),
    ),
    Dataset(
        name="proposals", title=_l("Proposals"),
        description=_l("Proposals submitted to the challenges: their public part. Drafts, withdrawn and hidden "
                       "proposals and the confidential part are left out; the decision shows once published."),
        columns=(
            ID, CHALLENGE_ID, Column("title", _l("Title.")), Column("summary", _l("Summary.")),
            Column("description", _l("Description (Markdown).")), Column("team", _l("The team (Markdown).")),
            Column("cost_estimate_yen", _l("The estimated cost in yen, if given."), "integer"),
            Column("schedule", _l("The schedule (Markdown).")),
            Column("test_field_needs", _l("What the proposal needs of a test field (Markdown).")),
            LEAD, Column("submitted_at", _l("When it was first submitted (UTC)."), "datetime"),
            Column("version", _l("Number of submitted versions."), "integer"),
            Column("vote_count", _l("Number of votes of support."), "integer"),
            Column("comment_count", _l("Number of comments."), "integer"),
            Column("decision", _l("The published decision (selected, not_selected, on_hold), or empty.")),
            URL,
        ),
        rows=proposal_rows, keywords=("提案", "proposals"),
    ),
    Dataset(
        name="decisions", title=_l("Decisions"),
        description=_l("The ward's published decisions on proposals, with their rationale."),
        columns=(
            PROPOSAL_ID, CHALLENGE_ID, Column("proposal_title", _l("The proposal's title.")), LEAD,
            Column("decision", _l("The decision (selected, not_selected, on_hold).")),
            Column("rationale", _l("Why (Markdown).")),
            Column("decided_at", _l("When it was decided (UTC)."), "datetime"),
            Column("published_at", _l("When the challenge's decisions were published (UTC)."), "datetime"),
            URL,
        ),
        rows=decision_rows, keywords=("審査結果", "decisions"),
    ),
    Dataset(
        name="questions", title=_l("Questions and answers"),
        description=_l("Questions asked about the challenges and the ward's answers, as shown on the site. Who "
                       "asked is never included, except an organisation that asked in public; hidden and "
                       "unanswered private questions are left out."),
        columns=(
            ID, CHALLENGE_ID, Column("asked_at", _l("When it was asked (UTC)."), "datetime"),
            Column("asked_by_organisation", _l("The organisation that asked in public, or empty.")),
            Column("question", _l("The question (Markdown).")),
            Column("status", _l("open or answered.")), Column("answer", _l("The answer (Markdown).")),
            Column("answered_at", _l("When it was answered (UTC)."), "datetime"),
            Column("answering_department", _l("The department that answered.")), URL,
        ),
        rows=question_rows, keywords=("質疑応答", "questions"),
    ),
    Dataset(
        name="vote_counts", title=_l("Vote counts"),
        description=_l("The number of votes of support each public proposal has. Who voted is never included."),
        columns=(PROPOSAL_ID, CHALLENGE_ID, Column("proposal_title", _l("The proposal's title.")),
                 Column("vote_count", _l("Number of votes of support."), "integer")),
        rows=vote_count_rows, keywords=("投票", "votes"),
    ),
    Dataset(
        name="voices", title=_l("Residents' voices"),
        description=_l("Local needs and ideas residents raised (まちの声), as shown on the site. Hidden and merged "
                       "voices, the author, notes of the support desk and entries without recorded consent are "
                       "left out."),
        columns=(
            ID, Column("title", _l("Title.")), Column("body", _l("Description (Markdown).")), CATEGORY, AREA,
            Column("address", _l("Address or place, as the resident gave it.")),
            Column("latitude", _l("Latitude (WGS 84, five decimals), if a point was given."), "number"),
            Column("longitude", _l("Longitude (WGS 84, five decimals), if a point was given."), "number"),
            Column("status", _l("Where it stands (received, considering, challenge, resolved, declined).")),
            DEPARTMENT, Column("channel", _l("How it reached the ward (online, paper, workshop, phone).")),
            Column("challenge_id", _l("The challenge it is linked to or became, if any."), "integer"),
            Column("support_count", _l("Number of residents who support it."), "integer"),
            Column("comment_count", _l("Number of comments."), "integer"),
            Column("created_at", _l("When it was raised (UTC)."), "datetime"), URL,
        ),
        rows=voice_rows, keywords=("まちの声", "voices"),
    ),
]
"""The proposals component's open datasets (its manifest's ``datasets``)."""
