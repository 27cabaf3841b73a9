"""What of proposals a survey may belong to: a challenge (see :mod:`cocreate.surveys.targets`). The staff of
the departments that own it (the lead and co-owners) manage its surveys; a draft challenge's surveys are
nobody's but theirs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.i18n import lazy_gettext as _l
from cocreate.surveys import routes as survey_pages
from cocreate.surveys.targets import Surveyed, SurveyTarget
from proposals.models import Challenge, ChallengeDepartment, Phase


def _load_many(session: Session, ids: Sequence[int]) -> dict[int, Surveyed]:
    if not ids:
        return {}
    rows = session.exec(select(Challenge.id, Challenge.title, Challenge.phase, Challenge.department_id)
                        .where(col(Challenge.id).in_(list(ids)))).all()
    owners: dict[int, set[int]] = {}
    for challenge_id, department_id in session.exec(
            select(ChallengeDepartment.challenge_id, ChallengeDepartment.department_id)
            .where(col(ChallengeDepartment.challenge_id).in_(list(ids)))).all():
        owners.setdefault(challenge_id, set()).add(department_id)
    return {int(i): Surveyed(CHALLENGE, int(i), title, frozenset(owners.get(int(i), set()) | {lead}),
                             Phase(phase) is not Phase.DRAFT)
            for i, title, phase, lead in rows if i is not None}


def _choices(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(Challenge.id, Challenge.title).order_by(col(Challenge.id).desc()).limit(200)).all()
    return [(int(i), title) for i, title in rows if i is not None]


CHALLENGE = SurveyTarget(name="challenge", label=_l("Challenge"), route="challenge-detail", param="challenge_id",
                         load_many=_load_many, choices=_choices)
TARGETS = [CHALLENGE]


def challenge_section(session: Session, actor: Principal, challenge: Challenge,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """The challenge's surveys on its page, with no query (the page reads a fixed, small number): a link to
    their list, loaded in place with htmx; "create a survey" for its owners. None for a draft."""
    if challenge.phase is Phase.DRAFT:
        return None
    assert challenge.id is not None
    owner = bool(getattr(viewer, "is_owner", False))
    thing = Surveyed(CHALLENGE, challenge.id, challenge.title, frozenset(), True)
    return survey_pages.linked_section(actor, thing, owner=owner)
