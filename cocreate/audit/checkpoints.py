"""Signed checkpoints: the audit log anchored outside itself.

The hash chain (:func:`cocreate.audit.services.verify`) detects an edited or removed entry in the
middle, but not entries removed from the end: the shorter chain is still a valid chain. So the
worker signs, every hour (and ``cocreate audit checkpoint`` on demand), a statement of the log's
length and head with an Ed25519 key that is not in the database, and publishes it:

- in the ``audit_checkpoint`` table and on the public transparency page and its Atom feed, where
  anyone can keep a copy;
- in the anchor file beside the key (``COCREATE_AUDIT_ANCHOR_FILE``), the latest one.

:func:`verify` then checks that the chain reaches the latest checkpoint it knows of (the newest of
the table's and the anchor file's): the entry it names exists with the hash it names, and as many
entries precede it as it says. Someone who can write the database can neither sign a shorter
checkpoint (no key) nor remove the anchor file's or the published ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, func, select

from cocreate.audit.models import AuditCheckpoint, AuditEntry
from cocreate.audit.services import VerificationResult
from cocreate.audit.services import verify as verify_chain
from cocreate.db.base import utcnow
from cocreate.settings import Settings, write_once

STATEMENT_VERSION = "cocreate-audit-checkpoint/1"


# --- the key ---------------------------------------------------------------------------------------


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The private key (PEM file). Outside production it is generated on first use; in production
    it must be provided (``COCREATE_AUDIT_KEY_FILE``), kept out of the database and its backups."""
    path = settings.audit_key_path
    if not path.exists():
        if settings.is_production:
            raise RuntimeError(f"the audit signing key {path} is missing (COCREATE_AUDIT_KEY_FILE; "
                               "`cocreate audit keygen` makes one)")
        create_key(settings)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} does not hold an Ed25519 private key")
    return key


def create_key(settings: Settings) -> bool:
    """Make the signing key file (readable by its owner only) unless it exists; whether it was made.
    ``cocreate audit keygen``: an operator's (or the compose file's one-shot service's) first step."""
    if settings.audit_key_path.exists():
        return False
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_once(settings.audit_key_path, pem)
    return True


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:32]


@dataclass(frozen=True)
class PublicKey:
    """What the transparency page publishes so that anyone can check a checkpoint's signature."""

    key_id: str
    raw_base64: str
    pem: str


def public_key(settings: Settings) -> PublicKey:
    public = signing_key(settings).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return PublicKey(key_id(public), base64.b64encode(_raw(public)).decode(), pem.decode())


# --- checkpoints -----------------------------------------------------------------------------------


def statement(entry_count: int, head_id: int, head_hash: str, created_at: datetime) -> bytes:
    """The signed bytes: the format's name, then the count, head id, head hash and time, one a line."""
    when = created_at.astimezone(UTC).isoformat(timespec="seconds")
    return f"{STATEMENT_VERSION}\n{entry_count}\n{head_id}\n{head_hash}\n{when}\n".encode()


def _as_dict(checkpoint: AuditCheckpoint) -> dict[str, object]:
    return {"created_at": checkpoint.created_at.astimezone(UTC).isoformat(timespec="seconds"),
            "entry_count": checkpoint.entry_count, "head_id": checkpoint.head_id,
            "head_hash": checkpoint.head_hash, "key_id": checkpoint.key_id, "signature": checkpoint.signature}


def _from_dict(data: dict[str, object]) -> AuditCheckpoint:
    return AuditCheckpoint(created_at=datetime.fromisoformat(str(data["created_at"])),
                           entry_count=int(str(data["entry_count"])), head_id=int(str(data["head_id"])),
                           head_hash=str(data["head_hash"]), key_id=str(data["key_id"]),
                           signature=str(data["signature"]))


def latest(session: Session) -> AuditCheckpoint | None:
    return session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()).limit(1)).first()


def recent(session: Session, limit: int = 50) -> list[AuditCheckpoint]:
    """The newest ``limit`` checkpoints, newest first."""
    return list(session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()).limit(limit)).all())


def make(session: Session, settings: Settings) -> AuditCheckpoint | None:
    """Sign the log's current length and head, unless the latest checkpoint already says the same
    (or the log is empty). The caller commits, then calls :func:`write_anchor`."""
    head = session.exec(select(AuditEntry.id, AuditEntry.entry_hash)
                        .order_by(col(AuditEntry.id).desc()).limit(1)).first()
    if head is None:
        return None
    head_id, head_hash = head
    previous = latest(session)
    if previous is not None and previous.head_id == head_id:
        return None
    count = session.exec(select(func.count()).select_from(AuditEntry).where(col(AuditEntry.id) <= head_id)).one()
    key = signing_key(settings)
    created_at = utcnow().replace(microsecond=0)
    signature = key.sign(statement(count, head_id, head_hash, created_at))  # type: ignore[arg-type]
    checkpoint = AuditCheckpoint(created_at=created_at, entry_count=count, head_id=head_id,  # type: ignore[arg-type]
                                 head_hash=head_hash, key_id=key_id(key.public_key()),
                                 signature=base64.b64encode(signature).decode())
    session.add(checkpoint)
    session.flush()
    return checkpoint


def write_anchor(settings: Settings, checkpoint: AuditCheckpoint) -> None:
    """Keep ``checkpoint`` as the latest known one in the anchor file (outside the database)."""
    path = settings.audit_anchor_path
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(json.dumps(_as_dict(checkpoint), indent=2) + "\n")
    os.replace(temporary, path)


def read_anchor(settings: Settings) -> AuditCheckpoint | None:
    path = settings.audit_anchor_path
    if not path.exists():
        return None
    try:
        return _from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as error:
        raise RuntimeError(f"the audit anchor file {path} cannot be read: {error}") from error


def signature_holds(checkpoint: AuditCheckpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(checkpoint.signature),
                      statement(checkpoint.entry_count, checkpoint.head_id, checkpoint.head_hash,
                                checkpoint.created_at))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(session: Session, settings: Settings) -> VerificationResult:
    """The chain (every entry and link), then the latest signed checkpoint: correctly signed and
    reached by the chain. A log cut short after a checkpoint fails here."""
    result = verify_chain(session)
    if not result.ok:
        return result
    known = [c for c in (latest(session), read_anchor(settings)) if c is not None]
    if not known:
        return result
    checkpoint = max(known, key=lambda c: (c.entry_count, c.head_id))
    public = signing_key(settings).public_key()
    if checkpoint.key_id != key_id(public) or not signature_holds(checkpoint, public):
        return VerificationResult(False, result.checked, None,
                                  "checkpoint signature invalid: the checkpoint was not signed with this site's key")
    head = session.exec(select(AuditEntry.entry_hash).where(AuditEntry.id == checkpoint.head_id)).first()
    count = session.exec(select(func.count()).select_from(AuditEntry)
                         .where(col(AuditEntry.id) <= checkpoint.head_id)).one()
    if head is None or count != checkpoint.entry_count:
        return VerificationResult(
            False, result.checked, checkpoint.head_id,
            f"truncated: the signed checkpoint of {checkpoint.created_at:%Y-%m-%d %H:%M} UTC counts "
            f"{checkpoint.entry_count} entries up to entry {checkpoint.head_id}, the log has {count}")
    if head != checkpoint.head_hash:
        return VerificationResult(False, result.checked, checkpoint.head_id,
                                  "rewritten: the entry the signed checkpoint names has another hash")
    return result

