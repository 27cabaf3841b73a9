from __future__ import annotations

from celery import Celery

from cocreate import components
from cocreate.db import Database
from cocreate.settings import Settings

# One module-level app so that task decorators work at import time; it is configured from
# settings by ``configure_celery`` (web process, worker, beat and CLI alike) before use.
celery_app = Celery("cocreate", set_as_current=True)

_state: dict[str, object] = {}

# Tasks that write the search index go to their own queue, consumed by a single process: Whoosh
# allows one writer at a time.
SEARCH_QUEUE = "search"


def configure_celery(settings: Settings) -> Celery:
    """Point the Celery app at the broker in the settings; the composition root has loaded the components
    (:func:`cocreate.components.load`), so their tasks and beat schedule are known."""
    if settings.broker_url.startswith("sqla+"):
        # The SQLAlchemy transport hands broker_transport_options to create_engine(), so the
        # polling interval (default 1 s) has to be set on the transport class itself.
        from kombu.transport import sqlalchemy as kombu_sqla

        kombu_sqla.Transport.polling_interval = 0.1
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    previous = _state.get("settings")
    if previous is None or previous.broker_url != settings.broker_url:  # type: ignore[attr-defined]
        # Also on the first call: a task sent before any configuration (a service committing outside
        # an app, say) leaves pools bound to Celery's default broker behind.
        _drop_broker_connections()
    celery_app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # state lives in our database, never in Celery results
        task_acks_late=True,  # a task whose worker dies is redelivered; tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        timezone="Asia/Tokyo",
        enable_utc=True,
        beat_schedule=components.beat_schedule(),
        worker_hijack_root_logger=False,
    )
    _state["settings"] = settings
    _state.pop("database", None)
    return celery_app


def _drop_broker_connections() -> None:
    # Celery caches its broker connection and producer pools on first use; when one process points
    # the app at another broker (tests do, between the embedded broker and Redis), the old pools
    # must go, as Celery itself does after a fork (Celery._after_fork).
    # The old pools are not closed: kombu's global pool registry may hand them out again.
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


def task_settings() -> Settings:
    settings = _state.get("settings")
    if settings is None:
        raise RuntimeError("Celery is not configured; call configure_celery(settings) first")
    return settings  # type: ignore[return-value]


def task_database() -> Database:
    """The worker process's database, created on first use (after any fork)."""
    database = _state.get("database")
    if database is None:
        database = Database(task_settings())
        _state["database"] = database
    return database  # type: ignore[return-value]
