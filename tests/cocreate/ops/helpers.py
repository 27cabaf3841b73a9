"""Sites in data folders of their own, on SQLite or on a database of the session's PostgreSQL server, and the
``cocreate`` command run against them as a real process (what an operator types)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from cocreate.settings import Settings
from tests.servers import ROOT

TEST_ENV = {"COCREATE_ENV": "test", "PYTHONUNBUFFERED": "1"}


@dataclass
class Site:
    """A data folder and database that ``cocreate`` commands and in-process services both use."""

    data_dir: Path
    database_url: str

    @property
    def env(self) -> dict[str, str]:
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
        return inherited | TEST_ENV | {"COCREATE_DATA_DIR": str(self.data_dir),
                                       "COCREATE_DATABASE_URL": self.database_url}

    @property
    def settings(self) -> Settings:
        return Settings(env="test", data_dir=self.data_dir, database_url=self.database_url)

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cocreate.cli", *args], cwd=ROOT, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.cli(*args, stdin=stdin)
        assert result.returncode == 0, f"cocreate {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def row_counts(self) -> dict[str, int]:
        """Rows of every table, read straight from the database (none when it has no tables, or no file)."""
        database = sa.make_url(self.database_url).database
        if self.database_url.startswith("sqlite") and database and not Path(database).exists():
            return {}  # connecting would create the file
        engine = sa.create_engine(self.database_url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
                        for name in sorted(sa.inspect(conn).get_table_names())}
        finally:
            engine.dispose()

    def uploads(self) -> dict[str, bytes]:
        if not self.upload_dir.is_dir():
            return {}
        return {path.relative_to(self.upload_dir).as_posix(): path.read_bytes()
                for path in sorted(self.upload_dir.rglob("*")) if path.is_file()}

    def leftovers(self) -> list[str]:
        """Staging folders a restore left behind (there should never be any)."""
        return sorted(str(p) for p in self.data_dir.rglob(".cocreate-restore-*")) if self.data_dir.exists() else []


def new_site(request: pytest.FixtureRequest, base: Path, name: str, kind: str) -> Site:
    """An empty site (no data folder yet, no tables) of ``kind`` sqlite or postgresql."""
    data_dir = base / name
    if kind == "sqlite":
        return Site(data_dir, f"sqlite:///{data_dir / 'cocreate.sqlite3'}")
    server = request.getfixturevalue("postgres")
    return Site(data_dir, server.create_database(f"ops_{name}_{base.name[-12:]}".lower()))


def sqlite_integrity(path: Path) -> str:
    conn = sqlite3.connect(str(path))
    try:
        return ", ".join(row[0] for row in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()
