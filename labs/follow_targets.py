"""What of labs can be followed: trials and test fields (see :mod:`cocreate.notifications.follows`).

A field's followers are also the subscribers to its notices to residents (:mod:`labs.notices`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.i18n import gettext as _
from cocreate.notifications.follows import Followable, Target
from labs import fields, paths, trials
from labs.models import TestField, Trial

TRIAL = "trial"
FIELD = "test_field"


def _trial_visible(session: Session, actor: Principal, trial_id: int) -> bool:
    return trials.visible_trial(session, actor, trial_id) is not None


def _describe_trials(session: Session, actor: Principal, ids: Sequence[int]) -> dict[int, Target]:
    rows = session.exec(select(Trial).where(col(Trial.id).in_(ids))).all()
    return {row.id: Target(row.title, paths.trial(row.id)) for row in rows  # type: ignore[misc]
            if row.published or trials.can_see(session, actor, row)}


def _field_visible(session: Session, actor: Principal, field_id: int) -> bool:
    return fields.visible_field(session, actor, field_id) is not None


def _describe_fields(session: Session, actor: Principal, ids: Sequence[int]) -> dict[int, Target]:
    rows = session.exec(select(TestField).where(col(TestField.id).in_(ids))).all()
    return {row.id: Target(row.name, paths.field(row.id)) for row in rows  # type: ignore[misc]
            if row.published or _field_visible(session, actor, row.id)}  # type: ignore[arg-type]


FOLLOWABLES = [
    Followable(type=TRIAL, label=lambda: _("Trial"), visible=_trial_visible, describe=_describe_trials),
    Followable(type=FIELD, label=lambda: _("Test field"), visible=_field_visible, describe=_describe_fields),
]
