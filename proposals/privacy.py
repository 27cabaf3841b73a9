"""What "download my data" holds of the proposals component (listed in its manifest): the person's
proposals (their versions and attachments), votes, questions, briefing registrations, residents' voices (also those
entered at the support desk) and supports of voices, and a reviewer's assignments, reviews and conflict declarations;
never other people's data (their comments are the core's: :mod:`cocreate.comments.privacy`)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    Challenge,
    ChallengeCriterion,
    ConflictDeclaration,
    Proposal,
    ProposalAttachment,
    ProposalVersion,
    Question,
    Review,
    ReviewerAssignment,
    ReviewScore,
    Voice,
    VoicePhoto,
    VoiceSupport,
    Vote,
)


def export_proposals(session: Session, user: User) -> list[dict[str, Any]]:
    """Proposals the person created, with the confidential part they wrote (their own words)."""
    rows = session.exec(select(Proposal, Challenge.title).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
                        .where(Proposal.created_by_id == user.id).order_by(col(Proposal.id))).all()
    return [{"id": proposal.id, "challenge_id": proposal.challenge_id, "challenge_title": challenge_title,
             "lead_organisation_id": proposal.lead_organisation_id, "status": proposal.status,
             "title": proposal.title, "summary": proposal.summary, "description": proposal.description,
             "team": proposal.team, "cost_estimate_yen": proposal.cost_estimate_yen, "schedule": proposal.schedule,
             "test_field_needs": proposal.test_field_needs, "confidential": proposal.confidential,
             "version": proposal.version, "created_at": proposal.created_at, "submitted_at": proposal.submitted_at,
             "withdrawn_at": proposal.withdrawn_at} for proposal, challenge_title in rows]


def export_votes(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Vote, Proposal.title).join(Proposal, col(Proposal.id) == Vote.proposal_id)
                        .where(Vote.user_id == user.id).order_by(col(Vote.id))).all()
    return [{"proposal_id": vote.proposal_id, "proposal_title": title, "challenge_id": vote.challenge_id,
             "voted_at": vote.created_at} for vote, title in rows]


def export_questions(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Question).where(Question.asker_id == user.id).order_by(col(Question.id))).all()
    return [{"id": row.id, "challenge_id": row.challenge_id, "organisation_id": row.organisation_id,
             "visibility": row.visibility, "status": row.status, "body": row.body, "asked_at": row.created_at,
             "answer": row.answer, "answered_at": row.answered_at} for row in rows]


def export_briefing_registrations(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(BriefingRegistration, BriefingSession)
                        .join(BriefingSession, col(BriefingSession.id) == BriefingRegistration.session_id)
                        .where(BriefingRegistration.user_id == user.id).order_by(col(BriefingRegistration.id))).all()
    return [{"session_id": briefing.id, "challenge_id": briefing.challenge_id, "title": briefing.title,
             "starts_at": briefing.starts_at, "ends_at": briefing.ends_at, "place": briefing.place,
             "registered_at": registration.created_at, "cancelled_at": registration.cancelled_at}
            for registration, briefing in rows]


def export_voices(session: Session, user: User) -> list[dict[str, Any]]:
    """The voices the person posted, with their photos' names and descriptions (not the files)."""
    voices = session.exec(select(Voice).where(Voice.author_id == user.id).order_by(col(Voice.id))).all()
    photos: dict[int, list[dict[str, Any]]] = {}
    for photo in session.exec(select(VoicePhoto).where(col(VoicePhoto.voice_id).in_([v.id for v in voices]))
                              .order_by(col(VoicePhoto.id))).all():
        photos.setdefault(photo.voice_id, []).append({"filename": photo.filename, "alt_text": photo.alt_text,
                                                      "kept_location": photo.kept_location})
    return [{"id": voice.id, "title": voice.title, "body": voice.body, "category": voice.category,
             "area": voice.area, "latitude": voice.latitude, "longitude": voice.longitude, "address": voice.address,
             "status": voice.status, "posted_at": voice.created_at, "photos": photos.get(voice.id, [])}  # type: ignore[arg-type]
            for voice in voices]


def export_voice_supports(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(VoiceSupport, Voice.title).join(Voice, col(Voice.id) == VoiceSupport.voice_id)
                        .where(VoiceSupport.user_id == user.id).order_by(col(VoiceSupport.created_at))).all()
    return [{"voice_id": support.voice_id, "voice_title": title, "supported_at": support.created_at}
            for support, title in rows]


def export_voices_entered(session: Session, user: User) -> list[dict[str, Any]]:
    """Voices the person typed in at the support desk for someone else (paper, phone, workshop), with the names of
    the photos attached to them (whoever attached them)."""
    voices = session.exec(select(Voice).where(Voice.entered_by_id == user.id).order_by(col(Voice.id))).all()
    photos: dict[int, list[dict[str, Any]]] = {}
    for photo in session.exec(select(VoicePhoto).where(col(VoicePhoto.voice_id).in_([v.id for v in voices]))
                              .order_by(col(VoicePhoto.id))).all():
        photos.setdefault(photo.voice_id, []).append({"filename": photo.filename, "alt_text": photo.alt_text})
    return [{"id": voice.id, "title": voice.title, "body": voice.body, "channel": voice.channel,
             "desk_note": voice.desk_note, "entered_at": voice.created_at, "photos": photos.get(voice.id, [])}  # type: ignore[arg-type]
            for voice in voices]


def export_voice_photos(session: Session, user: User) -> list[dict[str, Any]]:
    """Photos the person uploaded to voices (their own, or ones they entered at the desk): names, not files."""
    rows = session.exec(select(VoicePhoto).where(VoicePhoto.uploaded_by_id == user.id).order_by(col(VoicePhoto.id))).all()
    return [{"voice_id": row.voice_id, "filename": row.filename, "alt_text": row.alt_text,
             "kept_location": row.kept_location, "uploaded_at": row.created_at} for row in rows]


def export_proposal_versions(session: Session, user: User) -> list[dict[str, Any]]:
    """Every version of a proposal the person submitted (also of proposals a colleague created)."""
    rows = session.exec(select(ProposalVersion).where(ProposalVersion.submitted_by_id == user.id)
                        .order_by(col(ProposalVersion.id))).all()
    return [{"proposal_id": row.proposal_id, "number": row.number, "submitted_at": row.submitted_at,
             "content": json.loads(row.content_json or "{}")} for row in rows]


def export_proposal_attachments(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(ProposalAttachment).where(ProposalAttachment.uploaded_by_id == user.id)
                        .order_by(col(ProposalAttachment.id))).all()
    return [{"proposal_id": row.proposal_id, "title": row.title, "filename": row.filename,
             "confidential": row.confidential, "size_bytes": row.size_bytes, "uploaded_at": row.created_at}
            for row in rows]


def export_reviewer_assignments(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(ReviewerAssignment, Challenge.title)
                        .join(Challenge, col(Challenge.id) == ReviewerAssignment.challenge_id)
                        .where(ReviewerAssignment.user_id == user.id).order_by(col(ReviewerAssignment.id))).all()
    return [{"challenge_id": row.challenge_id, "challenge_title": title, "assigned_at": row.created_at}
            for row, title in rows]


def export_reviews(session: Session, user: User) -> list[dict[str, Any]]:
    """The person's reviews as a reviewer: their comment and their score per criterion."""
    reviews = session.exec(select(Review).where(Review.reviewer_id == user.id).order_by(col(Review.id))).all()
    scores: dict[int, list[dict[str, Any]]] = {}
    for score, criterion in session.exec(
            select(ReviewScore, ChallengeCriterion.name)
            .join(ChallengeCriterion, col(ChallengeCriterion.id) == ReviewScore.criterion_id)
            .where(col(ReviewScore.review_id).in_([review.id for review in reviews]))
            .order_by(col(ReviewScore.review_id), col(ReviewScore.criterion_id))).all():
        scores.setdefault(score.review_id, []).append({"criterion": criterion, "score": score.score})
    return [{"proposal_id": review.proposal_id, "comment": review.comment, "submitted_at": review.submitted_at,
             "scores": scores.get(review.id, [])} for review in reviews]  # type: ignore[arg-type]


def export_conflict_declarations(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(ConflictDeclaration).where(ConflictDeclaration.reviewer_id == user.id)
                        .order_by(col(ConflictDeclaration.proposal_id))).all()
    return [{"proposal_id": row.proposal_id, "has_conflict": row.has_conflict, "note": row.note} for row in rows]
