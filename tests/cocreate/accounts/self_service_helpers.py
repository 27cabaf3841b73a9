"""Helpers shared by the account self-service, residency and privacy tests."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department, Role, User
from cocreate.mail import OutboundEmail
from tests.factories import create_department, create_user, sign_in
from tests.helpers import csrf_token

BASE_URL = "http://127.0.0.1:8000"


def post(client: TestClient[Litestar], path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A form post with the client's CSRF token; redirects are not followed."""
    form = {"_csrf_token": csrf_token(client)} | (data or {})
    return client.post(path, data=form, follow_redirects=False, **kwargs)


def new_client(app: Litestar) -> TestClient[Litestar]:
    return TestClient(app, base_url="http://testserver.local")


def emails_to(session: Session, to: str) -> list[OutboundEmail]:
    session.expire_all()
    return list(session.exec(select(OutboundEmail).where(OutboundEmail.to_address == to)
                             .order_by(col(OutboundEmail.id))).all())


def link_in(email: OutboundEmail) -> str:
    """The first link of an e-mail, as a path for the test client."""
    match = re.search(r"http://\S+", email.body_text)
    assert match is not None, email.body_text
    return match.group(0).removeprefix(BASE_URL)


def is_signed_in(client: TestClient[Litestar]) -> bool:
    return 'id="sign-out"' in client.get("/").text


def staff_department(session: Session) -> Department:
    return create_department(session)


def staff_user(session: Session, email: str = "staff@example.jp", display_name: str = "区職員 花子") -> User:
    department = session.exec(select(Department)).first() or create_department(session)
    return create_user(session, email, display_name=display_name, roles=[(Role.STAFF, department.id)])  # type: ignore[list-item]


def signed_in_client(app: Litestar, user: User) -> TestClient[Litestar]:
    client = new_client(app)
    sign_in(client, user)
    client.get("/")  # shows (and so consumes) the "signed in" flash
    return client


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
