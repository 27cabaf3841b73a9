"""The proposals component's manifest: challenges, dialogue, proposals, votes and review, with challenges and
proposals open to the core's comments and proposals to its moderation (see :mod:`cocreate.components`)."""

from __future__ import annotations

from cocreate.components import Component, NavItem
from cocreate.i18n import lazy_gettext

COMPONENT = Component(
    name="proposals",
    models="proposals.models",
    routes="proposals.routes:ROUTES",
    tasks=("proposals.tasks",),
    beat_schedule="proposals.tasks:BEAT_SCHEDULE",
    demo="proposals.demo:load",
    statistics=("proposals.stats:SOURCE",),
    permissions="proposals.permissions:POLICY",
    home_sections=("proposals.challenges.public_routes:home_section",),
    map_layers="proposals.map_layers:LAYERS",
    search_sources="proposals.search:SOURCES",
    opinion_sources="proposals.opinions:SOURCES",
    search_facets={"phase": "proposals.models:Phase", "category": "proposals.models:Category"},
    followables="proposals.follow_targets:FOLLOWABLES",
    commentables="proposals.comment_targets:TARGETS",
    reportables="proposals.report_targets:REPORTABLES",
    surveyables="proposals.survey_targets:TARGETS",
    notification_kinds=("proposals.dialogue.questions:KINDS", "proposals.events:KINDS", "proposals.review:KINDS",
                        "proposals.voices.triage:KINDS"),
    page_sections={
        "challenge": (
            "proposals.dialogue.briefing_routes:detail_section",
            "proposals.dialogue.question_routes:detail_section",
            "proposals.submissions.routes:detail_section",
            "proposals.comment_targets:challenge_section",
            "proposals.voices.staff_routes:challenge_section",
            "proposals.desk.printing:challenge_section",
            "proposals.opinions:challenge_section",
            "proposals.survey_targets:challenge_section",
        ),
        "admin": ("proposals.desk.services:admin_section",),
        "proposal": (
            "proposals.votes.routes:proposal_section",
            "proposals.comment_targets:proposal_section",
        ),
        "voice": (
            "proposals.voices.staff_routes:voice_section",
            "proposals.desk.printing:voice_section",
            "proposals.comment_targets:voice_section",
        ),
    },
    navigation=(
        NavItem("nav-challenges", lazy_gettext("Challenges"), "challenge-list", 10, active_under=("challenge-list",)),
        NavItem("nav-voices", lazy_gettext("Residents' voices"), "voice-list", 15, active_under=("voice-list",)),
        NavItem("nav-staff", lazy_gettext("Staff"), "staff-challenges", 10, menu="account",
                visible=lambda principal: principal.is_staff),
        NavItem("nav-staff-voices", lazy_gettext("Residents' voices to handle"), "staff-voices", 15, menu="account",
                visible=lambda principal: principal.is_staff or principal.is_admin),
        NavItem("nav-review", lazy_gettext("Review"), "review-home", 20, menu="account",
                visible=lambda principal: principal.has_role("reviewer") or principal.is_staff),
        NavItem("nav-desk", lazy_gettext("Support desk"), "desk-home", 30, menu="account", action="desk.enter"),
        NavItem("", lazy_gettext("Challenges"), "challenge-list", 10, menu="browse"),
        NavItem("", lazy_gettext("Residents' voices"), "voice-list", 15, menu="browse"),
    ),
    export_sections={
        "proposals": "proposals.privacy:export_proposals",
        "votes": "proposals.privacy:export_votes",
        "questions": "proposals.privacy:export_questions",
        "briefing_registrations": "proposals.privacy:export_briefing_registrations",
        "voices": "proposals.privacy:export_voices",
        "voice_supports": "proposals.privacy:export_voice_supports",
        "voices_entered_at_desk": "proposals.privacy:export_voices_entered",
        "voice_photos": "proposals.privacy:export_voice_photos",
        "proposal_versions": "proposals.privacy:export_proposal_versions",
        "proposal_attachments": "proposals.privacy:export_proposal_attachments",
        "reviewer_assignments": "proposals.privacy:export_reviewer_assignments",
        "reviews": "proposals.privacy:export_reviews",
        "conflict_declarations": "proposals.privacy:export_conflict_declarations",
    },
    datasets=("proposals.datasets:DATASETS",),
)
