"""Routes of the labs component: trials (being written)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []


def challenge_section(session: Any, actor: Any, challenge: Any) -> tuple[str, dict[str, Any]] | None:
    """"You said, we did": the challenge's trials, on the challenge page (None: no trial yet)."""
    return None


def proposal_section(session: Any, actor: Any, proposal: Any) -> tuple[str, dict[str, Any]] | None:
    """The proposal's trial, or starting one from a selected proposal (None: nothing to show)."""
    return None
