"""What "download my data" holds of follows, notification settings, the notifications received and the daily
digests sent (listed in the core manifest)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.notifications import preferences
from cocreate.notifications.models import Follow, Notification, NotificationDigest, NotificationPreference


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


def export_notifications(session: Session, user: User) -> list[dict[str, Any]]:
    """The notifications the person received, with what they said (their parameters) and where they led."""
    rows = session.exec(select(Notification).where(Notification.user_id == user.id).order_by(col(Notification.id))).all()
    return [{"id": row.id, "kind": row.kind, "about": row.target_type, "about_id": row.target_id,
             "details": json.loads(row.params_json or "{}"), "url": row.url, "delivery": row.delivery,
             "received_at": row.created_at, "read_at": row.read_at} for row in rows]


def export_digests(session: Session, user: User) -> list[dict[str, Any]]:
    """The daily digest e-mails the person was sent (the day each covered and how many notifications)."""
    rows = session.exec(select(NotificationDigest).where(NotificationDigest.user_id == user.id)
                        .order_by(col(NotificationDigest.id))).all()
    return [{"period": row.period, "notifications": row.item_count, "sent_at": row.created_at} for row in rows]
