"""Sections of the challenge and proposal pages, as the components' manifests declare them (see
:mod:`cocreate.web.sections`).

Challenge sections also take ``viewer``: the page's :class:`proposals.challenges.services.ChallengeViewer`
(whether the actor owns or follows the challenge, their organisations), read once for all sections;
None when a caller has none, and the section reads what it needs itself.
"""

from __future__ import annotations

from typing import Any

from cocreate.web.sections import Section, page_sections


def detail_sections(session: Any, actor: Any, challenge: Any, viewer: Any = None) -> list[Section]:
    return page_sections("challenge", session, actor, challenge, viewer)


def proposal_sections(session: Any, actor: Any, proposal: Any) -> list[Section]:
    return page_sections("proposal", session, actor, proposal)
