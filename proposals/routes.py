"""Routes of the proposals component."""

from __future__ import annotations

from typing import Any


def _all_routes() -> list[Any]:
    from proposals import feed_routes
    from proposals.challenges import public_routes, staff_routes
    from proposals.desk import printing
    from proposals.desk import routes as desk_routes
    from proposals.dialogue import briefing_routes, question_routes
    from proposals.review import routes as review_routes
    from proposals.submissions import routes as proposal_routes
    from proposals.voices import routes as voice_routes
    from proposals.voices import staff_routes as voice_staff_routes
    from proposals.votes import routes as vote_routes

    return [*public_routes.ROUTES, *staff_routes.ROUTES, *question_routes.ROUTES, *briefing_routes.ROUTES,
            *proposal_routes.ROUTES, *vote_routes.ROUTES, *review_routes.ROUTES, *feed_routes.ROUTES,
            *voice_routes.ROUTES, *voice_staff_routes.ROUTES, *desk_routes.ROUTES, *printing.ROUTES]


ROUTES: list[Any] = _all_routes()
