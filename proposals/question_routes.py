"""Routes: filled in by the question_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def detail_section(session: Any, actor: Any, challenge: Any) -> tuple[str, dict[str, Any]] | None:
    """The Q&A section of the challenge page: (template, context), or None to show nothing."""
    return None
