"""Every route of the app x every role: allowed or denied, as specified here and nowhere else.

The table below is the specification. A route added without an entry fails
``test_every_route_is_in_the_matrix``, so nothing protected can slip in unnoticed.

"Allowed" means the request reaches the feature: any answer but a sign-in redirect, 401, 403 or 404
(and never a 500) — a POST with an empty form usually gets 400 with form errors, which is allowed.
"Denied" means a redirect to the sign-in form for visitors, and 403 (or 404 where the resource is
hidden from that person) for signed-in people without the right.

Runs on SQLite only: the rules live in Python, and the same code runs on PostgreSQL elsewhere.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import (
    OrganisationInvitation,
    ResidencyRequest,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.notifications.models import Notification
from cocreate.pages.models import PageRevision, SitePage
from cocreate.web.sessions import StoredSession
from labs.models import (
    Area,
    Blackout,
    Booking,
    BookingDocument,
    BookingNotice,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    FieldKind,
    NoticeKind,
    RecruitmentApplication,
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    TestFieldCoordinator,
    TestFieldPhoto,
    Trial,
    TrialKpi,
    TrialKpiMeasurement,
    TrialOrganisation,
    TrialUpdate,
    TrialUpdatePhoto,
)
from proposals.models import (
    AttachmentKind,
    BriefingSession,
    Category,
    ChallengeAttachment,
    ProposalAttachment,
    Question,
    QuestionStatus,
    QuestionVisibility,
    ReviewerAssignment,
    Voice,
    VoicePhoto,
)
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="the permission rules are Python; the matrix runs on SQLite")

ANONYMOUS = "anonymous"
PERSONAS = ("anonymous", "resident", "org_member", "org_admin", "staff", "other_staff", "reviewer", "coordinator",
            "moderator", "desk", "admin")
SIGNED_IN = frozenset(PERSONAS) - {ANONYMOUS}
PUBLIC = frozenset(PERSONAS)
STAFF_ANY = frozenset({"staff", "other_staff"})
DESK = frozenset({"desk", "admin"})
EXEMPT = "exempt"  # public by a secret token in the address, or a protocol endpoint; tested in its own file

# (method, path pattern as Litestar lists it) -> who is allowed
MATRIX: dict[tuple[str, str], frozenset[str] | str] = {
    # the site, the API and its schema
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/api/v1"): PUBLIC,
    ("GET", "/transparency"): PUBLIC,
    ("GET", "/transparency/checkpoints.atom"): PUBLIC,
    ("GET", "/api/v1/challenges"): PUBLIC,
    ("GET", "/api/v1/challenges/{challenge_id:int}"): PUBLIC,
    # search (only public content is indexed)
    ("GET", "/search"): PUBLIC,
    # the map of everything (public items only, for whoever looks)
    ("GET", "/map"): PUBLIC,
    # open data: the catalogue page, its generated static files (tested in tests/cocreate/opendata), and the
    # staff's "generate now"
    ("GET", "/open-data"): PUBLIC,
    ("GET", "/open-data/{filename:str}"): EXEMPT,
    ("POST", "/open-data/generate"): STAFF_ANY | {"admin"},
    ("GET", "/api/v1/search"): PUBLIC,
    ("GET", "/schema"): EXEMPT,
    ("GET", "/schema/scalar"): EXEMPT,
    ("GET", "/schema/openapi.json"): EXEMPT,
    ("GET", "/schema/{path:str}"): EXEMPT,
    ("GET", "/static/{file_path:path}"): EXEMPT,
    ("HEAD", "/static/{file_path:path}"): EXEMPT,
    # signing up and in
    ("GET", "/account/register"): PUBLIC,
    ("POST", "/account/register"): PUBLIC,
    ("GET", "/account/sign-in"): PUBLIC,
    ("POST", "/account/sign-in"): PUBLIC,
    ("POST", "/account/sign-out"): PUBLIC,
    ("GET", "/account/password/forgot"): PUBLIC,
    ("POST", "/account/password/forgot"): PUBLIC,
    ("GET", "/account/confirm/{token:str}"): EXEMPT,
    ("GET", "/account/password/reset/{token:str}"): EXEMPT,
    ("POST", "/account/password/reset/{token:str}"): EXEMPT,
    ("GET", "/account/email/confirm/{token:str}"): EXEMPT,
    ("GET", "/account/staff-invitation/{token:str}"): EXEMPT,
    ("POST", "/account/staff-invitation/{token:str}"): EXEMPT,
    ("GET", "/account/oidc/{slug:str}/start"): EXEMPT,
    ("GET", "/account/oidc/{slug:str}/callback"): EXEMPT,
    ("GET", "/account/oidc/complete"): EXEMPT,
    ("POST", "/account/oidc/complete"): EXEMPT,
    # my account
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/account/profile"): SIGNED_IN,
    ("POST", "/account/profile"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("GET", "/account/email"): SIGNED_IN,
    ("POST", "/account/email"): SIGNED_IN,
    ("GET", "/account/export"): SIGNED_IN,
    ("POST", "/account/export"): SIGNED_IN,
    ("POST", "/account/export/request"): SIGNED_IN,
    # the mailed zip: its signed-in owner only, by the token in the link (tests/cocreate/accounts/test_data_export.py)
    ("GET", "/account/export/file/{token:str}"): EXEMPT,
    ("GET", "/account/delete"): SIGNED_IN,
    ("POST", "/account/delete"): SIGNED_IN,
    ("GET", "/account/organisations"): SIGNED_IN,
    ("GET", "/account/residency"): SIGNED_IN,
    # agreeing to a new version of the terms or the privacy policy (tests/cocreate/pages/test_consent.py)
    ("GET", "/account/consent"): SIGNED_IN,
    ("POST", "/account/consent"): SIGNED_IN,
    # the pages every public site has, and their editing by administrators
    ("GET", "/terms"): PUBLIC,
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/about"): PUBLIC,
    ("GET", "/help"): PUBLIC,
    ("GET", "/accessibility"): PUBLIC,
    ("GET", "/contact"): PUBLIC,
    ("GET", "/admin/pages"): frozenset({"admin"}),
    ("GET", "/admin/pages/{slug:str}/edit"): frozenset({"admin"}),
    ("POST", "/admin/pages/{slug:str}/edit"): frozenset({"admin"}),
    ("GET", "/admin/pages/{slug:str}/revisions"): frozenset({"admin"}),
    ("GET", "/admin/pages/{slug:str}/revisions/{revision_id:int}"): frozenset({"admin"}),
    ("POST", "/account/residency/request"): SIGNED_IN,
    ("POST", "/account/residency/code"): SIGNED_IN,
    ("POST", "/account/residency/cancel"): SIGNED_IN,
    # organisations
    ("GET", "/organisations"): PUBLIC,
    ("GET", "/organisations/{organisation_id:int}"): PUBLIC,
    ("GET", "/organisations/new"): SIGNED_IN,
    ("POST", "/organisations/new"): SIGNED_IN,
    ("GET", "/organisations/{organisation_id:int}/edit"): frozenset({"org_admin"}),
    ("POST", "/organisations/{organisation_id:int}/edit"): frozenset({"org_admin"}),
    # Site admins read the member list when they verify an organisation; only its admins change it.
    ("GET", "/organisations/{organisation_id:int}/members"): frozenset({"org_admin", "org_member", "admin"}),
    ("POST", "/organisations/{organisation_id:int}/invitations"): frozenset({"org_admin"}),
    ("POST", "/organisations/{organisation_id:int}/invitations/{invitation_id:int}/revoke"): frozenset({"org_admin"}),
    ("POST", "/organisations/{organisation_id:int}/members/{user_id:int}/admin"): frozenset({"org_admin"}),
    ("POST", "/organisations/{organisation_id:int}/members/{user_id:int}/remove"): frozenset({"org_admin"}),
    ("POST", "/organisations/{organisation_id:int}/leave"): frozenset({"org_admin", "org_member"}),
    ("GET", "/organisations/invitations/{token:str}"): EXEMPT,
    ("POST", "/organisations/invitations/{token:str}"): EXEMPT,
    # ward administration
    ("GET", "/admin"): frozenset({"admin"}),
    ("GET", "/admin/audit"): frozenset({"admin"}),
    ("GET", "/admin/departments"): frozenset({"admin"}),
    ("POST", "/admin/departments"): frozenset({"admin"}),
    ("GET", "/admin/departments/new"): frozenset({"admin"}),
    ("GET", "/admin/departments/{department_id:int}/edit"): frozenset({"admin"}),
    ("POST", "/admin/departments/{department_id:int}/edit"): frozenset({"admin"}),
    ("POST", "/admin/departments/{department_id:int}/delete"): frozenset({"admin"}),
    ("GET", "/admin/users"): frozenset({"admin"}),
    ("GET", "/admin/users/{user_id:int}"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/roles"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/roles/{assignment_id:int}/revoke"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/block"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/unblock"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/resend-invitation"): frozenset({"admin"}),
    ("GET", "/admin/staff/invite"): frozenset({"admin"}),
    ("POST", "/admin/staff/invite"): frozenset({"admin"}),
    ("GET", "/admin/organisations"): frozenset({"admin"}),
    ("GET", "/admin/organisations/{organisation_id:int}"): frozenset({"admin"}),
    ("POST", "/admin/organisations/{organisation_id:int}/verify"): frozenset({"admin"}),
    ("POST", "/admin/organisations/{organisation_id:int}/unverify"): frozenset({"admin"}),
    # residency checks (any ward staff, and admins)
    # the opinion analysis: staff start one (any staff: voices of a period); the world's run is of the
    # challenge of "staff"'s department, published
    # statistics: public, and the staff's numbers with their refresh (ward staff and administrators)
    ("GET", "/stats"): PUBLIC,
    ("GET", "/stats/{file:str}"): PUBLIC,
    ("GET", "/staff/stats"): STAFF_ANY | {"admin"},
    ("GET", "/staff/stats/{file:str}"): STAFF_ANY | {"admin"},
    ("POST", "/staff/stats/refresh"): STAFF_ANY | {"admin"},
    ("GET", "/staff/analysis"): STAFF_ANY,
    ("POST", "/staff/analysis"): STAFF_ANY,
    ("GET", "/staff/analysis/{run_id:int}"): frozenset({"staff"}),
    ("POST", "/staff/analysis/{run_id:int}/topics/{topic_id:int}"): frozenset({"staff"}),
    ("POST", "/staff/analysis/{run_id:int}/merge"): frozenset({"staff"}),
    ("POST", "/staff/analysis/{run_id:int}/publish"): frozenset({"staff"}),
    ("GET", "/heard/{run_id:int}"): PUBLIC,
    ("GET", "/staff/residency"): STAFF_ANY | {"admin"},
    ("POST", "/staff/residency/codes"): STAFF_ANY | {"admin"},
    ("GET", "/staff/residency/find"): STAFF_ANY | {"admin"},
    ("GET", "/staff/residency/users/{user_id:int}"): STAFF_ANY | {"admin"},
    ("POST", "/staff/residency/users/{user_id:int}/verify"): STAFF_ANY | {"admin"},
    ("POST", "/staff/residency/users/{user_id:int}/reject"): STAFF_ANY | {"admin"},
    ("POST", "/staff/residency/users/{user_id:int}/revoke"): STAFF_ANY | {"admin"},
    # challenges: public pages
    ("GET", "/challenges"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/history"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/print"): PUBLIC,
    ("GET", "/voices/{voice_id:int}/print"): PUBLIC,
    # the support desk (代理入力)
    ("GET", "/desk"): DESK,
    ("GET", "/desk/voices/new"): DESK,
    ("POST", "/desk/voices/new"): DESK,
    ("GET", "/desk/comments/new"): DESK,
    ("POST", "/desk/comments/new"): DESK,
    ("GET", "/desk/bulk/voices"): DESK,
    ("POST", "/desk/bulk/voices"): DESK,
    ("POST", "/desk/bulk/voices/confirm"): DESK,
    ("GET", "/desk/bulk/voices/template.csv"): DESK,
    ("GET", "/desk/bulk/comments"): DESK,
    ("POST", "/desk/bulk/comments"): DESK,
    ("POST", "/desk/bulk/comments/confirm"): DESK,
    ("GET", "/desk/bulk/comments/template.csv"): DESK,
    # surveys: the world's survey belongs to the challenge of the staff persona's department, published, open
    ("GET", "/surveys"): PUBLIC,
    ("GET", "/surveys/{survey_id:int}"): PUBLIC,
    ("POST", "/surveys/{survey_id:int}"): SIGNED_IN,
    ("GET", "/staff/surveys"): STAFF_ANY | {"admin"},
    ("GET", "/staff/surveys/new"): STAFF_ANY | {"admin"},
    ("POST", "/staff/surveys/new"): STAFF_ANY | {"admin"},
    ("GET", "/staff/surveys/{survey_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/sections"): frozenset({"staff", "admin"}),
    ("GET", "/staff/surveys/{survey_id:int}/sections/{section_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/sections/{section_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/sections/{section_id:int}/delete"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/questions"): frozenset({"staff", "admin"}),
    ("GET", "/staff/surveys/{survey_id:int}/questions/{question_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/questions/{question_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/questions/{question_id:int}/move"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/questions/{question_id:int}/delete"): frozenset({"staff", "admin"}),
    ("GET", "/staff/surveys/{survey_id:int}/preview"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/publish"): frozenset({"staff", "admin"}),
    ("POST", "/staff/surveys/{survey_id:int}/close"): frozenset({"staff", "admin"}),
    ("GET", "/desk/surveys"): DESK,
    ("GET", "/desk/surveys/{survey_id:int}"): DESK,
    ("POST", "/desk/surveys/{survey_id:int}"): DESK,
    # survey results: the world's open survey's are its staff's until it closes; the API's of a closed public one
    ("GET", "/surveys/{survey_id:int}/results"): frozenset({"staff", "admin"}),
    ("GET", "/surveys/{survey_id:int}/results/answers.csv"): frozenset({"staff", "admin"}),
    ("GET", "/surveys/{survey_id:int}/results/questions/{question_id:int}"): frozenset({"staff", "admin"}),
    ("GET", "/surveys/{survey_id:int}/results/questions/{question_id:int}/chart.csv"): frozenset({"staff", "admin"}),
    ("GET", "/api/v1/surveys"): PUBLIC,
    ("GET", "/api/v1/surveys/{survey_id:int}/results"): PUBLIC,
    ("GET", "/challenges.atom"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/proposals.atom"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/answers.atom"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/attachments/{attachment_id:int}"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/questions"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/questions/{question_id:int}"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/briefings"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/briefings/{filename:str}"): PUBLIC,
    # challenges: taking part
    ("POST", "/challenges/{challenge_id:int}/follow"): SIGNED_IN,
    ("POST", "/challenges/{challenge_id:int}/questions"): SIGNED_IN,
    ("POST", "/challenges/{challenge_id:int}/briefings/{session_id:int}/register"): SIGNED_IN,
    ("POST", "/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel-registration"): SIGNED_IN,
    # challenges: the owning department's staff
    ("POST", "/challenges/{challenge_id:int}/questions/{question_id:int}/answer"): frozenset({"staff"}),
    ("POST", "/challenges/{challenge_id:int}/questions/{question_id:int}/pin"): frozenset({"staff"}),
    ("POST", "/challenges/{challenge_id:int}/questions/{question_id:int}/merge"): frozenset({"staff"}),
    ("POST", "/challenges/{challenge_id:int}/questions/{question_id:int}/hide"): frozenset({"staff"}),
    # residents' voices, the staff triage: any staff member and administrators see the queue; the world's voice
    # belongs to the staff persona's department, whose staff (and administrators) act on it; only staff turn
    # voices into draft challenges
    ("GET", "/staff/voices"): STAFF_ANY | {"admin"},
    ("POST", "/staff/voices/challenge"): STAFF_ANY,
    ("GET", "/staff/voices/{voice_id:int}"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/acknowledge"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/answer"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/status"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/department"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/merge"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/link"): frozenset({"staff", "admin"}),
    ("POST", "/staff/voices/{voice_id:int}/challenge"): frozenset({"staff"}),
    ("GET", "/staff/challenges"): STAFF_ANY,
    ("GET", "/staff/challenges/new"): STAFF_ANY,
    ("POST", "/staff/challenges/new"): STAFF_ANY,
    ("GET", "/staff/challenges/{challenge_id:int}/edit"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/edit"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/preview"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/publish"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/phase"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/attachments"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/attachments/{attachment_id:int}/delete"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/briefings"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings/new"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/edit"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/edit"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/cancel"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/registrants"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/briefings/{session_id:int}/registrants.csv"): frozenset({"staff"}),
    # notifications
    ("GET", "/notifications"): SIGNED_IN,
    ("GET", "/notifications/unread-count"): PUBLIC,
    ("POST", "/notifications/read-all"): SIGNED_IN,
    ("POST", "/notifications/{notification_id:int}/read"): frozenset({"resident"}),  # only its owner
    ("GET", "/account/notifications"): SIGNED_IN,
    ("POST", "/account/notifications"): SIGNED_IN,  # an empty form: 400 with the errors
    ("GET", "/unsubscribe/{token:str}"): EXEMPT,  # a signed link; tests/cocreate/notifications/test_unsubscribe.py
    ("POST", "/unsubscribe/{token:str}"): EXEMPT,
    # follows: anyone signed in follows what they can see (here the world's public proposal)
    ("POST", "/follows/{target_type:str}/{target_id:int}"): SIGNED_IN,
    ("POST", "/follows/{target_type:str}/{target_id:int}/delete"): SIGNED_IN,
    ("GET", "/account/following"): SIGNED_IN,
    # proposals: anyone reads the public part; members of a verified organisation write; the world's proposal is
    # submitted by org_admin's (verified) organisation, org_member belongs to it
    ("GET", "/challenges/{challenge_id:int}/proposals"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/proposals/similar"): PUBLIC,
    ("GET", "/challenges/{challenge_id:int}/proposals/new"): frozenset({"org_member", "org_admin"}),
    ("POST", "/challenges/{challenge_id:int}/proposals/new"): frozenset({"org_member", "org_admin"}),
    ("GET", "/proposals/{proposal_id:int}"): PUBLIC,
    ("GET", "/proposals/{proposal_id:int}/edit"): frozenset({"org_member", "org_admin"}),
    ("POST", "/proposals/{proposal_id:int}/edit"): frozenset({"org_member", "org_admin"}),
    ("POST", "/proposals/{proposal_id:int}/submit"): frozenset({"org_member", "org_admin"}),
    ("POST", "/proposals/{proposal_id:int}/withdraw"): frozenset({"org_member", "org_admin"}),
    ("POST", "/proposals/{proposal_id:int}/coauthors"): frozenset({"org_member", "org_admin"}),
    ("GET", "/proposals/{proposal_id:int}/versions"): frozenset({"org_member", "org_admin", "staff", "reviewer"}),
    ("POST", "/proposals/{proposal_id:int}/attachments"): frozenset({"org_member", "org_admin"}),
    ("POST", "/proposals/{proposal_id:int}/attachments/{file_id:int}/delete"): frozenset({"org_member", "org_admin"}),
    ("GET", "/proposals/{proposal_id:int}/attachments/{file_id:int}"): PUBLIC,
    ("GET", "/api/v1/challenges/{challenge_id:int}/proposals"): PUBLIC,
    ("GET", "/api/v1/proposals/{proposal_id:int}"): PUBLIC,
    # votes (residents: not the owning staff, not the proposal's authors) and the owning staff's settings
    ("POST", "/proposals/{proposal_id:int}/vote"): SIGNED_IN - {"staff", "org_member", "org_admin"},
    ("POST", "/proposals/{proposal_id:int}/unvote"): SIGNED_IN,  # withdrawing your own vote (or nothing)
    ("GET", "/staff/challenges/{challenge_id:int}/voting"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/voting"): frozenset({"staff"}),
    # reports (anyone signed in, not on their own content) and moderation
    ("GET", "/reports/{target_type:str}/{target_id:int}"): SIGNED_IN - {"org_member", "org_admin"},
    ("POST", "/reports"): SIGNED_IN,
    ("GET", "/moderation"): frozenset({"moderator", "admin"}),
    ("GET", "/moderation/{target_type:str}/{target_id:int}"): frozenset({"moderator", "admin"}),
    ("POST", "/moderation/{target_type:str}/{target_id:int}/hide"): frozenset({"moderator", "admin"}),
    ("POST", "/moderation/{target_type:str}/{target_id:int}/restore"): frozenset({"moderator", "admin"}),
    ("POST", "/moderation/{target_type:str}/{target_id:int}/dismiss"): frozenset({"moderator", "admin"}),
    ("POST", "/moderation/users/{user_id:int}/block"): frozenset({"moderator", "admin"}),
    # review: reviewers assigned to the challenge score; the owning staff assign, read results and decide
    ("GET", "/review"): frozenset({"reviewer", "staff", "other_staff"}),
    ("GET", "/review/challenges/{challenge_id:int}"): frozenset({"reviewer"}),
    ("GET", "/review/proposals/{proposal_id:int}"): frozenset({"reviewer"}),
    ("POST", "/review/proposals/{proposal_id:int}"): frozenset({"reviewer"}),
    ("POST", "/review/proposals/{proposal_id:int}/conflict"): frozenset({"reviewer"}),
    ("GET", "/staff/challenges/{challenge_id:int}/reviewers"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/reviewers"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/reviewers/remove"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/review"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/review.csv"): frozenset({"staff"}),
    ("GET", "/staff/challenges/{challenge_id:int}/decisions"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/decisions"): frozenset({"staff"}),
    ("POST", "/staff/challenges/{challenge_id:int}/decisions/publish"): frozenset({"staff"}),
    # comments: anyone reads; anyone signed in (confirmed) comments, replies and likes; only the author
    # edits (within 15 minutes) and deletes
    ("GET", "/challenges/{challenge_id:int}/comments"): PUBLIC,
    ("POST", "/challenges/{challenge_id:int}/comments"): SIGNED_IN,
    ("GET", "/proposals/{proposal_id:int}/comments"): PUBLIC,
    ("POST", "/proposals/{proposal_id:int}/comments"): SIGNED_IN,
    ("GET", "/comments/{comment_id:int}/replies"): PUBLIC,
    ("POST", "/comments/{comment_id:int}/like"): SIGNED_IN,
    ("POST", "/comments/{comment_id:int}/edit"): frozenset({"resident"}),
    ("POST", "/comments/{comment_id:int}/delete"): frozenset({"resident"}),
    # residents' voices (まちの声): anyone reads; anyone signed in (confirmed) posts, comments and supports,
    # but not their own voice (the world's voice is the resident's)
    ("GET", "/voices"): PUBLIC,
    ("GET", "/voices.atom"): PUBLIC,
    ("GET", "/api/v1/voices"): PUBLIC,
    ("GET", "/api/v1/voices/{voice_id:int}"): PUBLIC,
    ("GET", "/voices/{voice_id:int}"): PUBLIC,
    ("GET", "/voices/{voice_id:int}/photos/{voice_photo_id:int}"): PUBLIC,
    ("GET", "/voices/{voice_id:int}/comments"): PUBLIC,
    ("POST", "/voices/{voice_id:int}/comments"): SIGNED_IN,
    ("GET", "/voices/new"): SIGNED_IN,
    ("POST", "/voices"): SIGNED_IN,
    ("POST", "/voices/{voice_id:int}/support"): SIGNED_IN - {"resident"},
    ("POST", "/voices/{voice_id:int}/unsupport"): SIGNED_IN,
    # resident notices (周辺住民への周知): anyone reads the notices; anyone signed in subscribes to a field or areas
    ("GET", "/notices"): PUBLIC,
    ("GET", "/notices/subscriptions"): SIGNED_IN,
    ("POST", "/notices/subscriptions"): SIGNED_IN,
    ("POST", "/fields/{field_id:int}/subscribe"): SIGNED_IN,
    ("POST", "/fields/{field_id:int}/unsubscribe"): SIGNED_IN,
    ("GET", "/bookings/{booking_id:int}/notice"): PUBLIC,
    # trials (実証プロジェクト): anyone reads published trials; the world's trial (published) is edited by its
    # organisation's members, the staff of its department and coordinators (admins count as coordinators);
    # the world's proposal is not selected, so starting its trial answers 400 to those who may start one
    ("GET", "/trials"): PUBLIC,
    ("GET", "/trials/{trial_id:int}"): PUBLIC,
    ("GET", "/trials/updates.atom"): PUBLIC,
    ("GET", "/trials/{trial_id:int}/updates.atom"): PUBLIC,
    ("GET", "/trials/{trial_id:int}/updates/{update_id:int}/photos/{photo_id:int}"): PUBLIC,
    ("GET", "/api/v1/trials"): PUBLIC,
    ("GET", "/api/v1/trials/{trial_id:int}"): PUBLIC,
    ("GET", "/trials/new"): frozenset({"coordinator", "admin"}),
    ("POST", "/trials/new"): frozenset({"coordinator", "admin"}),
    ("POST", "/proposals/{proposal_id:int}/trial"): frozenset({"staff", "coordinator", "admin"}),
    ("GET", "/trials/{trial_id:int}/edit"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/trials/{trial_id:int}/edit"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("GET", "/trials/{trial_id:int}/updates/new"): frozenset({"org_member", "org_admin", "staff", "coordinator",
                                                              "admin"}),
    ("POST", "/trials/{trial_id:int}/updates/new"): frozenset({"org_member", "org_admin", "staff", "coordinator",
                                                               "admin"}),
    ("POST", "/trials/{trial_id:int}/updates/{update_id:int}/delete"): frozenset({"org_member", "org_admin", "staff",
                                                                                 "coordinator", "admin"}),
    ("GET", "/trials/{trial_id:int}/results"): frozenset({"org_member", "org_admin", "staff", "coordinator",
                                                          "admin"}),
    ("POST", "/trials/{trial_id:int}/results"): frozenset({"org_member", "org_admin", "staff", "coordinator",
                                                           "admin"}),
    # KPI tracking: anyone reads the overview and a published trial's KPI data (CSV); the trial's organisations
    # enter measurements and correct sent-back ones (the world's measurement is submitted, so correcting it is
    # refused under the form: 400); the staff of its department decide (an empty decision: 400); a measurement
    # not confirmed yet is seen by those two only (404 for everybody else)
    ("GET", "/trials/kpis"): PUBLIC,
    ("GET", "/trials/{trial_id:int}/kpis/{filename:str}"): PUBLIC,
    ("GET", "/trials/{trial_id:int}/kpis/{kpi_id:int}/measurements/new"): frozenset({"org_member", "org_admin"}),
    ("POST", "/trials/{trial_id:int}/kpis/{kpi_id:int}/measurements/new"): frozenset({"org_member", "org_admin"}),
    ("GET", "/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}"): frozenset({"org_member", "org_admin",
                                                                                         "staff"}),
    ("POST", "/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}/correct"): frozenset({"org_member",
                                                                                                  "org_admin"}),
    ("POST", "/trials/{trial_id:int}/kpis/measurements/{measurement_id:int}/decide"): frozenset({"staff"}),
    # recruitment (モニター募集): anyone reads the world's open call; the trial's editors write, open and close calls;
    # anyone signed in applies except members of the trial's organisations (empty forms answer 400; the resident,
    # who already applied, is sent back); only the applicant withdraws (404 for others); applicants' data is seen
    # and decided on only by the trial's organisations and coordinators (not its department's staff, not admins)
    ("GET", "/calls/{call_id:int}"): PUBLIC,
    ("GET", "/trials/{trial_id:int}/calls/new"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/trials/{trial_id:int}/calls/new"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("GET", "/calls/{call_id:int}/edit"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/calls/{call_id:int}/edit"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/calls/{call_id:int}/open"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/calls/{call_id:int}/close"): frozenset({"org_member", "org_admin", "staff", "coordinator", "admin"}),
    ("POST", "/calls/{call_id:int}/apply"): SIGNED_IN - {"org_member", "org_admin"},
    ("POST", "/calls/{call_id:int}/withdraw"): frozenset({"resident"}),
    ("GET", "/calls/{call_id:int}/applications"): frozenset({"org_member", "org_admin", "coordinator"}),
    ("POST", "/calls/{call_id:int}/applications/{application_id:int}/accept"): frozenset({"org_member", "org_admin",
                                                                                         "coordinator"}),
    ("POST", "/calls/{call_id:int}/applications/{application_id:int}/decline"): frozenset({"org_member", "org_admin",
                                                                                          "coordinator"}),
    ("GET", "/my/participation"): SIGNED_IN,
    # labs calendars: public month/week pages and feeds (pending requests shown to the field's coordinators
    # only, tested in tests/labs/test_calendar.py); the private feed's token is the key (test_calendar_feeds.py)
    ("GET", "/calendar"): PUBLIC,
    ("GET", "/fields/{field_id:int}/calendar"): PUBLIC,
    ("GET", "/fields/{field_id:int}/calendar.ics"): PUBLIC,
    ("GET", "/calendar/feeds/{filename:str}"): EXEMPT,
    ("GET", "/coordinate/calendar-feed"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/calendar-feed"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/calendar-feed/revoke"): frozenset({"coordinator", "admin"}),
    ("GET", "/api/v1/test-fields/{field_id:int}/bookings"): PUBLIC,
    # test fields: anyone reads published fields; coordinators (and admins) create fields; a field is edited
    # by its assigned coordinators (the coordinator persona) and admins
    ("GET", "/fields"): PUBLIC,
    ("GET", "/fields/{field_id:int}"): PUBLIC,
    ("GET", "/fields/{field_id:int}/photos/{photo_id:int}"): PUBLIC,
    ("GET", "/api/v1/test-fields"): PUBLIC,
    ("GET", "/api/v1/test-fields/{field_id:int}"): PUBLIC,
    ("GET", "/coordinate/fields"): frozenset({"coordinator", "admin"}),
    ("GET", "/coordinate/fields/new"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/new"): frozenset({"coordinator", "admin"}),
    ("GET", "/coordinate/fields/{field_id:int}/edit"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/edit"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/photos"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/photos/{photo_id:int}/delete"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/blackouts"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/blackouts/{blackout_id:int}/delete"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/coordinators"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/fields/{field_id:int}/coordinators/{user_id:int}/remove"): frozenset({"coordinator", "admin"}),
    # labs bookings (利用申請): the organisation's members request, edit, submit and cancel; the field's
    # coordinators (and admins) see submitted requests and their documents and act on them
    ("GET", "/bookings"): SIGNED_IN,
    ("GET", "/bookings/new"): frozenset({"org_member", "org_admin"}),
    ("POST", "/bookings/new"): frozenset({"org_member", "org_admin"}),
    ("GET", "/bookings/{booking_id:int}"): frozenset({"org_member", "org_admin", "coordinator", "admin"}),
    ("GET", "/bookings/{booking_id:int}/edit"): frozenset({"org_member", "org_admin"}),
    ("POST", "/bookings/{booking_id:int}/edit"): frozenset({"org_member", "org_admin"}),
    ("POST", "/bookings/{booking_id:int}/submit"): frozenset({"org_member", "org_admin"}),
    ("GET", "/bookings/{booking_id:int}/cancel"): frozenset({"org_member", "org_admin"}),
    ("POST", "/bookings/{booking_id:int}/cancel"): frozenset({"org_member", "org_admin"}),
    ("POST", "/bookings/{booking_id:int}/documents"): frozenset({"org_member", "org_admin"}),
    ("GET", "/bookings/{booking_id:int}/documents/{document_id:int}"):
        frozenset({"org_member", "org_admin", "coordinator", "admin"}),
    ("POST", "/bookings/{booking_id:int}/documents/{document_id:int}/delete"): frozenset({"org_member", "org_admin"}),
    ("GET", "/coordinate/bookings"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/review"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/request-changes"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/approve"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/reject"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/reschedule"): frozenset({"coordinator", "admin"}),
    ("POST", "/coordinate/bookings/{booking_id:int}/cancel"): frozenset({"coordinator", "admin"}),
}


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method != "OPTIONS":
                    found.add((method, route.path))
    return found


@dataclass
class World:
    ids: dict[str, int]
    users: dict[str, User]


def _build_world(session: Session, upload_dir: Path) -> World:
    owner = create_department(session)
    other = create_department(session, "roads", division_ja="土木部", section_ja="計画課",
                              division_en="Civil Engineering", section_en="Planning")
    spare = create_department(session, "spare", division_ja="総務部", section_ja="予備課",
                              division_en="General Affairs", section_en="Spare")
    users = {
        "resident": create_user(session, "resident@example.jp"),
        "org_member": create_user(session, "member@example.jp"),
        "org_admin": create_user(session, "orgadmin@example.jp"),
        "staff": create_user(session, "staff@example.jp", roles=[(Role.STAFF, owner.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "other@example.jp", roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        "reviewer": create_user(session, "reviewer@example.jp", roles=[Role.REVIEWER]),
        "coordinator": create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR]),
        "moderator": create_user(session, "moderator@example.jp", roles=[Role.MODERATOR]),
        "desk": create_user(session, "desk@example.jp", roles=[Role.SUPPORT_DESK]),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        "target": create_user(session, "target@example.jp", roles=[Role.REVIEWER]),
        "member2": create_user(session, "member2@example.jp"),
    }
    organisation = create_organisation(session, admin=users["org_admin"], members=[users["org_member"], users["member2"]],
                                       verified=True, corporate_number="7000012050002")
    invitation = OrganisationInvitation(organisation_id=organisation.id, email="new@example.jp",  # type: ignore[arg-type]
                                        token_hash=secrets.token_hex(32), invited_by_id=users["org_admin"].id,
                                        expires_at=utcnow() + timedelta(days=3))
    challenge = create_challenge(session, owner, phase="accepting")
    question = Question(challenge_id=challenge.id, asker_id=users["resident"].id, body="質問です",
                        visibility=QuestionVisibility.PUBLIC, status=QuestionStatus.OPEN)
    briefing = BriefingSession(challenge_id=challenge.id, title="説明会", starts_at=utcnow() + timedelta(days=7),
                               ends_at=utcnow() + timedelta(days=7, hours=1), place="区役所", capacity=30)
    key = f"challenges/{secrets.token_hex(16)}"
    (upload_dir / "challenges").mkdir(parents=True, exist_ok=True)
    (upload_dir / key).write_bytes(b"%PDF-1.4\n%%EOF\n")
    attachment = ChallengeAttachment(challenge_id=challenge.id, kind=AttachmentKind.DOCUMENT, title="資料",
                                     filename="a.pdf", content_type="application/pdf", size_bytes=15,
                                     sha256="0" * 64, storage_key=key)
    notification = Notification(user_id=users["resident"].id, kind="question.answered", target_type="challenge",  # type: ignore[arg-type]
                                target_id=challenge.id, url=f"/challenges/{challenge.id}", event_key="e1")
    residency = ResidencyRequest(user_id=users["target"].id, status=ResidencyStatus.REQUESTED, method="postal_code",  # type: ignore[arg-type]
                                 full_name="板橋 花子", postal_code="173-0004", address="板橋区板橋1-1-1")
    session.add_all([invitation, question, briefing, attachment, notification, residency])
    session.commit()
    proposal = create_proposal(session, challenge, organisation, author=users["org_admin"])
    file_key = f"proposals/{secrets.token_hex(16)}"
    (upload_dir / "proposals").mkdir(parents=True, exist_ok=True)
    (upload_dir / file_key).write_bytes(b"%PDF-1.4\n%%EOF\n")
    proposal_file = ProposalAttachment(proposal_id=proposal.id, title="概要", filename="p.pdf", size_bytes=15,
                                       content_type="application/pdf", sha256="0" * 64, storage_key=file_key)
    session.add(proposal_file)
    comment = Comment(target_type="challenge", target_id=challenge.id, author_id=users["resident"].id, body="コメント")  # type: ignore[arg-type]
    session.add(comment)
    session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=users["reviewer"].id))  # the reviewer persona reviews it
    session.commit()
    assignment = session.exec(
        RoleAssignment.__table__.select().where(RoleAssignment.user_id == users["target"].id)  # type: ignore[attr-defined]
    ).first()
    ids = {
        "challenge_id": challenge.id, "question_id": question.id, "session_id": briefing.id,
        "attachment_id": attachment.id, "organisation_id": organisation.id, "invitation_id": invitation.id,
        "notification_id": notification.id, "department_id": spare.id, "assignment_id": assignment.id,
        # member routes act on another member (a member may remove only themselves, i.e. leave);
        # admin and residency routes act on the target user
        "member_id": users["member2"].id, "user_id": users["target"].id,
        "proposal_id": proposal.id, "comment_id": comment.id, "file_id": proposal_file.id,
    }
    voice = Voice(title="駅前の歩道が狭い", body="通れません。", category=Category.TRANSPORT_MOBILITY, area="itabashi",
                  author_id=users["resident"].id, department_id=owner.id)
    session.add(voice)
    session.commit()
    ids["voice_id"] = voice.id  # type: ignore[assignment]
    ids.update(_build_labs_world(session, upload_dir, users, organisation.id, owner.id))  # type: ignore[arg-type]
    from cocreate.analysis.models import AnalysisRun, AnalysisTopic, RunStatus

    run = AnalysisRun(source="challenge", subject_id=challenge.id, title=challenge.title, status=RunStatus.DONE,
                      progress=100, text_count=2, published_at=utcnow())
    session.add(run)
    session.flush()
    topic = AnalysisTopic(run_id=run.id, position=0, label="公園", words=["公園"], quotes=["公園の意見"], size=2)
    session.add(topic)
    session.commit()
    ids["run_id"], ids["topic_id"] = run.id, topic.id  # type: ignore[assignment]
    ids["terms_revision_id"] = session.exec(select(sa.func.max(PageRevision.id))
                                            .where(PageRevision.page == SitePage.TERMS)).one()
    ids["trial_photo_id"] = _trial_photo(session, upload_dir, ids["update_id"])  # trials: a photo of the update
    ids["voice_photo_id"] = _voice_photo(session, upload_dir, ids["voice_id"])  # the public voice pages: its photo
    ids.update(_survey(session, challenge.id, owner.id))  # type: ignore[arg-type]
    ids.update(_survey_results(session, ids["survey_id"]))
    return World(ids=ids, users=users)  # type: ignore[arg-type]


def _survey(session: Session, challenge_id: int, department_id: int) -> dict[str, int]:
    """A published, open survey of the world's challenge with one required single-choice question."""
    from cocreate.surveys.models import QuestionKind, Survey, SurveyOption, SurveyQuestion, SurveySection

    survey = Survey(title="公園アンケート", target_type="challenge", target_id=challenge_id, department_id=department_id,
                    published_at=utcnow())
    session.add(survey)
    session.flush()
    section = SurveySection(survey_id=survey.id)  # type: ignore[arg-type]
    session.add(section)
    session.flush()
    question = SurveyQuestion(survey_id=survey.id, section_id=section.id, kind=QuestionKind.SINGLE,  # type: ignore[arg-type]
                              prompt="使いますか", required=True)
    session.add(question)
    session.flush()
    session.add_all([SurveyOption(question_id=question.id, position=0, label="はい"),  # type: ignore[arg-type]
                     SurveyOption(question_id=question.id, position=1, label="いいえ")])  # type: ignore[arg-type]
    session.commit()
    return {"survey_id": survey.id, "survey_question_id": question.id, "section_id": section.id}  # type: ignore[dict-item]


def _survey_results(session: Session, survey_id: int) -> dict[str, int]:
    """For the results pages: a free-text question on the world's survey, and a closed survey with public
    results (the API gives only those)."""
    from cocreate.surveys.models import QuestionKind, Survey, SurveyQuestion, SurveySection

    section = session.exec(select(SurveySection).where(SurveySection.survey_id == survey_id)).one()
    text = SurveyQuestion(survey_id=survey_id, section_id=section.id, position=1, kind=QuestionKind.TEXT,  # type: ignore[arg-type]
                          prompt="ご意見")
    closed = Survey(title="終わったアンケート", published_at=utcnow() - timedelta(days=9),
                    closes_at=utcnow() - timedelta(days=1))
    session.add_all([text, closed])
    session.commit()
    return {"survey_text_question_id": text.id, "closed_survey_id": closed.id}  # type: ignore[dict-item]


def _voice_photo(session: Session, upload_dir: Path, voice_id: int) -> int:
    """A photo of the world's voice (for the public voice pages' photo route)."""
    photo = VoicePhoto(voice_id=voice_id, alt_text="公園", filename="p.png", content_type="image/png",
                       size_bytes=8, sha256="0" * 64,
                       storage_key=_stored_file(upload_dir, "voice-photos", b"\x89PNG\r\n\x1a\n"))
    session.add(photo)
    session.commit()
    return photo.id  # type: ignore[return-value]


def _trial_photo(session: Session, upload_dir: Path, update_id: int) -> int:
    """A photo in the world trial's progress update (for the trials part's photo route)."""
    photo = TrialUpdatePhoto(update_id=update_id, alt_text="走行", filename="p.png", content_type="image/png",
                             size_bytes=8, sha256="0" * 64,
                             storage_key=_stored_file(upload_dir, "trials", b"\x89PNG\r\n\x1a\n"))
    session.add(photo)
    session.commit()
    return photo.id  # type: ignore[return-value]


def _stored_file(upload_dir: Path, folder: str, content: bytes) -> str:
    key = f"{folder}/{secrets.token_hex(16)}"
    (upload_dir / folder).mkdir(parents=True, exist_ok=True)
    (upload_dir / key).write_bytes(content)
    return key


def _build_labs_world(session: Session, upload_dir: Path, users: dict[str, User], organisation_id: int,
                      department_id: int) -> dict[str, int]:
    """A published field managed by the coordinator persona, with a submitted booking of the organisation,
    an approved booking with its notice, a trial of the organisation owned by the staff persona's
    department, a progress update and an open recruitment call the resident applied to."""
    field = TestField(name="高島平プラザ", kind=FieldKind.PARK, area=Area.TAKASHIMADAIRA, address="板橋区高島平8丁目",
                      latitude=35.789, longitude=139.661, published=True, created_by_id=users["coordinator"].id)
    trial = Trial(title="実証", department_id=department_id, published=True, starts_on=utcnow().date(),
                  ends_on=(utcnow() + timedelta(days=60)).date())
    session.add_all([field, trial])
    session.commit()
    start = utcnow() + timedelta(days=30)
    pending = Booking(field_id=field.id, organisation_id=organisation_id, created_by_id=users["org_admin"].id,  # type: ignore[arg-type]
                      status=BookingStatus.SUBMITTED, title="走行試験", purpose="目的", submitted_at=utcnow())
    approved = Booking(field_id=field.id, organisation_id=organisation_id, created_by_id=users["org_admin"].id,  # type: ignore[arg-type]
                       status=BookingStatus.APPROVED, title="承認済み", purpose="目的", submitted_at=utcnow(),
                       decided_at=utcnow(), trial_id=trial.id)
    call = RecruitmentCall(trial_id=trial.id, title="モニター募集", places=5, consent_text="同意します",  # type: ignore[arg-type]
                           status=RecruitmentStatus.OPEN, apply_by=utcnow() + timedelta(days=10))
    photo = TestFieldPhoto(field_id=field.id, alt_text="広場", filename="p.png", content_type="image/png",  # type: ignore[arg-type]
                           size_bytes=8, sha256="0" * 64,
                           storage_key=_stored_file(upload_dir, "fields", b"\x89PNG\r\n\x1a\n"))
    blackout = Blackout(field_id=field.id, starts_at=start + timedelta(days=5), ends_at=start + timedelta(days=6),  # type: ignore[arg-type]
                        reason="祭り")
    update = TrialUpdate(trial_id=trial.id, posted_on=utcnow().date(), title="進捗", body="本文")  # type: ignore[arg-type]
    session.add_all([pending, approved, call, photo, blackout, update,
                     TestFieldCoordinator(field_id=field.id, user_id=users["coordinator"].id),  # type: ignore[arg-type]
                     TrialOrganisation(trial_id=trial.id, organisation_id=organisation_id, is_lead=True)])  # type: ignore[arg-type]
    session.commit()
    document = BookingDocument(booking_id=pending.id, document=DocumentKind.SAFETY_PLAN, filename="s.pdf",  # type: ignore[arg-type]
                               content_type="application/pdf", size_bytes=15, sha256="0" * 64,
                               storage_key=_stored_file(upload_dir, "bookings", b"%PDF-1.4\n%%EOF\n"))
    application = RecruitmentApplication(call_id=call.id, user_id=users["resident"].id, consent_version=1,  # type: ignore[arg-type]
                                         full_name="板橋 太郎", contact="resident@example.jp")
    notice = BookingNotice(booking_id=approved.id, kind=NoticeKind.APPROVED, revision=0)  # type: ignore[arg-type]
    session.add_all([document, application, notice,
                     BookingPeriod(booking_id=pending.id, field_id=field.id, starts_at=start,  # type: ignore[arg-type]
                                   ends_at=start + timedelta(hours=2), blocked_until=start + timedelta(hours=2)),
                     BookingPeriod(booking_id=approved.id, field_id=field.id, starts_at=start + timedelta(days=1),  # type: ignore[arg-type]
                                   ends_at=start + timedelta(days=1, hours=2),
                                   blocked_until=start + timedelta(days=1, hours=2), blocks=True)])
    session.commit()
    kpi = TrialKpi(trial_id=trial.id, indicator="利用回数", baseline="0", target="100", baseline_value=0,  # type: ignore[arg-type]
                   target_value=100)
    session.add(kpi)
    session.commit()
    measurement = TrialKpiMeasurement(kpi_id=kpi.id, measured_on=utcnow().date(), value=10,  # type: ignore[arg-type]
                                      entered_by_id=users["org_member"].id)
    session.add(measurement)
    session.commit()
    return {"kpi_id": kpi.id, "measurement_id": measurement.id,  # type: ignore[dict-item]
            "field_id": field.id, "photo_id": photo.id, "blackout_id": blackout.id, "booking_id": pending.id,  # type: ignore[dict-item]
            "approved_booking_id": approved.id, "document_id": document.id, "notice_id": notice.id,  # type: ignore[dict-item]
            "trial_id": trial.id, "update_id": update.id, "call_id": call.id, "application_id": application.id}  # type: ignore[dict-item]


def _path(pattern: str, world: World) -> str:
    ids = world.ids
    path = pattern
    if pattern.startswith("/organisations/{organisation_id:int}/members/{user_id:int}"):
        path = path.replace("{user_id:int}", str(ids["member_id"]))
    if "{target_type:str}/{target_id:int}" in pattern:  # reports and moderation act on the world's proposal
        path = path.replace("{target_type:str}/{target_id:int}", f"proposal/{ids['proposal_id']}")
    if pattern == "/bookings/{booking_id:int}/notice":  # the public notice exists for the approved booking only
        path = path.replace("{booking_id:int}", str(ids["approved_booking_id"]))
    if pattern.startswith("/trials/") and pattern.endswith("/photos/{photo_id:int}"):  # a trial photo, not a field's
        path = path.replace("{photo_id:int}", str(ids["trial_photo_id"]))
    if pattern.startswith("/admin/pages/{slug:str}"):  # the terms and their seeded first revision
        path = path.replace("{slug:str}", "terms").replace("{revision_id:int}", str(ids["terms_revision_id"]))
    if pattern.endswith("/stats/{file:str}"):  # a chart's data
        path = path.replace("{file:str}", "participation.csv")
    if pattern.startswith("/staff/surveys/"):  # a question of the world's survey, not of the dialogue
        path = path.replace("{question_id:int}", str(ids["survey_question_id"]))
    if pattern.startswith("/surveys/{survey_id:int}/results/questions/"):  # the free text's page, the choice's chart
        which = "survey_question_id" if pattern.endswith(".csv") else "survey_text_question_id"
        path = path.replace("{question_id:int}", str(ids[which]))
    if pattern.startswith("/api/v1/surveys/"):  # the API gives the results of closed, public surveys only
        path = path.replace("{survey_id:int}", str(ids["closed_survey_id"]))
    if pattern.endswith("/kpis/{filename:str}"):  # a KPI's data as CSV
        path = path.replace("{filename:str}", f"{ids['kpi_id']}.csv")
    if pattern.endswith("/briefings/{filename:str}"):
        path = path.replace("{filename:str}", f"{ids['session_id']}.ics")
    for name, value in ids.items():
        path = path.replace(f"{{{name}:int}}", str(value))
    assert "{" not in path, f"no value for {pattern}"
    return path


def _sign_in_directly(client: TestClient[Litestar], database: Database, user: User) -> None:
    """A session row for ``user`` in the real session store (the sign-in form has its own tests)."""
    key = secrets.token_hex(32)
    with database.transaction() as session:
        session.add(StoredSession(key=key, data=json.dumps({"user_id": user.id, "epoch": user.session_epoch}).encode(),
                                  expires_at=utcnow() + timedelta(hours=1)))
    client.cookies.set("cocreate_session", key, domain="testserver.local")


@pytest.fixture
def matrix_app(app: Litestar) -> Iterator[Litestar]:
    yield app


def test_every_route_is_in_the_matrix(matrix_app: Litestar) -> None:
    routes = app_routes(matrix_app)
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, "routes without a permission rule in the matrix:\n" + "\n".join(map(str, missing))
    assert not stale, "matrix entries for routes that no longer exist:\n" + "\n".join(map(str, stale))


def _outcome(response_status: int, location: str) -> str:
    if response_status >= 500:
        return "error"
    if response_status in (301, 302, 303, 307) and location.startswith("/account/sign-in"):
        return "sign-in"
    if response_status in (401, 403, 404):
        return "denied"
    return "allowed"


CHECKED = sorted((key for key, rule in MATRIX.items() if rule != EXEMPT), key=lambda item: (item[1], item[0]))


@pytest.mark.parametrize(("method", "pattern"), CHECKED, ids=[f"{m} {p}" for m, p in CHECKED])
def test_route_allows_exactly_the_specified_roles(
    method: str, pattern: str, matrix_app: Litestar, database: Database, session: Session
) -> None:
    world = _build_world(session, matrix_app.state.settings.upload_dir)
    allowed = MATRIX[(method, pattern)]
    assert isinstance(allowed, frozenset)
    path = _path(pattern, world)
    # Denied personas first: a permitted POST may change the world (leave an organisation, say).
    order = sorted(PERSONAS, key=lambda persona: persona in allowed)
    wrong = []
    for persona in order:
        with TestClient(matrix_app, base_url="http://testserver.local") as client:
            if persona != ANONYMOUS:
                _sign_in_directly(client, database, world.users[persona])
            if method == "GET":
                response = client.get(path, follow_redirects=False)
            else:
                response = client.post(path, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
        outcome = _outcome(response.status_code, response.headers.get("location", ""))
        if outcome == "error":
            wrong.append(f"{persona}: server error {response.status_code}")
        elif persona in allowed and outcome != "allowed":
            wrong.append(f"{persona}: expected allowed, got {response.status_code} ({outcome})")
        elif persona not in allowed:
            expected = "sign-in" if persona == ANONYMOUS else "denied"
            if outcome != expected:
                wrong.append(f"{persona}: expected {expected}, got {response.status_code} ({outcome})")
    assert not wrong, f"{method} {pattern}:\n" + "\n".join(wrong)
