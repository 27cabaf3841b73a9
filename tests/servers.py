"""Real servers for the test suite: PostgreSQL, Redis, an SMTP sink and Celery workers.

Each is started by a fixture on a free port of 127.0.0.1 and stopped at the end of the session.
With ``COCREATE_TEST_REQUIRE_SERVICES=1`` (the README's test command sets it) a server that cannot
start fails the run instead of skipping its tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def services_required() -> bool:
    return os.environ.get("COCREATE_TEST_REQUIRE_SERVICES") == "1" or bool(os.environ.get("CI"))


def unavailable(reason: str) -> None:
    """Fail when services are required, skip otherwise."""
    if services_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], object], timeout: float, message: str, interval: float = 0.05
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    port: int
    data_dir: Path
    bin_dir: Path
    as_postgres: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_postgres,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        unavailable("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    bin_dir = Path(candidates[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="cocreate-pg-"))
    data_dir = base / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the cluster as the postgres user.
        as_postgres = ["runuser", "-u", "postgres", "--"]
        base.chmod(0o755)
        subprocess.run(["install", "-d", "-o", "postgres", "-g", "postgres", str(data_dir)], check=True)
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(data_dir / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
    )
    return PostgresServer(port=port, data_dir=data_dir, bin_dir=bin_dir, as_postgres=as_postgres)


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_until(answers, 10, "redis-server did not answer PING")
    return RedisServer(port=port, process=process)


# --- SMTP sink -----------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""

    port: int
    controller: object
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def wait_for(self, count: int, timeout: float = 20) -> list[Message]:
        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} e-mail(s) in the SMTP sink")
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()  # type: ignore[attr-defined]


def start_smtp_sink() -> SmtpSink:
    from aiosmtpd.controller import Controller

    sink_ref: list[SmtpSink] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            sink = sink_ref[0]
            with sink.lock:
                sink.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    sink = SmtpSink(port=port, controller=controller)
    sink_ref.append(sink)
    return sink


# --- Celery worker -------------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(env: dict[str, str], log_path: Path, queues: str = "default,search") -> Worker:
    """A real ``cocreate worker`` process with the given COCREATE_* environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COCREATE_")} | env
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cocreate.cli", "worker", "--queues", queues],
        cwd=ROOT,
        env=full_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    worker = Worker(process=process, log_path=log_path, env=full_env)
    try:
        wait_until(lambda: "ready." in worker.log() or process.poll() is not None, 60, "worker start")
    except AssertionError:
        worker.stop()
        raise AssertionError(f"worker did not start:\n{worker.log()}") from None
    if process.poll() is not None:
        raise AssertionError(f"worker exited with {process.returncode}:\n{worker.log()}")
    return worker
