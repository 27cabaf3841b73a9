"""Sections of the challenge detail page contributed by other parts of the component.

Each entry is ``module:function`` taking ``(session, actor, challenge, viewer)`` and returning
``(template_name, context)`` or None. ``viewer`` is the page's
:class:`proposals.challenges.ChallengeViewer` (whether the actor owns or follows the challenge, their
organisations), read once for all sections; None when a caller has none, and the section reads what it
needs itself. The detail page renders them in this order.
"""

from __future__ import annotations

from typing import Any

from cocreate.components import resolve

DETAIL_SECTIONS: tuple[str, ...] = (
    "proposals.briefing_routes:detail_section",
    "proposals.question_routes:detail_section",
    "proposals.proposal_routes:detail_section",
    "proposals.comment_routes:detail_section",
    "labs.trial_routes:challenge_section",
)

PROPOSAL_SECTIONS: tuple[str, ...] = (
    "proposals.vote_routes:proposal_section",
    "proposals.comment_routes:proposal_section",
    "labs.trial_routes:proposal_section",
)
"""Sections of the proposal page: ``module:function`` taking ``(session, actor, proposal)``."""


def _collect(paths: tuple[str, ...], *args: Any) -> list[tuple[str, dict[str, Any]]]:
    sections = []
    for path in paths:
        section = resolve(path)(*args)
        if section is not None:
            sections.append(section)
    return sections


def detail_sections(session: Any, actor: Any, challenge: Any, viewer: Any = None) -> list[tuple[str, dict[str, Any]]]:
    return _collect(DETAIL_SECTIONS, session, actor, challenge, viewer)


def proposal_sections(session: Any, actor: Any, proposal: Any) -> list[tuple[str, dict[str, Any]]]:
    return _collect(PROPOSAL_SECTIONS, session, actor, proposal)
