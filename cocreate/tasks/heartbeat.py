"""Workers report that they are alive; ``cocreate check`` and ``/healthz`` read it."""

from __future__ import annotations

import socket
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, select

from cocreate.db.base import UTCDateTime, utcnow


class WorkerHeartbeat(SQLModel, table=True):
    __tablename__ = "worker_heartbeat"

    source: str = Field(primary_key=True, max_length=200)
    hostname: str = Field(max_length=200)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    beats: int = Field(default=0, nullable=False)


def record(session: Session, source: str) -> WorkerHeartbeat:
    row = session.get(WorkerHeartbeat, source, with_for_update=True)
    if row is None:
        row = WorkerHeartbeat(source=source, hostname=socket.gethostname(), seen_at=utcnow(), beats=0)
        session.add(row)
    row.hostname = socket.gethostname()
    row.seen_at = utcnow()
    row.beats += 1
    return row


def latest(session: Session) -> WorkerHeartbeat | None:
    return session.exec(select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc()).limit(1)).first()
