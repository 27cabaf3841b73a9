"""Use cases of the proposals component; routes stay thin and call these."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from proposals.models import Challenge, Phase

PUBLIC_PHASES = tuple(phase for phase in Phase if phase is not Phase.DRAFT)


def latest_public_challenges(session: Session, limit: int = 6) -> Sequence[Challenge]:
    """The newest published challenges with their departments, in two queries whatever the limit."""
    statement = (
        select(Challenge)
        .where(col(Challenge.phase).in_(PUBLIC_PHASES))
        .options(selectinload(Challenge.department))  # type: ignore[arg-type]
        .order_by(col(Challenge.published_at).desc(), col(Challenge.id).desc())
        .limit(limit)
    )
    return session.exec(statement).all()


def count_public_challenges(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Challenge).where(col(Challenge.phase).in_(PUBLIC_PHASES))
    ).one()
