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
    statistics=("labs.stats:SOURCE",),
    permissions="labs.permissions:POLICY",
    map_layers="labs.map_layers:LAYERS",
    search_sources="labs.search:SOURCES",
    search_facets={"area": "labs.models:Area"},
    followables="labs.follow_targets:FOLLOWABLES",
    surveyables="labs.survey_targets:TARGETS",
    notification_kinds=("labs.bookings:KINDS", "labs.notices:KINDS", "labs.recruitment:KINDS", "labs.events:KINDS",
                        "labs.kpis:KINDS"),
    page_sections={
        "challenge": ("labs.trial_routes:challenge_section",),
        "proposal": ("labs.trial_routes:proposal_section",),
        "field": (
            "labs.calendar_routes:field_section",
            "labs.booking_routes:field_section",
            "labs.notice_routes:field_section",
        ),
        "trial": (
            "labs.kpi_routes:trial_section",
            "labs.recruitment_routes:trial_section",
            "labs.booking_routes:trial_section",
            "labs.survey_targets:trial_section",
        ),
    },
    navigation=(
        NavItem("nav-fields", lazy_gettext("Test fields"), "field-list", 20, active_under=("field-list", "labs-calendar")),
        NavItem("nav-trials", lazy_gettext("Trials"), "trial-list", 30, active_under=("trial-list",)),
        NavItem("nav-coordinate", lazy_gettext("Field bookings"), "booking-queue", 30, menu="account",
                action="booking.queue"),
        NavItem("", lazy_gettext("Trials"), "trial-list", 20, menu="browse"),
        NavItem("", lazy_gettext("KPIs of the trials"), "kpi-overview", 25, menu="browse"),
        NavItem("", lazy_gettext("Test fields"), "field-list", 30, menu="browse"),
        NavItem("following-notice-areas", lazy_gettext("Notices to residents by area"), "notice-subscriptions", 10,
                menu="following"),
        NavItem("link-notice-subscriptions", lazy_gettext("Notices about test fields near you"), "notice-subscriptions",
                90, menu="overview"),
        NavItem("link-bookings", lazy_gettext("Your organisations' booking requests"), "booking-list", 10,
                menu="overview", section=lazy_gettext("Living labs")),
        NavItem("link-participation", lazy_gettext("Trials you take part in"), "my-participation", 20, menu="overview",
                section=lazy_gettext("Living labs")),
        NavItem("link-coordinate-bookings", lazy_gettext("Booking requests to review"), "booking-queue", 30,
                menu="overview", section=lazy_gettext("Living labs"), action="booking.queue"),
        NavItem("link-coordinate-fields", lazy_gettext("Test fields you manage"), "coordinate-fields", 40,
                menu="overview", section=lazy_gettext("Living labs"), action="field.create"),
        NavItem("link-calendar-feed", lazy_gettext("Your private calendar feed"), "labs-calendar-feed", 50,
                menu="overview", section=lazy_gettext("Living labs"), action="calendar.export"),
    ),
    export_sections={
        "recruitment_applications": "labs.recruitment:export_applications",
        "bookings": "labs.privacy:export_bookings",
        "booking_documents": "labs.privacy:export_booking_documents",
        "trial_updates": "labs.privacy:export_trial_updates",
        "trial_update_photos": "labs.privacy:export_trial_update_photos",
        "coordinated_fields": "labs.privacy:export_coordinated_fields",
        "kpi_measurements": "labs.kpis:export_measurements",
    },
    datasets=("labs.datasets:DATASETS", "labs.kpi_datasets:DATASETS"),
    deletion_hooks=("labs.recruitment:erase_for_deleted_account",),
)
