"""The search index's outbox: documents to (re)index or drop, written in the transaction that changed them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from cocreate.db.base import UTCDateTime, utcnow


class SearchOutbox(SQLModel, table=True):
    """One document whose index entry is stale. The single index writer drains these rows.

    A row is written in the same transaction as the change (so no change is ever lost, even when the
    broker is down), and deleted only after the index has committed the document's new state.
    """

    __tablename__ = "search_outbox"

    id: int | None = Field(default=None, primary_key=True)
    doc_key: str = Field(max_length=60, description='"<type>:<id>", e.g. "proposal:12".')
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
