"""Routes of the labs component: notices (being written)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def field_section(session: Any, actor: Any, field: Any) -> tuple[str, dict[str, Any]] | None:
    """This part's section of the field page (None: nothing to show)."""
    return None
