"""The stored statistics: refreshed by the task (on the beat schedule, and on demand by ward staff), read by the
pages, their CSV downloads and the open dataset in one query.

Two snapshots are kept: ``public`` (public numbers only) and ``staff``. Before the first refresh a page
computes its numbers as it is shown (the same aggregates, not stored: a read takes no write lock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from cocreate import permissions
from cocreate.db.base import upsertable_insert, utcnow
from cocreate.db.work import transactional
from cocreate.stats.compute import DEFAULT_MIN_CELL, compute
from cocreate.stats.models import StatsSnapshot
from cocreate.tasks import enqueue

PUBLIC = "public"
STAFF = "staff"
TASK = "cocreate.stats.refresh"


@dataclass(frozen=True)
class Stored:
    data: dict[str, Any]
    computed_at: datetime
    stored: bool
    """False: computed for this page, no snapshot yet."""


@transactional
def refresh(session: Session, *, min_cell: int = DEFAULT_MIN_CELL, now: datetime | None = None) -> datetime:
    """Compute both snapshots and store them (commits); when they were computed."""
    now = now or utcnow()
    for scope in (PUBLIC, STAFF):
        data = compute(session, staff=scope == STAFF, min_cell=min_cell, now=now)
        values = {"scope": scope, "computed_at": now, "data": json.dumps(data, ensure_ascii=False)}
        # One statement, so that two refreshes at once (beat and a member of staff) both succeed.
        statement = upsertable_insert(session, StatsSnapshot.__table__).values(**values)
        session.execute(statement.on_conflict_do_update(index_elements=["scope"], set_={
            "computed_at": statement.excluded.computed_at, "data": statement.excluded.data}))
    return now


def latest(session: Session, scope: str) -> Stored | None:
    """The stored snapshot of ``scope`` (one query), if any was stored with the current format."""
    row = session.get(StatsSnapshot, scope)
    if row is None:
        return None
    data = json.loads(row.data)
    if data.get("version") != 1:
        return None
    return Stored(data=data, computed_at=row.computed_at, stored=True)


def public(session: Session, *, min_cell: int = DEFAULT_MIN_CELL) -> Stored:
    """The public statistics: the stored ones, or computed now before the first refresh."""
    return latest(session, PUBLIC) or _computed(session, staff=False, min_cell=min_cell)


def for_staff(session: Session, actor: Any, *, min_cell: int = DEFAULT_MIN_CELL) -> Stored:
    """The staff's statistics (``stats.staff``)."""
    permissions.require(actor, "stats.staff")
    return latest(session, STAFF) or _computed(session, staff=True, min_cell=min_cell)


def _computed(session: Session, *, staff: bool, min_cell: int) -> Stored:
    data = compute(session, staff=staff, min_cell=min_cell)
    return Stored(data=data, computed_at=datetime.fromisoformat(data["computed_at"]), stored=False)


@transactional
def request_refresh(session: Session, actor: Any) -> None:
    """Ask the worker to refresh the statistics now (``stats.staff``); sent once this commits."""
    permissions.require(actor, "stats.staff")
    enqueue(session, TASK)
