"""Sections of the field and trial pages contributed by other parts of the labs component.

Each entry is ``module:function`` taking ``(session, actor, field_or_trial)`` and returning
``(template_name, context)`` or None; the page renders them in this order. Like
:mod:`proposals.sections`.
"""

from __future__ import annotations

from typing import Any

from proposals.sections import _collect

FIELD_SECTIONS: tuple[str, ...] = (
    "labs.calendar_routes:field_section",
    "labs.booking_routes:field_section",
    "labs.notice_routes:field_section",
)
"""Sections of the test field page (``/fields/{id}``)."""

TRIAL_SECTIONS: tuple[str, ...] = (
    "labs.recruitment_routes:trial_section",
    "labs.booking_routes:trial_section",
)
"""Sections of the trial page (``/trials/{id}``)."""


def field_sections(session: Any, actor: Any, field: Any) -> list[tuple[str, dict[str, Any]]]:
    return _collect(FIELD_SECTIONS, session, actor, field)


def trial_sections(session: Any, actor: Any, trial: Any) -> list[tuple[str, dict[str, Any]]]:
    return _collect(TRIAL_SECTIONS, session, actor, trial)
