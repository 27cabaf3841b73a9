"""Signed checkpoints anchor the audit log outside itself: a log cut short is detected, by the CLI
too, even when the checkpoints in the database are removed as well; the transparency page and feed
publish what anyone needs to check them."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate.audit import VerificationResult, checkpoints, verify
from cocreate.audit.models import AuditCheckpoint, AuditEntry
from cocreate.cli import main
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from tests.cocreate.audit.test_audit import cli_env, record_some, without_triggers
from tests.servers import Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="the checkpoint logic is Python; the chain itself runs on both")


def checkpoint_now(database: Database, settings: Settings) -> AuditCheckpoint:
    with database.transaction() as session:
        checkpoint = checkpoints.make(session, settings)
    assert checkpoint is not None
    checkpoints.write_anchor(settings, checkpoint)
    return checkpoint


def verdict(database: Database, settings: Settings) -> VerificationResult:
    with database.session() as session:
        return checkpoints.verify(session, settings)


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_a_log_cut_short_after_a_checkpoint_is_detected(settings: Settings, database: Database,
                                                        session: Session) -> None:
    entries = record_some(session, 5)
    signed = checkpoint_now(database, settings)
    assert (signed.entry_count, signed.head_id, signed.head_hash) == (5, entries[-1].id, entries[-1].entry_hash)
    assert verdict(database, settings).ok

    with without_triggers(database) as conn:
        conn.execute(sa.delete(AuditEntry).where(col(AuditEntry.id) > entries[2].id))
    with database.session() as fresh:
        assert verify(fresh).ok  # the chain alone cannot see it: what is left is a valid chain
    result = verdict(database, settings)
    assert not result.ok
    assert result.reason.startswith("truncated")

    cli = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(settings))
    assert cli.exit_code == 1
    assert "truncated" in cli.output


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_removing_the_checkpoints_too_is_caught_by_the_anchor_kept_outside_the_database(
        settings: Settings, database: Database, session: Session) -> None:
    entries = record_some(session, 4)
    checkpoint_now(database, settings)
    with without_triggers(database) as conn:
        conn.execute(sa.delete(AuditEntry).where(col(AuditEntry.id) == entries[-1].id))
        conn.execute(sa.delete(AuditCheckpoint))
    result = verdict(database, settings)
    assert not result.ok and result.reason.startswith("truncated")


@pytest.mark.committed("the forgery goes around the app, on a connection of its own")
def test_a_checkpoint_signed_with_another_key_is_refused(settings: Settings, database: Database,
                                                          session: Session) -> None:
    entries = record_some(session, 3)
    signed = checkpoint_now(database, settings)
    forger = Ed25519PrivateKey.generate()
    forged = forger.sign(checkpoints.statement(2, entries[1].id, entries[1].entry_hash, signed.created_at))  # type: ignore[arg-type]
    with database.transaction() as writing:
        writing.add(AuditCheckpoint(created_at=signed.created_at, entry_count=9, head_id=entries[1].id,  # type: ignore[arg-type]
                                    head_hash=entries[1].entry_hash, key_id=signed.key_id,
                                    signature=base64.b64encode(forged).decode()))
    settings.audit_anchor_path.unlink()
    result = verdict(database, settings)
    assert not result.ok and "signature" in result.reason


def test_an_unchanged_log_is_not_signed_again(settings: Settings, database: Database, session: Session) -> None:
    with database.transaction() as writing:
        assert checkpoints.make(writing, settings) is None  # nothing to sign yet
    record_some(session, 2)
    checkpoint_now(database, settings)
    with database.transaction() as writing:
        assert checkpoints.make(writing, settings) is None
    record_some(session, 1)
    assert checkpoint_now(database, settings).entry_count == 3


def test_the_transparency_page_and_feed_publish_checkpoints_anyone_can_check(
        client: TestClient[Litestar], settings: Settings, database: Database, session: Session) -> None:
    record_some(session, 3)
    signed = checkpoint_now(database, settings)

    page = client.get("/transparency")
    assert page.status_code == 200
    assert signed.head_hash in page.text and signed.signature in page.text
    key = checkpoints.public_key(settings)
    assert key.raw_base64 in page.text

    feed = client.get("/transparency/checkpoints.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert signed.signature in feed.text

    # What the page publishes is enough to check the signature without the site's code.
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.raw_base64))
    when = signed.created_at.isoformat(timespec="seconds")
    message = f"{checkpoints.STATEMENT_VERSION}\n{signed.entry_count}\n{signed.head_id}\n{signed.head_hash}\n{when}\n"
    public.verify(base64.b64decode(signed.signature), message.encode())


def test_the_worker_signs_checkpoints(smtp_worker_settings: tuple[Settings, Worker], database: Database,
                                      session: Session) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    entries = record_some(session, 2)
    with database.transaction() as writing:
        enqueue(writing, "cocreate.audit.checkpoint")

    def signed() -> AuditCheckpoint | None:
        with database.session() as reading:
            return reading.exec(select(AuditCheckpoint).where(AuditCheckpoint.head_id == entries[-1].id)).first()

    wait_until(signed, 30, f"no checkpoint signed; worker log:\n{worker.log()[-3000:]}")
    # The worker commits the checkpoint, then writes the anchor file: give it the moment in between.
    wait_until(worker_settings.audit_anchor_path.exists, 10, "the worker wrote no anchor file")
