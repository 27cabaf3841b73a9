"""The core's manifest: what the platform itself contributes beside the components (see
:mod:`cocreate.components`), among it the cross-cutting features any component may use: comments on what
the components declare commentable, and moderation of what they declare reportable."""

from __future__ import annotations

from cocreate.components import Component, NavItem
from cocreate.i18n import lazy_gettext

COMPONENT = Component(
    name="core",
    models="cocreate.models",
    routes="cocreate.routes:all_routes",
    tasks=("cocreate.jobs", "cocreate.accounts.tasks", "cocreate.notifications.tasks", "cocreate.search.tasks",
           "cocreate.comments.tasks", "cocreate.analysis.tasks", "cocreate.opendata.tasks",
           "cocreate.stats.tasks"),
    beat_schedule="cocreate.jobs:BEAT_SCHEDULE",
    demo="cocreate.demo:load",
    permissions="cocreate.accounts.policy:POLICY",
    notification_kinds=("cocreate.comments.events:KINDS",),
    reportables="cocreate.comments.reportable:REPORTABLES",
    opinion_sources="cocreate.surveys.opinions:SOURCES",
    navigation=(
        NavItem("", lazy_gettext("Home"), "home", 0),
        NavItem("nav-surveys", lazy_gettext("Surveys"), "survey-list", 40, active_under=("survey-list",)),
        NavItem("nav-map", lazy_gettext("Map"), "map", 80),
        NavItem("", lazy_gettext("Open data"), "open-data", 90, menu="browse"),
        NavItem("nav-organisations", lazy_gettext("Organisations"), "organisations", 90,
                active_under=("organisations",)),
        NavItem("nav-stats", lazy_gettext("Statistics"), "stats", 95, active_under=("stats",)),
        # Ward staff reach the residency checks from their own area (the proposals component's "nav-staff").
        NavItem("nav-staff", lazy_gettext("Residency checks"), "staff-residency", 10, menu="account",
                action="residency.manage", fallback=True),
        NavItem("nav-analysis", lazy_gettext("Opinion analysis"), "analysis-home", 30, menu="account",
                visible=lambda principal: principal.is_staff),
        NavItem("nav-stats-staff", lazy_gettext("Statistics for ward staff"), "staff-stats", 35, menu="account",
                action="stats.staff"),
        NavItem("nav-staff-surveys", lazy_gettext("Surveys to build"), "staff-surveys", 25, menu="account",
                visible=lambda principal: principal.is_staff or principal.is_admin),
        NavItem("", lazy_gettext("Surveys"), "survey-list", 40, menu="browse"),
        NavItem("nav-moderation", lazy_gettext("Moderation"), "moderation-queue", 40, menu="account",
                action="moderation.review"),
        NavItem("nav-admin", lazy_gettext("Administration"), "admin-dashboard", 90, menu="account",
                action="admin.access"),
    ),
    export_sections={
        "profile": "cocreate.accounts.self_service:export_profile",
        "consents": "cocreate.accounts.self_service:export_consents",
        "roles": "cocreate.accounts.self_service:export_roles",
        "organisations": "cocreate.accounts.self_service:export_organisations",
        "oidc_identities": "cocreate.accounts.self_service:export_oidc_identities",
        "residency_requests": "cocreate.accounts.self_service:export_residency_requests",
        "comments": "cocreate.comments.privacy:export_comments",
        "follows": "cocreate.notifications.privacy:export_follows",
        "notification_settings": "cocreate.notifications.privacy:export_settings",
        "notifications": "cocreate.notifications.privacy:export_notifications",
        "notification_digests": "cocreate.notifications.privacy:export_digests",
        "comment_likes": "cocreate.comments.privacy:export_comment_likes",
        "comments_entered_at_desk": "cocreate.comments.privacy:export_comments_entered",
        "reports": "cocreate.moderation.privacy:export_reports",
        "organisations_registered": "cocreate.accounts.privacy:export_organisations_registered",
        "organisation_invitations": "cocreate.accounts.privacy:export_organisation_invitations",
        "analysis_runs": "cocreate.analysis.privacy:export_analysis_runs",
        "page_revisions": "cocreate.pages.privacy:export_page_revisions",
        "survey_responses": "cocreate.surveys.privacy:export_survey_responses",
    },
    deletion_hooks=("cocreate.accounts.data_export:erase_for_deleted_account",),
    datasets=("cocreate.opendata.core_datasets:DATASETS", "cocreate.surveys.datasets:DATASETS",
              "cocreate.stats.datasets:DATASETS"),
)
