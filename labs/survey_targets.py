"""What of labs a survey may belong to: a trial, before or after it (see :mod:`cocreate.surveys.targets`).
The staff of the trial's department manage its surveys; an unpublished trial's surveys are nobody's but
theirs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.i18n import lazy_gettext as _l
from cocreate.surveys import routes as survey_pages
from cocreate.surveys.targets import Surveyed, SurveyTarget
from labs.models import Trial


def _load_many(session: Session, ids: Sequence[int]) -> dict[int, Surveyed]:
    if not ids:
        return {}
    rows = session.exec(select(Trial.id, Trial.title, Trial.published, Trial.department_id)
                        .where(col(Trial.id).in_(list(ids)))).all()
    return {int(i): Surveyed(TRIAL, int(i), title, frozenset({department} if department is not None else ()),
                             bool(published))
            for i, title, published, department in rows if i is not None}


def _choices(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(Trial.id, Trial.title).order_by(col(Trial.id).desc()).limit(200)).all()
    return [(int(i), title) for i, title in rows if i is not None]


TRIAL = SurveyTarget(name="trial", label=_l("Trial"), route="trial-detail", param="trial_id",
                     load_many=_load_many, choices=_choices)
TARGETS = [TRIAL]


def trial_section(session: Session, actor: Principal, trial: Any) -> tuple[str, dict[str, Any]] | None:
    """The trial's surveys (before and after it) on its page (None when it has none and the actor builds none)."""
    assert trial.id is not None
    return survey_pages.target_section(session, actor, TRIAL.name, trial.id)
