"""``cocreate backup`` and ``cocreate restore`` on SQLite and PostgreSQL, as real processes.

The round trip: demo content and a few writes through the services (a vote, an approved booking with its
e-mails, an uploaded attachment, an administrator made with the CLI), a backup taken while another
connection keeps appending to the audit log, then a restore into a fresh data folder and database: every
table has the rows it had, the audit chain verifies with the backup's head, the uploads are identical and
the search index is rebuilt. Restore refuses a target that holds data, and a damaged or mismatched
archive, and changes nothing then.
"""

from __future__ import annotations

import io
import re
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from cocreate import audit
from cocreate.accounts.models import Department, Organisation, User
from cocreate.accounts.permissions import Principal
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.ops import backup as ops
from cocreate.search import query
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from labs import bookings
from labs.models import Booking, BookingStatus
from proposals.challenges import attachments
from proposals.models import Challenge, Phase
from proposals.votes import services as votes
from tests.cocreate.ops.helpers import Site, new_site, sqlite_integrity
from tests.factories import create_proposal
from tests.servers import wait_until

KINDS = ("sqlite", "postgresql")
PDF = b"%PDF-1.4\n% cocreate backup test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ADMIN_PASSWORD = "backup-test-password-2026"


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def celery_back(tmp_path: Path, broker_url: str) -> Iterator[None]:
    yield
    # write_a_little points Celery at a site's broker; later tests expect the session's.
    configure_celery(Settings(env="test", data_dir=tmp_path / "celery", broker_url=broker_url))


def demo_site(request: pytest.FixtureRequest, base: Path, name: str, kind: str) -> Site:
    """A site with the demo content, as `cocreate db upgrade` and `cocreate demo` leave it."""
    site = new_site(request, base, name, kind)
    site.ok("db", "upgrade")
    site.ok("demo")
    return site


@pytest.fixture(scope="module")
def demo_backups(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Site, Path]]:
    """One demo site per database kind and a backup of it, shared by the tests that only read them."""
    made = {}
    for kind in KINDS:
        base = tmp_path_factory.mktemp(f"demo-{kind}")
        site = demo_site(request, base, "demo", kind)
        archive = base / "demo.tar"
        site.ok("backup", str(archive))
        made[kind] = (site, archive)
    return made


def write_a_little(site: Site) -> dict[str, object]:
    """A vote, an approved booking (audited, e-mails in the outbox), an attachment (audited, a new upload) and an
    administrator made by the CLI (audited). Returns what was made."""
    settings = site.settings
    configure_celery(settings)  # tasks sent after commit wait in the site's own broker (no worker here)
    database = Database(settings)
    try:
        with database.session() as session:
            users = {user.email: user for user in session.exec(select(User)).all()}
            company = session.exec(select(Organisation).where(col(Organisation.verified_at).is_not(None))).first()
            voting = session.exec(select(Challenge).where(Challenge.phase == Phase.VOTING)).first()
            assert company is not None and voting is not None
            proposal = create_proposal(session, voting, company)
            assert votes.vote(session, Principal.load(session, users["demo-resident@example.jp"]), proposal.id)
            waiting = session.exec(select(Booking).where(Booking.status == BookingStatus.SUBMITTED)).first()
            assert waiting is not None
            bookings.approve(session, settings, Principal.load(session, users["demo-coordinator@example.jp"]),
                             waiting.id)  # type: ignore[arg-type]
            staff = users["demo-staff@example.jp"]
            department = session.exec(select(Department).where(Department.code == "env-policy")).one()
            owned = session.exec(select(Challenge).where(Challenge.department_id == department.id,
                                                         Challenge.phase == Phase.ACCEPTING)).first()
            assert owned is not None
            attachment = attachments.add(session, settings, Principal.load(session, staff), owned.id,  # type: ignore[arg-type]
                                         kind="document", title="説明資料", source=io.BytesIO(PDF), filename="説明資料.pdf")
            made = {"proposal_id": proposal.id, "booking_id": waiting.id, "upload": attachment.storage_key}
    finally:
        database.dispose()
    site.ok("create-admin", "--email", "ops-admin@example.jp", "--display-name", "運用担当", "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n")
    return made


class AuditWriter(threading.Thread):
    """Appends to the audit log, one entry a transaction, until told to stop: the site at work."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.database = Database(settings)
        self.halt = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                with self.database.transaction() as session:
                    audit.record(session, actor_id=None, actor_label="writer", action="ops.test_write",
                                 target_type="test", target_id=str(self.count))
                self.count += 1
                self.halt.wait(0.005)  # pace: leave the cores to the backup being tested
        except BaseException as error:
            self.error = error
        finally:
            self.database.dispose()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=60)
        assert self.error is None, self.error


def manifest_of(path: Path) -> ops.Manifest:
    with tarfile.open(path) as tar:
        return ops.read_manifest(tar)


def audit_head(site: Site) -> tuple[int, str]:
    database = Database(site.settings)
    try:
        with database.reading() as session:
            entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).one()
            return entry.id, entry.entry_hash  # type: ignore[return-value]
    finally:
        database.dispose()


def audit_hash_at(site: Site, entry_id: int) -> str:
    database = Database(site.settings)
    try:
        with database.reading() as session:
            return session.get(AuditEntry, entry_id).entry_hash  # type: ignore[union-attr]
    finally:
        database.dispose()


def test_backup_while_writing_then_restore_into_a_fresh_site_gives_the_same_data(
        request: pytest.FixtureRequest, tmp_path: Path, kind: str, celery_back: None) -> None:
    source = demo_site(request, tmp_path, "source", kind)
    made = write_a_little(source)
    audited_before = source.row_counts()["audit_entry"]
    assert audited_before >= 3  # approval, attachment, administrator
    writer = AuditWriter(source.settings)
    writer.start()
    try:
        wait_until(lambda: writer.count >= 5, 60, "audit entries written before the backup")
        folder = tmp_path / "backups"
        folder.mkdir()
        printed = source.ok("backup", str(folder))
        during = writer.count
        wait_until(lambda: writer.count >= during + 5, 60, "audit entries written after the backup")
    finally:
        writer.stop()
    [archive] = folder.glob("cocreate-backup-*.tar")
    assert f"backup written to {archive}" in printed
    assert archive.stat().st_mode & 0o077 == 0  # personal data and password hashes: the owner's only
    manifest = manifest_of(archive)
    final = source.row_counts()
    # One moment while the writer wrote: some of its entries are in the backup, the later ones are not.
    assert audited_before + 5 <= manifest.audit.entries < final["audit_entry"]
    assert manifest.tables["audit_entry"] == manifest.audit.entries
    assert manifest.dialect == kind and manifest.alembic_revision
    assert manifest.audit.verified and manifest.audit.head_hash == audit_hash_at(source, manifest.audit.head_id)  # type: ignore[arg-type]
    assert manifest.search_index.startswith("not included")

    target = new_site(request, tmp_path, "target", kind)
    printed = target.ok("restore", str(archive))
    assert "audit log intact" in printed and "search index rebuilt" in printed

    restored = target.row_counts()
    # The search outbox is the index's work queue: the rebuild covered its rows and cleared them.
    assert restored == manifest.tables | {"search_outbox": 0}
    assert manifest.tables["search_outbox"] > 0  # no worker drained the source's
    untouched = {name: rows for name, rows in final.items() if name not in ("audit_entry", "search_outbox")}
    assert {name: rows for name, rows in restored.items() if name not in ("audit_entry", "search_outbox")} == untouched
    assert restored["vote"] >= 1 and restored["outbound_email"] >= 1 and restored["challenge_attachment"] >= 1
    assert re.match(r"audit log intact: \d+ entries", target.ok("audit", "verify"))
    assert audit_head(target) == (manifest.audit.head_id, manifest.audit.head_hash)
    assert target.uploads() == source.uploads()
    assert made["upload"] in target.uploads()
    assert (target.data_dir / "secret_key").read_bytes() == (source.data_dir / "secret_key").read_bytes()
    assert target.leftovers() == []
    if kind == "sqlite":
        assert sqlite_integrity(target.data_dir / "cocreate.sqlite3") == "ok"
    # The index was rebuilt from the restored database: the new proposal is found, as many documents as a
    # rebuild of the source gives.
    found = query.search(target.settings, "デマンド交通")
    assert f"proposal:{made['proposal_id']}" in [hit.key for hit in found.hits]
    documents = int(re.search(r"indexed (\d+) documents", source.ok("search", "rebuild")).group(1))  # type: ignore[union-attr]
    assert f"documents: {documents}" in target.ok("search", "status")


def test_restore_refuses_a_target_that_holds_data_and_changes_nothing(
        request: pytest.FixtureRequest, tmp_path: Path, kind: str, demo_backups: dict[str, tuple[Site, Path]]) -> None:
    site, archive = demo_backups[kind]
    # The demo site restored over itself, and a site whose only data is one uploaded file.
    lone_file = new_site(request, tmp_path, "onefile", kind)
    (lone_file.upload_dir / "challenges").mkdir(parents=True)
    (lone_file.upload_dir / "challenges" / ("0" * 32)).write_bytes(PDF)
    for target, what in ((site, "tables"), (lone_file, "holds 1 files")):
        counts, uploads = target.row_counts(), target.uploads()
        result = target.cli("restore", str(archive))
        assert result.returncode != 0
        assert "refusing to restore over existing data" in result.stderr and what in result.stderr, result.stderr
        assert target.row_counts() == counts
        assert target.uploads() == uploads
        assert target.leftovers() == []
    if kind == "sqlite":
        assert not (lone_file.data_dir / "cocreate.sqlite3").exists()


def _rewrite(archive: Path, damaged: Path, *, manifest_change: dict[str, object] | None = None,
             flip_member: str | None = None) -> None:
    """A copy of ``archive`` with its manifest changed or one byte of a member flipped."""
    with tarfile.open(archive) as source, tarfile.open(damaged, "w", format=tarfile.PAX_FORMAT) as out:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == ops.MANIFEST and manifest_change:
                manifest = ops.read_manifest(source)
                data = manifest.model_copy(update=manifest_change).model_dump_json().encode()
            if member.name == flip_member:
                data = bytes([data[0] ^ 1]) + data[1:]
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize(("kind", "damage"), [("sqlite", "row count"), ("postgresql", "row count"),
                                              ("sqlite", "flipped byte"), ("postgresql", "unknown revision")])
def test_a_damaged_or_mismatched_backup_is_refused_and_the_target_stays_empty(
        request: pytest.FixtureRequest, tmp_path: Path, demo_backups: dict[str, tuple[Site, Path]], kind: str,
        damage: str) -> None:
    _site, archive = demo_backups[kind]
    manifest = manifest_of(archive)
    damaged = tmp_path / "damaged.tar"
    if damage == "row count":  # the dump itself is intact: only the check after loading it can tell
        _rewrite(archive, damaged, manifest_change={"tables": manifest.tables | {"challenge": 99}})
        expected = "challenge"
    elif damage == "flipped byte":
        _rewrite(archive, damaged, flip_member=manifest.uploads[0].name)
        expected = "is damaged"
    else:
        _rewrite(archive, damaged, manifest_change={"alembic_revision": "0123456789ab"})
        expected = "unknown to this cocreate"
    target = new_site(request, tmp_path, "target", kind)
    result = target.cli("restore", str(damaged))
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert target.row_counts() == {}  # PostgreSQL: the transaction was rolled back; SQLite: nothing renamed in
    assert target.uploads() == {}
    assert target.leftovers() == []
    if damage == "row count":  # the intact archive still restores into the same target
        target.ok("restore", str(archive))
        assert target.row_counts() == manifest.tables | {"search_outbox": 0}


def test_a_backup_is_restored_only_into_the_same_kind_of_database(
        request: pytest.FixtureRequest, tmp_path: Path, demo_backups: dict[str, tuple[Site, Path]]) -> None:
    _site, archive = demo_backups["sqlite"]
    other = new_site(request, tmp_path, "other", "postgresql")
    result = other.cli("restore", str(archive))
    assert result.returncode != 0
    assert "this is a backup of a sqlite database and the target is postgresql" in result.stderr
    assert other.row_counts() == {}


def test_backup_refuses_to_overwrite_and_explains_an_empty_database(
        tmp_path: Path, demo_backups: dict[str, tuple[Site, Path]]) -> None:
    site, _archive = demo_backups["sqlite"]
    archive = tmp_path / "site.tar"
    archive.write_bytes(b"an older backup")
    result = site.cli("backup", str(archive))
    assert result.returncode != 0 and "exists already" in result.stderr
    assert archive.read_bytes() == b"an older backup"
    assert [p.name for p in tmp_path.iterdir() if p.name != "site.tar"] == []  # no partial file left
    site.ok("backup", f"{tmp_path}/nightly/")  # a folder to make, named by the trailing slash
    assert [p.name.startswith("cocreate-backup-") for p in (tmp_path / "nightly").iterdir()] == [True]
    fresh = Site(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh' / 'cocreate.sqlite3'}")
    result = fresh.cli("backup", str(tmp_path / "fresh.tar"))
    assert result.returncode != 0 and "no database at" in result.stderr
    assert not (tmp_path / "fresh.tar").exists()


def test_a_backup_of_an_older_schema_is_restored_and_upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from cocreate.db import migrations

    head = migrations.head()
    script = ScriptDirectory.from_config(migrations.alembic_config(Settings()))
    previous = script.get_revision(head).down_revision  # type: ignore[union-attr]
    assert isinstance(previous, str)
    old = new_site(request, tmp_path, "old", "sqlite")
    old.ok("db", "upgrade", previous)
    archive = tmp_path / "old.tar"
    old.ok("backup", str(archive))
    assert manifest_of(archive).alembic_revision == previous
    target = new_site(request, tmp_path, "target", "sqlite")
    printed = target.ok("restore", str(archive))
    assert f"schema upgraded to {head}" in printed
    assert target.ok("db", "current").strip() == head
