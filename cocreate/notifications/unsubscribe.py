"""One-click unsubscribe: a signed link in every notification e-mail, usable without signing in.

The link carries the user and the kind (or :data:`~cocreate.notifications.preferences.ALL_KINDS`),
signed with the site's key (itsdangerous), so nobody can forge one for someone else. It does not
expire: an old e-mail's link must keep working. Opening it shows a page with one button; the POST
(from that button, or a mail client's RFC 8058 ``List-Unsubscribe=One-Click``) sets the delivery to
"none". The site keeps listing the notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, select

from cocreate import paths
from cocreate.accounts.models import User
from cocreate.db import transactional
from cocreate.notifications import preferences
from cocreate.notifications.models import Delivery
from cocreate.settings import Settings

SALT = "cocreate.notifications.unsubscribe"
MAX_TOKEN_LENGTH = 500


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt=SALT)


def token(settings: Settings, user_id: int, kind: str) -> str:
    return _serializer(settings).dumps({"u": int(user_id), "k": kind})


def link(settings: Settings, user_id: int, kind: str) -> str:
    """The absolute one-click unsubscribe address for ``user_id`` and ``kind``."""
    return paths.absolute(settings, paths.unsubscribe(token(settings, user_id, kind)))


def headers(url: str) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers of a notification e-mail."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True)
class Target:
    """What a valid link unsubscribes: a user from one kind (or all)."""

    user_id: int
    kind: str

    @property
    def is_all(self) -> bool:
        return self.kind == preferences.ALL_KINDS


def read(session: Session, settings: Settings, value: str) -> Target | None:
    """The link's target, or None when the token is forged, damaged, or its user is gone."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = _serializer(settings).loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, kind = data.get("u"), data.get("k")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(kind, str) or not kind:
        return None
    exists = session.exec(select(User.id).where(User.id == user_id, col(User.deleted_at).is_(None))).first()
    return Target(user_id=user_id, kind=kind) if exists is not None else None


@transactional
def apply(session: Session, target: Target) -> None:
    """Stop the e-mails the link is for; doing it twice changes nothing more."""
    preferences.set_delivery(session, target.user_id, target.kind, Delivery.NONE)
