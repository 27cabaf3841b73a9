"""Outgoing e-mail: an outbox table, a delivery task, and file or SMTP transports.

Every e-mail is first stored as an :class:`OutboundEmail` row in the same transaction as the change
that caused it, then delivered by a Celery task after commit. The row is the outbox: a lost task is
re-enqueued by a sweeper, and a delivered row is never sent again.
"""

from __future__ import annotations

import json
import logging
import smtplib
import uuid
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from cocreate.db.base import UTCDateTime, utcnow
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue

log = logging.getLogger(__name__)

DELIVER_TASK = "cocreate.deliver_email"


class OutboundEmail(SQLModel, table=True):
    __tablename__ = "outbound_email"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    headers_json: str = Field(default="{}", sa_type=sa.Text)
    message_id: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = Field(default=None, max_length=1000)
    claimed_until: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="A delivery is under way until then (see deliver)."
    )


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboundEmail:
    """Store an e-mail and deliver it through the worker once the transaction commits."""
    email = OutboundEmail(
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        headers_json=json.dumps(headers or {}, ensure_ascii=False),
        message_id=make_msgid(domain="cocreate.localhost"),
    )
    session.add(email)
    session.flush()
    assert email.id is not None
    enqueue(session, DELIVER_TASK, email.id)
    return email


UNFOLDED_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
MAX_HEADER_LINE = 998  # RFC 5322 2.1.1


class MailPolicy(EmailPolicy):
    """The default policy, except that a long ASCII List-Unsubscribe header (a signed URL in angle brackets) stays
    on one line: the default folding turns an unbreakable long token into RFC 2047 encoded words, which mail
    clients cannot read as a URL."""

    def _fold(self, name: str, value: str, refold_binary: bool = False) -> str:  # type: ignore[override]
        text = str(value)
        if name.lower() in UNFOLDED_HEADERS and text.isascii() and len(name) + len(text) + 2 <= MAX_HEADER_LINE:
            return f"{name}: {text}{self.linesep}"
        return super()._fold(name, value, refold_binary)  # type: ignore[misc]


MAIL_POLICY = MailPolicy()


def build_message(settings: Settings, email: OutboundEmail) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    for name, value in json.loads(email.headers_json).items():
        message[name] = value
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    return message


def transport_send(settings: Settings, message: EmailMessage) -> None:
    """Hand one message to the configured transport: a folder of .eml files or an SMTP server."""
    url = urlsplit(settings.mail_url)
    if (folder := _mail_folder(settings)) is not None:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.rename(target)  # readers never see half a message
        return
    if url.scheme in ("smtp", "smtps"):
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(
            url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25), timeout=30
        ) as client:
            if url.scheme == "smtp" and "starttls" in (url.query or ""):
                client.starttls()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
        return
    raise ValueError(f"unsupported mail URL scheme: {url.scheme!r}")


def _mail_folder(settings: Settings) -> Path | None:
    """The folder of .eml files of the embedded default (``file://``), or None for an SMTP server."""
    url = urlsplit(settings.mail_url)
    return Path(unquote(url.path)) if url.scheme == "file" else None


def forget_address(settings: Settings, address: str) -> int:
    """Remove the mail folder's copies of every message sent to ``address`` (an account was deleted);
    returns how many. An SMTP server keeps nothing here, so there is nothing to do then."""
    folder = _mail_folder(settings)
    if folder is None or not folder.is_dir() or not address:
        return 0
    address = address.lower()
    removed = 0
    for path in folder.glob("*.eml"):
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=email_policy.default).parse(handle)
        recipients = " ".join(str(headers.get(name, "")) for name in ("To", "Cc", "Bcc")).lower()
        if address in recipients:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def prune_folder(settings: Settings, older_than: timedelta) -> int:
    """Remove the mail folder's messages older than ``older_than``; returns how many."""
    folder = _mail_folder(settings)
    if folder is None or not folder.is_dir():
        return 0
    cutoff = (utcnow() - older_than).timestamp()
    removed = 0
    for path in folder.glob("*.eml"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


CLAIM = timedelta(minutes=2)
"""How long a delivery holds its claim on an e-mail: longer than an SMTP conversation takes (30 s timeout)."""


class DeliveryUnderWay(Exception):
    """Another delivery of the same e-mail holds its claim; try again once it ends or lapses."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"another delivery is under way for {seconds:.0f} s more")
        self.seconds = seconds


def deliver(database: object, settings: Settings, email_id: int) -> bool:
    """Send e-mail ``email_id`` unless it was sent already; returns whether it was sent now.

    Three short transactions, none held while the mail server talks (on SQLite a transaction that
    writes holds the database's only write lock: a slow mail server would stall the whole site):
    claim the e-mail for :data:`CLAIM`, send, then record the outcome. A second delivery of the same
    e-mail meanwhile finds the claim and raises :class:`DeliveryUnderWay` (its task retries later); a
    delivery that died holding a claim is taken over once the claim lapses.
    """
    from cocreate.db import Database

    assert isinstance(database, Database)
    now = utcnow()
    with database.transaction() as session:
        email = session.get(OutboundEmail, email_id, with_for_update=True)
        if email is None:
            log.warning("e-mail %s no longer exists", email_id)
            return False
        if email.sent_at is not None:
            return False
        if email.claimed_until is not None and email.claimed_until > now:
            raise DeliveryUnderWay((email.claimed_until - now).total_seconds())
        email.claimed_until = now + CLAIM
        email.attempts += 1
        message = build_message(settings, email)
    try:
        transport_send(settings, message)
    except OSError as exc:
        with database.transaction() as session:
            session.execute(sa.update(OutboundEmail).where(col(OutboundEmail.id) == email_id)
                            .values(last_error=str(exc)[:1000], claimed_until=None))
        raise
    with database.transaction() as session:
        session.execute(sa.update(OutboundEmail).where(col(OutboundEmail.id) == email_id)
                        .values(sent_at=utcnow(), last_error=None, claimed_until=None))
    return True


def requeue_stuck(session: Session, *, older_than: timedelta, limit: int = 500) -> int:
    """Enqueue delivery again for unsent e-mails older than ``older_than`` (at most ``limit``, oldest first).

    Delivery is idempotent, so re-enqueuing an e-mail whose task is still queued costs one no-op task.
    """
    cutoff = utcnow() - older_than
    stuck = session.exec(
        select(OutboundEmail.id)
        .where(
            OutboundEmail.sent_at.is_(None),  # type: ignore[union-attr]
            OutboundEmail.created_at < cutoff,
            OutboundEmail.attempts < 8,
        )
        .order_by(OutboundEmail.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    for email_id in stuck:
        enqueue(session, DELIVER_TASK, email_id)
    return len(stuck)
