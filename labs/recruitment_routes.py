"""Routes of the labs component: recruitments (being written)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def trial_section(session: Any, actor: Any, trial: Any) -> tuple[str, dict[str, Any]] | None:
    """This part's section of the trial page (None: nothing to show)."""
    return None
