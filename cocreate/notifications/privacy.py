"""What "download my data" holds of follows and notification settings (listed in the core manifest)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.notifications import preferences
from cocreate.notifications.models import Follow, NotificationPreference


def export_follows(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Follow).where(Follow.user_id == user.id).order_by(col(Follow.id))).all()
    return [{"target_type": row.target_type, "target_id": row.target_id, "followed_at": row.created_at}
            for row in rows]


def export_settings(session: Session, user: User) -> dict[str, Any]:
    """The user's e-mail delivery per kind as it applies now, and the choices they stored."""
    assert user.id is not None
    stored = session.exec(select(NotificationPreference).where(NotificationPreference.user_id == user.id)
                          .order_by(col(NotificationPreference.id))).all()
    return {
        "deliveries": [{"kind": choice.kind, "label": choice.label, "delivery": choice.delivery}
                       for choice in preferences.choices_of(session, user.id)],
        "chosen": [{"kind": row.kind, "delivery": row.delivery, "chosen_at": row.updated_at} for row in stored],
    }
