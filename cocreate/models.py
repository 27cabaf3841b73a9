"""Tables of the core: importing this module registers them on the shared metadata."""

from cocreate.accounts.models import (
    Consent,
    DataExport,
    Department,
    MailQuota,
    OidcIdentity,
    Organisation,
    OrganisationInvitation,
    OrganisationMember,
    ResidencyRequest,
    RoleAssignment,
    SignInThrottle,
    User,
    UserToken,
)
from cocreate.analysis.models import AnalysisRun, AnalysisTopic
from cocreate.audit.models import AuditCheckpoint, AuditEntry
from cocreate.comments.models import Comment, CommentLike
from cocreate.mail import OutboundEmail
from cocreate.moderation.models import Report
from cocreate.notifications.models import Follow, Notification, NotificationDigest, NotificationPreference
from cocreate.pages.models import PageRevision
from cocreate.search.models import SearchOutbox
from cocreate.stats.models import StatsSnapshot
from cocreate.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
)
from cocreate.tasks.heartbeat import WorkerHeartbeat
from cocreate.web.ratelimit import RateCounter
from cocreate.web.sessions import StoredSession

__all__ = [
    "AnalysisRun",
    "AnalysisTopic",
    "AuditCheckpoint",
    "AuditEntry",
    "Comment",
    "CommentLike",
    "Consent",
    "DataExport",
    "Department",
    "Follow",
    "MailQuota",
    "Notification",
    "NotificationDigest",
    "NotificationPreference",
    "OidcIdentity",
    "Organisation",
    "OrganisationInvitation",
    "OrganisationMember",
    "OutboundEmail",
    "PageRevision",
    "RateCounter",
    "Report",
    "ResidencyRequest",
    "RoleAssignment",
    "SearchOutbox",
    "SignInThrottle",
    "StatsSnapshot",
    "StoredSession",
    "Survey",
    "SurveyAnswer",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveySection",
    "User",
    "UserToken",
    "WorkerHeartbeat",
]
