"""Reachability checks for ``cocreate check`` (and the health page)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cocreate.settings import Settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def check_database(settings: Settings) -> CheckResult:
    from cocreate.db import Database, migrations

    database = Database(settings)
    try:
        database.ping()
        revision = migrations.current(settings)
        head = migrations.head()
        if revision != head:
            return CheckResult(
                "database",
                False,
                f"{database.dialect}: at {revision or 'no revision'}, "
                f"newest is {head}: run `cocreate db upgrade`",
            )
        return CheckResult("database", True, f"{database.dialect}, migrations at {revision}")
    except Exception as exc:
        return CheckResult("database", False, f"{type(exc).__name__}: {exc}")
    finally:
        database.dispose()


def check_broker(settings: Settings, timeout: float) -> CheckResult:
    from kombu import Connection

    from cocreate.tasks import configure_celery

    configure_celery(settings)
    try:
        with Connection(settings.broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        return CheckResult("broker", True, urlsplit(settings.broker_url).scheme)
    except Exception as exc:
        return CheckResult("broker", False, f"{type(exc).__name__}: {exc}")


def check_worker(settings: Settings) -> CheckResult:
    from cocreate.db import Database
    from cocreate.db.base import utcnow
    from cocreate.tasks import heartbeat

    database = Database(settings)
    try:
        with database.session() as session:
            latest = heartbeat.latest(session)
        if latest is None:
            return CheckResult("worker", False, "no worker has reported yet")
        age = int((utcnow() - latest.seen_at).total_seconds())
        ok = age < 180
        return CheckResult("worker", ok, f"last heartbeat {age} s ago from {latest.hostname}")
    except Exception as exc:
        return CheckResult("worker", False, f"{type(exc).__name__}: {exc}")
    finally:
        database.dispose()


def check_index(settings: Settings) -> CheckResult:
    folder = settings.search_index_dir
    assert folder is not None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-check"
        probe.write_text("ok")
        probe.unlink()
        return CheckResult("index", True, f"{folder} is writable")
    except OSError as exc:
        return CheckResult("index", False, f"{folder}: {exc}")


def check_mail(settings: Settings, timeout: float) -> CheckResult:
    url = urlsplit(settings.mail_url)
    if url.scheme == "file":
        folder = Path(unquote(url.path))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return CheckResult("mail", True, f"written as files to {folder}")
        except OSError as exc:
            return CheckResult("mail", False, f"{folder}: {exc}")
    try:
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(url.hostname or "localhost", url.port or 25, timeout=timeout) as client:
            client.noop()
        return CheckResult("mail", True, f"SMTP server {url.hostname}:{url.port} answers")
    except OSError as exc:
        return CheckResult("mail", False, f"{type(exc).__name__}: {exc}")


def run_all(settings: Settings, timeout: float = 3.0) -> list[CheckResult]:
    return [
        check_database(settings),
        check_broker(settings, timeout),
        check_worker(settings),
        check_index(settings),
        check_mail(settings, timeout),
    ]
