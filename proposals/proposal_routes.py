"""Routes: filled in by the proposal_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def detail_section(session: Any, actor: Any, challenge: Any) -> tuple[str, dict[str, Any]] | None:
    """The proposals section of the challenge page (submitted proposals, link to propose)."""
    return None
