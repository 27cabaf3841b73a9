"""Fixtures shared by the unit and integration tests (helpers to import are in tests/helpers.py).

How the database is shared, as in Warehouse's test set-up:

- Each xdist worker migrates one SQLite database (and, when a test needs it, one PostgreSQL database in
  a throwaway cluster) once, and builds the app once per backend.
- Each test runs inside one transaction on one connection that is rolled back at the end; the app's
  session factories, the test's ``session`` and any :class:`Database` method are bound to that
  connection (``join_transaction_mode="create_savepoint"``), so services commit and roll back
  savepoints as usual and nothing needs emptying afterwards.
- Tests whose data must be seen by other connections or processes (real Celery workers, servers,
  threads racing each other, CLI subprocesses) are marked ``committed``: they commit for real, and
  afterwards the tables that got rows are emptied.
- A test runs on SQLite only, unless its ``databases`` marker names PostgreSQL too: the behaviour
  of locks, constraints, concurrency, migrations and dialect-specific SQL. Every test that uses the
  database says which, and why, in that marker (tests without one fail at collection); the other
  backend's items are deselected, not skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, SQLModel

from cocreate import components
from cocreate.accounts import passwords
from cocreate.accounts.consents import forget_versions
from cocreate.app import create_app
from cocreate.audit.models import append_only_triggers, drop_append_only_triggers
from cocreate.db import Database, migrations
from cocreate.pages.seed import seed_missing
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from cocreate.web.ratelimit import RATE_LIMIT_STORE, DatabaseCountingStore
from tests import servers
from tests.helpers import QueryLog, count_queries, make_settings, worker_env

BACKENDS = ("sqlite", "postgresql")
DATABASE_FIXTURES = {"database_url", "postgres_or_sqlite_url"}


def pytest_configure(config: pytest.Config) -> None:
    passwords.configure("fast-for-tests")  # also for the factories' hashes; one test checks the real profile
    components.load()  # the tests' composition root, as create_app, the CLI and Alembic are the platform's


def _backend(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for name in DATABASE_FIXTURES:
        if name in callspec.params:
            return callspec.params[name]
    return None


COMMITTING_FIXTURES = {"smtp_worker_settings", "redis_worker"}
XDIST_GROUPS = {
    "live_server": "e2e",  # the browser journeys of one module share a live server (and Chromium)
    "smtp_worker_settings": "celery-worker",  # one real Celery worker per backend
    "redis_worker": "redis",
    "redis_server": "redis",
    "oidc_server": "oidc",  # one npm oidc-provider
    "site": "live-site",  # a module's own live server (bursts, faults)
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    missing: list[str] = []
    for item in items:
        backend = _backend(item)
        if backend is not None:
            marker = item.get_closest_marker("databases")
            if marker is None:
                missing.append(item.nodeid)
                continue
            if backend not in marker.args:
                deselected.append(item)
                continue
        fixtures = set(getattr(item, "fixturenames", ()))
        real_worker = bool(fixtures & COMMITTING_FIXTURES) or item.get_closest_marker("worker") is not None
        if real_worker and item.get_closest_marker("committed") is None:
            item.add_marker(pytest.mark.committed("a real worker process reads what the test wrote"))
        for fixture, group in XDIST_GROUPS.items():
            if fixture in fixtures:
                if group == "e2e":  # a live server per module: the journeys spread over the workers
                    group = f"e2e-{Path(str(item.path)).stem}"
                item.add_marker(pytest.mark.xdist_group(group))
                break
        selected.append(item)
    if missing:
        modules = sorted({nodeid.split("::")[0] for nodeid in missing})
        raise pytest.UsageError(
            "tests in these modules use the database but do not say on which backends, and why "
            "(pytest.mark.databases(\"sqlite\", why=...)):\n  " + "\n  ".join(modules)
        )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


# --- real servers, once per xdist worker ---------------------------------------------------------


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


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# --- the database and the app, once per backend ----------------------------------------------------


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database on each backend, shared by the worker's tests."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cocreate-test.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"cocreate_test_{_worker_id()}")
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
    counts its notifications and e-mails.
    """
    return f"sqla+sqlite:///{tmp_path_factory.mktemp('worker-broker') / 'broker.sqlite3'}"


@pytest.fixture(scope="session")
def shared_app(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    """The app, built once per backend (about a second of Litestar start-up each time it is built)."""
    settings = make_settings(tmp_path_factory.mktemp("app") / "data", database_url=database_url, broker_url=broker_url)
    app = create_app(settings)
    yield app
    app.state.database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, broker_url: str) -> Settings:
    """This test's settings: the shared database, its own data folder (mail, index, uploads)."""
    return make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url)


@contextmanager
def one_transaction(database: Database) -> Iterator[sa.Connection]:
    """Bind every session of ``database`` to one connection in a transaction that is rolled back."""
    connection = database.engine.connect()
    outer = connection.begin()
    factories = ((database.session_factory, database.engine), (database.read_session_factory, database.read_engine),
                 (database.statement_session_factory, database.statement_engine))
    for factory, _engine in factories:
        factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        for factory, engine in factories:
            factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        if outer.is_active:
            outer.rollback()
        connection.close()


def empty_tables_with_rows(engine: sa.Engine) -> None:
    """After a test that committed: empty the tables that got rows (and only those)."""
    components.load()
    # A real worker of the test may still be reading when TRUNCATE asks for its exclusive lock;
    # PostgreSQL then breaks the deadlock by failing one side. Try again: the worker's read ends quickly.
    for attempt in range(5):
        try:
            _empty(engine)
            return
        except sa.exc.OperationalError:
            if attempt == 4 or engine.dialect.name != "postgresql":
                raise
            time.sleep(0.2 * (attempt + 1))


def _empty(engine: sa.Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        used = [t for t in tables if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]
        if not used:
            return
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in used)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            # audit_entry's append-only triggers reject DELETE. PostgreSQL's TRUNCATE above fires no
            # row triggers; on SQLite lift them inside this transaction and put the same DDL back.
            for statement in drop_append_only_triggers("sqlite"):
                conn.exec_driver_sql(statement)
            for table in used:
                conn.execute(table.delete())
            for statement in append_only_triggers("sqlite"):
                conn.exec_driver_sql(statement)
        # The site pages are part of the schema's content (the migration writes their first revision): put back.
        seed_missing(conn)


def is_committed(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("committed") is not None


def _forget_rate_counters(app: Litestar) -> None:
    """On SQLite the rate-limit counters have a file of their own (``cocreate.web.ratelimit.counter_database``),
    outside the test's rolled-back transaction: each test starts with none, as it starts with no rows."""
    store = app.stores.get(RATE_LIMIT_STORE)
    if isinstance(store, DatabaseCountingStore) and store.database is not app.state.database:
        store._delete(None)


@pytest.fixture
def database(shared_app: Litestar, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The app's database: bound to this test's rolled-back transaction, or, for ``committed`` tests,
    committing for real and emptied of what the test left afterwards."""
    database: Database = shared_app.state.database
    _forget_rate_counters(shared_app)
    if is_committed(request):
        yield database
        empty_tables_with_rows(database.engine)
        return
    with one_transaction(database):
        yield database


@pytest.fixture
def app(shared_app: Litestar, database: Database, settings: Settings) -> Iterator[Litestar]:
    """The shared app, answering with this test's settings (data folder, mail, index)."""
    previous = shared_app.state.settings
    shared_app.state.settings = settings
    configure_celery(settings)
    try:
        yield shared_app
    finally:
        shared_app.state.settings = previous


@pytest.fixture
def fresh_app(settings: Settings, database: Database) -> Litestar:
    """An app of this test's own (for tests that register extra routes or change app-wide settings),
    on the same database and transaction."""
    return create_app(settings, database=database)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def session(database: Database, request: pytest.FixtureRequest) -> Iterator[Session]:
    """The test's own session, on the test's transaction (or, for ``committed`` tests, committing every
    statement on its own, so that it never holds a lock or a stale snapshot the app under test needs)."""
    if is_committed(request):
        with Session(database.engine.execution_options(sqlite_autocommit=True), expire_on_commit=False) as session:
            yield session
        return
    with database.session_factory() as session:
        yield session


@pytest.fixture
def txn_session(database: Database, session: Session, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A transactional session for tests of commit and rollback semantics. On the test's transaction
    that is ``session`` itself (its commits and rollbacks are savepoints'; two sessions taking turns
    with savepoints on one connection would release each other's)."""
    if not is_committed(request):
        yield session
        return
    with Session(database.engine, expire_on_commit=False) as own:
        yield own


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
        f"cocreate_empty_{_worker_id()}_{tmp_path.name[-20:]}".lower()
    )


# --- a real Celery worker ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def worker_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker")


@pytest.fixture(scope="session")
def smtp_worker_settings(
    database_url: str, worker_broker_url: str, smtp_sink: servers.SmtpSink, worker_base: Path
) -> Iterator[tuple[Settings, servers.Worker]]:
    """One worker per database backend on its own embedded broker, sending mail to the SMTP sink.

    Tests that use it are ``committed`` (the worker reads what they wrote) and point Celery at its
    broker with ``configure_celery(worker_settings)``."""
    settings = make_settings(
        worker_base / "data",
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


@pytest.fixture(autouse=True)
def _forget_published_versions() -> Iterator[None]:
    """The published versions of the terms are kept per process for a few seconds; a test that published
    one rolls it back, so the next test reads them again."""
    yield
    forget_versions()


@pytest.fixture(autouse=True)
def _send_away_from_the_shared_worker(request: pytest.FixtureRequest) -> None:
    """Keep tasks away from the shared worker unless the test asked for it.

    Before the test, whatever the previous test or fixture left configured: a service committing here, which
    may never configure Celery itself, would otherwise feed the worker, and the worker would race the test
    (it did: it claimed an e-mail a test was about to deliver)."""
    from cocreate.tasks import celery_app

    if "smtp_worker_settings" not in request.fixturenames:
        broker = request.getfixturevalue("broker_url")
        if celery_app.conf.broker_url != broker:
            folder = request.getfixturevalue("tmp_path_factory").getbasetemp() / "celery"
            configure_celery(Settings(env="test", data_dir=folder, broker_url=broker))
