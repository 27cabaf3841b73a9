"""Routes: filled in by the briefing_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def detail_section(session: Any, actor: Any, challenge: Any) -> tuple[str, dict[str, Any]] | None:
    """The briefing-sessions section of the challenge page: (template, context), or None."""
    return None
