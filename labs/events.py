"""Telling a trial's followers what happened on it (notification kinds and their fan-out).

Like :mod:`proposals.events`: a service calls :func:`announce` inside its transaction; after commit one
task (:data:`TASK`, in :mod:`labs.tasks`) runs the event's handler, which reads the rows again, checks
that the trial is still public and calls :func:`cocreate.notifications.services.notify` for the trial's
followers, never the person who caused the event. The ``event_key`` makes a retried or duplicated task
notify nobody twice.

Events (all to the followers of the trial):

- ``recruitment.opened``: a recruitment call opened (once per call: re-opening it after a pause is not
  news again).
- ``trial.update_posted``: a progress update was posted.
- ``trial.results_published``: the final report was published (once per trial).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from cocreate.db import transactional
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.markdown import markdown_to_text
from labs import paths
from labs.models import RecruitmentCall, RecruitmentStatus, Trial, TrialUpdate

TASK = "labs.notify_event"
TRIAL = "trial"
CALL = "recruitment_call"
EXCERPT = 200

RECRUITMENT_OPENED = "recruitment.opened"
UPDATE_POSTED = "trial.update_posted"
RESULTS_PUBLISHED = "trial.results_published"


def announce(session: Session, event: str, object_id: int, *, actor_id: int | None = None) -> None:
    """Have the trial's followers told about ``event`` once the session commits (nothing on rollback)."""
    if event not in HANDLERS:
        raise ValueError(f"unknown labs event {event!r}")
    enqueue(session, TASK, event, int(object_id), actor_id)


@transactional
def run(session: Session, settings: Settings, event: str, object_id: int, actor_id: int | None = None) -> int:
    """Notify the trial's followers about ``event`` (in a unit of work); returns how many were notified now."""
    handler = HANDLERS.get(event)
    if handler is None:
        raise ValueError(f"unknown labs event {event!r}")
    return handler(session, settings, object_id, actor_id)


def _tell(session: Session, settings: Settings, trial: Trial, actor_id: int | None, *, kind: str, target_type: str,
          target_id: int, params: dict[str, Any], url: str, event_key: str) -> int:
    assert trial.id is not None
    people = set(notifications.followers(session, TRIAL, trial.id)) - {actor_id}
    return len(notifications.notify(
        session, user_ids=people, kind=kind, target_type=target_type, target_id=target_id,
        params={"trial_id": trial.id, "trial_title": trial.title} | params, url=url, event_key=event_key,
        settings=settings))


# --- recruitment opened --------------------------------------------------------------------------


def _opened_message(params: dict[str, Any]) -> str:
    return _("The trial “%(trial)s”, which you follow, is looking for participants: %(title)s",
             trial=str(params.get("trial_title", "")), title=str(params.get("call_title", "")))


def _opened_subject(params: dict[str, Any]) -> str:
    return _("Participants wanted: %(title)s", title=str(params.get("call_title", "")))


def recruitment_opened(session: Session, settings: Settings, call_id: int, actor_id: int | None) -> int:
    call = session.get(RecruitmentCall, call_id)
    trial = session.get(Trial, call.trial_id) if call is not None else None
    if call is None or trial is None or call.status is not RecruitmentStatus.OPEN or not trial.published:
        return 0  # closed again, or the trial hidden, by the time the task ran
    apply_by = call.apply_by.astimezone(WARD_TIMEZONE).strftime("%Y-%m-%d %H:%M") if call.apply_by else ""
    return _tell(session, settings, trial, actor_id, kind=RECRUITMENT_OPENED, target_type=CALL, target_id=call_id,
                 params={"call_id": call_id, "call_title": call.title, "places": call.places, "apply_by": apply_by},
                 url=paths.call(call_id), event_key=f"{RECRUITMENT_OPENED}:{call_id}")


# --- progress update posted ----------------------------------------------------------------------


def _update_message(params: dict[str, Any]) -> str:
    return _("New progress update on the trial “%(trial)s”: %(title)s",
             trial=str(params.get("trial_title", "")), title=str(params.get("update_title", "")))


def _update_subject(params: dict[str, Any]) -> str:
    return _("Trial update: %(title)s", title=str(params.get("trial_title", "")))


def update_posted(session: Session, settings: Settings, update_id: int, actor_id: int | None) -> int:
    entry = session.get(TrialUpdate, update_id)
    trial = session.get(Trial, entry.trial_id) if entry is not None else None
    if entry is None or trial is None or not trial.published:
        return 0  # deleted, or the trial hidden, by the time the task ran
    return _tell(session, settings, trial, actor_id, kind=UPDATE_POSTED, target_type=TRIAL,
                 target_id=trial.id,  # type: ignore[arg-type]
                 params={"update_id": update_id, "update_title": entry.title, "posted_on": entry.posted_on.isoformat(),
                         "excerpt": markdown_to_text(entry.body, EXCERPT)},
                 url=f"{paths.trial(trial.id)}#update-{update_id}", event_key=f"{UPDATE_POSTED}:{update_id}")


# --- final report published ----------------------------------------------------------------------


def _results_message(params: dict[str, Any]) -> str:
    return _("The final report of the trial “%(trial)s” has been published.", trial=str(params.get("trial_title", "")))


def _results_subject(params: dict[str, Any]) -> str:
    return _("Final report published: %(title)s", title=str(params.get("trial_title", "")))


def results_published(session: Session, settings: Settings, trial_id: int, actor_id: int | None) -> int:
    trial = session.get(Trial, trial_id)
    if trial is None or not trial.published or trial.results_published_at is None:
        return 0
    return _tell(session, settings, trial, actor_id, kind=RESULTS_PUBLISHED, target_type=TRIAL, target_id=trial_id,
                 params={"excerpt": markdown_to_text(trial.results, EXCERPT)}, url=f"{paths.trial(trial_id)}#results",
                 event_key=f"{RESULTS_PUBLISHED}:{trial_id}")


# --- registry ------------------------------------------------------------------------------------

HANDLERS: dict[str, Callable[[Session, Settings, int, int | None], int]] = {
    RECRUITMENT_OPENED: recruitment_opened,
    UPDATE_POSTED: update_posted,
    RESULTS_PUBLISHED: results_published,
}

KINDS = {
    RECRUITMENT_OPENED: notifications.Kind(
        _opened_message, _opened_subject, "mail/recruitment_opened.txt",
        label=lazy_gettext("Recruitment calls of trials you follow")),
    UPDATE_POSTED: notifications.Kind(
        _update_message, _update_subject, "mail/trial_update_posted.txt",
        label=lazy_gettext("Progress updates of trials you follow")),
    RESULTS_PUBLISHED: notifications.Kind(
        _results_message, _results_subject, "mail/trial_results_published.txt",
        label=lazy_gettext("Final reports of trials you follow")),
}
"""This module's notification kinds (listed in the labs manifest)."""
