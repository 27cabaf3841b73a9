"""Kinds of notification: how each reads in the site and by e-mail, and its name on the settings page.

The core defines no kinds of its own: each component lists its kinds in its manifest
(``Component.notification_kinds``), and :func:`all_kinds` is filled from the loaded manifests on first
use. Importing a module never registers anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cocreate import components
from cocreate.notifications.models import Delivery


@dataclass(frozen=True)
class Kind:
    """How one kind of notification reads: in the site, and as an e-mail (subject + template)."""

    message: Callable[[dict[str, Any]], str]
    """The one-line text shown in the notification list, in the current locale."""
    subject: Callable[[dict[str, Any]], str]
    mail_template: str
    label: Any = None
    """The kind's name on the notification settings page (a lazy_gettext string); see :func:`kind_label`."""
    default: Delivery = Delivery.IMMEDIATE
    """The e-mail delivery of users who have not chosen one."""


_KINDS: dict[str, Kind] = {}


def all_kinds() -> dict[str, Kind]:
    """Every kind of notification by name, from the loaded components' manifests (filled on first use)."""
    if not _KINDS:
        for name, kind in components.notification_kinds().items():
            register_kind(name, kind)
    return _KINDS


def register_kind(name: str, kind: Kind) -> None:
    """Make ``name`` a kind of notification. Two components claiming one name is a mistake, not a no-op."""
    existing = _KINDS.get(name)
    if existing is not None and existing.mail_template != kind.mail_template:
        raise ValueError(f"notification kind {name!r} is registered already, with {existing.mail_template}")
    _KINDS[name] = kind


def kind_label(name: str) -> str:
    """The kind's name in the current locale (its ``label``, or the kind itself)."""
    spec = all_kinds().get(name)
    label = spec.label if spec is not None else None
    return str(label) if label is not None else name


def get(name: str) -> Kind:
    try:
        return all_kinds()[name]
    except KeyError:
        raise ValueError(f"unknown notification kind {name!r}") from None


def default_delivery(name: str) -> Delivery:
    spec = all_kinds().get(name)
    return spec.default if spec is not None else Delivery.IMMEDIATE
