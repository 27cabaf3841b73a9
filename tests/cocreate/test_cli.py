"""The ``cocreate`` command, run as real processes with their own environment (no mocks).

Every command runs as ``python -m cocreate.cli`` with the test process's environment minus every
``COCREATE_*`` variable, plus a data folder of its own: the embedded defaults (SQLite database, SQLite
broker, local index, mail as files) are what a first-time user gets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cocreate.db import migrations
from cocreate.demo import DEPARTMENTS
from proposals.demo import CHALLENGES
from tests.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
CHALLENGE_TITLES = [row[6] for row in CHALLENGES]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads processes from /proc")


def cli_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
    env |= {"COCREATE_ENV": "test", "COCREATE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    return env | overrides


def cli(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cocreate.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def table_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the embedded SQLite database (alembic_version included)."""
    connection = sqlite3.connect(data_dir / "cocreate.sqlite3", timeout=10)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in tables
        }
    finally:
        connection.close()


def counts(data_dir: Path) -> dict[str, int]:
    return {table: len(rows) for table, rows in table_rows(data_dir).items()}


@dataclass(frozen=True)
class Prepared:
    migrated: Path  # `db upgrade` only
    loaded: Path  # `db upgrade` then `demo`
    upgrade_output: str
    demo_output: str


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """Data folders made by the real commands once; tests work on copies of them."""
    migrated = tmp_path_factory.mktemp("migrated") / "data"
    upgrade_output = ok(cli(cli_env(migrated), "db", "upgrade"))
    loaded = tmp_path_factory.mktemp("loaded") / "data"
    shutil.copytree(migrated, loaded)
    demo_output = ok(cli(cli_env(loaded), "demo"))
    return Prepared(migrated, loaded, upgrade_output, demo_output)


def copy_of(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(source, target)
    return target


# --- processes -----------------------------------------------------------------------------------


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a parent that will not reap it)."""
    return _proc_state(pid) not in (None, "Z", "X")


def children_of(pid: int) -> dict[int, str]:
    """Live direct children of ``pid``: their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found[int(entry.name)] = cmdline.strip()
    return found


def processes_of(data_dir: Path) -> list[int]:
    """Live processes whose environment names this data folder (serve, its children, grandchildren)."""
    marker = f"COCREATE_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own local server)
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def answers(port: int) -> bool:
    return get(f"http://127.0.0.1:{port}/")[0] != 0


def heartbeat_sources(data_dir: Path) -> set[str]:
    try:
        connection = sqlite3.connect(data_dir / "cocreate.sqlite3", timeout=5)
        try:
            return {row[0] for row in connection.execute("SELECT source FROM worker_heartbeat")}
        finally:
            connection.close()
    except sqlite3.Error:
        return set()


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"serve still running after {timeout} s; log:\n{self.log()}") from None

    def wait_for(self, predicate: object, timeout: float, message: str) -> object:
        def check() -> object:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}; log:\n{self.log()}")
            return predicate()  # type: ignore[operator]

        try:
            return wait_until(check, timeout, message, interval=0.2)
        except AssertionError as exc:
            if "timed out" in str(exc):
                raise AssertionError(f"{exc}; log:\n{self.log()}") from None
            raise


@contextmanager
def serve(data_dir: Path, tmp_path: Path) -> Iterator[Serve]:
    env = cli_env(data_dir)
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cocreate.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Serve(process, data_dir, env, port, log_path)
    try:
        yield running
    finally:
        # Whatever the test's outcome, leave no process behind (only those started for this folder).
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in processes_of(data_dir):
            os.kill(pid, signal.SIGKILL)


def start_and_wait_ready(running: Serve) -> dict[int, str]:
    """Wait for the home page (Japanese, with demo content) and the startup heartbeat; the children."""

    def home_page() -> bool:
        status, html = get(f"http://127.0.0.1:{running.port}/")
        return status == 200 and '<html lang="ja">' in html and any(t in html for t in CHALLENGE_TITLES)

    running.wait_for(home_page, 60, "GET / answering 200 in Japanese with a demo challenge")
    running.wait_for(lambda: "serve" in heartbeat_sources(running.data_dir), 30, "heartbeat from serve")
    children = children_of(running.process.pid)
    kinds = sorted(cmd.split("cocreate.cli", 1)[1].split()[0] for cmd in children.values())
    assert kinds == ["beat", "web", "worker"], children
    return children


def assert_all_stopped(running: Serve, children: dict[int, str]) -> None:
    left = {pid: cmd for pid, cmd in children.items() if alive(pid)}
    assert not left, f"children still running after serve exited: {left}\n{running.log()}"
    assert processes_of(running.data_dir) == [], running.log()
    assert not answers(running.port)


# --- serve ---------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.timeout(150)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_web_worker_and_beat_and_stops_them_all(
    prepared: Prepared, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    data_dir = copy_of(prepared.loaded, tmp_path)
    assert heartbeat_sources(data_dir) == set()  # so an ok worker below can only be serve's

    with serve(data_dir, tmp_path) as running:
        children = start_and_wait_ready(running)

        # Links in feeds (and e-mails) follow the port the server runs on (COCREATE_BASE_URL is unset).
        assert "COCREATE_BASE_URL" not in running.env
        status, feed = get(f"http://127.0.0.1:{running.port}/challenges.atom")
        assert status == 200 and f"http://127.0.0.1:{running.port}/challenges/" in feed, feed[:800]
        assert ":8000/" not in feed

        check = cli(running.env, "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "[ok  ] worker" in check.stdout
        assert "[ok  ] database" in check.stdout
        assert "[ok  ] broker" in check.stdout

        os.kill(running.process.pid, stop_signal)
        started = time.monotonic()
        returncode = running.wait_exit(20)
        assert returncode == 0, running.log()
        assert time.monotonic() - started < 20
        assert_all_stopped(running, children)


@pytest.mark.worker
@pytest.mark.timeout(150)
def test_serve_stops_everything_when_a_child_dies(prepared: Prepared, tmp_path: Path) -> None:
    data_dir = copy_of(prepared.loaded, tmp_path)
    with serve(data_dir, tmp_path) as running:
        children = start_and_wait_ready(running)
        (worker,) = [pid for pid, cmd in children.items() if "cocreate.cli worker" in cmd]

        os.kill(worker, signal.SIGKILL)
        returncode = running.wait_exit(20)

        assert returncode != 0, running.log()
        assert "worker exited with code -9; stopping the others." in running.log()
        assert_all_stopped(running, children)


# --- check ---------------------------------------------------------------------------------------


def test_check_on_a_fresh_data_dir_asks_for_migrations_and_masks_passwords(tmp_path: Path) -> None:
    closed_port = free_port()
    data_dir = tmp_path / "data"
    env = cli_env(
        data_dir,
        COCREATE_BROKER_URL=f"redis://:s3cret@127.0.0.1:{closed_port}/0",
        COCREATE_MAIL_URL=f"smtp://mailer:m41l-s3cret@127.0.0.1:{closed_port}",
    )

    result = cli(env, "check", "--timeout", "1")
    output = result.stdout + result.stderr

    assert result.returncode == 1, output
    assert "s3cret" not in output
    settings_lines = dict(
        line.split(None, 1) for line in result.stdout.split("Reachability:")[0].splitlines()[1:]
    )
    assert settings_lines["env"] == "test"
    assert settings_lines["data_dir"] == str(data_dir)
    assert settings_lines["database_url"] == f"sqlite:///{data_dir / 'cocreate.sqlite3'}"
    assert settings_lines["broker_url"] == f"redis://:***@127.0.0.1:{closed_port}/0"
    assert settings_lines["mail_url"] == f"smtp://mailer:***@127.0.0.1:{closed_port}"
    assert f"newest is {migrations.head()}: run `cocreate db upgrade`" in result.stdout
    assert "[FAIL] database" in result.stdout
    assert "[FAIL] broker" in result.stdout
    assert "[FAIL] mail" in result.stdout
    assert "[ok  ] index" in result.stdout


def test_check_masks_the_database_password(tmp_path: Path) -> None:
    closed_port = free_port()
    env = cli_env(
        tmp_path / "data",
        COCREATE_DATABASE_URL=f"postgresql+psycopg://app:db-s3cret@127.0.0.1:{closed_port}/cocreate",
    )

    result = cli(env, "check", "--timeout", "1")
    output = result.stdout + result.stderr

    assert result.returncode == 1, output
    assert "s3cret" not in output
    assert f"postgresql+psycopg://app:***@127.0.0.1:{closed_port}/cocreate" in result.stdout
    assert "[FAIL] database" in result.stdout


# --- demo ----------------------------------------------------------------------------------------


def test_demo_loads_departments_and_challenges_once(prepared: Prepared, tmp_path: Path) -> None:
    assert len(DEPARTMENTS) == 8
    assert len(CHALLENGES) == 7
    assert counts(prepared.migrated)["department"] == 0
    assert "core: 8 departments added, 0 already there" in prepared.demo_output
    assert "proposals: 7 challenges added, 0 already there" in prepared.demo_output
    assert "open data: " in prepared.demo_output
    data_dir = copy_of(prepared.loaded, tmp_path)
    assert json.loads((data_dir / "opendata" / "current" / "manifest.json").read_text())["datasets"]["challenges"][
        "row_count"] == 7
    before = table_rows(data_dir)
    assert len(before["department"]) == 8
    assert len(before["challenge"]) == 7 + 1  # the draft challenge born from a demo voice
    assert len(before["proposal"]) == 22 and len(before["vote"]) > 0 and len(before["trial"]) == 2

    again = ok(cli(cli_env(data_dir), "demo"))

    assert "core: 0 departments added, 8 already there" in again
    assert "proposals: 0 challenges added, 7 already there" in again
    assert table_rows(data_dir) == before


def test_demo_refuses_in_production(prepared: Prepared, tmp_path: Path) -> None:
    data_dir = copy_of(prepared.migrated, tmp_path)
    before = table_rows(data_dir)
    env = cli_env(
        data_dir, COCREATE_ENV="production", COCREATE_SECRET_KEY="a-production-secret-key-0123456789"
    )

    result = cli(env, "demo")

    assert result.returncode != 0, result.stdout
    assert "refusing to load demo content: COCREATE_ENV is production" in result.stderr
    assert "added" not in result.stdout
    assert table_rows(data_dir) == before
    assert counts(data_dir)["department"] == 0
    # The same folder in a non-production environment does load: the refusal came from the env alone.
    assert "8 departments added" in ok(cli(cli_env(data_dir), "demo"))


# --- db ------------------------------------------------------------------------------------------


def test_db_upgrade_then_current_prints_the_head(prepared: Prepared, tmp_path: Path) -> None:
    head = migrations.head()
    assert head
    assert prepared.upgrade_output.strip() == f"database at {head}"
    assert ok(cli(cli_env(prepared.migrated), "db", "current")).strip() == head
    assert ok(cli(cli_env(tmp_path / "empty"), "db", "current")).strip() == "empty"


# --- i18n ----------------------------------------------------------------------------------------


def test_i18n_compile_says_one_line_without_babel_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Setup prints this line: Babel's "26 of 2292 messages (1%) translated" for English read as a failure."""
    from click.testing import CliRunner

    from cocreate import cli as cli_module

    translations = tmp_path / "translations"  # a copy, so that the checkout's catalogs are not rewritten
    shutil.copytree(ROOT / "cocreate" / "translations", translations, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(cli_module, "TRANSLATIONS", translations)

    result = CliRunner().invoke(cli_module.main, ["i18n", "compile"])
    captured = capfd.readouterr()

    assert result.exit_code == 0, result.output + captured.err
    lines = (result.output + captured.out + captured.err).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("translation catalogs compiled: en (the language the messages are written in), ja (")
    assert "%" not in lines[0] and "translated in" not in lines[0]
    for locale in ("en", "ja"):
        assert (translations / locale / "LC_MESSAGES" / "messages.mo").stat().st_size > 0

    # A Japanese message left untranslated is named as such, still on one line.
    po = translations / "ja" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    first = text.index('msgid "', text.index("\n\n"))
    start = text.index('msgstr "', first) + len('msgstr "')
    po.write_text(text[:start] + text[text.index('"', start):], encoding="utf-8")
    again = CliRunner().invoke(cli_module.main, ["i18n", "compile"])
    assert again.exit_code == 0 and "1 shown in English" in again.output, again.output


def test_the_access_log_of_cocreate_web_holds_no_token_of_a_single_use_link(
        prepared: Prepared, tmp_path: Path) -> None:
    """A reset link's token and an OpenID Connect callback's code and state are written as [redacted];
    the rest of each request line (method, path, status) is still there."""
    data_dir = copy_of(prepared.migrated, tmp_path)
    port = free_port()
    log_path = tmp_path / "web.log"
    token = "Zk3" + "x" * 40  # secrets.token_urlsafe(32) makes 43 characters
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "cocreate.cli", "web", "--port", str(port), "--workers", "1"],
                                   cwd=ROOT, env=cli_env(data_dir), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: answers(port), timeout=90, message="cocreate web did not answer")
            assert get(f"http://127.0.0.1:{port}/account/password/reset/{token}")[0] == 200
            get(f"http://127.0.0.1:{port}/account/oidc/demo/callback?code=SECRETCODE123&state=SECRETSTATE456")
            assert get(f"http://127.0.0.1:{port}/challenges?category=transport_mobility")[0] == 200
            time.sleep(0.5)  # the access log line is written after the response
        finally:
            process.terminate()
            process.wait(timeout=30)
    written = log_path.read_text(errors="replace")
    assert "GET /account/password/reset/[redacted]" in written, written[-2000:]
    assert "code=[redacted]&state=[redacted]" in written, written[-2000:]
    assert "/challenges?category=transport_mobility" in written  # other lines are untouched
    for secret in (token, "SECRETCODE123", "SECRETSTATE456"):
        assert secret not in written


def test_audit_keygen_makes_the_signing_key_once_even_in_production(tmp_path: Path) -> None:
    """Production never generates the key on first use (a missing key stops signing): an operator, or the
    compose file's one-shot service, runs `cocreate audit keygen`, which keeps an existing key."""
    key = tmp_path / "keys" / "audit-signing-key.pem"
    env = cli_env(tmp_path / "data", COCREATE_ENV="production", COCREATE_SECRET_KEY="a-production-secret-key-0123456789",
                  COCREATE_AUDIT_KEY_FILE=str(key))
    first = ok(cli(env, "audit", "keygen"))
    assert f"audit signing key made: {key}" in first and key.stat().st_mode & 0o077 == 0
    pem = key.read_bytes()
    again = ok(cli(env, "audit", "keygen"))
    assert "already there" in again and key.read_bytes() == pem
    assert first.split("key id ")[1] == again.split("key id ")[1]
