"""Routes: filled in by the comment_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def detail_section(session: Any, actor: Any, challenge: Any) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the challenge page."""
    return None


def proposal_section(session: Any, actor: Any, proposal: Any) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the proposal page."""
    return None
