"""Migrations and models agree, on both databases; the SQLite connection is set up as designed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from cocreate import components
from cocreate.db import Database, migrations
from cocreate.settings import Settings

pytestmark = [
    pytest.mark.databases("sqlite", "postgresql", why="migrations and the schema they build differ per database"),
    pytest.mark.committed("Alembic inspects the database on a connection of its own"),
]


def test_models_and_migrations_match(database: Database) -> None:
    components.load()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], (
        "models differ from migrations; write one with `cocreate db revision -m ...`:\n"
        + "\n".join(map(str, differences))
    )


def test_database_is_at_the_newest_revision(settings: Settings, database: Database) -> None:
    assert migrations.current(settings) == migrations.head()


def test_every_migration_downgrades_and_upgrades_again(tmp_path, postgres_or_sqlite_url: str) -> None:
    settings = Settings(database_url=postgres_or_sqlite_url, data_dir=tmp_path)
    migrations.upgrade(settings, "head")
    migrations.downgrade(settings, "base")
    engine = sa.create_engine(postgres_or_sqlite_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrations.upgrade(settings, "head")
    assert migrations.current(settings) == migrations.head()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    database = Database(Settings(data_dir=tmp_path))
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_foreign_keys_are_enforced(database: Database) -> None:
    from proposals.models import Category, Challenge

    with database.session() as session:
        session.add(Challenge(title="t", summary="s", category=Category.ADMIN_DX, department_id=999_999))
        try:
            session.commit()
        except sa.exc.IntegrityError:
            session.rollback()
        else:
            raise AssertionError("a challenge pointing at a missing department was stored")
