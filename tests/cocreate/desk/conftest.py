"""The support desk's world: a desk member, staff, a resident, and a challenge that takes comments."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from cocreate.accounts.models import Role
from tests.factories import create_challenge, create_department, create_user

World = dict[str, Any]


@pytest.fixture
def world(session: Session) -> World:
    department = create_department(session)
    return {
        "department": department,
        "desk": create_user(session, "desk@example.jp", display_name="地域センター 窓口", roles=[Role.SUPPORT_DESK]),
        "staff": create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
        "resident": create_user(session, "resident@example.jp", display_name="区民 花子"),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        "challenge": create_challenge(session, department, phase="published"),
        "draft": create_challenge(session, department, phase="draft", title="下書きの課題"),
    }
