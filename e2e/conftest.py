"""Fixtures for the browser tests: Debian's Chromium, a live server on a free port, artefacts.

The server is the real thing: a fresh data folder, migrations, demo content and ``cocreate web``
(uvicorn) in a subprocess, exactly as an operator would start it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.servers import SmtpSink, start_smtp_sink

REPO_ROOT = Path(__file__).resolve().parent.parent
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
STARTUP_TIMEOUT = 90.0  # a loaded 2-core CI machine can take 20 s to import and start


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # Playwright cannot download its own browsers here; Debian's Chromium works with these flags.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # A resident's browser in Tokyo: Japanese is what the ward serves by default.
    return {
        **browser_context_args,
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
        "viewport": {"width": 1280, "height": 800},
    }


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    log_file: Path
    mail: SmtpSink

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cocreate(*args: str, env: dict[str, str], log) -> None:
    command = [sys.executable, "-m", "cocreate.cli", *args]
    log.write(f"$ cocreate {' '.join(args)}\n".encode())
    log.flush()
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        log.flush()
        pytest.fail(
            f"`cocreate {' '.join(args)}` exited with {result.returncode}:\n"
            + Path(log.name).read_text(errors="replace"),
            pytrace=False,
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 (our own server)
            json.loads(response.read())
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[SmtpSink]:
    sink = start_smtp_sink()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def live_server(mail_sink: SmtpSink) -> Iterator[LiveServer]:
    """A real ``cocreate web`` and ``cocreate worker`` with migrations and demo content, on a free port,
    for the whole session; e-mail goes through the worker to a real SMTP sink."""
    with tempfile.TemporaryDirectory(prefix="cocreate-e2e-") as tmp:
        data_dir = Path(tmp)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        # Drop any COCREATE_* of the developer's shell (a database URL, say): the server must use only
        # the fresh data folder.
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
        env = {
            **inherited,
            "COCREATE_DATA_DIR": str(data_dir),
            "COCREATE_ENV": "test",
            "COCREATE_BASE_URL": url,
            "COCREATE_MAIL_URL": mail_sink.url,
            "COCREATE_PASSWORD_HASHING": "fast-for-tests",
            # Every journey signs in (the demo accounts, again and again) from 127.0.0.1, within minutes.
            "COCREATE_RATE_LIMIT_SCALE": "1000",
            "PYTHONUNBUFFERED": "1",
        }
        log_file = data_dir / "server.log"
        server = LiveServer(url=url, data_dir=data_dir, log_file=log_file, mail=mail_sink)
        with log_file.open("wb") as log:
            _cocreate("i18n", "compile", env=env, log=log)
            _cocreate("db", "upgrade", env=env, log=log)
            _cocreate("demo", env=env, log=log)
            log.write(b"$ cocreate web\n")
            log.flush()
            process = subprocess.Popen(
                [sys.executable, "-m", "cocreate.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "cocreate.cli", "worker"],
                env=env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT
                while not _healthy(url):
                    if process.poll() is not None:
                        pytest.fail(
                            f"cocreate web exited with {process.returncode}:\n{server.log()}", pytrace=False
                        )
                    if time.monotonic() > deadline:
                        pytest.fail(
                            f"cocreate web did not answer /healthz within {STARTUP_TIMEOUT:.0f}s:\n"
                            f"{server.log()}",
                            pytrace=False,
                        )
                    time.sleep(0.2)
                yield server
            finally:
                _stop(process)
                _stop(worker)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (``test-artifacts/e2e/``, ignored by git)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    # A failing browser test is much easier to understand with what the server said.
    if report.failed and "live_server" in getattr(item, "fixturenames", ()):
        server = item.funcargs.get("live_server") if hasattr(item, "funcargs") else None
        if server is not None:
            report.sections.append(("cocreate server log", server.log()[-20_000:]))


@pytest.fixture
def new_context(browser: Browser, base_url: str) -> Iterator[Callable[[], BrowserContext]]:
    """Further browsers for a journey (a company's, a resident's, …), Japanese like the first."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                      viewport={"width": 1280, "height": 800})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def visitor(request: pytest.FixtureRequest, browser: Browser, browser_context_args: dict,
            base_url: str) -> Iterator[tuple[Page, bool]]:
    """A visitor's page in a browser of their own, with JavaScript on, then off; and which it is."""
    context: BrowserContext = browser.new_context(**{**browser_context_args, "base_url": base_url},
                                                  java_script_enabled=request.param)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()
