"""What a survey can belong to besides the whole site: the surveyable things the components declare.

Surveys are the core's; what a survey is about (a challenge, a trial) is a component's. A component lists
its targets in its manifest (``Component.surveyables="proposals.survey_targets:TARGETS"``, a list of
:class:`SurveyTarget`), and surveys ask a target, never the component's modules, what they need to know:
whether the thing exists, its title, its page, whether the public sees it, and which departments own it
(their staff manage its surveys, see ``survey.manage`` in :mod:`cocreate.accounts.policy`).

A survey's ``target_type`` is its target's :attr:`SurveyTarget.name` ("" for the whole site); a type no
manifest declares is not found, whatever the id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session

from cocreate import components
from cocreate.errors import NotFound


@dataclass(frozen=True)
class Surveyed:
    """One surveyable thing, as surveys see it (built by its :class:`SurveyTarget`'s ``load``)."""

    kind: SurveyTarget
    id: int
    title: str
    department_ids: frozenset[int]
    """The departments that own it: their staff manage its surveys."""
    public: bool
    """Whether everyone sees it (a draft challenge or an unpublished trial does not, nor do its surveys)."""

    @property
    def type(self) -> str:
        return self.kind.name

    @property
    def route_params(self) -> dict[str, int]:
        """The path parameters of its page: ``url_for(target.kind.route, **target.route_params)``."""
        return {self.kind.param: self.id}


@dataclass(frozen=True)
class SurveyTarget:
    """One type of thing a survey can belong to (``Survey.target_type`` is its :attr:`name`)."""

    name: str
    label: Any
    """A lazy_gettext string naming the type ("Challenge")."""
    route: str
    """The name of the route of the thing's page (``challenge-detail``)."""
    param: str
    """The name of the id in that route's path (``challenge_id``)."""
    load_many: Callable[[Session, Sequence[int]], dict[int, Surveyed]]
    """``load_many(session, ids)``: the things that exist, by id, in a bounded number of queries."""
    choices: Callable[[Session], list[tuple[int, str]]] = lambda session: []
    """``choices(session)``: (id, title) of the things staff may pick for a new survey (bounded, newest first)."""


@cache
def _registry() -> dict[str, SurveyTarget]:
    result: dict[str, SurveyTarget] = {}
    for target in components.surveyables():
        if target.name in result or not target.name:
            raise ValueError(f"surveyable target {target.name!r} is declared twice or has no name")
        result[target.name] = target
    return result


def load_one(kind: SurveyTarget, session: Session, target_id: int) -> Surveyed:
    found = kind.load_many(session, [target_id]).get(target_id)
    if found is None:
        raise NotFound()
    return found


def all_targets() -> list[SurveyTarget]:
    """Every surveyable target, in manifest order."""
    return list(_registry().values())


def target(name: str) -> SurveyTarget:
    """The target type ``name``; :class:`NotFound` for a type no manifest declares."""
    found = _registry().get(name)
    if found is None:
        raise NotFound()
    return found


def load(session: Session, target_type: str, target_id: int) -> Surveyed:
    """The thing a survey belongs to; NotFound for an unknown type or id."""
    return load_one(target(target_type), session, target_id)


def load_all(session: Session, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Surveyed]:
    """Many things (``(type, id)`` pairs), one batch per type; unknown types and ids are left out."""
    wanted: dict[str, list[int]] = {}
    for kind, target_id in keys:
        if kind in _registry():
            wanted.setdefault(kind, []).append(target_id)
    found: dict[tuple[str, int], Surveyed] = {}
    for kind, ids in wanted.items():
        for target_id, thing in _registry()[kind].load_many(session, sorted(set(ids))).items():
            found[(kind, target_id)] = thing
    return found
