"""The labs component's manifest: test fields, bookings, notices, trials and participant recruitment
(see :mod:`cocreate.components`)."""

from __future__ import annotations

from cocreate.components import Component, NavItem
from cocreate.i18n import lazy_gettext

COMPONENT = Component(
    name="labs",
    models="labs.models",
    routes="labs.routes:ROUTES",
    tasks=("labs.tasks",),
    beat_schedule="labs.tasks:BEAT_SCHEDULE",
    demo="labs.demo:load",
    permissions="labs.permissions:POLICY",
    search_sources="labs.search:SOURCES",
    search_facets={"area": "labs.models:Area"},
    followables="labs.follow_targets:FOLLOWABLES",
    notification_kinds=("labs.bookings:KINDS", "labs.notices:KINDS", "labs.recruitment:KINDS", "labs.events:KINDS"),
    page_sections={
        "challenge": ("labs.trial_routes:challenge_section",),
        "proposal": ("labs.trial_routes:proposal_section",),
        "field": (
            "labs.calendar_routes:field_section",
            "labs.booking_routes:field_section",
            "labs.notice_routes:field_section",
        ),
        "trial": (
            "labs.recruitment_routes:trial_section",
            "labs.booking_routes:trial_section",
        ),
    },
    navigation=(
        NavItem("nav-fields", lazy_gettext("Test fields"), "/fields", 20, active_prefixes=("/fields", "/calendar")),
        NavItem("nav-trials", lazy_gettext("Trials"), "/trials", 30, active_prefixes=("/trials",)),
        NavItem("nav-coordinate", lazy_gettext("Field bookings"), "/coordinate/bookings", 30, menu="account",
                action="booking.queue"),
    ),
    export_sections={"recruitment_applications": "labs.recruitment:export_applications"},
    deletion_hooks=("labs.recruitment:erase_for_deleted_account",),
)
