"""Choosing PostgreSQL's client tools by version, and the connection string they get."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cocreate.ops import postgres as pg_tools
from tests.servers import PostgresServer, unavailable


def fake_tool(folder: Path, name: str, version: str) -> Path:
    """A stand-in for an installed client of another version: it only answers --version, as the real one does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version} (Debian {version}-1)'\n")
    path.chmod(0o755)
    return path


def test_a_missing_tool_says_what_to_install() -> None:
    with pytest.raises(pg_tools.ClientToolMissing) as missing:
        pg_tools.find_tool("pg_dump", minimum=15, preferred=15, candidates=[Path("/nonexistent/pg_dump")])
    assert "pg_dump was not found" in str(missing.value)
    assert "apt-get install postgresql-client-15" in str(missing.value)


def test_a_tool_older_than_the_server_is_refused_with_what_was_found(tmp_path: Path) -> None:
    old = fake_tool(tmp_path / "13", "pg_dump", "13.4")
    with pytest.raises(pg_tools.ClientToolMissing) as missing:
        pg_tools.find_tool("pg_dump", minimum=16, preferred=16, candidates=[old])
    message = str(missing.value)
    assert "pg_dump 16 or newer is needed" in message and f"{old} (13.4)" in message
    assert "postgresql-client-16" in message


def test_the_servers_own_version_is_preferred_then_the_newest(tmp_path: Path) -> None:
    tools = [fake_tool(tmp_path / v, "pg_dump", f"{v}.1") for v in ("14", "15", "17")]
    assert pg_tools.find_tool("pg_dump", minimum=15, preferred=15, candidates=tools).major == 15
    assert pg_tools.find_tool("pg_dump", minimum=16, preferred=16, candidates=tools).major == 17
    assert pg_tools.find_tool("pg_dump", minimum=13, preferred=13, candidates=tools).major == 17


def test_the_installed_tools_are_found_for_the_test_server(postgres: PostgresServer) -> None:
    major = int(postgres.bin_dir.parent.name)
    for name in ("pg_dump", "pg_restore", "psql"):
        try:
            tool = pg_tools.find_tool(name, minimum=major, preferred=major)
        except pg_tools.ClientToolMissing as missing:
            unavailable(str(missing))
        assert tool.major == major
        assert pg_tools.sibling(tool, "psql").major == major


def test_the_connection_string_keeps_the_password_out_of_the_command_line() -> None:
    conninfo, env = pg_tools.connection(
        "postgresql+psycopg://ward:p%40ss'word@db.example.jp:6543/co create?sslmode=require")
    assert "p@ss" not in conninfo
    assert env == {"PGPASSWORD": "p@ss'word"}
    assert conninfo == "host='db.example.jp' port='6543' user='ward' dbname='co create' sslmode='require'"


def test_the_connection_string_reaches_the_server(postgres: PostgresServer) -> None:
    url = postgres.create_database("ops_conninfo")
    conninfo, env = pg_tools.connection(url)
    major = int(postgres.bin_dir.parent.name)
    psql = pg_tools.find_tool("psql", minimum=major, preferred=major)
    result = subprocess.run([str(psql.path), "--no-psqlrc", "--tuples-only", f"--dbname={conninfo}", "-c",
                             "SELECT current_database()"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ops_conninfo"


def test_the_image_carries_the_client_of_the_compose_postgres_version() -> None:
    """`cocreate backup` in a container needs pg_dump of the server's major version (docker/)."""
    root = Path(__file__).resolve().parents[3]
    server = re.search(r"image:\s*postgres:(\d+)", (root / "docker" / "compose.yaml").read_text())
    runtime = (root / "docker" / "Dockerfile").read_text().rsplit("\nFROM ", 1)[-1]
    client = re.search(r"postgresql-client-(\d+)", runtime)
    assert server is not None and client is not None
    assert client.group(1) == server.group(1)
