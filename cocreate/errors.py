"""What a service says when it refuses: domain errors, independent of HTTP.

Services, tasks and the CLI raise these; ``cocreate/web/errors.py`` maps them to HTTP answers in one
place (404, 403, 401 or the sign-in form, 400 with the errors per field, 409), as a translated page
or as JSON under ``/api/``. Routes that re-render a form catch :class:`Invalid` themselves to show
the errors beside the fields. A unit of work (:func:`cocreate.db.unit_of_work`) rolls back whatever
was written before one of these is raised, so raising is all a service has to do.
"""

from __future__ import annotations

from typing import ClassVar

from cocreate.i18n import gettext as _


class DomainError(Exception):
    """A refusal with a translated reason; nothing was changed."""

    status_code: ClassVar[int] = 400

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail()
        super().__init__(self.detail)

    @staticmethod
    def default_detail() -> str:
        return _("The request could not be processed")


class NotFound(DomainError, LookupError):
    """The thing does not exist, or the actor may not know that it does (HTTP 404)."""

    status_code = 404

    @staticmethod
    def default_detail() -> str:
        return _("Page not found")


class Forbidden(DomainError):
    """The actor may not do this (HTTP 403 with the reason)."""

    status_code = 403

    @staticmethod
    def default_detail() -> str:
        return _("You do not have permission to do this.")


class SignInRequired(DomainError):
    """Nobody is signed in (pages send the browser to the sign-in form, the API answers 401)."""

    status_code = 401

    @staticmethod
    def default_detail() -> str:
        return _("Sign in to continue.")


class Invalid(DomainError):
    """What was sent breaks a rule: field name -> translated message (HTTP 400, or the form again)."""

    status_code = 400

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(next(iter(errors.values()), None))


class Conflict(DomainError):
    """The request fits the rules but not the current state, e.g. it was already done (HTTP 409)."""

    status_code = 409

    @staticmethod
    def default_detail() -> str:
        return _("This was changed in the meantime. Reload the page and try again.")
