"""argon2 takes a fifth of a second on purpose; no service holds the write lock (SQLite) or a row lock
(PostgreSQL) while it works, or every other writer would queue behind each sign-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate.accounts import admin, passwords, self_service, services
from cocreate.accounts.models import SignInThrottle, TokenPurpose, User
from cocreate.accounts.permissions import Principal
from cocreate.db import Database
from cocreate.settings import Settings
from tests.factories import PASSWORD, create_user

pytestmark = [
    pytest.mark.databases("sqlite", "postgresql", why="the write lock (SQLite) and row locks (PostgreSQL) differ"),
    pytest.mark.committed("the probe locks from a connection of its own"),
]


@pytest.fixture
def lock_probe(settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each time argon2 hashes or verifies, another writer tries to lock every user and throttle row
    within 0.1 s; records "free" or "locked"."""
    probe = Database(settings, wait_seconds=0.1)
    seen: list[str] = []

    def try_to_write() -> None:
        try:
            with probe.transaction() as other:
                other.exec(select(User).with_for_update()).all()
                other.exec(select(SignInThrottle).with_for_update()).all()
            seen.append("free")
        except sa.exc.OperationalError:
            seen.append("locked")

    def watched(real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            try_to_write()
            return real(*args)

        return call

    monkeypatch.setattr(passwords, "hash_password", watched(passwords.hash_password))
    monkeypatch.setattr(passwords, "verify_password", watched(passwords.verify_password))
    yield seen
    probe.dispose()


def _write_session(database: Database) -> Session:
    return database.session()


def test_sign_in_register_reset_and_change_hash_outside_any_lock(
    database: Database, settings: Settings, lock_probe: list[str]
) -> None:
    with database.transaction() as session:
        user = create_user(session, "hanako@example.jp")
    with _write_session(database) as session:
        services.authenticate(session, "hanako@example.jp", PASSWORD, "127.0.0.1")  # verify
        with pytest.raises(services.SignInFailed):
            services.authenticate(session, "hanako@example.jp", "wrong password!", "127.0.0.1")
        with pytest.raises(services.SignInFailed):
            services.authenticate(session, "nobody@example.jp", "wrong password!", "127.0.0.1")
        services.register(session, settings, services.RegistrationForm(
            email="taro@example.jp", display_name="太郎", password="a new long password",
            accept_terms=True, accept_privacy=True))
        token = services.issue_token(session, user, TokenPurpose.RESET_PASSWORD, services.RESET_PASSWORD_TTL)
        session.commit()
        services.reset_password(session, token, "another long password")
        actor = Principal.load(session, session.get(User, user.id))
        session.commit()
        self_service.change_password(session, settings, actor, "another long password", "a third long password")
        admin.create_admin(session, "admin@example.jp", "管理者", "an admin long password")
    assert len(lock_probe) >= 8
    assert set(lock_probe) == {"free"}, lock_probe
