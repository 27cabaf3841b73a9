"""Demo content written through the services, as if it had happened over the past months.

A component's demo loader describes a story: who did what, on which day. :class:`Playback` plays it: each
action calls the service its web route calls, with the actor built as the route builds it
(:meth:`Principal.load_by_id`), while :func:`cocreate.db.base.clock_at` makes that day "now". The services
therefore check phases, deadlines and notice periods and stamp their rows exactly as on that day, and the
data is what real use would have left: votes only during voting, proposals only while accepting, phase
changes in the history, versions, audit entries, notifications.

The work a service leaves for a worker after its commit (telling followers, sending booking notices) is
run here, in process and at the same moment, by the handlers the loader names; a worker that starts
later would have nothing left to do for it. Two kinds of task are not sent at all, so that loading the
demo never needs the broker: search index updates (``cocreate demo`` rebuilds the index once at the end)
and e-mail deliveries, a notification's or a single e-mail's (the e-mails wait in the outbox; a worker
re-enqueues every unsent one when it starts, and beat sweeps them every few minutes). A task the loader names no handler for is an error:
left to a worker, it would run later, at the real time, and its rows would say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import clock_at
from cocreate.i18n import WARD_TIMEZONE
from cocreate.mail import DELIVER_TASK
from cocreate.notifications.services import SEND_TASK as SEND_EMAILS_TASK
from cocreate.search.indexer import DRAIN_TASK
from cocreate.settings import Settings
from cocreate.tasks.queue import diverted

T = TypeVar("T")

Handler = Callable[..., Any]
"""Runs one task in process: ``handler(session, settings, *args, **kwargs)``."""


def ward_time(today: date, offset: int, clock: str = "00:00") -> datetime:
    """``HH:MM`` in Japan on the day ``offset`` days from ``today``, as UTC ("24:00" is the next midnight)."""
    hours, minutes = (int(part) for part in clock.split(":"))
    day = today + timedelta(days=offset + hours // 24)
    return datetime.combine(day, time(hours % 24, minutes), tzinfo=WARD_TIMEZONE).astimezone(UTC)


class UnplayedTask(RuntimeError):
    """An action left work for a worker that the demo does not run at the action's moment."""


@dataclass
class Step:
    when: datetime
    action: Callable[[], Any]
    label: str = ""


@dataclass
class Playback:
    """Plays actions at their moments through the services, on one session (committed after each action)."""

    session: Session
    settings: Settings
    handlers: Mapping[str, Handler | None] = field(default_factory=dict)
    """Tasks run in process (None: skipped); any other task is refused with :class:`UnplayedTask`."""
    _principals: dict[str, Principal | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.handlers = {DRAIN_TASK: None, SEND_EMAILS_TASK: None, DELIVER_TASK: None, **self.handlers}

    # --- people ----------------------------------------------------------------------------------

    def load_people(self, emails: Iterable[str]) -> None:
        """Look up the actors of a story at once (one query for the users)."""
        wanted = [email for email in emails if email not in self._principals]
        if not wanted:
            return
        found = {u.email: u for u in self.session.exec(select(User).where(col(User.email).in_(wanted))).all()}
        for email in wanted:
            user = found.get(email)
            self._principals[email] = Principal.load_by_id(self.session, user.id) if user and user.id else None  # type: ignore[arg-type]

    def actor(self, email: str) -> Principal | None:
        """The demo account as a signed-in request sees it; None when the core demo has not made it."""
        self.load_people([email])
        return self._principals[email]

    def has(self, *emails: str) -> bool:
        self.load_people(emails)
        return all(self._principals[email] is not None for email in emails)

    def user_id(self, email: str) -> int | None:
        principal = self.actor(email)
        return principal.user_id if principal is not None else None

    # --- acting ----------------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], T]) -> T:
        """Run ``action`` (a service call) as if it were ``when``, then the work it left for a worker.

        The action, and each piece of follow-up work, is committed as it ends, as a request's or a task's
        work is. ``cocreate demo`` gives a loader a plain session, on which the services commit their own
        work anyway; a loader run inside a unit of work (as the tests do) would otherwise see its services
        become savepoints, and a later action that reads apart from this session (a vote's checks read
        committed rows only) would not find what came before."""
        tasks: list[tuple[str, tuple[Any, ...], dict[str, Any], str | None]] = []
        with clock_at(when), diverted(lambda *task: tasks.append(task)):
            result = action()
            self.session.commit()
            while tasks:  # follow-up work may leave work of its own (a notification's e-mail)
                name, args, kwargs, _queue = tasks.pop(0)
                if name not in self.handlers:
                    raise UnplayedTask(f"a demo action left the task {name!r} for a worker: name the handler "
                                       "that runs it in process (Playback.handlers)")
                handler = self.handlers[name]
                if handler is not None:
                    handler(self.session, self.settings, *args, **kwargs)
                    self.session.commit()
        return result

    def play(self, steps: Iterable[Step]) -> int:
        """Run the steps in time order (those at one moment in the order given); returns how many ran."""
        ordered = sorted(steps, key=lambda step: step.when)
        for step in ordered:
            self.at(step.when, step.action)
        return len(ordered)

    @staticmethod
    def after(when: datetime, minutes: int) -> datetime:
        return when + timedelta(minutes=minutes)
