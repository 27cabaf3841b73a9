"""Routes: filled in by the vote_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def proposal_section(session: Any, actor: Any, proposal: Any) -> tuple[str, dict[str, Any]] | None:
    """The vote (応援) button and count on the proposal page, and the report link."""
    return None
