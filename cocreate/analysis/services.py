"""Runs of the opinion analysis: staff start one for a subject, a Celery task runs it, staff review its
topics (rename, merge) and publish a "what we heard" page. Permission checks live here (``analysis.*``,
:mod:`cocreate.accounts.policy`); the rules read the :class:`~cocreate.analysis.sources.Subject` a source
found, never the database."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal
from cocreate.analysis import engine
from cocreate.analysis.models import AnalysisRun, AnalysisTopic, RunStatus
from cocreate.analysis.sources import OpinionSource, Subject, source
from cocreate.db.base import utcnow
from cocreate.db.work import transactional
from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.forms import Date, FormModel, Line, RowId
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.tasks import enqueue
from cocreate.web.markdown import markdown_to_text

log = logging.getLogger(__name__)
T = TypeVar("T")

TASK = "cocreate.analysis.run"
MAX_TEXTS = 5000
"""The most texts one run reads (the newest ones beyond it are left out, and the page says how many were read)."""
MAX_PERIOD_DAYS = 366 * 3
LABEL_MAX = 200
QUOTE_MAX = 400
PAGE_SIZE = 20


@dataclass(frozen=True)
class OnRun:
    """The facts of ``analysis.view``: whether the run is published, and its subject (who reviews it)."""

    published: bool
    subject: Subject


def _audit(session: Session, actor: Principal, action: str, run_id: int | None, **details: object) -> None:
    """Every staff action on an analysis goes to the audit log (who, what, which run)."""
    user = actor.user
    audit.record(session, actor_id=actor.user_id,
                 actor_label=f"{user.display_name} (#{user.id})"[:200] if user is not None else "",
                 action=action, target_type="analysis_run", target_id=str(run_id or ""), details=details)


def subject_of(session: Session, source_name: str, subject_id: int | None = None, start: date | None = None,
               end: date | None = None) -> tuple[OpinionSource, Subject]:
    kind = source(source_name)
    return kind, kind.subject(session, subject_id, start, end)


def subject_of_run(session: Session, run: AnalysisRun) -> Subject:
    return subject_of(session, run.source, run.subject_id, run.period_start, run.period_end)[1]


class PeriodForm(FormModel):
    """The period of a source by dates; both days are required there (:func:`start` says so), unused elsewhere."""

    start: Annotated[date | None, Date()] = None
    end: Annotated[date | None, Date()] = None


@transactional
def start(session: Session, actor: Principal, source_name: str, subject_id: int | None = None,
          period: PeriodForm | None = None) -> AnalysisRun:
    """Start an analysis of a subject (a challenge's id, or a period for a source by dates); the task runs
    once this commits."""
    kind = source(source_name)
    begin = end = None
    if kind.by_period:
        if period is None or period.start is None or period.end is None:
            raise Invalid({"start": _("Enter the first day of the period.")} if period is None or period.start is None
                          else {"end": _("Enter the last day of the period.")})
        begin, end = period.start, period.end
        if end < begin:
            raise Invalid({"end": _("The last day must not be before the first day.")})
        if end - begin > timedelta(days=MAX_PERIOD_DAYS):
            raise Invalid({"end": _("Choose a period of at most three years.")})
        subject_id = None
    elif subject_id is None:
        raise NotFound()
    subject = kind.subject(session, subject_id, begin, end)
    permissions.require(actor, "analysis.run", subject)
    run = AnalysisRun(source=kind.name, subject_id=subject.id, period_start=begin, period_end=end,
                      title=subject.title[:300], created_by_id=actor.user_id, status=RunStatus.QUEUED)
    session.add(run)
    session.flush()
    _audit(session, actor, "analysis.started", run.id, source=kind.name, subject_id=subject.id,
           start=begin.isoformat() if begin else None, end=end.isoformat() if end else None)
    enqueue(session, TASK, run.id)
    return run


# --- the task's work -----------------------------------------------------------------------------------


def execute(session: Session, run_id: int) -> str:
    """Run the analysis of one run (the Celery task's body). Idempotent: a finished run is left alone, a run
    cut off midway starts again. Progress is committed as it goes, so the status page can show it."""
    run = session.get(AnalysisRun, run_id)
    if run is None or run.status in (RunStatus.DONE, RunStatus.FAILED):
        return "skipped"
    run.status, run.progress, run.stage, run.error = RunStatus.RUNNING, 0, "texts", ""
    session.commit()
    try:
        kind = source(run.source)
        subject = kind.subject(session, run.subject_id, run.period_start, run.period_end)
        # Markdown becomes plain text: the quotes are shown as text, and markup is no word of the resident's.
        opinions = [(opinion.ref, plain) for opinion in kind.texts(session, subject)
                    if (plain := markdown_to_text(opinion.text).strip())][-MAX_TEXTS:]
        texts = [text for _ref, text in opinions]
        session.commit()  # end the read before the long computation: no transaction stays open meanwhile

        last = [-10]

        def progress(percent: int, stage: str) -> None:
            if percent - last[0] < 10 and percent < 100:
                return
            last[0] = percent
            session.execute(sa.update(AnalysisRun).where(AnalysisRun.id == run_id)
                            .values(progress=min(95, 5 + percent * 9 // 10), stage=stage[:20]))
            session.commit()

        result = engine.analyse(texts, progress=progress)
        run = session.get(AnalysisRun, run_id)
        assert run is not None
        session.execute(sa.delete(AnalysisTopic).where(AnalysisTopic.run_id == run_id))
        for position, topic in enumerate(result.topics):
            words = topic.words[:8]
            session.add(AnalysisTopic(run_id=run_id, position=position, label="・".join(words[:3])[:LABEL_MAX],
                                      words=words, size=len(topic.members),
                                      quotes=[_quote(texts[index]) for index in topic.quotes],
                                      quote_refs=[opinions[index][0] for index in topic.quotes]))
        run.text_count = len(texts)
        run.unassigned_count = len(result.unassigned)
        run.method = result.method
        run.status, run.progress, run.stage, run.finished_at = RunStatus.DONE, 100, "done", utcnow()
        session.commit()
        return "done"
    except Exception as error:
        session.rollback()
        log.exception("opinion analysis %s failed", run_id)
        session.execute(sa.update(AnalysisRun).where(AnalysisRun.id == run_id).values(
            status=RunStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500], finished_at=utcnow()))
        session.commit()
        return "failed"


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"


# --- review ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    run: AnalysisRun
    subject: Subject
    topics: list[AnalysisTopic]
    public_refs: frozenset[str] = frozenset()
    """The quotes' refs that are still public: only their quotes are shown."""

    def quotes(self, topic: AnalysisTopic) -> list[str]:
        """The topic's quotes whose texts are still public (a quote hidden since the run is not shown)."""
        return [quote for quote, ref in zip(topic.quotes, topic.quote_refs, strict=False) if ref in self.public_refs]

    @property
    def on(self) -> OnRun:
        return OnRun(published=self.run.published_at is not None, subject=self.subject)

    @property
    def finished(self) -> bool:
        return self.run.status in (RunStatus.DONE, RunStatus.FAILED)

    @property
    def total(self) -> int:
        return sum(topic.size for topic in self.topics)

    @property
    def topic_options(self) -> list[tuple[str, str]]:
        return [(str(topic.id), topic.label) for topic in self.topics]

    @property
    def largest(self) -> int:
        return max((topic.size for topic in self.topics), default=0)


def _load(session: Session, run_id: int, *, lock: bool = False) -> AnalysisRun:
    statement = select(AnalysisRun).where(AnalysisRun.id == run_id)
    if lock:
        statement = statement.with_for_update()
    run = session.exec(statement).first()
    if run is None:
        raise NotFound()
    return run


def _topics(session: Session, run_id: int) -> list[AnalysisTopic]:
    return list(session.exec(select(AnalysisTopic).where(AnalysisTopic.run_id == run_id)
                             .order_by(AnalysisTopic.position, AnalysisTopic.id)).all())


def view(session: Session, actor: Principal, run_id: int, action: str = "analysis.review") -> RunView:
    """A run with its subject and topics, for those who may ``action`` it (``analysis.view``: the public page,
    a run not (yet) published does not exist for others)."""
    run = _load(session, run_id)
    subject = subject_of_run(session, run)
    if action == "analysis.view":
        if not permissions.can(actor, action, OnRun(run.published_at is not None, subject)):
            raise NotFound()
    else:
        permissions.require(actor, action, subject)
    topics = _topics(session, run_id)
    refs = {ref for topic in topics for ref in topic.quote_refs}
    public = source(run.source).still_public(session, refs) if refs else set()
    return RunView(run=run, subject=subject, topics=topics, public_refs=frozenset(public))


def _reviewable(session: Session, actor: Principal, run_id: int) -> AnalysisRun:
    run = _load(session, run_id, lock=True)
    permissions.require(actor, "analysis.review", subject_of_run(session, run))
    if run.status is not RunStatus.DONE:
        raise Conflict(_("The analysis has not finished yet."))
    return run


def _topic(session: Session, run_id: int, topic_id: int | None, field: str) -> AnalysisTopic:
    topic = session.get(AnalysisTopic, topic_id) if topic_id is not None else None
    if topic is None or topic.run_id != run_id:
        raise Invalid({field: _("Choose a topic from the list.")})
    return topic


class RenameForm(FormModel):
    label: Annotated[str, Line(LABEL_MAX, required=lazy_gettext("Enter a name for the topic."))] = ""


@transactional
def rename(session: Session, actor: Principal, run_id: int, topic_id: int, form: RenameForm) -> AnalysisTopic:
    _reviewable(session, actor, run_id)
    topic = session.get(AnalysisTopic, topic_id)
    if topic is None or topic.run_id != run_id:
        raise NotFound()
    _audit(session, actor, "analysis.topic_renamed", run_id, topic_id=topic_id, before=topic.label, after=form.label)
    topic.label = form.label
    return topic


class MergeForm(FormModel):
    keep: Annotated[int | None, RowId(lazy_gettext("Choose the topic to keep."), required=True)] = None
    merge: Annotated[int | None, RowId(lazy_gettext("Choose the topic to merge into it."), required=True)] = None


@transactional
def merge(session: Session, actor: Principal, run_id: int, form: MergeForm) -> AnalysisTopic:
    """Fold one topic into another: the sizes add up, the words and quotes are interleaved (the kept topic's
    first), the kept topic keeps its name."""
    _reviewable(session, actor, run_id)
    keep = _topic(session, run_id, form.keep, "keep")
    other = _topic(session, run_id, form.merge, "merge")
    if keep.id == other.id:
        raise Invalid({"merge": _("Choose two different topics.")})
    keep.words = _interleave(keep.words, other.words, 8)
    pairs = _interleave(list(zip(keep.quotes, keep.quote_refs, strict=False)),
                        list(zip(other.quotes, other.quote_refs, strict=False)), 3)
    keep.quotes, keep.quote_refs = [quote for quote, _ref in pairs], [ref for _quote, ref in pairs]
    keep.size += other.size
    _audit(session, actor, "analysis.topics_merged", run_id, kept=keep.id, merged=other.id, merged_label=other.label)
    session.delete(other)
    return keep


def _interleave(first: Sequence[T], second: Sequence[T], limit: int) -> list[T]:
    result: list[T] = []
    for pair in zip(first, second, strict=False):
        result.extend(pair)
    longer = first if len(first) > len(second) else second
    result.extend(longer[min(len(first), len(second)):])
    seen: list[T] = []
    for item in result:
        if item not in seen:
            seen.append(item)
    return seen[:limit]


@transactional
def publish(session: Session, actor: Principal, run_id: int, published: bool = True) -> AnalysisRun:
    """Publish (or withdraw) the run's "what we heard" page."""
    run = _reviewable(session, actor, run_id)
    if published and run.published_at is None:
        run.published_at, run.published_by_id = utcnow(), actor.user_id
        _audit(session, actor, "analysis.published", run_id)
    elif not published and run.published_at is not None:
        run.published_at, run.published_by_id = None, None
        _audit(session, actor, "analysis.withdrawn", run_id)
    return run


# --- lists -----------------------------------------------------------------------------------------------


def my_runs(session: Session, actor: Principal, page: int = 1) -> tuple[list[AnalysisRun], bool]:
    """The runs the actor started, newest first, one page (and whether there is a next one)."""
    if actor.user_id is None:
        return [], False
    rows = list(session.exec(select(AnalysisRun).where(AnalysisRun.created_by_id == actor.user_id)
                             .order_by(AnalysisRun.created_at.desc(), AnalysisRun.id.desc())
                             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all())
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def latest_published(session: Session, source_name: str, subject_id: int) -> AnalysisRun | None:
    """The newest published run of a subject (the link from its page)."""
    return session.exec(select(AnalysisRun).where(AnalysisRun.source == source_name,
                                                  AnalysisRun.subject_id == subject_id,
                                                  AnalysisRun.published_at.is_not(None))
                        .order_by(AnalysisRun.published_at.desc()).limit(1)).first()


def runs_of(session: Session, source_name: str, subject_id: int, limit: int = 5, *,
            published_only: bool = False) -> list[AnalysisRun]:
    """A subject's runs: the published ones first (newest first), then the others (newest first)."""
    statement = select(AnalysisRun).where(AnalysisRun.source == source_name, AnalysisRun.subject_id == subject_id)
    if published_only:
        statement = statement.where(AnalysisRun.published_at.is_not(None))  # type: ignore[union-attr]
    return list(session.exec(statement.order_by(AnalysisRun.published_at.is_(None),  # type: ignore[union-attr]
                                                AnalysisRun.published_at.desc(),  # type: ignore[union-attr]
                                                AnalysisRun.created_at.desc(), AnalysisRun.id.desc())
                             .limit(limit)).all())
