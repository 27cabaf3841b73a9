"""Download my data is complete: every column that references an account is either read by a section of the
export, or listed below with the reason it is not the referenced person's data. A new table or column that
points at ``user_account.id`` fails here until its component exports it or says why not.

Then a planted fixture: one row of every newly exported kind for two people; each section holds the first
person's rows and nothing of the second's."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from sqlmodel import Session, SQLModel

from cocreate import components
from cocreate.accounts import self_service
from cocreate.accounts.models import OrganisationInvitation, User
from cocreate.analysis.models import AnalysisRun
from cocreate.comments.models import Comment, CommentLike
from cocreate.db.base import utcnow
from cocreate.moderation.models import Report, ReportReason
from cocreate.notifications.models import Notification, NotificationDigest
from cocreate.pages.models import PageRevision, SitePage
from labs.models import BookingDocument, DocumentKind, Trial, TrialUpdate, TrialUpdatePhoto
from proposals.models import (
    Category,
    ChallengeCriterion,
    ConflictDeclaration,
    ProposalAttachment,
    ProposalVersion,
    Review,
    ReviewerAssignment,
    ReviewScore,
    Voice,
    VoicePhoto,
)
from tests.factories import (
    actor,
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import count_queries
from tests.labs.helpers import create_booking, create_field

pytestmark = pytest.mark.databases("sqlite", why="the export is Python over plain queries; the walk reads metadata")

USER_TABLE = "user_account"

COVERED: dict[tuple[str, str], tuple[str, ...]] = {
    # (table, column) -> the export sections that read the rows where it is the person
    ("consent", "user_id"): ("consents",),
    ("role_assignment", "user_id"): ("roles",),
    ("organisation_member", "user_id"): ("organisations",),
    ("organisation", "created_by_id"): ("organisations_registered",),
    ("organisation_invitation", "invited_by_id"): ("organisation_invitations",),
    ("organisation_invitation", "accepted_by_id"): ("organisation_invitations",),
    ("oidc_identity", "user_id"): ("oidc_identities",),
    ("residency_request", "user_id"): ("residency_requests",),
    ("comment", "author_id"): ("comments",),
    ("comment", "entered_by_id"): ("comments_entered_at_desk",),
    ("comment_like", "user_id"): ("comment_likes",),
    ("report", "reporter_id"): ("reports",),
    ("follow", "user_id"): ("follows",),
    ("notification_preference", "user_id"): ("notification_settings",),
    ("notification", "user_id"): ("notifications",),
    ("notification_digest", "user_id"): ("notification_digests",),
    ("analysis_run", "created_by_id"): ("analysis_runs",),
    ("analysis_run", "published_by_id"): ("analysis_runs",),
    ("page_revision", "created_by_id"): ("page_revisions",),
    ("proposal", "created_by_id"): ("proposals",),
    ("proposal_version", "submitted_by_id"): ("proposal_versions",),
    ("proposal_attachment", "uploaded_by_id"): ("proposal_attachments",),
    ("vote", "user_id"): ("votes",),
    ("challenge_question", "asker_id"): ("questions",),
    ("briefing_registration", "user_id"): ("briefing_registrations",),
    ("voice", "author_id"): ("voices",),
    ("voice", "entered_by_id"): ("voices_entered_at_desk",),
    ("voice_photo", "uploaded_by_id"): ("voice_photos",),
    ("voice_support", "user_id"): ("voice_supports",),
    ("reviewer_assignment", "user_id"): ("reviewer_assignments",),
    ("review", "reviewer_id"): ("reviews",),
    ("conflict_declaration", "reviewer_id"): ("conflict_declarations",),
    ("booking", "created_by_id"): ("bookings",),
    ("booking_document", "uploaded_by_id"): ("booking_documents",),
    ("trial_update", "author_id"): ("trial_updates",),
    ("trial_update_photo", "uploaded_by_id"): ("trial_update_photos",),
    ("test_field_coordinator", "user_id"): ("coordinated_fields",),
    ("recruitment_application", "user_id"): ("recruitment_applications",),
    # Sections the surveys and KPI branches of issue 19 add (their own tests check their content).
    ("survey_response", "respondent_id"): ("survey_responses",),
    ("survey_response", "entered_by_id"): ("survey_responses",),
    ("trial_kpi_measurement", "entered_by_id"): ("kpi_measurements",),
}

MODERATION = "a moderator's act on someone else's content, not the moderated person's data nor the moderator's own " \
             "writing; the audit log keeps who did it"
WARD_ACT = "an act of the ward's staff in their role on the ward's own record (publishing, deciding, verifying, " \
           "assigning); the record is the ward's and the audit log keeps who did it"
ALLOWED: dict[tuple[str, str], str] = {
    # (table, column) -> why the rows it points from are not the referenced person's data to export
    ("comment", "hidden_by_id"): MODERATION,
    ("proposal", "hidden_by_id"): MODERATION,
    ("voice", "hidden_by_id"): MODERATION,
    ("report", "resolved_by_id"): MODERATION,
    ("role_assignment", "granted_by_id"): WARD_ACT + " (an administrator granting someone a role)",
    ("organisation", "verified_by_id"): WARD_ACT + " (an administrator verifying an organisation)",
    ("residency_request", "issued_by_id"): WARD_ACT + " (staff mailing a resident's code)",
    ("residency_request", "decided_by_id"): WARD_ACT + " (staff deciding a resident's request)",
    ("challenge", "created_by_id"): WARD_ACT + " (a department's challenge)",
    ("challenge_revision", "changed_by_id"): WARD_ACT + " (a department's challenge)",
    ("challenge_phase_change", "changed_by_id"): WARD_ACT + " (a department's challenge)",
    ("challenge_attachment", "uploaded_by_id"): WARD_ACT + " (a department's challenge)",
    ("challenge_question", "answered_by_id"): WARD_ACT + " (the department's public answer)",
    ("proposal", "decided_by_id"): WARD_ACT + " (the selection decision)",
    ("proposal_organisation", "confirmed_by_id"): "an organisation admin confirming the organisation's part in a "
                                                  "consortium: the organisation's decision on its own record",
    ("reviewer_assignment", "assigned_by_id"): WARD_ACT + " (assigning a reviewer)",
    ("voice_update", "actor_id"): WARD_ACT + " (the department's answer to a voice)",
    ("test_field", "created_by_id"): WARD_ACT + " (a test field)",
    ("test_field_blackout", "created_by_id"): WARD_ACT + " (a test field's closures)",
    ("test_field_photo", "uploaded_by_id"): WARD_ACT + " (a test field's photos)",
    ("booking", "decided_by_id"): WARD_ACT + " (a coordinator deciding a booking)",
    ("booking_event", "by_id"): "the booking's history: the requester's own acts are in the bookings section with "
                                "their times; the rest are coordinators' decisions (" + WARD_ACT + ")",
    ("trial", "created_by_id"): WARD_ACT + " (a trial)",
    ("recruitment_call", "created_by_id"): "a trial's public call for participants, written for the trial "
                                           "(its organisation or department), not personal data",
    ("survey", "created_by_id"): WARD_ACT + " (a survey)",
    ("trial_kpi_measurement", "reviewed_by_id"): WARD_ACT + " (the owning department confirming a measurement)",
    ("user_token", "user_id"): "one-time link secrets (hashes) and their expiry: nothing the person wrote, and "
                               "exporting them would only copy secrets; the pending new e-mail address is the "
                               "person's own typing, shown in the account as it is",
    ("calendar_feed_token", "user_id"): "the hash of the private calendar feed's secret: nothing to read",
    ("data_export", "user_id"): "the export requests themselves: their state is on the account page",
}


def user_references() -> set[tuple[str, str]]:
    """Every (table, column) of the metadata whose foreign key points at an account."""
    return {(table.name, column.name) for table in SQLModel.metadata.tables.values() for column in table.columns
            for key in column.foreign_keys if key.column.table.name == USER_TABLE}


def test_every_reference_to_an_account_is_exported_or_allowed_with_a_reason() -> None:
    references = user_references()
    assert ("comment", "author_id") in references and len(references) > 50  # the walk sees the whole metadata
    assert not set(COVERED) & set(ALLOWED), "a column is both exported and allowed"
    unaccounted = sorted(references - set(COVERED) - set(ALLOWED))
    assert not unaccounted, ("columns referencing user_account.id that no export section reads and no allowance "
                             "explains (add a section in the owning component's manifest, or a reason here):\n"
                             + "\n".join(f"{table}.{column}" for table, column in unaccounted))
    stale = sorted((set(COVERED) | set(ALLOWED)) - references)
    assert not stale, f"entries for columns that do not exist (any more): {stale}"
    assert all(len(reason) > 20 for reason in ALLOWED.values())
    sections = components.export_sections()
    unknown = sorted({name for names in COVERED.values() for name in names} - set(sections))
    assert not unknown, f"sections named here that no manifest declares: {unknown}"


# --- the planted fixture ------------------------------------------------------------------------------------------


DAYS = itertools.count(1)


def stored(tag: str, n: int) -> dict[str, Any]:
    return {"filename": f"{tag}-{n}.pdf", "content_type": "application/pdf", "size_bytes": 10, "sha256": "0" * 64,
            "storage_key": f"{tag}-{n}-{id(tag)}"}


def plant(session: Session, user: User, tag: str, department: Any) -> None:
    """One row of every kind exported by the sections this feature added, each carrying ``tag``."""
    challenge = create_challenge(session, department, phase="voting", title=f"{tag}の課題")
    organisation = create_organisation(session, f"{tag}株式会社", admin=user)
    organisation.created_by_id = user.id
    proposal = create_proposal(session, challenge, organisation, author=user, title=f"{tag}の提案")
    comment = Comment(target_type="proposal", target_id=proposal.id, author_id=None, entered_by_id=user.id,
                      channel="paper", body=f"{tag}が窓口で入力したコメント", desk_note=f"{tag}のメモ")
    voice = Voice(title=f"{tag}の窓口の声", body=f"{tag}の声の本文", category=Category.TRANSPORT_MOBILITY,
                  entered_by_id=user.id, channel="phone")
    trial = Trial(title=f"{tag}の実証")
    criterion = ChallengeCriterion(challenge_id=challenge.id, name=f"{tag}の基準", weight=100)
    session.add_all([comment, voice, trial, criterion])
    session.flush()
    review = Review(proposal_id=proposal.id, reviewer_id=user.id, comment=f"{tag}の講評")
    update = TrialUpdate(trial_id=trial.id, posted_on=date(2026, 12, 1), title=f"{tag}の進捗", body="本文",  # type: ignore[arg-type]
                         author_id=user.id)
    session.add_all([review, update])
    session.flush()
    field = create_field(session, coordinator=user, name=f"{tag}の実証フィールド")
    booking = create_booking(session, field, organisation, author=user, title=f"{tag}の利用申請")
    session.add_all([
        CommentLike(comment_id=comment.id, user_id=user.id),  # type: ignore[arg-type]
        Report(target_type="proposal", target_id=proposal.id, reporter_id=user.id, reason=ReportReason.SPAM,  # type: ignore[arg-type]
               note=f"{tag}の通報"),
        Notification(user_id=user.id, kind="comment.posted", target_type="proposal", target_id=proposal.id,  # type: ignore[arg-type]
                     params_json=json.dumps({"title": f"{tag}の通知"}), url="/", event_key=f"e-{tag}"),
        NotificationDigest(user_id=user.id, period=f"2026-12-{next(DAYS):02d}", item_count=3),  # type: ignore[arg-type]
        AnalysisRun(source="challenge", subject_id=challenge.id, title=f"{tag}の分析", created_by_id=user.id),
        OrganisationInvitation(organisation_id=organisation.id, email=f"{tag}-invitee@example.jp",  # type: ignore[arg-type]
                               token_hash=f"{tag}".encode().hex().ljust(64, "0")[:64], invited_by_id=user.id,
                               expires_at=utcnow() + timedelta(days=3)),
        PageRevision(page=SitePage.ABOUT, title_ja=f"{tag}の題", title_en="About", body_ja=f"{tag}の本文",
                     body_en="Body", created_by_id=user.id),
        VoicePhoto(voice_id=voice.id, alt_text=f"{tag}の写真", uploaded_by_id=user.id, **stored(tag, 1)),  # type: ignore[arg-type]
        ProposalVersion(proposal_id=proposal.id, number=1, submitted_by_id=user.id,  # type: ignore[arg-type]
                        content_json=json.dumps({"title": f"{tag}の提案 第1版"})),
        ProposalAttachment(proposal_id=proposal.id, title=f"{tag}の資料", uploaded_by_id=user.id, **stored(tag, 2)),  # type: ignore[arg-type]
        ReviewerAssignment(challenge_id=challenge.id, user_id=user.id),  # type: ignore[arg-type]
        ReviewScore(review_id=review.id, criterion_id=criterion.id, score=4),  # type: ignore[arg-type]
        ConflictDeclaration(reviewer_id=user.id, proposal_id=proposal.id, has_conflict=False,  # type: ignore[arg-type]
                            note=f"{tag}の申告"),
        BookingDocument(booking_id=booking.id, document=DocumentKind.SAFETY_PLAN, uploaded_by_id=user.id,  # type: ignore[arg-type]
                        **stored(tag, 3)),
        TrialUpdatePhoto(update_id=update.id, alt_text=f"{tag}の進捗写真", uploaded_by_id=user.id, **stored(tag, 4)),  # type: ignore[arg-type]
    ])
    session.commit()


NEW_SECTIONS = ("comment_likes", "comments_entered_at_desk", "reports", "notifications", "notification_digests",
                "analysis_runs", "organisations_registered", "organisation_invitations", "page_revisions",
                "voices_entered_at_desk", "voice_photos", "proposal_versions", "proposal_attachments",
                "reviewer_assignments", "reviews", "conflict_declarations", "bookings", "booking_documents",
                "trial_updates", "trial_update_photos", "coordinated_fields")


def test_the_new_sections_hold_the_persons_rows_and_nobody_elses(app: Litestar, session: Session) -> None:
    department = create_department(session)
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    taro = create_user(session, "taro@example.jp", display_name="たろう")
    plant(session, hanako, "花子", department)
    plant(session, taro, "太郎", department)

    data = self_service.export_data(session, actor(session, hanako))
    for name in NEW_SECTIONS:
        assert data[name], f"{name} is empty"
        text = json.dumps(data[name], default=str, ensure_ascii=False)
        assert "太郎" not in text, name
    assert [c["body"] for c in data["comments_entered_at_desk"]] == ["花子が窓口で入力したコメント"]
    assert data["comments_entered_at_desk"][0]["desk_note"] == "花子のメモ"
    assert [r["note"] for r in data["reports"]] == ["花子の通報"]
    assert [n["details"]["title"] for n in data["notifications"]] == ["花子の通知"]
    assert [r["title"] for r in data["analysis_runs"]] == ["花子の分析"]
    assert [o["name"] for o in data["organisations_registered"]] == ["花子株式会社"]
    assert [i["email"] for i in data["organisation_invitations"]] == ["花子-invitee@example.jp"]
    assert [p["body_ja"] for p in data["page_revisions"]] == ["花子の本文"]
    assert [v["title"] for v in data["voices_entered_at_desk"]] == ["花子の窓口の声"]
    assert [p["filename"] for p in data["voices_entered_at_desk"][0]["photos"]] == ["花子-1.pdf"]
    assert [v["content"]["title"] for v in data["proposal_versions"]] == ["花子の提案 第1版"]
    assert [a["title"] for a in data["proposal_attachments"]] == ["花子の資料"]
    assert [a["challenge_title"] for a in data["reviewer_assignments"]] == ["花子の課題"]
    assert data["reviews"][0]["comment"] == "花子の講評"
    assert data["reviews"][0]["scores"] == [{"criterion": "花子の基準", "score": 4}]
    assert [c["note"] for c in data["conflict_declarations"]] == ["花子の申告"]
    assert [b["title"] for b in data["bookings"]] == ["花子の利用申請"] and data["bookings"][0]["periods"]
    assert [d["filename"] for d in data["booking_documents"]] == ["花子-3.pdf"]
    assert [u["title"] for u in data["trial_updates"]] == ["花子の進捗"]
    assert [p["alt_text"] for p in data["trial_update_photos"]] == ["花子の進捗写真"]
    assert [f["field"] for f in data["coordinated_fields"]] == ["花子の実証フィールド"]
    assert "token_hash" not in self_service.export_json(data).decode()


def test_the_export_runs_as_many_queries_for_many_rows_as_for_one(app: Litestar, session: Session) -> None:
    department = create_department(session)
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    plant(session, hanako, "花子", department)

    def queries() -> int:
        session.expire_all()
        principal = actor(session, hanako)
        with count_queries(app.state.database.engine) as log:
            self_service.export_data(session, principal)
        return log.count

    once = queries()
    plant(session, hanako, "花子二", department)
    plant(session, hanako, "花子三", department)
    assert queries() == once  # no query per row: each section reads its rows (and their parts) in a fixed number
