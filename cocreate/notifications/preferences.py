"""Who hears about what by e-mail: each user's choice per kind of notification.

A user chooses, per kind, one e-mail per event, a daily digest or no e-mail
(:class:`~cocreate.notifications.models.Delivery`); the site lists every notification whatever the
choice. No row means the kind's default. A row for :data:`ALL_KINDS` is the user's own default for the
kinds without a row of their own: unsubscribing from everything writes it, so that kinds added later
stay quiet too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from babel.support import LazyProxy
from pydantic import Field, create_model
from sqlmodel import Session, col, select

from cocreate.db import transactional
from cocreate.db.base import upsertable_insert, utcnow
from cocreate.forms import Choice, FormModel
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import kinds
from cocreate.notifications.models import Delivery, NotificationPreference

ALL_KINDS = "*"
"""The preference row that applies to every kind without its own row."""

DELIVERY_LABELS = {
    Delivery.IMMEDIATE: lazy_gettext("An e-mail for each"),
    Delivery.DIGEST: lazy_gettext("One daily digest e-mail"),
    Delivery.NONE: lazy_gettext("No e-mail (only in the site)"),
}


def default_delivery(kind: str) -> Delivery:
    return kinds.default_delivery(kind)


def deliveries(session: Session, user_ids: Iterable[int], kind: str) -> dict[int, Delivery]:
    """Each user's delivery of ``kind`` (one query): their row for the kind, else their overall choice,
    else the kind's default."""
    wanted = sorted({int(user_id) for user_id in user_ids})
    default = default_delivery(kind)
    chosen: dict[int, dict[str, str]] = {}
    for start in range(0, len(wanted), 1000):
        rows = session.exec(select(NotificationPreference.user_id, NotificationPreference.kind,
                                   NotificationPreference.delivery)
                            .where(col(NotificationPreference.user_id).in_(wanted[start:start + 1000]),
                                   col(NotificationPreference.kind).in_([kind, ALL_KINDS]))).all()
        for user_id, row_kind, delivery in rows:
            chosen.setdefault(user_id, {})[row_kind] = delivery
    result: dict[int, Delivery] = {}
    for user_id in wanted:
        mine = chosen.get(user_id, {})
        value = mine.get(kind) or mine.get(ALL_KINDS)
        result[user_id] = Delivery(value) if value in Delivery._value2member_map_ else default
    return result


@dataclass(frozen=True)
class KindChoice:
    """One line of the settings page: a kind, its translated name and the user's current choice."""

    kind: str
    label: str
    delivery: Delivery


def choices_of(session: Session, user_id: int) -> list[KindChoice]:
    """Every registered kind with the user's delivery for it, in the current locale's label order."""
    rows = dict(session.exec(select(NotificationPreference.kind, NotificationPreference.delivery)
                             .where(NotificationPreference.user_id == user_id)).all())
    overall = rows.get(ALL_KINDS)
    result = []
    for name in kinds.all_kinds():
        value = rows.get(name) or overall
        delivery = Delivery(value) if value in Delivery._value2member_map_ else default_delivery(name)
        result.append(KindChoice(kind=name, label=kinds.kind_label(name), delivery=delivery))
    return sorted(result, key=lambda choice: (choice.label, choice.kind))


def field_name(kind: str) -> str:
    """The form field of a kind on the settings page."""
    return f"delivery-{kind}"


def _choose(kind: str) -> LazyProxy:
    return LazyProxy(lambda: _("Choose how you want to hear about “%(kind)s”.", kind=kinds.kind_label(kind)),
                     enable_cache=False)


@functools.cache
def _settings_form(names: tuple[str, ...]) -> type[FormModel]:
    """The settings page's form: one required :class:`Delivery` per registered kind, sent as
    ``delivery-<kind>`` (the kinds are the components' manifests', known once they are loaded)."""
    fields: dict[str, Any] = {
        f"kind_{number}": (Annotated[Delivery | None, Choice(Delivery, _choose(kind))],
                           Field(default=None, alias=field_name(kind)))
        for number, kind in enumerate(names)}
    return create_model("NotificationSettingsForm", __base__=FormModel, **fields)


@transactional
def save(session: Session, user_id: int, form: Mapping[str, Any]) -> int:
    """Store the choices of the settings page; one field per registered kind, all required.

    Raises Invalid (nothing changed) when a value is missing or not a Delivery.
    Returns how many kinds were saved.
    """
    names = tuple(kinds.all_kinds())
    parsed = _settings_form(names).parse(form)
    values = {kind: getattr(parsed, f"kind_{number}") for number, kind in enumerate(names)}
    for kind, delivery in values.items():
        _upsert(session, user_id, kind, delivery)
    return len(values)


def set_delivery(session: Session, user_id: int, kind: str, delivery: Delivery) -> None:
    """Choose ``delivery`` for one kind, or for every kind with :data:`ALL_KINDS` (no commit).

    Choosing for every kind replaces the user's choices per kind, so the overall choice applies.
    """
    if kind == ALL_KINDS:
        session.execute(sa.delete(NotificationPreference).where(
            col(NotificationPreference.user_id) == user_id, col(NotificationPreference.kind) != ALL_KINDS))
    _upsert(session, user_id, kind, delivery)


def _upsert(session: Session, user_id: int, kind: str, delivery: Delivery) -> None:
    now = utcnow()
    statement = upsertable_insert(session, NotificationPreference.__table__).values(
        user_id=user_id, kind=kind, delivery=delivery.value, created_at=now, updated_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "kind"], set_={"delivery": delivery.value, "updated_at": now}))
