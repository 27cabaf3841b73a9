"""Atom feeds of trials: progress updates and final reports of every published trial, or of one.
Unpublished trials are never in them (a feed of one is 404), and nobody's personal name is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.params import FromPath
from sqlmodel import Session, col, select

from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.feeds import FEED_LIMIT, Entry, Feed, atom_response, plain
from cocreate.web.links import route_path
from cocreate.web.markdown import markdown_to_text
from labs.models import Trial, TrialUpdate

SUMMARY_MAX = 1000


def published_trial(session: Session, trial_id: int) -> Trial:
    """A published trial; unpublished and unknown ones are 404 (feed readers are anonymous)."""
    trial = session.get(Trial, trial_id)
    if trial is None or not trial.published:
        raise NotFound()
    return trial


def latest_updates(session: Session, trial_id: int | None = None, limit: int = FEED_LIMIT) -> list[tuple[Any, ...]]:
    """Progress updates of published trials (or of one), newest posted first, with their trial."""
    statement = (select(TrialUpdate, Trial).join(Trial, col(Trial.id) == TrialUpdate.trial_id)
                 .where(col(Trial.published).is_(True)))
    if trial_id is not None:
        statement = statement.where(TrialUpdate.trial_id == trial_id)
    statement = statement.order_by(col(TrialUpdate.created_at).desc(), col(TrialUpdate.id).desc()).limit(limit)
    return list(session.exec(statement).all())  # type: ignore[arg-type]


def latest_reports(session: Session, limit: int = FEED_LIMIT) -> list[Trial]:
    """Published trials whose final report is public, newest report first."""
    return list(session.exec(select(Trial).where(col(Trial.published).is_(True),
                                                 col(Trial.results_published_at).is_not(None))
                             .order_by(col(Trial.results_published_at).desc(), col(Trial.id).desc())
                             .limit(limit)).all())


def _update_entry(trial_page: Callable[..., str], update: TrialUpdate, trial: Trial, *, with_trial: bool) -> Entry:
    title = _("%(trial)s: %(update)s", trial=plain(trial.title), update=plain(update.title)) if with_trial \
        else update.title
    return Entry(key=f"trial-update/{update.id}", title=title,
                 path=f"{trial_page(trial_id=trial.id)}#update-{update.id}",
                 published=update.created_at, updated=max(update.created_at, update.updated_at),
                 summary=markdown_to_text(update.body, SUMMARY_MAX),
                 categories=[("update", _("Progress update"))])


def _report_entry(trial_page: Callable[..., str], trial: Trial) -> Entry:
    assert trial.results_published_at is not None
    return Entry(key=f"trial/{trial.id}/results", title=_("Final report: %(trial)s", trial=plain(trial.title)),
                 path=f"{trial_page(trial_id=trial.id)}#results", published=trial.results_published_at,
                 updated=trial.results_published_at, summary=markdown_to_text(trial.results, SUMMARY_MAX),
                 categories=[("results", _("Final report"))])


def _newest(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.published or e.updated, e.key), reverse=True)[:FEED_LIMIT]


def all_updates_feed(app: Litestar, session: Session) -> Feed:
    trial_page = route_path(app, "trial-detail")
    entries = [_update_entry(trial_page, update, trial, with_trial=True) for update, trial in latest_updates(session)]
    entries += [_report_entry(trial_page, trial) for trial in latest_reports(session)]
    return Feed(key="trials/updates", title=_("Trial updates — cocreate Itabashi"),
                subtitle=_("Progress updates and final reports of the ward's trials."),
                path=app.route_reverse("trial-list"), self_path=app.route_reverse("trials-updates-feed"),
                entries=_newest(entries))


def trial_updates_feed(app: Litestar, session: Session, trial: Trial) -> Feed:
    trial_page = route_path(app, "trial-detail")
    entries = [_update_entry(trial_page, update, trial, with_trial=False)
               for update, _trial in latest_updates(session, trial.id)]
    if trial.results_published_at is not None:
        entries.append(_report_entry(trial_page, trial))
    return Feed(key=f"trial/{trial.id}/updates", title=_("Updates: %(trial)s", trial=plain(trial.title)),
                subtitle=_("Progress updates and the final report of this trial."),
                path=trial_page(trial_id=trial.id),
                self_path=app.route_reverse("trial-updates-feed", trial_id=trial.id),
                entries=_newest(entries), updated=trial.created_at)


@get("/trials/updates.atom", name="trials-updates-feed", sync_to_thread=True)
def all_updates_atom(request: Request, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
    """The latest progress updates and final reports of all published trials."""
    return atom_response(settings, all_updates_feed(request.app, db_session))


@get("/trials/{trial_id:int}/updates.atom", name="trial-updates-feed", sync_to_thread=True)
def trial_updates_atom(request: Request, db_session: DbSession, settings: AppSettings,
                       trial_id: FromPath[int]) -> Response[bytes]:
    """The latest progress updates and the final report of one published trial."""
    return atom_response(settings, trial_updates_feed(request.app, db_session, published_trial(db_session, trial_id)))


ROUTES: list[Any] = [Router(path="/", route_handlers=[all_updates_atom, trial_updates_atom],
                            include_in_schema=False)]
