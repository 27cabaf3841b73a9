"""Alembic environment: the metadata of every component, the database from cocreate settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from cocreate import components
from cocreate.db.engine import make_engine
from cocreate.settings import Settings

components.load()  # Alembic's own entry point is a composition root too
target_metadata = SQLModel.metadata

config = context.config
settings: Settings = config.attributes.get("settings") or Settings.from_env()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run_migrations()
