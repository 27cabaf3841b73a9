"""Paths of labs pages for code that runs without a request: notifications (stored with their link),
search documents, follow lists, iCalendar feeds.

Pages, redirects and the API build their links from route names (``url_for`` in templates,
``request.app.route_reverse`` in routes). Code without a request has no app to ask, so each path it
needs is written here once, beside the name of its route; ``tests/labs/test_links.py`` checks every
helper against ``route_reverse`` of that name.
"""

from __future__ import annotations


def field(field_id: int) -> str:
    """``field-detail``."""
    return f"/fields/{field_id}"


def trial(trial_id: int) -> str:
    """``trial-detail``."""
    return f"/trials/{trial_id}"


def booking(booking_id: int) -> str:
    """``booking-detail``."""
    return f"/bookings/{booking_id}"


def booking_notice(booking_id: int) -> str:
    """``booking-notice``: a booking's public notice to residents."""
    return f"/bookings/{booking_id}/notice"


def call(call_id: int) -> str:
    """``call-detail``."""
    return f"/calls/{call_id}"


def notice_subscriptions() -> str:
    """``notice-subscriptions``: the fields and areas whose notices one receives."""
    return "/notices/subscriptions"


def my_participation() -> str:
    """``my-participation``."""
    return "/my/participation"


def kpi_measurement(trial_id: int, measurement_id: int) -> str:
    """``kpi-measurement``: a KPI measurement's page (its review, its correction)."""
    return f"/trials/{trial_id}/kpis/measurements/{measurement_id}"


CHECKED = {
    "field-detail": (field, {"field_id": 1}),
    "trial-detail": (trial, {"trial_id": 1}),
    "booking-detail": (booking, {"booking_id": 1}),
    "booking-notice": (booking_notice, {"booking_id": 1}),
    "call-detail": (call, {"call_id": 1}),
    "notice-subscriptions": (notice_subscriptions, {}),
    "my-participation": (my_participation, {}),
    "kpi-measurement": (kpi_measurement, {"trial_id": 1, "measurement_id": 2}),
}
"""Each helper with its route's name and sample parameters (for the test that checks them)."""
