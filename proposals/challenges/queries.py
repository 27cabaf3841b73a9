"""Finding public challenges: filters, sort orders and pagination, all done by the database.

The list page and the read API share these, so ``/challenges?phase=accepting&sort=deadline`` and
``/api/v1/challenges?phase=accepting&sort=deadline`` always return the same challenges in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department, User
from cocreate.i18n import lazy_gettext as _l
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, clamp_page, paginate
from proposals import phases
from proposals.models import (
    Category,
    Challenge,
    ChallengeDepartment,
    Phase,
    Question,
    QuestionStatus,
    QuestionVisibility,
)


class PhaseFilter(StrEnum):
    """A public phase, or a group of phases."""

    ACTIVE = "active"
    ENDED = "ended"
    PUBLISHED = "published"
    ACCEPTING = "accepting"
    VOTING = "voting"
    REVIEW = "review"
    DECIDED = "decided"
    TRIAL = "trial"
    COMPLETED = "completed"
    CLOSED = "closed"

    @property
    def phases(self) -> tuple[Phase, ...]:
        if self is PhaseFilter.ACTIVE:
            return tuple(p for p in phases.ORDER if p in phases.PUBLIC and p not in phases.TERMINAL)
        if self is PhaseFilter.ENDED:
            return (Phase.COMPLETED, Phase.CLOSED)
        return (Phase(self.value),)

    @property
    def label(self) -> str:
        if self is PhaseFilter.ACTIVE:
            return str(_l("In progress (not ended)"))
        if self is PhaseFilter.ENDED:
            return str(_l("Ended"))
        if self is PhaseFilter.ACCEPTING:
            return str(_l("Open for proposals"))
        return Phase(self.value).label


class SortOrder(StrEnum):
    NEWEST = "newest"
    DEADLINE = "deadline"
    PROPOSALS = "proposals"

    @property
    def label(self) -> str:
        return str(SORT_LABELS[self])


SORT_LABELS = {
    SortOrder.NEWEST: _l("Newest first"),
    SortOrder.DEADLINE: _l("Proposal deadline soonest"),
    SortOrder.PROPOSALS: _l("Most proposals"),
}

PUBLIC_PHASES = tuple(phase for phase in Phase if phase in phases.PUBLIC)
OPEN_FOR_PROPOSALS = (Phase.PUBLISHED, Phase.ACCEPTING)
"""Phases in which the proposal deadline is still ahead (Q&A comes before proposals)."""


@dataclass(frozen=True)
class ChallengeFilters:
    phase: PhaseFilter | None = None
    category: Category | None = None
    area: str | None = None
    department_id: int | None = None
    sort: SortOrder = SortOrder.NEWEST

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.phase, self.category, self.area, self.department_id))

    def query_params(self, **overrides: Any) -> dict[str, str]:
        """The filters as GET parameters (for links that keep them), defaults left out."""
        params = {
            "phase": self.phase.value if self.phase else "",
            "category": self.category.value if self.category else "",
            "area": self.area or "",
            "department": str(self.department_id) if self.department_id is not None else "",
            "sort": self.sort.value if self.sort is not SortOrder.NEWEST else "",
        }
        params.update({k: str(v) for k, v in overrides.items()})
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True)
class FilterOptions:
    """What the filter controls offer: only areas and departments that have public challenges."""

    areas: Sequence[str]
    departments: Sequence[Department]


_DEPARTMENT_COLUMNS = tuple(Department.__table__.columns)  # type: ignore[attr-defined]


def _filter_options_statement() -> sa.CompoundSelect[Any]:
    public = col(Challenge.phase).in_(PUBLIC_PHASES)
    no_department = [sa.cast(sa.null(), column.type).label(column.key) for column in _DEPARTMENT_COLUMNS]
    areas = (select(col(Challenge.area).label("area"), *no_department)
             .where(public, Challenge.area != "").distinct())
    owning = (select(ChallengeDepartment.department_id)
              .join(Challenge, col(Challenge.id) == ChallengeDepartment.challenge_id).where(public))
    departments = (select(sa.cast(sa.null(), sa.String()).label("area"),
                          *(column.label(column.key) for column in _DEPARTMENT_COLUMNS))
                   .where(col(Department.id).in_(owning)))
    return sa.union_all(areas, departments).order_by(sa.literal_column("area"), sa.literal_column("code"))


_FILTER_OPTIONS = _filter_options_statement()


def filter_options(session: Session) -> FilterOptions:
    """The areas and departments of public challenges (drafts never), in one aggregate query: the
    distinct areas and the owning departments, not the challenges themselves."""
    areas: list[str] = []
    departments: list[Department] = []
    for row in session.execute(_FILTER_OPTIONS):
        if row.area is not None:
            areas.append(row.area)
        else:
            departments.append(Department(**{column.key: row._mapping[column.key] for column in _DEPARTMENT_COLUMNS}))
    return FilterOptions(areas=areas, departments=departments)


def _first(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def parse_filters(params: Mapping[str, Any], options: FilterOptions | None = None) -> tuple[ChallengeFilters, list[str]]:
    """Tolerant parsing for the page: unknown values are dropped (that filter reset); returns their names.

    With ``options``, an area or department that no public challenge has counts as unknown too.
    """
    filters = ChallengeFilters()
    ignored: list[str] = []
    if value := _first(params, "phase"):
        try:
            filters = replace(filters, phase=PhaseFilter(value))
        except ValueError:
            ignored.append("phase")
    if value := _first(params, "category"):
        try:
            filters = replace(filters, category=Category(value))
        except ValueError:
            ignored.append("category")
    if value := _first(params, "area"):
        if len(value) <= 100 and (options is None or value in options.areas):
            filters = replace(filters, area=value)
        else:
            ignored.append("area")
    if value := _first(params, "department"):
        known = {d.id for d in options.departments} if options is not None else None
        if value.isdigit() and len(value) < 10 and (known is None or int(value) in known):
            filters = replace(filters, department_id=int(value))
        else:
            ignored.append("department")
    if value := _first(params, "sort"):
        try:
            filters = replace(filters, sort=SortOrder(value))
        except ValueError:
            ignored.append("sort")
    return filters, ignored


def public_challenges_statement(filters: ChallengeFilters) -> sa.Select[Any]:
    """Public challenges matching ``filters`` in the chosen order (drafts never)."""
    statement = select(Challenge).where(col(Challenge.phase).in_(PUBLIC_PHASES))
    if filters.phase is not None:
        statement = statement.where(col(Challenge.phase).in_(filters.phase.phases))
    if filters.category is not None:
        statement = statement.where(Challenge.category == filters.category)
    if filters.area is not None:
        statement = statement.where(Challenge.area == filters.area)
    if filters.department_id is not None:
        # Co-owners count: the department may own the challenge with others.
        owned = select(ChallengeDepartment.challenge_id).where(ChallengeDepartment.department_id == filters.department_id)
        statement = statement.where(col(Challenge.id).in_(owned))

    newest = (col(Challenge.published_at).desc(), col(Challenge.id).desc())
    if filters.sort is SortOrder.DEADLINE:
        # Deadlines still ahead first (soonest first), then passed ones, then challenges without a deadline.
        group = sa.case(
            (col(Challenge.proposals_close_at).is_(None), 2),
            (col(Challenge.phase).in_(OPEN_FOR_PROPOSALS), 0),
            else_=1,
        )
        statement = statement.order_by(group, col(Challenge.proposals_close_at).asc(), col(Challenge.id).asc())
    elif filters.sort is SortOrder.PROPOSALS:
        statement = statement.order_by(col(Challenge.proposal_count).desc(), *newest)
    else:
        statement = statement.order_by(*newest)
    return statement.options(selectinload(Challenge.department))  # type: ignore[arg-type,return-value]


def find_public_challenges(session: Session, filters: ChallengeFilters, page: Any = 1,
                           per_page: Any = DEFAULT_PER_PAGE) -> Page[Challenge]:
    """One page of public challenges with their lead departments, in three queries whatever the page size.

    A page beyond the end gives the last page.
    """
    page_number, size = clamp_page(page, per_page)
    return paginate(session, public_challenges_statement(filters), page_number, size)


def public_questions(session: Session, challenge_id: int) -> Sequence[tuple[Question, User | None]]:
    """The challenge's public Q&A with the asker of public questions, in one query.

    Public questions that are open or answered, and private ones once answered (their asker is
    never read); hidden and merged questions never.
    """
    public = Question.visibility == QuestionVisibility.PUBLIC
    shown = sa.or_(
        sa.and_(public, col(Question.status).in_((QuestionStatus.OPEN, QuestionStatus.ANSWERED))),
        sa.and_(Question.visibility == QuestionVisibility.PRIVATE, Question.status == QuestionStatus.ANSWERED),
    )
    statement = (select(Question, User).outerjoin(User, sa.and_(col(User.id) == Question.asker_id, public))
                 .where(Question.challenge_id == challenge_id, shown)
                 .order_by(col(Question.pinned).desc(), col(Question.created_at), col(Question.id)))
    return session.exec(statement).all()  # type: ignore[return-value]


# --- the home page -------------------------------------------------------------------------------


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
