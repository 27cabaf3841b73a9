"""Page sections: parts of one component's page that other components (or other parts of the same
one) contribute, such as a challenge's trials or a test field's calendar.

Each component's manifest lists its sections per page (``Component.page_sections``): ``module:function``
taking ``(session, actor, thing)`` and returning ``(template_name, context)``, or None to show nothing.
The page renders them in manifest order; the page's own component does not know who contributes.
"""

from __future__ import annotations

from typing import Any

from cocreate import components

Section = tuple[str, dict[str, Any]]


def page_sections(page: str, *args: Any) -> list[Section]:
    """The sections of ``page`` (``challenge``, ``proposal``, ``field``, ``trial``) for ``args``."""
    sections = []
    for build in components.page_sections(page):
        section = build(*args)
        if section is not None:
            sections.append(section)
    return sections
