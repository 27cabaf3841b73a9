"""The daily digest: one e-mail per user gathering the notifications they chose to receive that way.

Celery beat runs :func:`schedule` every morning (07:00 in Tokyo). It asks the database once who has
notifications waiting (``delivery = "digest"``, in no digest yet, unread, older than the run) and
enqueues one task per chunk of :data:`CHUNK_SIZE` users, never one per user or per event, so a busy
day does not flood the queue. Each chunk task (:func:`send_chunk`) writes, for each of its users, the
:class:`NotificationDigest` row of the Tokyo day, the outbox e-mail and the notifications' ``digest_id``
in one transaction: the row is unique per user and day, so a retried or duplicated task finds it and
sends nothing twice, and a user with nothing new gets no digest at all. The e-mails are delivered by
the same task after commit (:func:`cocreate.mail.deliver` sends each at most once).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import make_msgid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import mail, paths
from cocreate.accounts.models import User
from cocreate.db import Database
from cocreate.db.base import upsertable_insert, utcnow
from cocreate.i18n import WARD_TIMEZONE, ngettext, using_locale
from cocreate.mail import OutboundEmail
from cocreate.notifications import preferences, unsubscribe
from cocreate.notifications.models import Delivery, Notification, NotificationDigest
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.templating import render_standalone

SCHEDULE_TASK = "cocreate.notifications.schedule_digests"
SEND_TASK = "cocreate.notifications.send_digests"
CHUNK_SIZE = 200
"""Users per chunk task."""
MAX_LISTED = 50
"""Notifications listed in one digest; the rest are counted ("and 3 more") and linked to the list."""


def period_of(moment: datetime) -> str:
    """The Tokyo date of ``moment``, YYYY-MM-DD: a user gets at most one digest per such day."""
    return moment.astimezone(WARD_TIMEZONE).date().isoformat()


def _waiting(cutoff: datetime) -> list[Any]:
    return [col(Notification.delivery) == Delivery.DIGEST.value, col(Notification.digest_id).is_(None),
            col(Notification.read_at).is_(None), col(Notification.created_at) <= cutoff]


def _mailable() -> list[Any]:
    return [col(User.email).is_not(None), col(User.email_confirmed_at).is_not(None),
            col(User.deleted_at).is_(None), col(User.blocked_at).is_(None)]


def waiting_users(session: Session, cutoff: datetime, period: str) -> list[int]:
    """Ids of the users with notifications waiting for the digest of ``period`` (one query)."""
    sent_today = (select(NotificationDigest.id)
                  .where(NotificationDigest.user_id == Notification.user_id, NotificationDigest.period == period)
                  .exists())
    statement = (select(Notification.user_id).distinct()
                 .join(User, col(User.id) == col(Notification.user_id))
                 .where(*_waiting(cutoff), *_mailable(), ~sent_today)
                 .order_by(col(Notification.user_id)))
    return list(session.exec(statement).all())


def schedule(database: Database, settings: Settings, *, now: datetime | None = None,
             chunk_size: int = CHUNK_SIZE) -> int:
    """Enqueue the digest of everyone with something new, in chunks; returns the number of tasks."""
    with database.transaction() as session:
        return enqueue_chunks(session, now or utcnow(), chunk_size=chunk_size)


def enqueue_chunks(session: Session, now: datetime, *, chunk_size: int = CHUNK_SIZE) -> int:
    """In the caller's transaction: one task per chunk of waiting users, sent after commit."""
    period = period_of(now)
    user_ids = waiting_users(session, now, period)
    chunks = [user_ids[start:start + chunk_size] for start in range(0, len(user_ids), chunk_size)]
    for chunk in chunks:
        enqueue(session, SEND_TASK, period, now.isoformat(), chunk)
    return len(chunks)


@dataclass(frozen=True)
class DigestItem:
    message: str
    link: str
    created_at: datetime


def send_chunk(database: Database, settings: Settings, period: str, cutoff: str,
               user_ids: list[int]) -> int:
    """Write and send the digests of ``user_ids`` for ``period``; returns how many e-mails this run sent.

    Safe to run again: users whose digest of the period exists get none, and only e-mails not yet
    sent are delivered (an earlier run that died after commit is completed, not repeated).
    """
    moment = datetime.fromisoformat(cutoff)
    ids = sorted({int(user_id) for user_id in user_ids})
    if not ids:
        return 0
    with database.transaction() as session:
        write_digests(session, settings, period, moment, ids)
    sent = 0
    with database.session() as session:
        unsent = session.exec(
            select(OutboundEmail.id)
            .join(NotificationDigest, col(NotificationDigest.email_id) == col(OutboundEmail.id))
            .where(col(NotificationDigest.user_id).in_(ids), NotificationDigest.period == period,
                   col(OutboundEmail.sent_at).is_(None))
            .order_by(col(OutboundEmail.id))).all()
    for email_id in unsent:
        try:
            if mail.deliver(database, settings, email_id):
                sent += 1
        except mail.DeliveryUnderWay:
            continue  # another delivery has it in hand
    return sent


def write_digests(session: Session, settings: Settings, period: str, cutoff: datetime,
                  user_ids: list[int]) -> list[int]:
    """In the caller's transaction: the digest rows, e-mails and digest_ids of ``user_ids``; returns
    the e-mail ids written (users with nothing new, or with the period's digest already, get none)."""

    users = {user.id: user for user in session.exec(
        select(User).where(col(User.id).in_(user_ids), *_mailable())).all()}
    waiting: dict[int, list[Notification]] = defaultdict(list)
    for notification in session.exec(
            select(Notification).where(col(Notification.user_id).in_(list(users)), *_waiting(cutoff))
            .order_by(col(Notification.user_id), col(Notification.id).desc())).all():
        waiting[notification.user_id].append(notification)
    email_ids = []
    now = utcnow()
    for user_id, notifications in sorted(waiting.items()):
        user = users[user_id]
        inserted = session.execute(
            upsertable_insert(session, NotificationDigest.__table__)
            .values(user_id=user_id, period=period, item_count=len(notifications), created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "period"])
            .returning(NotificationDigest.__table__.c.id)
        ).first()
        if inserted is None:  # this day's digest went out already (a retried or duplicated task)
            continue
        digest_id = inserted[0]
        email = _digest_email(settings, user, period, notifications)
        session.add(email)
        session.flush()
        session.execute(sa.update(NotificationDigest).where(col(NotificationDigest.id) == digest_id)
                        .values(email_id=email.id))
        session.execute(sa.update(Notification)
                        .where(col(Notification.id).in_([n.id for n in notifications]))
                        .values(digest_id=digest_id))
        assert email.id is not None
        email_ids.append(email.id)
    return email_ids


def _digest_email(settings: Settings, user: User, period: str, notifications: list[Notification]) -> OutboundEmail:
    from cocreate.notifications import services

    assert user.email is not None and user.id is not None
    unsubscribe_url = unsubscribe.link(settings, user.id, preferences.ALL_KINDS)
    listed = notifications[:MAX_LISTED]
    with using_locale(user.locale):
        items = [DigestItem(message=services.describe(n), link=paths.absolute(settings, _safe_path(n.url)),
                            created_at=n.created_at) for n in listed]
        text = render_standalone("mail/digest.txt", user=user, items=items, day=date.fromisoformat(period),
                                 more=len(notifications) - len(listed), total=len(notifications),
                                 base_url=settings.base_url, list_link=paths.absolute(settings, paths.notifications()))
        text = services.with_unsubscribe_footer(text, settings, user, preferences.ALL_KINDS, unsubscribe_url)
        subject = ngettext("Your daily summary: %(num)d new notification",
                           "Your daily summary: %(num)d new notifications", len(notifications))
    return OutboundEmail(to_address=user.email, subject=subject[:300], body_text=text,
                         headers_json=json.dumps(unsubscribe.headers(unsubscribe_url)),
                         message_id=make_msgid(domain="cocreate.localhost"))


def _safe_path(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else paths.notifications()
