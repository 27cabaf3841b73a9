"""Follows and notifications: who follows what, and telling users in the site and by e-mail.

A notification is stored once per user and event (``event_key``), so a retried or repeated event
never notifies twice. It records how its reader chose to hear of that kind (``delivery``, see
:mod:`cocreate.notifications.preferences`): for "immediate" an e-mail is written to the outbox
(:class:`cocreate.mail.OutboundEmail`) in the same transaction, in its reader's language and with a
one-click unsubscribe link, and one task per event delivers them after commit; the outbox row is the
per-user key that makes a retried delivery send nothing twice. "digest" waits for the daily digest
(:mod:`cocreate.notifications.digests`); "none" is only listed in the site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate import paths
from cocreate.accounts.models import User
from cocreate.db import transactional
from cocreate.db.base import upsertable_insert, utcnow
from cocreate.i18n import gettext as _
from cocreate.i18n import using_locale
from cocreate.mail import OutboundEmail
from cocreate.notifications import kinds, preferences, unsubscribe
from cocreate.notifications.models import Delivery, Follow, Notification
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone

SEND_TASK = "cocreate.notifications.send_emails"
INSERT_BATCH = 500


# --- kinds ---------------------------------------------------------------------------------------
# Kinds live in :mod:`cocreate.notifications.kinds`; these names stay for the components' convenience.

Kind = kinds.Kind
register_kind = kinds.register_kind
kind_label = kinds.kind_label
_kind = kinds.get


# --- follows -------------------------------------------------------------------------------------


_insert = upsertable_insert


def follow(session: Session, user_id: int, target_type: str, target_id: int) -> bool:
    """Follow ``target`` (no commit); returns whether this is a new follow. Following twice is fine."""
    now = utcnow()
    statement = (
        _insert(session, Follow.__table__)
        .values(user_id=user_id, target_type=target_type, target_id=target_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "target_type", "target_id"])
        .returning(Follow.__table__.c.id)
    )
    # RETURNING, not rowcount: psycopg reports no row count for these statements.
    return session.execute(statement).first() is not None


def unfollow(session: Session, user_id: int, target_type: str, target_id: int) -> bool:
    """Stop following (no commit); returns whether a follow was removed."""
    statement = (sa.delete(Follow)
                 .where(col(Follow.user_id) == user_id, col(Follow.target_type) == target_type,
                        col(Follow.target_id) == target_id)
                 .returning(col(Follow.id)))
    return session.execute(statement).first() is not None


def is_following(session: Session, user_id: int | None, target_type: str, target_id: int) -> bool:
    if user_id is None:
        return False
    return session.exec(select(Follow.id).where(Follow.user_id == user_id, Follow.target_type == target_type,
                                                Follow.target_id == target_id)).first() is not None


def followers(session: Session, target_type: str, target_id: int) -> list[int]:
    """Ids of the users following ``target``."""
    return list(session.exec(select(Follow.user_id).where(Follow.target_type == target_type,
                                                          Follow.target_id == target_id)
                             .order_by(col(Follow.user_id))).all())


def follow_state(session: Session, user_id: int | None, target_type: str, target_id: int) -> tuple[int, bool]:
    """(how many follow the target, whether ``user_id`` is one of them), in one query."""
    mine = sa.case((Follow.user_id == user_id, 1), else_=0) if user_id is not None else sa.literal(0)
    count, following = session.exec(select(func.count(), func.coalesce(func.max(mine), 0)).select_from(Follow).where(
        Follow.target_type == target_type, Follow.target_id == target_id)).one()
    return int(count), bool(following)


def follow_columns(user_id: int | None, target_type: str, target_id: Any) -> tuple[Any, Any]:
    """:func:`follow_state` as two columns for a query that reads its target (``target_id`` may be the
    target's id column): the follower count and whether ``user_id`` follows."""
    of_target = (Follow.target_type == target_type, Follow.target_id == target_id)
    count = select(func.count()).select_from(Follow).where(*of_target).scalar_subquery()
    following = (sa.exists().where(col(Follow.user_id) == user_id, *of_target) if user_id is not None
                 else sa.false())
    return count.label("follower_count"), following.label("following")


def follower_count(session: Session, target_type: str, target_id: int) -> int:
    return session.exec(select(func.count()).select_from(Follow).where(
        Follow.target_type == target_type, Follow.target_id == target_id)).one()


# --- notifying -----------------------------------------------------------------------------------


def notify(session: Session, *, user_ids: Iterable[int], kind: str, target_type: str, target_id: int,
           params: dict[str, Any], url: str, event_key: str, settings: Settings) -> list[int]:
    """Notify each user once about an event, in the site and by e-mail (no commit).

    Users already notified of ``event_key`` are skipped (INSERT … ON CONFLICT DO NOTHING), so a
    repeated call adds nothing. For the newly notified users with a confirmed, active address an
    e-mail in their own language goes to the outbox in this transaction if they chose "immediate" for
    this kind, and one delivery task for the event is enqueued for after commit; "digest" leaves the
    notification for the daily digest. ``url`` is a path on this site. Returns the ids of the users
    notified now.
    """
    spec = _kind(kind)
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError("url must be a path on this site")
    wanted = sorted({int(user_id) for user_id in user_ids})
    if not wanted:
        return []
    users = {user.id: user for user in session.exec(
        select(User).where(col(User.id).in_(wanted), col(User.deleted_at).is_(None))).all()}
    chosen = preferences.deliveries(session, users, kind)
    params_json = json.dumps(params, ensure_ascii=False, sort_keys=True)
    now = utcnow()
    rows = [{"user_id": user_id, "kind": kind, "target_type": target_type, "target_id": target_id,
             "params_json": params_json, "url": url, "event_key": event_key, "delivery": chosen[user_id].value,
             "created_at": now, "updated_at": now}
            for user_id in wanted if user_id in users]
    notified: list[int] = []
    for start in range(0, len(rows), INSERT_BATCH):
        statement = (
            _insert(session, Notification.__table__)
            .values(rows[start:start + INSERT_BATCH])
            .on_conflict_do_nothing(index_elements=["user_id", "event_key"])
            .returning(Notification.__table__.c.user_id)
        )
        notified.extend(session.execute(statement).scalars().all())

    email_ids = []
    for user_id in sorted(notified):
        user = users[user_id]
        if chosen[user_id] is Delivery.IMMEDIATE and can_mail(user):
            email_ids.append(_queue_notification_email(session, settings, kind, spec, user, params, url))
    if email_ids:
        enqueue(session, SEND_TASK, event_key, email_ids)
    return sorted(notified)


def can_mail(user: User) -> bool:
    """Whether the user has an address we may write to."""
    return bool(user.email) and user.is_confirmed and user.is_active


SIGNATURE = "\n-- \n"


def with_unsubscribe_footer(text: str, settings: Settings, user: User, kind: str, unsubscribe_url: str) -> str:
    """``text`` with the unsubscribe footer (mail/unsubscribe_footer.txt, current locale) above its signature."""
    footer = render_standalone("mail/unsubscribe_footer.txt", kind=kind, kind_label=kind_label(kind),
                               all_kinds=kind == preferences.ALL_KINDS, unsubscribe_url=unsubscribe_url,
                               settings_url=paths.absolute(settings, paths.notification_settings()), user=user).strip("\n")
    head, separator, signature = text.rpartition(SIGNATURE)
    if not separator:
        return f"{text.rstrip()}\n\n{footer}\n"
    return f"{head.rstrip()}\n\n{footer}\n{SIGNATURE}{signature}"


def _queue_notification_email(session: Session, settings: Settings, kind: str, spec: Kind, user: User,
                              params: dict[str, Any], url: str) -> int:
    # Written like cocreate.mail.queue_email, but without a delivery task per e-mail: the event's
    # single task delivers them all.
    assert user.email is not None and user.id is not None
    unsubscribe_url = unsubscribe.link(settings, user.id, kind)
    with using_locale(user.locale):
        text = render_standalone(spec.mail_template, user=user, params=params, base_url=settings.base_url,
                                 link=paths.absolute(settings, url), unsubscribe_url=unsubscribe_url)
        text = with_unsubscribe_footer(text, settings, user, kind, unsubscribe_url)
        subject = spec.subject(params)
    email = OutboundEmail(to_address=user.email, subject=subject[:300], body_text=text,
                          headers_json=json.dumps(unsubscribe.headers(unsubscribe_url)),
                          message_id=make_msgid(domain="cocreate.localhost"))
    session.add(email)
    session.flush()
    assert email.id is not None
    return email.id


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationItem:
    notification: Notification
    message: str

    @property
    def is_unread(self) -> bool:
        return self.notification.read_at is None


def describe(notification: Notification) -> str:
    """The notification's text in the current locale (unknown kinds get a neutral line)."""
    try:
        params = json.loads(notification.params_json or "{}")
    except ValueError:
        params = {}
    spec = kinds.all_kinds().get(notification.kind)
    if spec is None or not isinstance(params, dict):
        return _("You have a new notification.")
    return spec.message(params)


def list_for(session: Session, user_id: int, page: int = 1, per_page: int = 20) -> Page[NotificationItem]:
    """A user's notifications, newest first, one page (two queries)."""
    statement = (select(Notification).where(Notification.user_id == user_id)
                 .order_by(col(Notification.id).desc()))
    result = paginate(session, statement, page, per_page)
    items = [NotificationItem(n, describe(n)) for n in result.items]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


def unread_count(session: Session, user_id: int) -> int:
    return session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, col(Notification.read_at).is_(None))).one()


@transactional
def mark_read(session: Session, user_id: int, notification_id: int) -> bool:
    """Mark one of the user's own notifications read (commits); False when it is not theirs."""
    session.execute(
        sa.update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.user_id) == user_id,
               col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    return session.exec(select(Notification.id).where(
        Notification.id == notification_id, Notification.user_id == user_id)).first() is not None


@transactional
def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the user read (commits); returns how many."""
    marked = session.execute(
        sa.update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
        .returning(col(Notification.id))
    ).all()
    return len(marked)


def send_emails(database: Any, settings: Settings, email_ids: Sequence[int]) -> int:
    """Deliver an event's e-mails; each is sent at most once however often this runs.

    Returns how many were sent by this run. A failure leaves the rest for the retry.
    """
    from cocreate import mail

    sent = 0
    for email_id in email_ids:
        try:
            if mail.deliver(database, settings, int(email_id)):
                sent += 1
        except mail.DeliveryUnderWay:
            continue  # another delivery has it in hand
    return sent
