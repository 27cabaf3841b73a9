"""Base model pieces and the metadata naming convention every table uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

# Stable constraint names make Alembic migrations reproducible on SQLite (batch mode) and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_clock: ContextVar[datetime | None] = ContextVar("cocreate_clock", default=None)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored timestamp is UTC. Inside :func:`clock_at`, that moment."""
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Make :func:`utcnow` answer ``moment`` in this context (thread or task) only.

    For demo content written through the services as if each action happened on its own day
    (:mod:`cocreate.demo_playback`): the services then check phases, deadlines and notice periods, and
    stamp rows, exactly as they did at that moment.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; give an aware datetime")
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use cocreate.db.utcnow() or an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def timestamp_field(**kwargs: object) -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kwargs)  # type: ignore[arg-type]


def enum_type(enum_class: type[StrEnum], length: int = 40) -> sa.Enum:
    """A string column holding an enum's values (not names), loaded back as the enum."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class TimestampedModel(SQLModel):
    """Adds created/updated times; ``updated_at`` moves on every UPDATE issued through the ORM."""

    created_at: datetime = timestamp_field()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


def upsertable_insert(session: Any, table: Any) -> Any:
    """A dialect INSERT that can say ON CONFLICT DO NOTHING / DO UPDATE (SQLite and PostgreSQL alike)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")
