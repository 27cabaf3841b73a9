"""Which department a new voice goes to (its owning department, reassignable by staff later).

The department that owns the most public challenges of the voice's category answers it: that is the
department the ward has already put in charge of such matters. When several own as many, the one with
more of them in the voice's area wins (a challenge's area is free text: "高島平", "高島平地域"…, read
with :func:`proposals.search.area_slug`), then the one created first. No public challenge of the
category: no department (staff assign one). One query.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from proposals.challenges.queries import PUBLIC_PHASES
from proposals.models import Category, Challenge
from proposals.search import AREA_NAMES, AREA_SUFFIXES


def _area_names(area: str) -> list[str]:
    """The ways a challenge's free-text area names the ward area ``area`` (a slug)."""
    names = [name for name, slug in AREA_NAMES.items() if slug == area]
    return [area, *(name + suffix for name in names for suffix in AREA_SUFFIXES)]


def owning_department(session: Session, category: Category, area: str | None) -> int | None:
    """The id of the department a voice of ``category`` in ``area`` (a slug, or none) goes to, or None."""
    in_area: sa.ColumnElement[int] = sa.literal(0)
    if area:
        in_area = func.sum(sa.case((col(Challenge.area).in_(_area_names(area)), 1), else_=0))
    row = session.execute(
        select(Challenge.department_id)
        .where(Challenge.category == category, col(Challenge.phase).in_(PUBLIC_PHASES))
        .group_by(col(Challenge.department_id))
        .order_by(func.count().desc(), in_area.desc(), col(Challenge.department_id))
        .limit(1)
    ).first()
    return None if row is None else int(row[0])
