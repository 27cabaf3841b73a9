"""The audit log table and the database triggers that keep it append-only."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.db.base import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
APPEND_ONLY_MESSAGE = "audit_entry is append-only"


class AuditEntry(SQLModel, table=True):
    """One staff or admin action: who did what to which target, and when.

    ``entry_hash`` covers every field but ``id`` and ``previous_hash`` is the hash of the entry before,
    so editing or removing an entry breaks the chain (see :func:`cocreate.audit.services.verify`).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_target_type_target_id", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    # No foreign key: actors may be deleted (or not be users at all), their entries may not.
    actor_id: int | None = Field(default=None)
    actor_label: str = Field(max_length=200)
    action: str = Field(max_length=100)
    target_type: str = Field(max_length=50)
    target_id: str = Field(default="", max_length=64)
    details_json: str = Field(default="{}", sa_type=sa.Text)
    # Unique: only one entry may follow a given entry, the backstop if two appends ever race.
    previous_hash: str = Field(max_length=64, unique=True)
    entry_hash: str = Field(max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of the audit log's length and head: "the log had ``entry_count`` entries,
    the last being ``head_id`` with hash ``head_hash``".

    Signed with an Ed25519 key kept outside the database (see :mod:`cocreate.audit.checkpoints`) and
    published on the transparency page and its feed, so a log cut short after a checkpoint is
    detected even by someone who could rewrite every table.
    """

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    entry_count: int
    head_id: int
    head_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=32)
    """Which key signed it: the first 32 hex digits of the SHA-256 of the raw public key."""
    signature: str = Field(max_length=128)
    """Base64 of the Ed25519 signature over :func:`cocreate.audit.checkpoints.statement`."""


def append_only_triggers(dialect: str) -> list[str]:
    """DDL creating the triggers that reject UPDATE and DELETE on ``audit_entry``.

    Shared by the migration and the test cleanup, so both install exactly the same SQL. A later
    migration that batch-alters ``audit_entry`` on SQLite copies the table and loses the triggers:
    it must drop them first and run this again afterwards.
    """
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END;"
            for verb in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END; $$",
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
        ]
    raise ValueError(f"no append-only triggers for dialect {dialect!r}")


def drop_append_only_triggers(dialect: str) -> list[str]:
    """DDL removing what :func:`append_only_triggers` created (tolerates its absence)."""
    if dialect == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS audit_entry_no_update",
            "DROP TRIGGER IF EXISTS audit_entry_no_delete",
        ]
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
            "DROP FUNCTION IF EXISTS audit_entry_append_only()",
        ]
    raise ValueError(f"no append-only triggers for dialect {dialect!r}")
