"""Sections of the challenge and proposal pages, as the components' manifests declare them (see
:mod:`cocreate.web.sections`)."""

from __future__ import annotations

from typing import Any

from cocreate.web.sections import Section, page_sections


def detail_sections(session: Any, actor: Any, challenge: Any) -> list[Section]:
    return page_sections("challenge", session, actor, challenge)


def proposal_sections(session: Any, actor: Any, proposal: Any) -> list[Section]:
    return page_sections("proposal", session, actor, proposal)
