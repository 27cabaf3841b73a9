"""Routes of the labs component: test fields, bookings, calendars, notices, trials, recruitment, KPI tracking."""

from __future__ import annotations

from typing import Any


def _all_routes() -> list[Any]:
    from labs import (
        booking_routes,
        calendar_routes,
        feed_routes,
        field_routes,
        kpi_routes,
        notice_routes,
        recruitment_routes,
        trial_routes,
    )

    return [*field_routes.ROUTES, *booking_routes.ROUTES, *calendar_routes.ROUTES, *notice_routes.ROUTES,
            *trial_routes.ROUTES, *recruitment_routes.ROUTES,
            *feed_routes.ROUTES, *kpi_routes.ROUTES]


ROUTES: list[Any] = _all_routes()
