"""Search sources of the labs component (trials, test fields).

What the public may read, as on the public pages: published trials (the final report once its
results are published; progress updates; calls for participants once open or closed, never drafts)
and published test fields. Each ``_load_*`` loads any number of documents in a fixed number of queries.
A trial carries its challenge's category when that challenge is public, so a change of the
challenge's category or phase marks its trials stale too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from cocreate.accounts.models import Organisation
from cocreate.i18n import gettext as _
from cocreate.search import indexer
from cocreate.search.registry import SearchDoc, Source, doc_key, scalar_ids, watch_when
from labs import paths
from labs.models import (
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    Trial,
    TrialKpi,
    TrialOrganisation,
    TrialUpdate,
)
from proposals import api as proposals

TRIAL = "trial"
TEST_FIELD = "test_field"
PUBLIC_CALLS = (RecruitmentStatus.OPEN, RecruitmentStatus.CLOSED)

TRIAL_FIELDS = ("title", "summary", "description", "results", "results_published_at", "published", "challenge_id")
FIELD_FIELDS = ("name", "kind", "area", "address", "summary", "description", "rules", "published")




def _join(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)


def _trial_part(session: Session, row: Any) -> list[str]:
    return [doc_key(TRIAL, row.trial_id)]


def _trials_of_challenge(session: Session, challenge_id: int) -> list[str]:
    return [doc_key(TRIAL, i) for i in scalar_ids(session, select(Trial.id).where(Trial.challenge_id == challenge_id))]


@event.listens_for(OrmSession, "before_flush")
def _challenge_deleted(session: OrmSession, _context: Any, _instances: Any) -> None:
    """The database unlinks a deleted challenge's trials (ON DELETE SET NULL) out of the ORM's sight."""
    doomed = proposals.deleted_challenge_ids(session)
    if doomed:
        trials = session.execute(select(Trial.id).where(col(Trial.challenge_id).in_(doomed))).scalars()
        indexer.mark_stale(session, [doc_key(TRIAL, i) for i in trials])


def _organisation_changed(session: Session, organisation: Organisation) -> list[str]:
    if organisation in session.new:
        return []
    return [doc_key(TRIAL, i) for i in scalar_ids(session, select(TrialOrganisation.trial_id)
                                            .where(TrialOrganisation.organisation_id == organisation.id))]


# --- trials --------------------------------------------------------------------------------------


def _load_trials(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    rows = session.exec(select(Trial).where(col(Trial.id).in_(ids), col(Trial.published).is_(True))).all()
    found = [t.id for t in rows]
    public_challenges = proposals.challenges(session, (t.challenge_id for t in rows))
    extra: dict[int, list[str]] = defaultdict(list)
    updates: dict[int, list[str]] = defaultdict(list)
    for trial_id, name in session.exec(
            select(TrialOrganisation.trial_id, Organisation.name)
            .join(Organisation, col(Organisation.id) == TrialOrganisation.organisation_id)
            .where(col(TrialOrganisation.trial_id).in_(found))
            .order_by(col(TrialOrganisation.is_lead).desc(), col(Organisation.name))).all():
        extra[trial_id].append(name)
    for trial_id, indicator in session.exec(select(TrialKpi.trial_id, TrialKpi.indicator)
                                            .where(col(TrialKpi.trial_id).in_(found))).all():
        extra[trial_id].append(indicator)
    for trial_id, title in session.exec(
            select(RecruitmentCall.trial_id, RecruitmentCall.title)
            .where(col(RecruitmentCall.trial_id).in_(found), col(RecruitmentCall.status).in_(PUBLIC_CALLS))).all():
        extra[trial_id].append(title)
    for trial_id, title, body in session.exec(
            select(TrialUpdate.trial_id, TrialUpdate.title, TrialUpdate.body)
            .where(col(TrialUpdate.trial_id).in_(found))
            .order_by(col(TrialUpdate.posted_on), col(TrialUpdate.id))).all():
        updates[trial_id].append(_join(title, body))
    docs = {}
    for t in rows:
        assert t.id is not None
        public_challenge = public_challenges.get(t.challenge_id) if t.challenge_id else None
        docs[t.id] = SearchDoc(
            type=TRIAL, id=t.id, title=t.title, url=paths.trial(t.id), updated_at=t.updated_at,
            body=_join(t.summary, t.description, t.results if t.results_published_at is not None else "",
                       *updates[t.id]),
            category=public_challenge.category if public_challenge else None,
            challenge_id=public_challenge.id if public_challenge else None,
            extra="\n".join(extra[t.id]))
    return docs


def _all_trials(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(Trial.id).where(col(Trial.published).is_(True)).order_by(col(Trial.id)))


# --- test fields ---------------------------------------------------------------------------------


def _load_fields(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    fields = session.exec(select(TestField).where(col(TestField.id).in_(ids), col(TestField.published).is_(True))).all()
    return {
        f.id: SearchDoc(type=TEST_FIELD, id=f.id, title=f.name, url=paths.field(f.id), updated_at=f.updated_at,
                        body=_join(f.summary, f.description, f.rules), area=f.area.value,
                        extra=f.address)
        for f in fields if f.id is not None
    }


def _all_fields(session: Session) -> Iterator[int]:
    yield from scalar_ids(session, select(TestField.id).where(col(TestField.published).is_(True)).order_by(col(TestField.id)))


SOURCES: list[Source] = [
    Source(
        type=TRIAL, label=lambda: _("Trial"), load=_load_trials, all_ids=_all_trials,
        watches={
            Trial: watch_when(TRIAL_FIELDS, lambda s, t: [doc_key(TRIAL, t.id)]),
            TrialOrganisation: _trial_part,
            TrialKpi: watch_when(("indicator", "trial_id"), _trial_part),
            TrialUpdate: watch_when(("title", "body", "trial_id"), _trial_part),
            RecruitmentCall: watch_when(("title", "status", "trial_id"), _trial_part),
            Organisation: watch_when(("name",), _organisation_changed),
            **proposals.watch_challenges(_trials_of_challenge),
        },
    ),
    Source(
        type=TEST_FIELD, label=lambda: _("Test field"), load=_load_fields, all_ids=_all_fields,
        watches={TestField: watch_when(FIELD_FIELDS, lambda s, f: [doc_key(TEST_FIELD, f.id)])},
    ),
]
