"""``cocreate search rebuild`` and ``search status``, and the demo's index, as real processes."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pytest

from cocreate.search import query
from cocreate.settings import Settings
from proposals.demo import CHALLENGES
from tests.cocreate.test_cli import cli, cli_env, ok

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads processes from /proc")


def test_demo_is_indexed_and_search_commands_rebuild_and_report(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = cli_env(data_dir)
    ok(cli(env, "db", "upgrade"))
    demo_output = ok(cli(env, "demo", timeout=180))
    indexed = int(re.search(r"search: (\d+) documents indexed", demo_output).group(1))  # type: ignore[union-attr]
    assert indexed >= len(CHALLENGES)

    status = ok(cli(env, "search", "status"))
    assert f"documents: {indexed}\n" in status and "pending: 0\n" in status

    # The demo's challenges are found by the words of their titles.
    settings = Settings(env="test", data_dir=data_dir, secret_key="x" * 40)
    title = CHALLENGES[0][6]
    assert any(hit.title == title for hit in query.search(settings, title, per_page=5).hits)

    # Rows waiting in the outbox (a change whose drain has not run) are covered by a rebuild.
    with sqlite3.connect(data_dir / "cocreate.sqlite3") as db:
        db.execute("INSERT INTO search_outbox (doc_key, created_at) VALUES ('challenge:1', '2026-01-01 00:00:00')")
    assert "pending: 1\n" in ok(cli(env, "search", "status"))
    rebuilt = ok(cli(env, "search", "rebuild"))
    assert re.search(rf"indexed {indexed} documents in [0-9.]+ s", rebuilt)
    assert "pending: 0\n" in ok(cli(env, "search", "status"))
