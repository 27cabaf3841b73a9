"""``cocreate create-admin``, run as a real process on a fresh embedded database."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate import audit
from cocreate.accounts import passwords
from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.app import create_app
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.settings import Settings
from tests.cocreate.test_cli import ROOT, cli, cli_env, ok
from tests.factories import create_user, sign_in
from tests.helpers import TEST_SECRET

PASSWORD = "a strong admin password"


def create_admin(data_dir: Path, *args: str, stdin: str, tty_free: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the command with ``stdin``; in a new session, so it has no terminal to prompt on."""
    return subprocess.run(
        [sys.executable, "-m", "cocreate.cli", "create-admin", *args],
        cwd=ROOT, env=cli_env(data_dir), input=stdin, capture_output=True, text=True, timeout=60,
        check=False, start_new_session=tty_free,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("migrated") / "data"
    ok(cli(cli_env(data_dir), "db", "upgrade"))
    return data_dir


@pytest.fixture
def data_dir(migrated: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(migrated, target)
    return target


def settings_for(data_dir: Path) -> Settings:
    return Settings(env="test", data_dir=data_dir, secret_key=TEST_SECRET)


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(data_dir / "cocreate.sqlite3")
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_create_admin_then_sign_in_to_the_admin_pages(data_dir: Path) -> None:
    result = create_admin(data_dir, "--email", "Admin@Example.jp", "--display-name", "区 管理者", "--password-stdin",
                          stdin=PASSWORD + "\n")
    out = ok(result)
    assert "account admin@example.jp (#1) created; granted the administrator role." in out
    assert PASSWORD not in out + result.stderr

    database = Database(settings_for(data_dir))
    try:
        with Session(database.engine) as session:
            user = session.exec(select(User)).one()
            assert (user.email, user.display_name, user.is_confirmed) == ("admin@example.jp", "区 管理者", True)
            assert passwords.verify_password(user.password_hash, PASSWORD)
            assert [a.role for a in session.exec(select(RoleAssignment)).all()] == [Role.ADMIN]
            log = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
            assert [(e.action, e.actor_label, e.actor_id, e.target_id) for e in log] == [
                ("user.created", "cli", None, str(user.id)), ("role.granted", "cli", None, str(user.id))]
            assert audit.verify(session).ok
    finally:
        database.dispose()
    assert "audit log intact: 2 entries" in ok(cli(cli_env(data_dir), "audit", "verify"))

    with TestClient(create_app(settings_for(data_dir)), base_url="http://testserver.local") as client:
        sign_in(client, "admin@example.jp", PASSWORD)
        assert client.get("/admin").status_code == 200


def test_prompts_for_the_password_twice(data_dir: Path) -> None:
    mismatch = create_admin(data_dir, "--email", "a@example.jp", "--display-name", "A",
                            stdin=f"{PASSWORD}\nsomething else\n")
    assert mismatch.returncode != 0
    assert rows(data_dir, "SELECT count(*) FROM user_account") == [(0,)]

    typed = create_admin(data_dir, "--email", "a@example.jp", "--display-name", "A", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert "created; granted the administrator role" in ok(typed)
    assert PASSWORD not in typed.stdout
    assert rows(data_dir, "SELECT role FROM role_assignment") == [("admin",)]


def test_promotes_an_existing_account_once(data_dir: Path) -> None:
    database = Database(settings_for(data_dir))
    try:
        with Session(database.engine, expire_on_commit=False) as session:
            resident = create_user(session, "hanako@example.jp", display_name="はなこ", confirmed=False)
            epoch = resident.session_epoch
    finally:
        database.dispose()

    first = ok(create_admin(data_dir, "--email", "hanako@example.jp", "--display-name", "ignored",
                            "--password-stdin", stdin=PASSWORD))
    assert "updated (new password, signed out everywhere); granted the administrator role." in first
    second = ok(create_admin(data_dir, "--email", "HANAKO@example.jp", "--display-name", "ignored",
                             "--password-stdin", stdin=PASSWORD + "2\n"))
    assert "already an administrator" in second

    (user,) = rows(data_dir, "SELECT display_name, email_confirmed_at IS NOT NULL, session_epoch, password_hash "
                             "FROM user_account")
    assert user[:3] == ("はなこ", 1, epoch + 2)
    assert passwords.verify_password(str(user[3]), PASSWORD + "2")
    assert rows(data_dir, "SELECT role, department_id FROM role_assignment") == [("admin", None)]
    actions = [row[0] for row in rows(data_dir, "SELECT action FROM audit_entry ORDER BY id")]
    assert actions == ["user.password_set", "role.granted", "user.password_set"]
    assert "audit log intact: 3 entries" in ok(cli(cli_env(data_dir), "audit", "verify"))


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("--email", "not-an-address", "--display-name", "A"), PASSWORD, "Enter an e-mail address like name@example.jp"),
    (("--email", "a@example.jp", "--display-name", ""), PASSWORD, "Enter a display name"),
    (("--email", "a@example.jp", "--display-name", "x" * 51), PASSWORD, "at most 50 characters"),
    (("--email", "a@example.jp", "--display-name", "A"), "short", "at least 10 characters"),
    (("--email", "a@example.jp", "--display-name", "A"), "", "at least 10 characters"),
    (("--email", "a@example.jp", "--display-name", "A"), "x" * 300, "at most 256 characters"),
    (("--email", "a@example.jp", "--display-name", "A"), "a@example.jp", "must not be your e-mail address"),
])
def test_refuses_bad_input_and_changes_nothing(data_dir: Path, args: tuple[str, ...], stdin: str,
                                               message: str) -> None:
    result = create_admin(data_dir, *args, "--password-stdin", stdin=stdin + "\n")
    assert result.returncode == 1, result.stdout
    assert message in result.stderr
    assert rows(data_dir, "SELECT count(*) FROM user_account") == [(0,)]
    assert rows(data_dir, "SELECT count(*) FROM audit_entry") == [(0,)]


def test_refuses_a_blocked_account_and_an_unmigrated_database(data_dir: Path, tmp_path: Path) -> None:
    database = Database(settings_for(data_dir))
    try:
        with Session(database.engine) as session:
            user = create_user(session, "blocked@example.jp")
            user.blocked_at = user.created_at
            session.add(user)
            session.commit()
    finally:
        database.dispose()
    blocked = create_admin(data_dir, "--email", "blocked@example.jp", "--display-name", "B", "--password-stdin",
                           stdin=PASSWORD)
    assert blocked.returncode == 1 and "blocked" in blocked.stderr
    assert rows(data_dir, "SELECT count(*) FROM role_assignment") == [(0,)]

    empty = create_admin(tmp_path / "empty", "--email", "a@example.jp", "--display-name", "A", "--password-stdin",
                         stdin=PASSWORD)
    assert empty.returncode == 1 and "run `cocreate db upgrade` first" in empty.stderr
    assert "Traceback" not in empty.stderr
