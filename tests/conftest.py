"""Fixtures shared by the unit and integration tests.

Database tests run on both SQLite and PostgreSQL: ``database_url`` is parametrized per session, so
every test that touches the database runs once per backend against a real, migrated database.
Tests commit for real (web requests, workers in other processes); the ``database`` fixture empties
every table afterwards instead of rolling back, because a rollback cannot reach other processes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, SQLModel

from cocreate import components
from cocreate.app import CSRF_COOKIE, create_app
from cocreate.audit.models import append_only_triggers, drop_append_only_triggers
from cocreate.db import Database, migrations
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from tests import servers

BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-key-not-for-production-0123456789"


@pytest.fixture(scope="session")
def postgres() -> Iterator[servers.PostgresServer]:
    server = servers.start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RedisServer]:
    server = servers.start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[servers.SmtpSink]:
    sink = servers.start_smtp_sink()
    yield sink
    sink.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database on each backend, shared by the session's tests (emptied after each)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cocreate-test.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database("cocreate_test")
    migrations.upgrade(Settings(database_url=url, data_dir=tmp_path_factory.mktemp("migrate")), "head")
    return url


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The broker the tests' apps and services send to. No worker consumes it (see ``worker_broker_url``)."""
    return f"sqla+sqlite:///{tmp_path_factory.mktemp('broker') / 'broker.sqlite3'}"


@pytest.fixture(scope="session")
def worker_broker_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The broker of the session's shared worker: only tests that ask for that worker send to it.

    Were it ``broker_url``, the worker would also run the tasks of every other test while that test
    counts its notifications and e-mails, or empties its tables.
    """
    return f"sqla+sqlite:///{tmp_path_factory.mktemp('worker-broker') / 'broker.sqlite3'}"


@pytest.fixture(autouse=True)
def _send_away_from_the_shared_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that pointed Celery at the shared worker's broker, point it back at ``broker_url``,
    so that the next test's services, which may never configure Celery themselves, do not feed it."""
    yield
    if "smtp_worker_settings" in request.fixturenames:
        worker_settings, _worker = request.getfixturevalue("smtp_worker_settings")
        configure_celery(worker_settings.model_copy(update={"broker_url": request.getfixturevalue("broker_url")}))


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "mail_url": f"file://{data_dir / 'mail'}",
        "write_rate_limit": 600,  # tests post faster than people; test_rate_limit.py sets its own
        "public_cache_seconds": 0,  # tests read their own writes as visitors at once; test_pagecache.py turns it on
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, broker_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url)


def empty_all_tables(engine: sa.Engine) -> None:
    # A real worker of an earlier test may still be reading when TRUNCATE asks for its exclusive lock;
    # PostgreSQL then breaks the deadlock by failing one side. Try again: the worker's read ends quickly.
    for attempt in range(5):
        try:
            _empty_all_tables(engine)
            return
        except sa.exc.OperationalError:
            if attempt == 4 or engine.dialect.name != "postgresql":
                raise
            time.sleep(0.2 * (attempt + 1))


def _empty_all_tables(engine: sa.Engine) -> None:
    components.load_models()
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            # audit_entry's append-only triggers reject DELETE. PostgreSQL's TRUNCATE above fires no
            # row triggers; on SQLite lift them inside this transaction and put the same DDL back.
            for statement in drop_append_only_triggers("sqlite"):
                conn.exec_driver_sql(statement)
            for table in tables:
                conn.execute(table.delete())
            for statement in append_only_triggers("sqlite"):
                conn.exec_driver_sql(statement)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    empty_all_tables(database.engine)
    database.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    # On SQLite the test's own session runs every statement in autocommit mode: it never holds the
    # write lock the app under test needs, nor a stale read snapshot that could not be upgraded to
    # a write after the app committed. (Its rollback() therefore undoes nothing on SQLite.)
    with Session(database.engine.execution_options(sqlite_autocommit=True), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def txn_session(database: Database) -> Iterator[Session]:
    """A transactional session for tests of commit and rollback semantics (not for use beside the app)."""
    with Session(database.engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client


def csrf_token(client: TestClient[Litestar]) -> str:
    """The CSRF token of the client's cookie jar (after a GET that set it)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/")
    return client.cookies[CSRF_COOKIE]


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.statements))


@contextmanager
def count_queries(engine: sa.Engine) -> Iterator[QueryLog]:
    """Record the SQL statements an engine runs (transaction control excluded)."""
    log = QueryLog()

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", statement, re.I):
            log.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def query_log(app: Litestar) -> Iterator[QueryLog]:
    """Queries the web app's own engine runs during the test."""
    with count_queries(app.state.database.engine) as log:
        yield log


@pytest.fixture(scope="session")
def xss_payloads() -> list[str]:
    """Hostile strings (one a line; a copy of the ward project's shared/data corpus kept in the repository,
    so that a clean checkout anywhere tests the same payloads), plus a few of our own."""
    path = Path(__file__).resolve().parent / "data" / "xss-payloads.txt"
    payloads = (
        [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if path.exists()
        else []
    )
    payloads += [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "[x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<svg/onload=alert(1)>",
        '=HYPERLINK("http://evil")',
    ]
    return payloads


@pytest.fixture(params=BACKENDS)
def postgres_or_sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend (for tests that migrate from nothing)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres").create_database(
        f"cocreate_empty_{tmp_path.name[-20:]}".lower()
    )


# --- a real Celery worker ---------------------------------------------------------------------


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        "COCREATE_ENV": "test",
        "COCREATE_DATA_DIR": str(settings.data_dir),
        "COCREATE_DATABASE_URL": settings.database_url,
        "COCREATE_BROKER_URL": settings.broker_url,
        "COCREATE_MAIL_URL": settings.mail_url,
        "COCREATE_SECRET_KEY": settings.signing_key(),
    }


@pytest.fixture(scope="session")
def worker_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker")


@pytest.fixture(scope="session")
def smtp_worker_settings(
    database_url: str, worker_broker_url: str, smtp_sink: servers.SmtpSink, worker_base: Path
) -> Iterator[tuple[Settings, servers.Worker]]:
    """One worker per database backend on its own embedded broker, sending mail to the SMTP sink.

    Tests that use it point Celery at its broker with ``configure_celery(worker_settings)``."""
    settings = Settings(
        env="test",
        data_dir=worker_base / "data",
        database_url=database_url,
        broker_url=worker_broker_url,
        mail_url=smtp_sink.url,
        secret_key="test-secret",
    )
    # Not the search queue: tests drain the search outbox themselves (indexer.process_pending) into their own
    # index, and a shared worker draining the same rows into its index would race them.
    worker = servers.start_worker(worker_env(settings), worker_base / f"worker-{settings.database_url[:6]}.log",
                                  queues="default")
    yield settings, worker
    worker.stop()
