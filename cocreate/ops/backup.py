"""Backups of a whole site, taken while it runs, and their restore into an empty one.

A backup is one uncompressed tar file (PAX format; compress it afterwards if you like, restore reads
``.tar.gz`` too) holding, in this order:

``database.sqlite3`` or ``database.pgdump``
    SQLite: a copy made with SQLite's online backup API in one step, i.e. inside one read transaction:
    a consistent snapshot, while the site keeps writing (WAL). PostgreSQL: ``pg_dump --format=custom``
    reading a snapshot exported by our own repeatable-read transaction, the one the manifest's row
    counts and audit head are read in, so they describe exactly what was dumped.
``secret_key``
    the signing key generated into the data folder (absent when ``COCREATE_SECRET_KEY`` sets it). The
    archive holds personal data and password hashes anyway; it is written readable by its owner only.
``uploads/…``
    every uploaded file, copied after the database snapshot. A file is written before the row that
    refers to it commits, so every row of the snapshot finds its file, unless the file is deleted in
    the moments between the snapshot and its copy.
``manifest.json``
    written last (an archive without it is incomplete): format version, dialect, Alembic revision,
    time, row counts of every table, the audit chain's head, and the size and SHA-256 of every member.

The search index is not in the backup. It is derived data: a copy could not be taken at the instant
of the database snapshot (a drain commits the index and deletes its outbox rows at other moments), so
a restored index could show what the restored database no longer has, or miss what it has. Restore
rebuilds it from the restored database instead (``cocreate search rebuild``), consistent by construction;
that takes about a minute and a half per 100,000 documents on two cores.

Restore refuses a target that holds data (any table in the database, any file in the upload folder)
and changes nothing then. It unpacks and checks everything beside the target first, then commits the
database in one step: SQLite by renaming a checked copy into place, PostgreSQL by one ``psql
--single-transaction`` run that ends with a check of every table's row count and the audit head, so
a mismatch rolls the whole restore back. Then the uploads are moved in, the schema is brought to the
code's revision if the backup is older, the index is rebuilt and the audit chain verified.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.pool import NullPool

from cocreate.ops import postgres
from cocreate.settings import Settings

if TYPE_CHECKING:
    from cocreate.audit import VerificationResult

FORMAT = "cocreate-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNING_KEY_MEMBER = "secret_key"
UPLOADS_PREFIX = "uploads/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
INDEX_NOTE = "not included: rebuilt from the restored database"
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_HASH = r"^[0-9a-f]{64}$"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


class TargetNotEmpty(BackupError):
    """Restore refuses to write over a database or upload folder that holds data."""


# --- the manifest --------------------------------------------------------------------------------


class FileEntry(BaseModel):
    name: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=_HASH)


class AuditHead(BaseModel):
    entries: int = Field(ge=0)
    head_id: int | None = None
    head_hash: str | None = Field(default=None, pattern=_HASH)
    verified: bool = True
    """Whether the chain verified when the backup was taken (a tampered log is backed up all the same)."""


class Manifest(BaseModel):
    format: Literal["cocreate-backup"]
    format_version: int
    created_at: datetime
    cocreate_version: str
    dialect: Literal["sqlite", "postgresql"]
    alembic_revision: str
    schema_name: str | None = Field(default=None, description="PostgreSQL: the schema the tables live in.")
    server_version: str | None = Field(default=None, description="PostgreSQL: the server's version.")
    dump_tool: str | None = Field(default=None, description="PostgreSQL: the pg_dump that wrote the dump.")
    dump_tool_major: int | None = None
    tables: dict[str, int]
    audit: AuditHead
    database: FileEntry
    secret_key: FileEntry | None = None
    uploads: list[FileEntry]
    search_index: str = INDEX_NOTE

    @field_validator("tables")
    @classmethod
    def _plain_names(cls, tables: dict[str, int]) -> dict[str, int]:
        # The names go into the verification SQL of a PostgreSQL restore: identifiers, nothing else.
        for name, count in tables.items():
            if not _NAME.match(name) or count < 0:
                raise ValueError(f"unexpected table entry {name!r}: {count!r}")
        return tables

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, name: str | None) -> str | None:
        if name is not None and not _NAME.match(name):
            raise ValueError(f"unexpected schema name {name!r}")
        return name


@dataclass(frozen=True)
class DatabaseFacts:
    """What a database holds, compared between backup and restore."""

    revision: str | None
    tables: dict[str, int]
    audit: AuditHead

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def database_facts(conn: sa.Connection) -> DatabaseFacts:
    """Row counts of every table, the Alembic revision and the audit head, read in ``conn``'s transaction."""
    names = sorted(sa.inspect(conn).get_table_names())
    tables = {name: int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one())
              for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(sa.select(sa.column("version_num")).select_from(sa.table("alembic_version"))).scalar()
    head = None
    if "audit_entry" in tables:
        head = conn.execute(sa.select(sa.column("id"), sa.column("entry_hash")).select_from(sa.table("audit_entry"))
                            .order_by(sa.column("id").desc()).limit(1)).first()
    audit = AuditHead(entries=tables.get("audit_entry", 0), head_id=head[0] if head else None,
                      head_hash=head[1] if head else None)
    return DatabaseFacts(revision=revision, tables=tables, audit=audit)


def verify_chain(conn: sa.Connection) -> VerificationResult:
    """``cocreate audit verify`` on this connection (in its transaction, i.e. its snapshot)."""
    from sqlmodel import Session

    from cocreate import audit

    with Session(bind=conn) as session:
        return audit.verify(session)


def _with_chain_checked(conn: sa.Connection, facts: DatabaseFacts) -> DatabaseFacts:
    if "audit_entry" not in facts.tables:
        return facts
    verified = verify_chain(conn).ok
    return dataclasses.replace(facts, audit=facts.audit.model_copy(update={"verified": verified}))


def differences(manifest: Manifest, facts: DatabaseFacts) -> list[str]:
    """How a restored database differs from what the manifest says was backed up (empty: it does not)."""
    found: list[str] = []
    if facts.revision != manifest.alembic_revision:
        found.append(f"schema revision {facts.revision}, the backup has {manifest.alembic_revision}")
    for name in sorted(manifest.tables.keys() - facts.tables.keys()):
        found.append(f"table {name} is missing")
    for name in sorted(facts.tables.keys() - manifest.tables.keys()):
        found.append(f"table {name} is not in the backup")
    for name in sorted(manifest.tables.keys() & facts.tables.keys()):
        if manifest.tables[name] != facts.tables[name]:
            found.append(f"table {name} has {facts.tables[name]} rows, the backup has {manifest.tables[name]}")
    if facts.audit.head_hash != manifest.audit.head_hash:
        found.append(f"audit head {facts.audit.head_hash}, the backup has {manifest.audit.head_hash}")
    return found


# --- where things are ----------------------------------------------------------------------------


def dialect_of(settings: Settings) -> str:
    backend = sa.make_url(settings.database_url).get_backend_name()
    if backend not in DATABASE_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL databases, not {backend}")
    return backend


def sqlite_path(settings: Settings) -> Path:
    database = sa.make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"no SQLite database file in COCREATE_DATABASE_URL ({settings.database_url})")
    return Path(database)


def upload_root(settings: Settings) -> Path:
    assert settings.upload_dir is not None
    return Path(settings.upload_dir)


def _secret_path(settings: Settings) -> Path:
    return settings.data_dir / "secret_key"


def _version() -> str:
    try:
        return importlib.metadata.version("cocreate")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _upload_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file under the upload folder, in a stable order, with its path relative to it."""
    if not root.is_dir():
        return
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(root).as_posix()


# --- taking a backup ------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    seconds: float
    warnings: list[str] = field(default_factory=list)


def backup(settings: Settings, target: Path, *, into_folder: bool = False) -> BackupResult:
    """Write a consistent backup of the site to ``target``: a new file, or a dated file in it when it is a
    folder (made when ``into_folder``)."""
    started = time.monotonic()
    dialect = dialect_of(settings)
    created = datetime.now(UTC)
    if into_folder:
        target.mkdir(parents=True, exist_ok=True)
    path = target / f"cocreate-backup-{created:%Y%m%dT%H%M%SZ}.tar" if target.is_dir() else target
    if path.exists():
        raise BackupError(f"{path} exists already; backups never overwrite one")
    path.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".cocreate-backup-") as scratch:
        dump = Path(scratch) / DATABASE_MEMBERS[dialect]
        if dialect == "sqlite":
            facts, extra = _snapshot_sqlite(settings, dump)
        else:
            facts, extra = _dump_postgresql(settings, dump)
        if facts.revision is None:
            raise BackupError("the database has no schema yet (run `cocreate db upgrade`): nothing to back up")
        if not facts.audit.verified:
            warnings.append("the audit chain does NOT verify (`cocreate audit verify`); backed up as it is")
        descriptor, partial_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        partial = Path(partial_name)  # mkstemp: readable by the owner only
        try:
            with os.fdopen(descriptor, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    database = _add_file(tar, dump, DATABASE_MEMBERS[dialect])
                    secret = None
                    if not settings.secret_key.get_secret_value() and _secret_path(settings).is_file():
                        secret = _add_file(tar, _secret_path(settings), SIGNING_KEY_MEMBER)
                    uploads = []
                    for source, relative in _upload_files(upload_root(settings)):
                        try:
                            uploads.append(_add_file(tar, source, UPLOADS_PREFIX + relative))
                        except FileNotFoundError:  # deleted since the folder was listed (after the snapshot)
                            warnings.append(f"uploads/{relative} was deleted during the backup")
                    manifest = Manifest(
                        format=FORMAT, format_version=FORMAT_VERSION, created_at=created, cocreate_version=_version(),
                        dialect=dialect, alembic_revision=facts.revision, tables=facts.tables, audit=facts.audit,
                        database=database, secret_key=secret, uploads=uploads, **extra)
                    _add_bytes(tar, MANIFEST, manifest.model_dump_json(indent=2).encode())
                raw.flush()
                os.fsync(raw.fileno())
            os.link(partial, path)  # never replaces a file that appeared meanwhile
            partial.unlink()
            _fsync_folder(path.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(path=path, manifest=manifest, seconds=time.monotonic() - started, warnings=warnings)


def _snapshot_sqlite(settings: Settings, copy_path: Path) -> tuple[DatabaseFacts, dict[str, object]]:
    from cocreate.db.engine import TASK_WAIT_SECONDS

    source_path = sqlite_path(settings)
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}: nothing to back up")
    source = sqlite3.connect(str(source_path), timeout=TASK_WAIT_SECONDS)
    try:
        copy = sqlite3.connect(str(copy_path))
        try:
            # pages=-1: the whole database in one step, inside one read transaction, so the copy is one
            # consistent moment; in WAL mode the site's writers carry on meanwhile.
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the site turns WAL back on)
        finally:
            copy.close()
    finally:
        source.close()
    return sqlite_file_facts(copy_path, check_chain=True), {}


def sqlite_file_facts(path: Path, *, check_chain: bool = False) -> DatabaseFacts:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            facts = database_facts(conn)
            return _with_chain_checked(conn, facts) if check_chain else facts
    finally:
        engine.dispose()


def _dump_postgresql(settings: Settings, dump: Path) -> tuple[DatabaseFacts, dict[str, object]]:
    engine = sa.create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                server_version = str(conn.execute(sa.text("SHOW server_version")).scalar_one())
                server_major = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
                schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
                try:
                    tool = postgres.find_tool("pg_dump", minimum=server_major, preferred=server_major)
                except postgres.ClientToolMissing as missing:
                    raise BackupError(str(missing)) from None
                # Counted and dumped in one snapshot: pg_dump imports the one this transaction exports
                # (which must stay open until pg_dump has finished).
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                facts = _with_chain_checked(conn, database_facts(conn))
                conninfo, env = postgres.connection(settings.database_url)
                result = subprocess.run(
                    [str(tool.path), "--format=custom", f"--file={dump}", f"--snapshot={snapshot}", "--no-password",
                     f"--dbname={conninfo}"],
                    env=os.environ | env, capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    raise BackupError(f"{tool.path} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
    except sa.exc.OperationalError as error:
        raise BackupError(f"cannot read the database: {error.orig}") from None
    finally:
        engine.dispose()
    return facts, {"schema_name": schema, "server_version": server_version,
                   "dump_tool": f"pg_dump {tool.version}", "dump_tool_major": tool.major}


class _Hashing:
    """A file reader that hashes what passes through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, source: Path, name: str) -> FileEntry:
    with source.open("rb") as handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _Hashing(handle)
        try:
            tar.addfile(info, reader)  # type: ignore[arg-type]
        except OSError as error:  # the file shrank while being read
            raise BackupError(f"{source} changed while it was being copied ({error}); take the backup again") from None
    return FileEntry(name=name, bytes=info.size, sha256=reader.digest.hexdigest())


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading a backup ------------------------------------------------------------------------------


def read_manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError("no manifest.json in the archive: not a cocreate backup, or an incomplete one "
                          "(the manifest is written last)") from None
    handle = tar.extractfile(member)
    if handle is None or member.size > MAX_MANIFEST_BYTES:
        raise BackupError("manifest.json is not a regular file of a sensible size")
    data = handle.read()
    try:
        raw = json.loads(data)
    except ValueError as error:
        raise BackupError(f"manifest.json is not JSON: {error}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError("manifest.json does not describe a cocreate backup")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"the backup has format version {version!r}; this cocreate reads version "
                          f"{FORMAT_VERSION} and older: restore it with the cocreate that made it "
                          f"({raw.get('cocreate_version', 'unknown')})")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as error:
        raise BackupError(f"manifest.json is damaged: {error}") from None


def open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    try:
        return tarfile.open(path, "r:*")
    except tarfile.TarError as error:
        raise BackupError(f"{path} is not a readable tar archive: {error}") from None


# --- restoring -------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: Manifest
    tables: int
    rows: int
    uploads: int
    documents: int
    audit_entries: int
    upgraded_to: str | None
    seconds: float
    warnings: list[str] = field(default_factory=list)


def occupied(settings: Settings) -> list[str]:
    """What in the target holds data already (empty: a restore may write there)."""
    found: list[str] = []
    dialect = dialect_of(settings)
    if dialect == "sqlite":
        path = sqlite_path(settings)
        if path.exists():
            try:
                with _read_only_sqlite(path) as conn:
                    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            except sqlite3.DatabaseError as error:
                raise TargetNotEmpty(f"{path} exists and is not an empty SQLite database ({error})") from None
            if tables:
                found.append(f"the database {path} has {tables} tables")
    else:
        relations = _postgresql_relations(settings)
        if relations:
            found.append(f"the database {_masked(settings)} has {relations} tables, sequences or views")
    files = sum(1 for _ in _upload_files(upload_root(settings)))
    if files:
        found.append(f"the upload folder {upload_root(settings)} holds {files} files")
    return found


@contextmanager
def _read_only_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _postgresql_relations(settings: Settings) -> int:
    engine = sa.create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'")).scalar_one())
    except sa.exc.OperationalError as error:
        raise BackupError(f"cannot connect to the target database {_masked(settings)}: {error.orig} "
                          "(create an empty database first, e.g. with createdb)") from None
    finally:
        engine.dispose()


def _masked(settings: Settings) -> str:
    return sa.make_url(settings.database_url).render_as_string(hide_password=True)


def _check_revision(settings: Settings, revision: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from cocreate.db import migrations

    try:
        ScriptDirectory.from_config(migrations.alembic_config(settings)).get_revision(revision)
    except CommandError:
        raise BackupError(f"the backup's schema revision {revision} is unknown to this cocreate (a newer version "
                          "made it?): restore it with the version that made the backup") from None


def restore(settings: Settings, archive: Path, *, progress: Callable[[str], None] = lambda _line: None) -> RestoreResult:
    """Restore the backup ``archive`` into the empty database and upload folder of ``settings``.

    Raises :class:`TargetNotEmpty` (nothing changed) when the target holds data, :class:`BackupError`
    for anything else that stops it; until the database is committed nothing in the target changes.
    """
    started = time.monotonic()
    dialect = dialect_of(settings)
    with open_archive(archive) as tar:
        manifest = read_manifest(tar)
        if manifest.dialect != dialect:
            raise BackupError(f"this is a backup of a {manifest.dialect} database and the target is {dialect} "
                              "(COCREATE_DATABASE_URL): restore it into the same kind of database")
        _check_revision(settings, manifest.alembic_revision)
        found = occupied(settings)
        if found:
            raise TargetNotEmpty("refusing to restore over existing data: " + "; ".join(found)
                                 + ". Restore into an empty data folder and an empty database.")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with _staging(settings, dialect) as staging:
            progress(f"unpacking and checking {archive}")
            _unpack(tar, manifest, staging)
            progress("restoring the database")
            if dialect == "sqlite":
                _commit_sqlite(settings, manifest, staging.database)
            else:
                _commit_postgresql(settings, manifest, staging.database, staging.work)
            progress("moving the uploaded files into place")
            _move_tree(staging.uploads, upload_root(settings))
            warnings = _install_secret(settings, manifest, staging.secret)
    return _finish(settings, manifest, started, warnings, progress)


@dataclass
class _Staging:
    work: Path
    """Beside the data folder: a PostgreSQL dump, the secret key."""
    database: Path
    """Where the database member is unpacked (SQLite: beside the database file, so a rename puts it in place)."""
    uploads: Path
    """Beside the upload folder."""

    @property
    def secret(self) -> Path:
        return self.work / SIGNING_KEY_MEMBER


@contextmanager
def _staging(settings: Settings, dialect: str) -> Iterator[_Staging]:
    made: list[Path] = []

    def folder(parent: Path) -> Path:
        parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(dir=parent, prefix=".cocreate-restore-"))
        made.append(path)
        return path

    try:
        work = folder(settings.data_dir)
        database_folder = folder(sqlite_path(settings).resolve().parent) if dialect == "sqlite" else work
        uploads = folder(upload_root(settings).resolve().parent) / "uploads"
        yield _Staging(work=work, database=database_folder / DATABASE_MEMBERS[dialect], uploads=uploads)
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


def _upload_destination(root: Path, name: str) -> Path:
    relative = PurePosixPath(name[len(UPLOADS_PREFIX):])
    if relative.is_absolute() or not relative.parts or any(part in ("", ".", "..") or "\\" in part or "\x00" in part
                                                           for part in relative.parts):
        raise BackupError(f"refusing the archive member {name!r}: not a plain path inside the upload folder")
    return root.joinpath(*relative.parts)


def _unpack(tar: tarfile.TarFile, manifest: Manifest, staging: _Staging) -> None:
    """Copy every member to the staging area, checking its size and SHA-256 against the manifest."""
    expected: dict[str, tuple[FileEntry, Path, int]] = {
        manifest.database.name: (manifest.database, staging.database, 0o666)}
    if manifest.database.name != DATABASE_MEMBERS[manifest.dialect]:
        raise BackupError(f"unexpected database member {manifest.database.name!r}")
    if manifest.secret_key is not None:
        expected[SIGNING_KEY_MEMBER] = (manifest.secret_key, staging.secret, 0o600)
    for entry in manifest.uploads:
        if not entry.name.startswith(UPLOADS_PREFIX):
            raise BackupError(f"unexpected upload entry {entry.name!r}")
        expected[entry.name] = (entry, _upload_destination(staging.uploads, entry.name), 0o666)
    seen: set[str] = set()
    for member in tar:
        if member.name == MANIFEST:
            continue
        if member.name not in expected or member.name in seen or not member.isfile():
            raise BackupError(f"unexpected archive member {member.name!r}: the archive does not match its manifest")
        entry, destination, mode = expected[member.name]
        _copy_member(tar, member, entry, destination, mode)
        seen.add(member.name)
    missing = sorted(expected.keys() - seen)
    if missing:
        raise BackupError(f"the archive lacks {len(missing)} members its manifest lists, e.g. {missing[0]}")


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: FileEntry, destination: Path,
                 mode: int) -> None:
    source = tar.extractfile(member)
    assert source is not None
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != entry.bytes or digest.hexdigest() != entry.sha256:
        raise BackupError(f"{member.name} is damaged: its size or SHA-256 differs from the manifest's")


def _commit_sqlite(settings: Settings, manifest: Manifest, staged: Path) -> None:
    conn = sqlite3.connect(str(staged))
    try:
        check = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    if check != [("ok",)]:
        raise BackupError(f"the backup's database fails SQLite's integrity check: {check[:5]}")
    problems = differences(manifest, sqlite_file_facts(staged))
    if problems:
        raise BackupError("the backup's database does not match its manifest: " + "; ".join(problems))
    target = sqlite_path(settings)
    for suffix in ("-wal", "-shm", "-journal"):  # of an empty database file the target may have had
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_folder(target.resolve().parent)


def _verification_sql(manifest: Manifest) -> str:
    """PL/pgSQL that fails the restore's transaction unless the tables, their rows and the audit head match.

    Only validated values reach it: table and schema names matched ``_NAME`` and are quoted as identifiers,
    counts are integers and the hash is hexadecimal (see :class:`Manifest`).
    """
    quote = pg_dialect.dialect().identifier_preparer.quote
    schema = manifest.schema_name or "public"
    lines = [
        "DO $cocreate_verify$",
        "DECLARE n bigint; head text;",
        "BEGIN",
        f"  SELECT count(*) INTO n FROM pg_catalog.pg_tables WHERE schemaname = '{schema}';",  # noqa: S608
        f"  IF n <> {len(manifest.tables)} THEN",
        f"    RAISE EXCEPTION 'restored % tables, the backup has {len(manifest.tables)}', n;",
        "  END IF;",
    ]
    for name, count in sorted(manifest.tables.items()):
        lines += [
            f"  SELECT count(*) INTO n FROM {quote(schema)}.{quote(name)};",  # noqa: S608
            f"  IF n <> {count} THEN RAISE EXCEPTION 'table {name}: % rows restored, the backup has {count}', n; END IF;",
        ]
    if "audit_entry" in manifest.tables:
        expected = f"'{manifest.audit.head_hash}'" if manifest.audit.head_hash else "NULL"
        lines += [
            f"  SELECT entry_hash INTO head FROM {quote(schema)}.audit_entry ORDER BY id DESC LIMIT 1;",  # noqa: S608
            f"  IF head IS DISTINCT FROM {expected} THEN",
            "    RAISE EXCEPTION 'the audit head % differs from the backup''s', head;",
            "  END IF;",
        ]
    lines += ["END", "$cocreate_verify$;", ""]
    return "\n".join(lines)


def _commit_postgresql(settings: Settings, manifest: Manifest, dump: Path, work: Path) -> None:
    engine = sa.create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            server_major = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    try:
        pg_restore = postgres.find_tool("pg_restore", minimum=max(manifest.dump_tool_major or 0, server_major),
                                        preferred=server_major)
        psql = postgres.sibling(pg_restore, "psql")
    except postgres.ClientToolMissing as missing:
        raise BackupError(str(missing)) from None
    listing = subprocess.run([str(pg_restore.path), "--list", str(dump)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {listing.stderr.strip()[-2000:]}")
    # The comment on an extension belongs to whoever created the extension; setting it would fail for a
    # database owner that is not a superuser, and it is not ours to restore.
    kept = [line for line in listing.stdout.splitlines() if " COMMENT - EXTENSION " not in line]
    (work / "restore.list").write_text("\n".join(kept) + "\n")
    (work / "verify.sql").write_text(_verification_sql(manifest))
    conninfo, env = postgres.connection(settings.database_url)
    with (work / "pg_restore.log").open("w+") as restore_log:
        producer = subprocess.Popen(
            [str(pg_restore.path), "--no-owner", "--no-privileges", f"--use-list={work / 'restore.list'}",
             "--file=-", str(dump)], stdout=subprocess.PIPE, stderr=restore_log)
        assert producer.stdout is not None
        # One transaction for the whole script and the verification after it: all or nothing.
        consumer = subprocess.run(
            [str(psql.path), "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--single-transaction",
             f"--dbname={conninfo}", "--file=-", f"--file={work / 'verify.sql'}"],
            stdin=producer.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=os.environ | env, check=False)
        producer.stdout.close()
        producer.wait()
        restore_log.seek(0)
        restore_errors = restore_log.read()
    if consumer.returncode != 0:
        raise BackupError("the restore was rolled back, the database is unchanged: "
                          f"{consumer.stderr.strip()[-2000:] or restore_errors[-2000:]}")
    if producer.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {producer.returncode}) after psql committed; check the database: "
                          f"{restore_errors[-2000:]}")


def _move_tree(source: Path, target: Path) -> None:
    """Move every staged file into ``target``, which holds no file (checked before)."""
    if not source.exists():
        return
    for path, relative in list(_upload_files(source)):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, destination)  # a rename on the same file system, a copy otherwise


def _install_secret(settings: Settings, manifest: Manifest, staged: Path) -> list[str]:
    if manifest.secret_key is None:
        return []
    if settings.secret_key.get_secret_value():
        return ["COCREATE_SECRET_KEY is set, so the backup's generated signing key was not installed: sessions and "
                "links signed by the old site (unsubscribe links in sent e-mails) work only if it is the same key"]
    target = _secret_path(settings)
    if target.exists():
        if target.read_bytes() != staged.read_bytes():
            return [f"{target} exists with another key and was kept: sessions and links signed by the old site "
                    "(unsubscribe links in sent e-mails) no longer verify"]
        return []
    shutil.copyfile(staged, target)
    target.chmod(0o600)
    return []


def _finish(settings: Settings, manifest: Manifest, started: float, warnings: list[str],
            progress: Callable[[str], None]) -> RestoreResult:
    from cocreate.db import Database, migrations
    from cocreate.search import indexer

    database = Database(settings)
    try:
        with database.read_engine.connect() as conn:
            facts = database_facts(conn)
            chain = verify_chain(conn)
        problems = differences(manifest, facts)
        if problems:
            raise BackupError("restored, but the database differs from the backup: " + "; ".join(problems))
        if not chain.ok:
            message = f"the audit chain does not verify at entry {chain.first_bad_id}: {chain.reason}"
            if manifest.audit.verified:
                raise BackupError(f"restored, but {message}, although it verified when the backup was taken")
            warnings.append(f"{message}, as when the backup was taken")
        upgraded_to = None
        if manifest.alembic_revision != migrations.head():
            progress(f"upgrading the schema from {manifest.alembic_revision} to {migrations.head()}")
            database.dispose()
            try:
                migrations.upgrade(settings)
            except Exception as error:
                raise BackupError(f"restored, but upgrading the schema failed ({error}): fix the cause and run "
                                  "`cocreate db upgrade`, then `cocreate search rebuild`") from error
            upgraded_to = migrations.head()
        progress("rebuilding the search index from the database")
        settings.ensure_dirs()
        try:
            documents = indexer.rebuild(database, settings)
        except Exception as error:
            raise BackupError(f"restored, but rebuilding the search index failed ({error}): "
                              "run `cocreate search rebuild`") from error
    finally:
        database.dispose()
    return RestoreResult(manifest=manifest, tables=len(facts.tables), rows=facts.rows, uploads=len(manifest.uploads),
                         documents=documents, audit_entries=chain.checked, upgraded_to=upgraded_to,
                         seconds=time.monotonic() - started, warnings=warnings)
