"""Routes of the proposals component."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from proposals import services


def home_section(session: Session) -> tuple[str, dict[str, Any]]:
    return "proposals/_home_challenges.html", {
        "challenges": services.latest_public_challenges(session),
        "challenge_count": services.count_public_challenges(session),
    }


def _all_routes() -> list[Any]:
    from proposals import (
        briefing_routes,
        feed_routes,
        proposal_routes,
        public_routes,
        question_routes,
        review_routes,
        staff_routes,
        vote_routes,
    )

    return [*public_routes.ROUTES, *staff_routes.ROUTES, *question_routes.ROUTES, *briefing_routes.ROUTES,
            *proposal_routes.ROUTES, *vote_routes.ROUTES, *review_routes.ROUTES, *feed_routes.ROUTES]


ROUTES: list[Any] = _all_routes()
