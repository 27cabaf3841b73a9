"""Every form post of the app, filled with hostile values, answers without a server error.

The feature tests check each form's own validation; this sweep is the safety net across all of them:
every unsafe route (from the permission matrix, as a person allowed to use it) gets every field name the
templates use, each set to one hostile value at a time: empty, huge, markup, control characters, and
numbers and dates that are not. A 500 anywhere fails the test with the route and the value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.app import create_app
from cocreate.db import Database
from cocreate.settings import Settings
from tests.cocreate.accounts.test_permission_matrix import (
    EXEMPT,
    MATRIX,
    PERSONAS,
    _build_world,
    _path,
    _sign_in_directly,
)
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="form handling is database-independent; the sweep runs on SQLite")

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HOSTILE = ["", "x" * 100_001, "<script>alert(1)</script>", "-1", "abc", "9" * 40, "2026-02-30T25:61",
           "\x00\x1b", "１２３", "[]", "null"]
POSTS = sorted((pattern, rule) for (method, pattern), rule in MATRIX.items() if method == "POST" and rule != EXEMPT)
# Sign-out, sign-in and session routes change who is signed in for the rest of the sweep; they have their own tests.
SKIP = re.compile(r"^/account/(sign-out|sign-in|register|password/forgot|reset)")


def form_field_names() -> list[str]:
    """Every field name the templates post: ``name="…"`` attributes and the form macros' first arguments."""
    names: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        names.update(re.findall(r'\bname="([A-Za-z_][\w-]*)"', text))
        names.update(re.findall(r'forms\.\w+\(\s*"([A-Za-z_][\w-]*)"', text))
    names.discard("_csrf_token")
    # Numbered rows are written with a loop variable: cover the first rows of each.
    for prefix in ("period", "kpi", "criterion", "hours", "photo"):
        for number in range(3):
            names.update({f"{prefix}-{number}-start", f"{prefix}-{number}-end", f"{prefix}-{number}-opens",
                          f"{prefix}-{number}-closes", f"{prefix}-{number}-indicator", f"{prefix}-{number}-target",
                          f"{prefix}-{number}-baseline", f"{prefix}-{number}-unit", f"{prefix}-{number}-name",
                          f"{prefix}-{number}-weight"})
    return sorted(names)


@pytest.fixture
def sqlite_app(settings: Settings, database: Database) -> Litestar:
    # The sweep posts far faster than people do: lift the write rate limit so every post is handled.
    return create_app(settings.model_copy(update={"write_rate_limit": 1_000_000}), database=database)


def test_no_form_post_answers_with_a_server_error(sqlite_app: Litestar, database: Database, session: Session) -> None:
    world = _build_world(session, sqlite_app.state.settings.upload_dir)
    names = form_field_names()
    assert len(names) > 100  # the templates were found
    errors = []
    for pattern, allowed in POSTS:
        if SKIP.match(pattern):
            continue
        assert isinstance(allowed, frozenset)
        persona = next((p for p in reversed(PERSONAS) if p in allowed), "anonymous")
        path = _path(pattern, world)
        with TestClient(sqlite_app, base_url="http://testserver.local") as client:
            if persona != "anonymous":
                _sign_in_directly(client, database, world.users[persona])
            token = csrf_token(client)
            for value in HOSTILE:
                data = {name: value for name in names}
                data["_csrf_token"] = token
                response = client.post(path, data=data, follow_redirects=False)
                assert response.status_code != 429, "rate limited: the sweep would not reach the form"
                if response.status_code >= 500:
                    errors.append(f"POST {path} as {persona} with {value[:30]!r}: {response.status_code}")
    assert not errors, "\n".join(errors)
