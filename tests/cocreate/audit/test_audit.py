"""The audit log: hash chain, append-only triggers, concurrent appends and the CLI, on both databases."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, col, select

from cocreate.audit import AuditEntry, record, verify
from cocreate.audit.models import GENESIS_HASH, append_only_triggers, drop_append_only_triggers
from cocreate.audit.services import compute_hash
from cocreate.cli import main
from cocreate.db import Database
from cocreate.settings import Settings

pytestmark = pytest.mark.databases("sqlite", why="the chain logic is Python; the append-only triggers and concurrent appends run on both")


def record_some(session: Session, count: int) -> list[AuditEntry]:
    entries = [
        record(
            session,
            actor_id=1,
            actor_label="管理者 太郎",
            action="role.granted",
            target_type="user",
            target_id=str(100 + n),
            details={"role": "staff", "n": n},
        )
        for n in range(count)
    ]
    session.commit()
    return entries


def all_entries(database: Database) -> list[AuditEntry]:
    with database.session() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


@contextmanager
def without_triggers(database: Database) -> Iterator[sa.Connection]:
    """An attacker with raw database access lifts the triggers; they come back afterwards."""
    dialect = database.dialect
    with database.engine.begin() as conn:
        for statement in drop_append_only_triggers(dialect):
            conn.exec_driver_sql(statement)
    try:
        with database.engine.begin() as conn:
            yield conn
    finally:
        with database.engine.begin() as conn:
            for statement in drop_append_only_triggers(dialect) + append_only_triggers(dialect):
                conn.exec_driver_sql(statement)


@pytest.mark.databases("sqlite", "postgresql", why="append-only triggers and the unique successor are per database")
def test_entries_chain_onto_each_other(database: Database, session: Session) -> None:
    record_some(session, 5)
    entries = all_entries(database)
    assert len(entries) == 5
    assert entries[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.entry_hash
    assert len({entry.entry_hash for entry in entries}) == 5
    with database.session() as fresh:
        result = verify(fresh)
    assert (result.ok, result.checked, result.first_bad_id) == (True, 5, None)


def test_an_empty_log_verifies(session: Session) -> None:
    assert verify(session).ok
    assert verify(session).checked == 0


def test_record_leaves_the_commit_to_the_caller(database: Database, txn_session: Session) -> None:
    entry = record(txn_session, actor_id=None, actor_label="cli", action="organisation.verified", target_type="x")
    assert entry.id is not None
    txn_session.rollback()
    assert all_entries(database) == []


def test_details_are_canonical_json(session: Session) -> None:
    entry = record(
        session,
        actor_id=None,
        actor_label="system",
        action="challenge.published",
        target_type="challenge",
        target_id="7",
        details={"b": 1, "a": "区"},
    )
    session.commit()
    assert entry.details_json == '{"a":"区","b":1}'


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_altered_entry_is_detected(database: Database, session: Session) -> None:
    entries = record_some(session, 4)
    victim = entries[2].id
    with without_triggers(database) as conn:
        conn.execute(
            sa.update(AuditEntry).where(col(AuditEntry.id) == victim).values(details_json='{"role":"admin"}')
        )
    with database.session() as fresh:
        result = verify(fresh)
    assert not result.ok
    assert result.first_bad_id == victim
    assert result.checked == 2
    assert "hash" in result.reason


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_altered_entry_with_recomputed_hash_breaks_the_next_link(
    database: Database, session: Session
) -> None:
    entries = record_some(session, 4)
    victim = entries[1]
    forged = victim.model_copy(update={"actor_label": "someone else"})
    forged_hash = compute_hash(
        created_at=forged.created_at,
        actor_id=forged.actor_id,
        actor_label=forged.actor_label,
        action=forged.action,
        target_type=forged.target_type,
        target_id=forged.target_id,
        details_json=forged.details_json,
        previous_hash=forged.previous_hash,
    )
    with without_triggers(database) as conn:
        conn.execute(
            sa.update(AuditEntry)
            .where(col(AuditEntry.id) == victim.id)
            .values(actor_label="someone else", entry_hash=forged_hash)
        )
    with database.session() as fresh:
        result = verify(fresh)
    assert not result.ok
    assert result.first_bad_id == entries[2].id
    assert "link" in result.reason


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_deleted_middle_entry_is_detected(database: Database, session: Session) -> None:
    entries = record_some(session, 5)
    with without_triggers(database) as conn:
        conn.execute(sa.delete(AuditEntry).where(col(AuditEntry.id) == entries[2].id))
    with database.session() as fresh:
        result = verify(fresh)
    assert not result.ok
    assert result.first_bad_id == entries[3].id
    assert result.checked == 2
    assert "link" in result.reason


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
@pytest.mark.databases("sqlite", "postgresql", why="append-only triggers and the unique successor are per database")
def test_update_is_rejected_by_the_database(database: Database, txn_session: Session) -> None:
    entry = record_some(txn_session, 2)[0]
    entry.details_json = "{}"
    txn_session.add(entry)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        txn_session.commit()
    txn_session.rollback()
    with database.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("UPDATE audit_entry SET actor_label = 'x'"))
    with database.session() as fresh:
        assert verify(fresh).ok


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
@pytest.mark.databases("sqlite", "postgresql", why="append-only triggers and the unique successor are per database")
def test_delete_is_rejected_by_the_database(database: Database, txn_session: Session) -> None:
    entry = record_some(txn_session, 2)[1]
    txn_session.delete(entry)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        txn_session.commit()
    txn_session.rollback()
    with database.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("DELETE FROM audit_entry"))
    assert len(all_entries(database)) == 2


@pytest.mark.databases("sqlite", "postgresql", why="append-only triggers and the unique successor are per database")
def test_a_second_successor_of_one_entry_is_rejected(database: Database, session: Session) -> None:
    first = record_some(session, 2)[0]
    fork = AuditEntry(
        actor_id=None,
        actor_label="x",
        action="role.granted",
        target_type="user",
        previous_hash=first.entry_hash,
        entry_hash="f" * 64,
    )
    with database.session() as other:
        other.add(fork)
        with pytest.raises(sa.exc.IntegrityError):
            other.commit()


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_concurrent_appends_form_one_chain(database: Database) -> None:
    threads, per_thread = 8, 5
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(per_thread):
                with database.transaction() as session:
                    record(
                        session,
                        actor_id=worker,
                        actor_label=f"worker {worker}",
                        action="role.granted",
                        target_type="user",
                        target_id=f"{worker}-{n}",
                    )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=append, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert errors == []
    entries = all_entries(database)
    assert len(entries) == threads * per_thread
    with database.session() as session:
        result = verify(session)
    assert (result.ok, result.checked) == (True, threads * per_thread)
    assert {entry.target_id for entry in entries} == {
        f"{w}-{n}" for w in range(threads) for n in range(per_thread)
    }


@pytest.mark.parametrize(
    "action",
    [
        "",
        "role",
        "Role.granted",
        "role.",
        ".role",
        "role..granted",
        "role.granted!",
        "role granted.x",
        "ロール.付与",
        "role.granted\n",
        "a." + "b" * 100,
    ],
)
def test_invalid_actions_are_rejected(session: Session, action: str) -> None:
    with pytest.raises(ValueError):
        record(session, actor_id=1, actor_label="a", action=action, target_type="user")


@pytest.mark.parametrize(
    "overrides",
    [
        {"actor_label": ""},
        {"actor_label": "x" * 201},
        {"target_type": ""},
        {"target_type": "t" * 51},
        {"target_id": "1" * 65},
        {"target_id": 5},
        {"actor_id": "1"},
        {"details": {"when": object()}},
        {"details": ["not", "a", "mapping"]},
    ],
)
def test_invalid_fields_are_rejected(database: Database, txn_session: Session, overrides: dict) -> None:
    values = {"actor_id": 1, "actor_label": "a", "action": "role.granted", "target_type": "user"} | overrides
    with pytest.raises(ValueError):
        record(txn_session, **values)
    txn_session.rollback()
    assert all_entries(database) == []


def test_hostile_text_round_trips_exactly(
    database: Database, session: Session, xss_payloads: list[str]
) -> None:
    label = "<script>alert('渋谷')</script>"[:200]
    details = {
        "payloads": xss_payloads,
        "long": "長" * 10_000,
        "<script>": "'\"\\\u0000\u2028",
        "区民": {"nested": ["🙂", "\t\n"]},
    }
    record(
        session,
        actor_id=None,
        actor_label=label,
        action="organisation.verified",
        target_type="organisation",
        target_id="<b>1</b>",
        details=details,
    )
    record(
        session,
        actor_id=2,
        actor_label="x" * 200,
        action="role.revoked",
        target_type="user",
        target_id="9" * 64,
    )
    session.commit()
    first, second = all_entries(database)
    assert first.actor_label == label
    assert first.target_id == "<b>1</b>"
    assert json.loads(first.details_json) == details
    assert second.actor_label == "x" * 200
    assert second.target_id == "9" * 64
    with database.session() as fresh:
        assert verify(fresh).ok


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "COCREATE_ENV": "test",
        "COCREATE_DATA_DIR": str(settings.data_dir),
        "COCREATE_DATABASE_URL": settings.database_url,
    }


@pytest.mark.committed("the tampering goes around the app, on a connection of its own")
def test_cli_verify_reports_intact_and_broken_logs(
    settings: Settings, database: Database, session: Session
) -> None:
    runner = CliRunner()
    entries = record_some(session, 3)
    result = runner.invoke(main, ["audit", "verify"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    assert "audit log intact: 3 entries" in result.output

    with without_triggers(database) as conn:
        conn.execute(
            sa.update(AuditEntry).where(col(AuditEntry.id) == entries[1].id).values(action="role.revoked")
        )
    result = runner.invoke(main, ["audit", "verify"], env=cli_env(settings))
    assert result.exit_code == 1
    assert f"audit log BROKEN at entry {entries[1].id}:" in result.output


@pytest.mark.committed("the command opens its own connection")
def test_cli_tail_prints_the_latest_entries_in_tokyo_time(settings: Settings, session: Session) -> None:
    record_some(session, 3)
    record(
        session,
        actor_id=None,
        actor_label="evil\x1b[2Jlabel",
        action="organisation.verified",
        target_type="org",
    )
    session.commit()
    result = CliRunner().invoke(main, ["audit", "tail", "-n", "2"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert "JST" in lines[0] and "user:102" in lines[0] and "管理者 太郎 (#1)" in lines[0]
    assert "organisation.verified" in lines[1]
    assert "\x1b" not in result.output and "evil\\x1b[2Jlabel" in lines[1]
