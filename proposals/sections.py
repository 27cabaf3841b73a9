"""Sections of the challenge detail page contributed by other parts of the component.

Each entry is ``module:function`` taking ``(session, actor, challenge)`` and returning
``(template_name, context)`` or None. The detail page renders them in this order.
"""

from __future__ import annotations

from typing import Any

from cocreate.components import resolve

DETAIL_SECTIONS: tuple[str, ...] = (
    "proposals.briefing_routes:detail_section",
    "proposals.question_routes:detail_section",
)


def detail_sections(session: Any, actor: Any, challenge: Any) -> list[tuple[str, dict[str, Any]]]:
    sections = []
    for path in DETAIL_SECTIONS:
        section = resolve(path)(session, actor, challenge)
        if section is not None:
            sections.append(section)
    return sections
