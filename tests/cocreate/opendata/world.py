"""A world for the open data tests: public rows that must be published, and confidential text planted in
every place the open data must leave out (each secret is a unique marker, searched for in every file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.surveys.models import Survey, SurveyResponse
from labs.models import (
    BookingStatus,
    KpiMeasurementStatus,
    RecruitmentApplication,
    RecruitmentCall,
    Trial,
    TrialKpi,
    TrialKpiMeasurement,
    TrialStatus,
)
from proposals.models import (
    Category,
    ConflictDeclaration,
    DecisionOutcome,
    Phase,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Review,
    Voice,
    VoiceChannel,
    Vote,
)
from tests.factories import create_challenge, create_proposal, create_user, create_ward
from tests.labs.helpers import create_booking, create_field


@dataclass
class World:
    public: dict[str, str] = field(default_factory=dict)
    """What must be in the files: a label -> the text."""
    secrets: dict[str, str] = field(default_factory=dict)
    """What must never be: a label -> the text."""
    ids: dict[str, int] = field(default_factory=dict)


def build(session: Session) -> World:
    world = World()
    s, p = world.secrets, world.public
    ward = create_ward(session, phase="decided", staff_name="職員 秘密名", member_name="提案者 秘密名")
    challenge, proposal = ward.challenge, ward.proposal
    s["resident e-mail"] = ward.resident.email
    s["resident name"] = ward.resident.display_name
    s["staff e-mail"] = ward.staff.email
    s["member name"] = ward.member.display_name
    p["challenge title"] = challenge.title

    # The challenge's contact person; its decisions published with a rationale.
    challenge.contact_name = "連絡担当者 秘密氏名"
    challenge.contact_email = "contact-secret@example.jp"
    challenge.contact_phone = "03-9999-1234"
    challenge.decisions_published_at = utcnow()
    s["contact name"], s["contact e-mail"], s["contact phone"] = (
        challenge.contact_name, challenge.contact_email, challenge.contact_phone)
    session.add(challenge)

    proposal.confidential = "SECRET-PROPOSAL-CONFIDENTIAL-原価"
    proposal.decision = DecisionOutcome.SELECTED
    proposal.decision_rationale = "PUBLIC-RATIONALE-地域への波及効果"
    proposal.vote_count = 7
    s["confidential part"] = proposal.confidential
    p["proposal title"] = proposal.title
    p["rationale"] = proposal.decision_rationale
    session.add(proposal)
    session.commit()

    # Proposals that are not public.
    s["draft proposal"] = create_proposal(session, challenge, ward.organisation, status="draft",
                                          title="SECRET-DRAFT-PROPOSAL").title
    s["withdrawn proposal"] = create_proposal(session, challenge, ward.organisation, status="withdrawn",
                                              title="SECRET-WITHDRAWN-PROPOSAL",
                                              confidential="SECRET-WITHDRAWN-CONFIDENTIAL").title
    hidden = create_proposal(session, challenge, ward.organisation, title="SECRET-HIDDEN-PROPOSAL")
    hidden.hidden_at = utcnow()
    hidden.hidden_reason = "SECRET-HIDDEN-REASON"
    s["hidden proposal"], s["hidden reason"] = hidden.title, hidden.hidden_reason
    session.add(hidden)

    # A challenge still in draft, and a decided one whose decisions are not yet published.
    draft = create_challenge(session, ward.department, phase="draft", title="SECRET-DRAFT-CHALLENGE")
    s["draft challenge"] = draft.title
    undecided = create_challenge(session, ward.department, phase="review", title="PUBLIC-CHALLENGE-IN-REVIEW")
    p["challenge in review"] = undecided.title
    pending = create_proposal(session, undecided, ward.organisation, title="PUBLIC-PROPOSAL-UNDER-REVIEW")
    pending.decision = DecisionOutcome.NOT_SELECTED
    pending.decision_rationale = "SECRET-UNPUBLISHED-RATIONALE"
    s["unpublished rationale"] = pending.decision_rationale
    p["proposal under review"] = pending.title
    session.add(pending)

    # Who voted, and what reviewers wrote.
    voter = create_user(session, "voter-secret@example.jp", display_name="投票者 秘密名")
    s["voter e-mail"], s["voter name"] = voter.email, voter.display_name
    world.ids["voter"] = voter.id  # type: ignore[assignment]
    session.add(Vote(proposal_id=proposal.id, challenge_id=challenge.id, user_id=voter.id))
    reviewer = create_user(session, "reviewer-secret@example.jp", roles=[Role.REVIEWER])
    session.add(Review(proposal_id=proposal.id, reviewer_id=reviewer.id, comment="SECRET-REVIEW-COMMENT",
                       submitted_at=utcnow()))
    session.add(ConflictDeclaration(reviewer_id=reviewer.id, proposal_id=proposal.id, has_conflict=False,
                                    note="SECRET-CONFLICT-NOTE"))
    s["review comment"], s["conflict note"] = "SECRET-REVIEW-COMMENT", "SECRET-CONFLICT-NOTE"

    # Questions: answered in public, private and unanswered, hidden.
    session.add(Question(challenge_id=challenge.id, asker_id=ward.resident.id, visibility=QuestionVisibility.PUBLIC,
                         status=QuestionStatus.ANSWERED, body="PUBLIC-QUESTION-補助はありますか",
                         answer="PUBLIC-ANSWER-上限があります", answered_at=utcnow(),
                         answer_department_id=ward.department.id))
    p["question"], p["answer"] = "PUBLIC-QUESTION-補助はありますか", "PUBLIC-ANSWER-上限があります"
    session.add(Question(challenge_id=challenge.id, asker_id=ward.resident.id, visibility=QuestionVisibility.PRIVATE,
                         status=QuestionStatus.OPEN, body="SECRET-PRIVATE-QUESTION"))
    session.add(Question(challenge_id=challenge.id, asker_id=ward.resident.id, visibility=QuestionVisibility.PUBLIC,
                         status=QuestionStatus.HIDDEN, body="SECRET-HIDDEN-QUESTION", hidden_reason="SECRET-Q-REASON"))
    s["private question"], s["hidden question"] = "SECRET-PRIVATE-QUESTION", "SECRET-HIDDEN-QUESTION"

    # Comments: public, hidden, deleted, on a draft challenge and on a hidden proposal, assisted with a desk note.
    session.add(Comment(target_type="challenge", target_id=challenge.id, author_id=ward.resident.id,
                        body="PUBLIC-COMMENT-賛成です"))
    session.add(Comment(target_type="proposal", target_id=proposal.id, author_id=ward.staff.id, official="staff",
                        body="PUBLIC-OFFICIAL-COMMENT"))
    p["comment"], p["official comment"] = "PUBLIC-COMMENT-賛成です", "PUBLIC-OFFICIAL-COMMENT"
    session.add(Comment(target_type="challenge", target_id=challenge.id, author_id=ward.resident.id,
                        body="SECRET-HIDDEN-COMMENT", hidden_at=utcnow(), hidden_reason="SECRET-MODERATION-REASON"))
    session.add(Comment(target_type="challenge", target_id=challenge.id, author_id=ward.resident.id,
                        body="SECRET-DELETED-COMMENT", deleted_at=utcnow()))
    session.add(Comment(target_type="challenge", target_id=draft.id, author_id=ward.staff.id,
                        body="SECRET-COMMENT-ON-DRAFT"))
    session.add(Comment(target_type="proposal", target_id=hidden.id, author_id=ward.resident.id,
                        body="SECRET-COMMENT-ON-HIDDEN-PROPOSAL"))
    session.add(Comment(target_type="challenge", target_id=challenge.id, channel="paper", entered_by_id=ward.staff.id,
                        consent_at=utcnow(), desk_note="SECRET-COMMENT-DESK-NOTE",
                        body="PUBLIC-ASSISTED-COMMENT"))
    session.add(Comment(target_type="challenge", target_id=challenge.id, channel="phone", entered_by_id=ward.staff.id,
                        desk_note="SECRET-NO-CONSENT-NOTE", body="SECRET-COMMENT-WITHOUT-CONSENT"))
    p["assisted comment"] = "PUBLIC-ASSISTED-COMMENT"
    for label in ("SECRET-HIDDEN-COMMENT", "SECRET-MODERATION-REASON", "SECRET-DELETED-COMMENT",
                  "SECRET-COMMENT-ON-DRAFT", "SECRET-COMMENT-ON-HIDDEN-PROPOSAL", "SECRET-COMMENT-DESK-NOTE",
                  "SECRET-NO-CONSENT-NOTE", "SECRET-COMMENT-WITHOUT-CONSENT"):
        s[label] = label

    # Voices: public with a precise point, hidden, merged, assisted without consent, with a desk note.
    session.add(Voice(title="PUBLIC-VOICE-街灯を増やして", body="暗い道があります。", category=Category.DISASTER_SAFETY,
                      area="takashimadaira", latitude=35.7891234567, longitude=139.6612345678,
                      author_id=ward.resident.id, department_id=ward.department.id))
    p["voice"], p["voice point"] = "PUBLIC-VOICE-街灯を増やして", "35.78912"
    s["voice point's full precision"] = "35.789123"
    session.add(Voice(title="SECRET-HIDDEN-VOICE", body="x", category=Category.DISASTER_SAFETY, hidden_at=utcnow()))
    session.add(Voice(title="SECRET-NO-CONSENT-VOICE", body="x", category=Category.DISASTER_SAFETY, channel=VoiceChannel.PHONE,
                      entered_by_id=ward.staff.id, desk_note="SECRET-VOICE-DESK-NOTE-A"))
    session.add(Voice(title="PUBLIC-ASSISTED-VOICE", body="x", category=Category.DISASTER_SAFETY, channel=VoiceChannel.PAPER,
                      entered_by_id=ward.staff.id, consent_at=utcnow(), desk_note="SECRET-VOICE-DESK-NOTE-B"))
    p["assisted voice"] = "PUBLIC-ASSISTED-VOICE"
    for label in ("SECRET-HIDDEN-VOICE", "SECRET-NO-CONSENT-VOICE", "SECRET-VOICE-DESK-NOTE-A",
                  "SECRET-VOICE-DESK-NOTE-B"):
        s[label] = label
    session.commit()

    # Labs: a published field with a contact line, an unpublished one; approved and pending bookings.
    field_row = create_field(session, name="PUBLIC-FIELD-高島平", contact="SECRET-FIELD-CONTACT 090-0000-0000")
    s["field contact"] = "SECRET-FIELD-CONTACT"
    p["field"] = field_row.name
    hidden_field = create_field(session, name="SECRET-UNPUBLISHED-FIELD", published=False)
    s["unpublished field"] = hidden_field.name
    create_booking(session, field_row, ward.organisation, status=BookingStatus.APPROVED, title="PUBLIC-BOOKING",
                   purpose="SECRET-BOOKING-PURPOSE", equipment="SECRET-BOOKING-EQUIPMENT",
                   review_note="SECRET-BOOKING-REVIEW-NOTE", author=ward.member)
    create_booking(session, field_row, ward.organisation, status=BookingStatus.SUBMITTED, title="SECRET-PENDING-BOOKING")
    create_booking(session, hidden_field, ward.organisation, status=BookingStatus.APPROVED,
                   title="SECRET-BOOKING-OF-UNPUBLISHED-FIELD")
    p["booking"] = "PUBLIC-BOOKING"
    for label in ("SECRET-BOOKING-PURPOSE", "SECRET-BOOKING-EQUIPMENT", "SECRET-BOOKING-REVIEW-NOTE",
                  "SECRET-PENDING-BOOKING", "SECRET-BOOKING-OF-UNPUBLISHED-FIELD"):
        s[label] = label

    # Trials: published with unpublished results; unpublished; KPI measurements in review.
    trial = Trial(title="PUBLIC-TRIAL", summary="s", status=TrialStatus.RUNNING, published=True,
                  department_id=ward.department.id, challenge_id=challenge.id, proposal_id=proposal.id,
                  results="SECRET-UNPUBLISHED-RESULTS")
    session.add(trial)
    session.add(Trial(title="SECRET-UNPUBLISHED-TRIAL", published=False))
    session.flush()
    kpi = TrialKpi(trial_id=trial.id, indicator="PUBLIC-KPI-利用者数", unit="人", baseline="0", target="100",
                   result="SECRET-KPI-RESULT", result_note="SECRET-KPI-RESULT-NOTE", baseline_value=0, target_value=100)
    session.add(kpi)
    session.flush()
    session.add(TrialKpiMeasurement(kpi_id=kpi.id, measured_on=date.today() - timedelta(days=3), value=12345.5,
                                    note="SECRET-MEASUREMENT-IN-REVIEW", status=KpiMeasurementStatus.SUBMITTED))
    session.add(TrialKpiMeasurement(kpi_id=kpi.id, measured_on=date.today() - timedelta(days=9), value=1,
                                    note="x", status=KpiMeasurementStatus.REJECTED,
                                    review_reason="SECRET-MEASUREMENT-REJECTION"))
    call = RecruitmentCall(trial_id=trial.id, title="c", places=3, consent_text="同意します")
    session.add(call)
    session.flush()
    session.add(RecruitmentApplication(call_id=call.id, user_id=ward.resident.id, consent_version=1,
                                       full_name="SECRET-APPLICANT-NAME", contact="applicant-secret@example.jp",
                                       message="SECRET-APPLICANT-MESSAGE"))
    p["trial"], p["kpi"] = "PUBLIC-TRIAL", "PUBLIC-KPI-利用者数"
    for label in ("SECRET-UNPUBLISHED-RESULTS", "SECRET-UNPUBLISHED-TRIAL", "SECRET-KPI-RESULT",
                  "SECRET-MEASUREMENT-IN-REVIEW", "SECRET-MEASUREMENT-REJECTION", "SECRET-APPLICANT-NAME",
                  "applicant-secret@example.jp", "SECRET-APPLICANT-MESSAGE"):
        s[label] = label

    # Surveys: an unpublished one; a response entered by the desk with its note, in a named survey.
    session.add(Survey(title="SECRET-UNPUBLISHED-SURVEY", department_id=ward.department.id))
    named = Survey(title="名前付きアンケート", anonymous=False, published_at=utcnow() - timedelta(days=9),
                   closes_at=utcnow() - timedelta(days=1), department_id=ward.department.id)
    session.add(named)
    session.flush()
    session.add(SurveyResponse(survey_id=named.id, respondent_id=ward.resident.id, submitted_at=utcnow(),
                               channel="paper", entered_by_id=ward.staff.id, desk_note="SECRET-SURVEY-DESK-NOTE"))
    s["unpublished survey"], s["survey desk note"] = "SECRET-UNPUBLISHED-SURVEY", "SECRET-SURVEY-DESK-NOTE"
    session.commit()
    assert challenge.phase is Phase.DECIDED
    return world
