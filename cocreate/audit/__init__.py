"""The audit log: an append-only, hash-chained record of staff and admin actions."""

from cocreate.audit.models import AuditEntry
from cocreate.audit.services import VerificationResult, record, verify

__all__ = ["AuditEntry", "VerificationResult", "record", "verify"]
