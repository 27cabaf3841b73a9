"""Pages that gather several forms (Q&A, comments, briefings, votes) keep every DOM id unique."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)

pytestmark = pytest.mark.databases("sqlite", why="DOM ids are Python")

ID = re.compile(r'\sid="([^"]+)"')


def duplicates(html: str) -> list[str]:
    return [name for name, count in Counter(ID.findall(html)).items() if count > 1]


def test_challenge_and_proposal_pages_have_unique_ids(client: TestClient[Litestar], session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="accepting")
    admin = create_user(session, "org@example.jp")
    organisation = create_organisation(session, admin=admin, verified=True)
    proposal = create_proposal(session, challenge, organisation, author=admin)
    resident = create_user(session, "resident@example.jp")
    sign_in(client, resident)
    for path in (f"/challenges/{challenge.id}", f"/proposals/{proposal.id}"):
        page = client.get(path)
        assert page.status_code == 200
        assert duplicates(page.text) == [], f"duplicate ids on {path}"
    assert 'id="field-body"' in client.get(f"/challenges/{challenge.id}").text  # the question box
    assert 'id="field-comment-body"' in client.get(f"/challenges/{challenge.id}").text
