"""One permission question: ``can(actor, action, target) -> Decision``.

Each component declares a :class:`Policy` in its manifest (``permissions="proposals.permissions:POLICY"``):
a table of actions (``"question.answer"``, ``"booking.approve"``) and the rule that answers each. A
rule takes the acting :class:`~cocreate.accounts.permissions.Principal` and the target, and returns a
:class:`Decision` whose ``reason`` says, translated, why not. Rules compose named predicates
(:func:`signed_in`, :func:`confirmed`, :func:`staff_of`, a phase's :func:`proposals.phases.check`…)
with ``&``: the first refusal is the answer.

Rules read only the actor's roles and the facts carried by the target (a row, or a view of it that
holds what the rule needs, such as whether the actor is among a challenge's owners), never the
database. So the same answer serves services (``require(actor, "question.answer", target)`` before
they write), routes, and templates (``{% if can("question.answer", qa) %}``), which are rendered
after the request's database session has closed.

The role x route matrix in ``tests/cocreate/accounts/test_permission_matrix.py`` checks the rules
through every route; ``tests/cocreate/test_permissions.py`` checks this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cocreate.errors import Forbidden, Invalid, SignInRequired


@dataclass(frozen=True)
class Decision:
    """Allowed, or not with the reason to show (translated when the decision was made)."""

    allowed: bool
    reason: str = ""
    sign_in: bool = False
    """Refused only because nobody is signed in (pages then offer the sign-in form)."""
    field: str | None = None
    """Refused because of the target's state (e.g. its phase), not who asks: shown on the form, under
    this field, like any other error of what was sent."""

    def __bool__(self) -> bool:
        return self.allowed

    def __and__(self, other: Decision) -> Decision:
        """Both must allow; the first refusal (and its reason) is the answer."""
        return other if self.allowed else self

    def require(self, field: str | None = None) -> None:
        """Raise the domain error for a refusal: :class:`SignInRequired`, :class:`Forbidden`, or for a
        refusal because of the target's state :class:`Invalid` under ``field`` (default: its own)."""
        if self.allowed:
            return
        if self.field is not None:
            raise Invalid({field or self.field: self.reason})
        if self.sign_in:
            raise SignInRequired(self.reason or None)
        raise Forbidden(self.reason or None)


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, str(reason))


def when(condition: bool, reason: str | Callable[[], str]) -> Decision:
    """Allowed if ``condition``; else refused with ``reason`` (a callable is translated only when needed)."""
    if condition:
        return ALLOW
    return deny(reason() if callable(reason) else reason)


Rule = Callable[[Any, Any], Decision]
"""``(actor, target) -> Decision``."""


class Policy:
    """A component's actions and their rules (declared in its manifest)."""

    def __init__(self, component: str) -> None:
        self.component = component
        self.rules: dict[str, Rule] = {}

    def rule(self, *actions: str) -> Callable[[Rule], Rule]:
        """Register a function as the rule of one or more actions."""

        def register(rule: Rule) -> Rule:
            for action in actions:
                if action in self.rules:
                    raise ValueError(f"{self.component}: {action!r} has two rules")
                self.rules[action] = rule
            return rule

        return register


_rules: dict[str, Rule] = {}


def install(policies: Iterable[Policy]) -> None:
    """Make the components' policies answer :func:`can` (called by :func:`cocreate.components.load`)."""
    table: dict[str, Rule] = {}
    for policy in policies:
        for action, rule in policy.rules.items():
            if action in table:
                raise ValueError(f"{policy.component}: {action!r} is already declared by another component")
            table[action] = rule
    _rules.clear()
    _rules.update(table)


def actions() -> frozenset[str]:
    return frozenset(_rules)


def can(actor: Any, action: str, target: Any = None) -> Decision:
    """Whether ``actor`` may do ``action`` to ``target``; an undeclared action is a programming error."""
    try:
        rule = _rules[action]
    except KeyError:
        raise LookupError(f"no component declares the action {action!r}") from None
    return rule(actor, target)


def require(actor: Any, action: str, target: Any = None, *, field: str | None = None) -> None:
    """Raise the domain error of the refusal unless ``actor`` may do ``action`` (see :meth:`Decision.require`)."""
    can(actor, action, target).require(field)


# --- named predicates shared by the components' rules ----------------------------------------------


def signed_in(actor: Any, reason: str | None = None) -> Decision:
    if getattr(actor, "user", None) is not None:
        return ALLOW
    from cocreate.i18n import gettext as _

    return Decision(False, reason or _("Sign in to continue."), sign_in=True)


def confirmed(actor: Any, reason: str | Callable[[], str] | None = None) -> Decision:
    """Signed in with a confirmed e-mail address and an active account."""
    first = signed_in(actor)
    if not first:
        return first
    user = actor.user
    if user.is_confirmed and user.is_active:
        return ALLOW
    from cocreate.i18n import gettext as _

    return deny((reason() if callable(reason) else reason) or _("Confirm your e-mail address first."))


def admin(actor: Any) -> Decision:
    from cocreate.i18n import gettext as _

    return signed_in(actor) & when(bool(getattr(actor, "is_admin", False)),
                                   lambda: _("You do not have permission to do this."))


def staff_of(actor: Any, department_ids: Iterable[int | None], reason: str | Callable[[], str] | None = None) -> Decision:
    """Staff of one of ``department_ids`` (administrators are not staff by that alone)."""
    from cocreate.i18n import gettext as _

    mine = getattr(actor, "staff_department_ids", frozenset())
    return signed_in(actor) & when(any(department in mine for department in department_ids),
                                   reason or (lambda: _("You do not have permission to do this.")))
