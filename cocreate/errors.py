"""Domain errors every part of the platform raises and the web layer maps to HTTP."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Field name -> translated message; nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors
