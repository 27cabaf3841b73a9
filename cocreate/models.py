"""Tables of the core: importing this module registers them on the shared metadata."""

from cocreate.accounts.models import Department
from cocreate.mail import OutboundEmail
from cocreate.tasks.heartbeat import WorkerHeartbeat
from cocreate.web.sessions import StoredSession

__all__ = ["Department", "OutboundEmail", "StoredSession", "WorkerHeartbeat"]
