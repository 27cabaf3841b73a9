"""What the components count for the statistics (``Component.statistics``), and the SQL helpers they share.

The core knows no feature tables. A component lists one :class:`StatsSource`: the measures it counts (each
with its label, for the charts) and a function that counts them with a few SQL aggregates, whatever the
number of rows (a fixed number of queries: the page budget is ten for everything). The function gets a
:class:`Window` (the months counted, and whether the numbers are for the public or for ward staff) and
returns a :class:`Counts`.

Public numbers are what any visitor may already see counted on the site: published challenges, submitted
proposals not hidden, decisions once published, published trials and fields. The staff's numbers add the
rest (private questions, decisions not yet published, unpublished trials and fields).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cocreate.i18n import WARD_TIMEZONE


@dataclass(frozen=True)
class Measure:
    """One thing counted: ``key`` in the snapshot, ``label`` (a lazy_gettext string) in the charts; lower
    ``position`` first across components."""

    key: str
    label: Any
    position: int


@dataclass(frozen=True)
class Window:
    months: tuple[str, ...]
    """The months counted, oldest first, as ``YYYY-MM`` in the ward's time zone."""
    staff: bool
    """Numbers for ward staff (True) or for the public (False)."""
    now: datetime

    @property
    def since(self) -> datetime:
        """The first moment of the first month (UTC)."""
        year, month = (int(part) for part in self.months[0].split("-"))
        return datetime(year, month, 1, tzinfo=WARD_TIMEZONE).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the last month (UTC)."""
        year, month = (int(part) for part in self.months[-1].split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return datetime(year, month, 1, tzinfo=WARD_TIMEZONE).astimezone(UTC)

    def first_day(self) -> date:
        return self.since.astimezone(WARD_TIMEZONE).date()


@dataclass
class Counts:
    """What a source counted (every part optional)."""

    monthly: dict[str, dict[str, int]] = field(default_factory=dict)
    """Measure key → month (``YYYY-MM``) → count."""
    challenges: list[dict[str, Any]] = field(default_factory=list)
    """One dict per challenge: ``id``, ``title`` and a count per challenge measure."""
    funnel: dict[str, int] = field(default_factory=dict)
    """Funnel step key → count."""
    fields: list[dict[str, Any]] = field(default_factory=list)
    """Test fields' utilisation: ``id``, ``name``, ``booked`` and ``available`` (month → days)."""


@dataclass(frozen=True)
class StatsSource:
    name: str
    count: Callable[[Session, Window], Counts]
    monthly: tuple[Measure, ...] = ()
    """Participation over time: what this source counts by month."""
    per_challenge: tuple[Measure, ...] = ()
    funnel: tuple[Measure, ...] = ()


def month_of(session: Session, column: Any) -> Any:
    """The month (``YYYY-MM``, in the ward's time zone) of a UTC timestamp column, in the session's SQL dialect
    (SQLite keeps naive UTC text; PostgreSQL a ``timestamptz``)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Constants written into the SQL, not bound: PostgreSQL must see the GROUP BY expression as the
        # selected one.
        return sa.func.to_char(sa.func.timezone(sa.literal_column(f"'{WARD_TIMEZONE}'"), column),
                               sa.literal_column("'YYYY-MM'"))
    if dialect == "sqlite":
        offset = WARD_TIMEZONE.utcoffset(datetime(2000, 1, 1))  # Asia/Tokyo: no summer time
        assert offset is not None
        hours = int(offset.total_seconds() // 3600)
        return sa.func.strftime(sa.literal_column("'%Y-%m'"), column, sa.literal_column(f"'+{hours} hours'"))
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def monthly_counts(session: Session, window: Window, parts: dict[str, tuple[Any, Any, Any]]) -> dict[str, dict[str, int]]:
    """Count rows by month for several measures in ONE query (a UNION ALL of GROUP BYs).

    ``parts``: measure key → (timestamp column, its table or join, a where clause or None)."""
    selects = []
    for key, (column, source, where) in parts.items():
        month = month_of(session, column)
        statement = (sa.select(sa.literal_column(f"'{key}'").label("k"), month.label("m"), sa.func.count().label("n"))
                     .select_from(source).where(column >= window.since, column < window.until))
        if where is not None:
            statement = statement.where(where)
        selects.append(statement.group_by(month))
    result: dict[str, dict[str, int]] = {key: {} for key in parts}
    if not selects:
        return result
    for key, month, count in session.execute(sa.union_all(*selects)).all():
        result[key][month] = int(count)
    return result
