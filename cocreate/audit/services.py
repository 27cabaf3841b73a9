"""Appending to the audit log and verifying its hash chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.audit.models import GENESIS_HASH, AuditEntry
from cocreate.db.base import utcnow

ACTION_PATTERN = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# Key of the PostgreSQL advisory lock that serialises appends ("ccaudit" in ASCII).
APPEND_LOCK_KEY = 0x63636175646974
VERIFY_BATCH_SIZE = 500

_HASHED_COLUMNS = (
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "details_json",
    "previous_hash",
)


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(
    *,
    created_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    details_json: str,
    previous_hash: str,
) -> str:
    """SHA-256 over every field of an entry except its id (which the database chooses)."""
    payload = canonical_json(
        [
            created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_id,
            actor_label,
            action,
            target_type,
            target_id,
            details_json,
            previous_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _check_text(name: str, value: object, max_length: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return value


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to the audit log in the caller's transaction (the caller commits).

    Appends are serialised so each one chains onto the latest committed entry: PostgreSQL takes a
    transaction-level advisory lock, SQLite's ``BEGIN IMMEDIATE`` already holds the write lock. The
    unique ``previous_hash`` rejects a fork should an append ever bypass both.
    """
    if actor_id is not None and (not isinstance(actor_id, int) or isinstance(actor_id, bool)):
        raise ValueError("actor_id must be an int or None")
    _check_text("actor_label", actor_label, 200)
    _check_text("action", action, 100)
    if not ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"action {action!r} is not dotted lowercase words like 'role.granted'")
    _check_text("target_type", target_type, 50)
    _check_text("target_id", target_id, 64, allow_empty=True)
    if details is not None and not isinstance(details, Mapping):
        raise ValueError("details must be a mapping")
    try:
        details_json = canonical_json(dict(details or {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"details are not JSON-serialisable: {error}") from error

    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    previous_hash = session.exec(
        select(AuditEntry.entry_hash).order_by(col(AuditEntry.id).desc()).limit(1)
    ).first()
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details_json=details_json,
        previous_hash=previous_hash or GENESIS_HASH,
        entry_hash="",
    )
    entry.entry_hash = compute_hash(**{name: getattr(entry, name) for name in _HASHED_COLUMNS})
    session.add(entry)
    session.flush()
    return entry


def verify(session: Session) -> VerificationResult:
    """Recompute every entry's hash and check every link, streaming the log in id order."""
    columns = [getattr(AuditEntry, name) for name in ("id", "entry_hash", *_HASHED_COLUMNS)]
    rows = session.execute(
        sa.select(*columns).order_by(AuditEntry.id).execution_options(yield_per=VERIFY_BATCH_SIZE)
    )
    expected_previous = GENESIS_HASH
    checked = 0
    for row in rows:
        fields = row._asdict()
        entry_id = fields.pop("id")
        stored_hash = fields.pop("entry_hash")
        if fields["previous_hash"] != expected_previous:
            rows.close()
            return VerificationResult(
                False, checked, entry_id, "link broken: previous_hash does not match the entry before"
            )
        if compute_hash(**fields) != stored_hash:
            rows.close()
            return VerificationResult(False, checked, entry_id, "hash mismatch: entry was altered")
        expected_previous = stored_hash
        checked += 1
    return VerificationResult(True, checked)


def latest(session: Session, limit: int = 20) -> list[AuditEntry]:
    """The newest ``limit`` entries, oldest first."""
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return list(reversed(entries))
