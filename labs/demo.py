"""Demo content of the labs component (being written)."""

from __future__ import annotations

from sqlmodel import Session

from cocreate.settings import Settings


def load(session: Session, settings: Settings) -> None:
    """Load the labs demo content; idempotent."""
