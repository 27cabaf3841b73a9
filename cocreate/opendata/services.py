"""Asking for the open data files now (``opendata.generate``), rather than waiting for the daily run."""

from __future__ import annotations

from sqlmodel import Session

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal
from cocreate.db.work import transactional
from cocreate.opendata.tasks import TASK
from cocreate.tasks import enqueue


@transactional
def request_generation(session: Session, actor: Principal) -> None:
    """Queue a new generation of every dataset's files (the task runs once this commits); audited."""
    permissions.require(actor, "opendata.generate")
    user = actor.user
    audit.record(session, actor_id=actor.user_id,
                 actor_label=f"{user.display_name} (#{user.id})"[:200] if user is not None else "",
                 action="opendata.generate_requested", target_type="opendata", target_id="", details={})
    enqueue(session, TASK)
